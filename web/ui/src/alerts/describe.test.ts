import { describe, expect, it } from 'vitest';
import { alert } from '../test/alerts';
import { countByDevice, describeAlert, incidentKey, isSnoozed, kindsTitle, recentSince, snoozeUntil } from './describe';

describe('alert wording', () => {
  it('reads a peak as power against the limit as power', () => {
    const peak = alert({
      kind: 'peak',
      value: 2.2,
      limit_kwh: 2,
      hour: '2026-11-23T22:00:00Z',
      reading_at: '2026-11-23T22:10:00Z',
      interval_s: 600,
    });
    expect(describeAlert(peak, 'en-GB')).toBe('2.2 kW average, 10 min ending 22:10 — limit 2 kW');
    expect(describeAlert({ ...peak, interval_s: 7 }, 'en-GB')).toBe('2.2 kW average, 7 s ending 22:10 — limit 2 kW');
    // Raised before alerts kept their reading: no interval to name.
    expect(describeAlert({ ...peak, reading_at: null, interval_s: null }, 'en-GB')).toBe('2.2 kW average — limit 2 kW');
  });

  it('reads an hour’s total as energy in that hour', () => {
    const over = alert({ value: 2.6, limit_kwh: 2, hour: '2026-11-23T14:00:00Z' });
    expect(describeAlert(over, 'en-GB')).toBe('2.6 kWh in the hour 14:00–15:00 — limit 2 kWh');
    expect(describeAlert({ ...over, hour: '2026-11-23T23:00:00Z' }, 'en-GB')).toContain('23:00–00:00');
  });

  it('reads a forecast as the hour’s total to come, when it was made and how much of the hour was left', () => {
    const forecast = alert({
      kind: 'forecast',
      value: 2.4,
      limit_kwh: 2,
      hour: '2026-11-23T14:00:00Z',
      reading_at: '2026-11-23T14:20:00Z',
      interval_s: 600,
    });
    expect(describeAlert(forecast, 'en-GB')).toBe(
      '2.4 kWh forecast for the hour 14:00–15:00 at 14:20, 40 min left — limit 2 kWh',
    );
  });

  it('names an incident’s kinds in one order', () => {
    expect(kindsTitle(['peak'])).toBe('Peak above the limit');
    expect(kindsTitle(['peak', 'overconsumption'])).toBe('Over the hourly limit and peak above the limit');
    expect(kindsTitle(['forecast', 'peak'])).toBe('Peak above the limit and forecast to cross the limit');
  });

  it('keys an incident by device and hour, however the hour is written', () => {
    expect(incidentKey(alert({ hour: '2026-11-23T10:00:00Z' }))).toBe(
      incidentKey(alert({ hour: '2026-11-23T10:00:00.000+00:00' })),
    );
    expect(incidentKey(alert({ hour: '2026-11-23T10:00:00Z' }))).not.toBe(
      incidentKey(alert({ hour: '2026-11-23T11:00:00Z' })),
    );
  });
});

describe('snooze', () => {
  const now = new Date(2026, 10, 23, 22, 5);
  it('ends after an hour, eight hours, or tomorrow morning', () => {
    expect(new Date(snoozeUntil('1h', now)).getTime() - now.getTime()).toBe(3_600_000);
    expect(new Date(snoozeUntil('8h', now)).getTime() - now.getTime()).toBe(8 * 3_600_000);
    const morning = new Date(snoozeUntil('tomorrow', now));
    expect([morning.getDate(), morning.getHours(), morning.getMinutes()]).toEqual([24, 7, 0]);
  });

  it('counts only a snooze still ahead', () => {
    expect(isSnoozed(null, now)).toBe(false);
    expect(isSnoozed(undefined, now)).toBe(false);
    expect(isSnoozed(new Date(now.getTime() + 1000).toISOString(), now)).toBe(true);
    expect(isSnoozed(new Date(now.getTime() - 1000).toISOString(), now)).toBe(false);
  });
});

describe('device cards', () => {
  it('turn red for open incidents about the last 24 hours only', () => {
    expect(recentSince(new Date('2026-11-23T22:05:30Z'))).toBe('2026-11-22T22:00:00.000Z');
    const counts = countByDevice([
      { device_id: 'oven', open: true },
      { device_id: 'oven', open: true },
      { device_id: 'pump', open: false },
    ]);
    expect([...counts]).toEqual([['oven', 2]]);
  });
});
