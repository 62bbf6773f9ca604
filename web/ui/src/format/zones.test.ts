// Times shown in the user's zone: the formatting functions, the consumption periods' steps in
// a zone (the days the clocks change included) and the day loaded from the API.
import { afterEach, describe, expect, it } from 'vitest';
import type { MyDay, Series } from '../api/types';
import { loadPeriod } from '../consumption/load';
import { slotLabel, slotName, slotStarts, startOfDay, todayIn, type Period } from '../consumption/period';
import {
  browserTimeZone,
  formatChatTime,
  formatDate,
  formatHour,
  formatTime,
  isoDateIn,
  setTimeZone,
  timeZone,
  timeZoneChoices,
  zoneAbbreviation,
} from './format';

const BUCHAREST = 'Europe/Bucharest';

afterEach(() => setTimeZone('UTC'));

describe('the chosen zone', () => {
  it('is the user’s setting, else the browser’s', () => {
    setTimeZone(null);
    expect(timeZone()).toBe(browserTimeZone());
    setTimeZone(BUCHAREST);
    expect(timeZone()).toBe(BUCHAREST);
    setTimeZone('Mars/Olympus');
    expect(timeZone()).toBe(browserTimeZone());
    setTimeZone(null);
    expect(timeZone()).toBe(browserTimeZone());
  });

  it('is what every format follows when none is given', () => {
    setTimeZone(BUCHAREST);
    expect(formatDate('2026-01-05T22:30:00Z', 'en-GB')).toBe('6 Jan 2026');
    expect(formatHour('2026-11-23T10:00:00Z', 'en-GB')).toBe('23 Nov 2026, 12:00–13:00 EET');
    expect(formatTime('2026-07-23T13:02:09Z', 'en-GB')).toBe('23 Jul 2026, 16:02 EEST');
    setTimeZone('UTC');
    expect(formatHour('2026-11-23T10:00:00Z', 'en-GB')).toBe('23 Nov 2026, 10:00–11:00 UTC');
  });

  it('offers UTC and the IANA zones', () => {
    const zones = timeZoneChoices();
    expect(zones[0]).toBe('UTC');
    expect(zones).toContain(BUCHAREST);
    expect(zones.filter((zone) => zone === 'UTC')).toHaveLength(1);
  });
});

describe('times in a zone', () => {
  it('names an hour across a clock change by its own start and end', () => {
    // 29 March 2026, 00:00 UTC is 03:00 EEST in Bucharest: the clocks jumped from 03:00 to 04:00 at 01:00 UTC.
    expect(formatHour('2026-03-29T00:00:00Z', 'en-GB', BUCHAREST)).toBe('29 Mar 2026, 02:00–04:00 EET');
    expect(formatHour('2026-03-29T01:00:00Z', 'en-GB', BUCHAREST)).toBe('29 Mar 2026, 04:00–05:00 EEST');
  });

  it('writes the calendar date and the abbreviation of the zone', () => {
    expect(isoDateIn('2026-03-01T22:30:00Z', BUCHAREST)).toBe('2026-03-02');
    expect(isoDateIn('2026-03-01T22:30:00Z', 'UTC')).toBe('2026-03-01');
    expect(zoneAbbreviation('2026-01-01T00:00:00Z', 'en-US', BUCHAREST)).toBe('GMT+2');
    expect(zoneAbbreviation('2026-01-01T00:00:00Z', 'en-US', 'UTC')).toBe('UTC');
  });

  it('shows chat times on the 24-hour clock, in any locale', () => {
    const now = new Date('2026-11-23T21:00:00Z');
    expect(formatChatTime('2026-11-23T20:42:00Z', 'en-US', now, BUCHAREST)).toBe('22:42');
    expect(formatChatTime('2026-11-23T13:05:00Z', 'en-US', now, 'UTC')).toBe('13:05');
    // 22:30 UTC on the 22nd is already the 23rd in Bucharest: the same day as `now`.
    expect(formatChatTime('2026-11-22T22:30:00Z', 'en-US', now, BUCHAREST)).toBe('00:30');
    expect(formatChatTime('2026-11-22T22:30:00Z', 'en-US', now, 'UTC')).toBe('Nov 22, 22:30');
  });
});

