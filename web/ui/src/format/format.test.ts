import { describe, expect, it } from 'vitest';
import { formatDate, formatHour, formatKwh, formatRange, formatTime, formatWait, parseKwh, plural } from './format';

describe('kWh', () => {
  it('shows up to three decimals in the reader’s locale', () => {
    expect(formatKwh(3.5, 'en-GB')).toBe('3.5 kWh');
    expect(formatKwh(1234.56789, 'en-GB')).toBe('1,234.568 kWh');
    expect(formatKwh(2.5, 'de-DE')).toBe('2,5 kWh');
  });

  it('reads decimal points and commas, and nothing looser', () => {
    expect(parseKwh(' 2.5 ')).toBe(2.5);
    expect(parseKwh('2,5')).toBe(2.5);
    expect(parseKwh('7')).toBe(7);
    for (const bad of ['', 'abc', '1e3', '-2', '1,000.5', '2.']) expect(parseKwh(bad)).toBeNull();
  });
});

describe('dates', () => {
  it('formats in the given locale and time zone', () => {
    expect(formatDate('2026-01-05T23:30:00Z', 'en-GB', 'UTC')).toBe('5 Jan 2026');
    expect(formatDate('2026-01-05T23:30:00Z', 'en-GB', 'Europe/Bucharest')).toBe('6 Jan 2026');
  });

  it('shows nothing for a date it cannot read', () => {
    expect(formatDate('yesterday')).toBe('');
  });
});

describe('counting', () => {
  it('pluralises', () => {
    expect(plural(1, 'device')).toBe('1 device');
    expect(plural(3, 'device')).toBe('3 devices');
  });

  it('says how long to wait as a person would', () => {
    expect(formatWait(1)).toBe('1 second');
    expect(formatWait(29.2)).toBe('30 seconds');
    expect(formatWait(60)).toBe('1 minute');
    expect(formatWait(150)).toBe('2 minutes 30 seconds');
    expect(formatWait(0)).toBe('1 second');
  });

  it('describes the part of a list on screen', () => {
    expect(formatRange(1, 20, 42)).toBe('1–20 of 42');
    expect(formatRange(3, 20, 42)).toBe('41–42 of 42');
    expect(formatRange(1, 20, 0)).toBe('none');
  });
});

describe('UTC times', () => {
  it('names the hour an alert is about', () => {
    expect(formatHour('2026-11-23T10:00:00Z', 'en-GB', 'UTC')).toBe('23 Nov 2026, 10:00–11:00 UTC');
    expect(formatHour('2026-11-23T23:00:00Z', 'en-GB', 'UTC')).toBe('23 Nov 2026, 23:00–00:00 UTC');
    expect(formatHour('not a time')).toBe('');
  });

  it('writes a moment in UTC on a 24-hour clock', () => {
    expect(formatTime('2026-11-23T13:02:09Z', 'en-GB', 'UTC')).toBe('23 Nov 2026, 13:02 UTC');
  });
});
