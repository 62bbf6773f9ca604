import { describe, expect, it } from 'vitest';
import { formatAgo, intervalName, liveness } from './relative';

const now = new Date('2026-11-24T12:00:00Z');

describe('formatAgo', () => {
  it('says whole minutes, hours and days, rounded down', () => {
    expect(formatAgo('2026-11-24T11:59:30Z', now)).toBe('just now');
    expect(formatAgo('2026-11-24T12:05:00Z', now)).toBe('just now');
    expect(formatAgo('2026-11-24T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2026-11-24T08:59:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-11-23T00:00:00Z', now)).toBe('36 h ago');
    expect(formatAgo('2026-11-20T11:00:00Z', now)).toBe('4 days ago');
    expect(formatAgo('not a time', now)).toBe('');
  });
});

describe('liveness', () => {
  it('is online for three intervals after the last reading, then offline, and says so', () => {
    const at = (iso: string) => ({ at: iso, interval_s: 600 });
    expect(liveness(at('2026-11-24T11:30:00Z'), now)).toEqual({
      online: true,
      rule: 'Online: its last reading is at most 30 minutes old (3 of its 10-minute intervals).',
    });
    expect(liveness(at('2026-11-24T11:29:59Z'), now)).toEqual({
      online: false,
      rule: 'Offline: no reading for more than 30 minutes (3 of its 10-minute intervals).',
    });
    expect(liveness({ at: '2026-11-24T10:00:00Z', interval_s: 3600 }, now).online).toBe(true);
    expect(liveness(null, now).online).toBe(false);
  });

  it('names intervals', () => {
    expect([intervalName(600), intervalName(3600), intervalName(90)]).toEqual(['10-minute', '1-hour', '90-second']);
  });
});