describe('consumption periods in a zone', () => {
  const spring: Period = { kind: 'day', start: '2026-03-29' };

  it('starts a day at local midnight', () => {
    expect(new Date(startOfDay('2026-03-01', BUCHAREST)).toISOString()).toBe('2026-02-28T22:00:00.000Z');
    expect(new Date(startOfDay('2026-07-01', BUCHAREST)).toISOString()).toBe('2026-06-30T21:00:00.000Z');
    // Santiago's clocks went from 00:00 to 01:00 on 6 September 2026: its day begins at 01:00.
    expect(new Date(startOfDay('2026-09-06', 'America/Santiago')).toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(todayIn(BUCHAREST, new Date('2026-03-01T22:30:00Z'))).toBe('2026-03-02');
  });

  it('gives the day the clocks go forward 23 hours, and the day they go back 25', () => {
    const hours = slotStarts(spring, BUCHAREST);
    expect(hours).toHaveLength(23);
    expect(hours[0]).toBe('2026-03-28T22:00:00Z');
    expect(hours.slice(0, 5).map((start) => slotLabel(spring, start, 'en-GB', BUCHAREST))).toEqual([
      '00:00',
      '01:00',
      '02:00',
      '04:00',
      '05:00',
    ]);
    expect(slotName(spring, hours[2]!, 'en-GB', BUCHAREST)).toBe('02:00–04:00');
    const autumn: Period = { kind: 'day', start: '2026-10-25' };
    const autumnHours = slotStarts(autumn, BUCHAREST);
    expect(autumnHours).toHaveLength(25);
    // 04:00 summer time is 03:00 winter time again: that hour is named with both abbreviations.
    expect(autumnHours.slice(3, 5).map((start) => slotName(autumn, start, 'en-GB', BUCHAREST))).toEqual([
      '03:00 EEST–03:00 EET',
      '03:00–04:00',
    ]);
    expect(slotStarts({ kind: 'day', start: '2026-03-29' }, 'UTC')).toHaveLength(24);
  });

  it('counts the days of a week from local midnights', () => {
    const week: Period = { kind: 'week', start: '2026-03-23' };
    const days = slotStarts(week, BUCHAREST);
    expect(days).toHaveLength(7);
    // The clocks go forward at 03:00 on Sunday the 29th, so that day still starts at 22:00 UTC.
    expect([days[0], days[6]]).toEqual(['2026-03-22T22:00:00Z', '2026-03-28T22:00:00Z']);
    expect(slotStarts({ kind: 'week', start: '2026-03-30' }, BUCHAREST)[0]).toBe('2026-03-29T21:00:00Z');
    expect(days.map((start) => slotLabel(week, start, 'en-GB', BUCHAREST))).toEqual([
      'Mon 23',
      'Tue 24',
      'Wed 25',
      'Thu 26',
      'Fri 27',
      'Sat 28',
      'Sun 29',
    ]);
  });

  it('loads a 23-hour day of all devices hour by hour, by each hour’s start', async () => {
    setTimeZone(BUCHAREST);
    const hourStarts = slotStarts(spring, BUCHAREST);
    const day: MyDay = {
      date: spring.start,
      time_zone: BUCHAREST,
      total_kwh: 3,
      hour_starts: hourStarts,
      hours: hourStarts.map((_, index) => (index === 3 ? 1 : index === 22 ? 2 : 0)),
      hour_costs: hourStarts.map(() => null),
      devices: [],
    };
    const source = {
      myDay: async () => day,
      deviceSeries: async (): Promise<Series> => {
        throw new Error('not asked for');
      },
    };
    const { values } = await loadPeriod(source, { all: [{ id: 'a', name: 'Oven' }] }, spring);
    expect(values).toHaveLength(23);
    expect([values[3], values[22]]).toEqual([1, 2]);
  });
});
