import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  hasBegun,
  nextPeriod,
  parseDate,
  parsePeriodKind,
  periodContaining,
  periodEnd,
  periodTitle,
  previousPeriod,
  seriesQuery,
  slotLabel,
  slotName,
  slotStarts,
  todayUtc,
} from './period';

describe('dates', () => {
  it('reads only real calendar dates', () => {
    expect(parseDate('2026-11-24')).toBe('2026-11-24');
    expect(parseDate('2028-02-29')).toBe('2028-02-29');
    expect(parseDate('2026-02-29')).toBeNull();
    expect(parseDate('2026-13-01')).toBeNull();
    expect(parseDate('24/11/2026')).toBeNull();
    expect(parseDate('')).toBeNull();
    expect(parseDate(null)).toBeNull();
  });

  it('takes today from the UTC calendar, as the API does', () => {
    // 23:30 in New York on the 24th is already the 25th in UTC.
    expect(todayUtc(new Date('2026-11-24T23:30:00-05:00'))).toBe('2026-11-25');
  });

  it('adds days and months across month and year ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-01');
    expect(addMonths('2026-01-15', -1)).toBe('2025-12-01');
  });

  it('falls back to a day view for unknown kinds', () => {
    expect(parsePeriodKind('month')).toBe('month');
    expect(parsePeriodKind('year')).toBe('day');
    expect(parsePeriodKind(null)).toBe('day');
  });
});

describe('periods', () => {
  it('finds the day, the week from Monday and the month around a date', () => {
    // 2026-11-24 is a Tuesday.
    expect(periodContaining('day', '2026-11-24')).toEqual({ kind: 'day', start: '2026-11-24' });
    expect(periodContaining('week', '2026-11-24')).toEqual({ kind: 'week', start: '2026-11-23' });
    expect(periodContaining('week', '2026-11-23')).toEqual({ kind: 'week', start: '2026-11-23' });
    // A Sunday belongs to the week that began six days before.
    expect(periodContaining('week', '2026-11-29')).toEqual({ kind: 'week', start: '2026-11-23' });
    expect(periodContaining('month', '2026-11-24')).toEqual({ kind: 'month', start: '2026-11-01' });
  });

  it('ends each period where the next begins', () => {
    expect(periodEnd({ kind: 'day', start: '2026-11-30' })).toBe('2026-12-01');
    expect(periodEnd({ kind: 'week', start: '2026-12-28' })).toBe('2027-01-04');
    expect(periodEnd({ kind: 'month', start: '2026-12-01' })).toBe('2027-01-01');
  });

  it('steps to the previous and the next period', () => {
    expect(previousPeriod({ kind: 'day', start: '2026-03-01' })).toEqual({ kind: 'day', start: '2026-02-28' });
    expect(previousPeriod({ kind: 'week', start: '2026-01-05' })).toEqual({ kind: 'week', start: '2025-12-29' });
    expect(previousPeriod({ kind: 'month', start: '2026-03-01' })).toEqual({ kind: 'month', start: '2026-02-01' });
    expect(previousPeriod({ kind: 'month', start: '2026-01-01' })).toEqual({ kind: 'month', start: '2025-12-01' });
    expect(nextPeriod({ kind: 'day', start: '2026-02-28' })).toEqual({ kind: 'day', start: '2026-03-01' });
    expect(nextPeriod({ kind: 'week', start: '2025-12-29' })).toEqual({ kind: 'week', start: '2026-01-05' });
    expect(nextPeriod({ kind: 'month', start: '2026-12-01' })).toEqual({ kind: 'month', start: '2027-01-01' });
  });

  it('knows which periods have begun', () => {
    expect(hasBegun({ kind: 'week', start: '2026-11-23' }, '2026-11-24')).toBe(true);
    expect(hasBegun({ kind: 'day', start: '2026-11-25' }, '2026-11-24')).toBe(false);
  });

  it('asks the API for hours of a day and days of a week or month', () => {
    expect(seriesQuery({ kind: 'day', start: '2026-11-24' })).toEqual({
      from: '2026-11-24',
      to: '2026-11-25',
      step: 'hour',
    });
    expect(seriesQuery({ kind: 'week', start: '2026-11-23' })).toEqual({
      from: '2026-11-23',
      to: '2026-11-30',
      step: 'day',
    });
    expect(seriesQuery({ kind: 'month', start: '2026-02-01' })).toEqual({
      from: '2026-02-01',
      to: '2026-03-01',
      step: 'day',
    });
  });

  it('has 24 hourly steps a day, 7 a week and as many as the month has days', () => {
    const day = slotStarts({ kind: 'day', start: '2026-11-24' });
    expect(day).toHaveLength(24);
    expect(day[0]).toBe('2026-11-24T00:00:00Z');
    expect(day[23]).toBe('2026-11-24T23:00:00Z');
    expect(slotStarts({ kind: 'week', start: '2026-11-23' })).toHaveLength(7);
    expect(slotStarts({ kind: 'month', start: '2026-02-01' })).toHaveLength(28);
    expect(slotStarts({ kind: 'month', start: '2028-02-01' })).toHaveLength(29);
    expect(slotStarts({ kind: 'month', start: '2026-12-01' }).at(-1)).toBe('2026-12-31T00:00:00Z');
  });
});

describe('labels', () => {
  const day = { kind: 'day', start: '2026-11-24' } as const;
  const week = { kind: 'week', start: '2026-11-23' } as const;
  const month = { kind: 'month', start: '2026-11-01' } as const;

  it('labels steps in UTC, short for the axis and in full for tables', () => {
    expect(slotLabel(day, '2026-11-24T08:00:00Z')).toBe('08:00');
    expect(slotName(day, '2026-11-24T08:00:00Z')).toBe('08:00–09:00');
    expect(slotName(day, '2026-11-24T23:00:00Z')).toBe('23:00–00:00');
    expect(slotLabel(week, '2026-11-23T00:00:00Z', 'en-GB')).toBe('Mon 23');
    expect(slotLabel(month, '2026-11-07T00:00:00Z')).toBe('7');
    expect(slotName(month, '2026-11-07T00:00:00Z', 'en-GB')).toBe('Saturday 7 November');
  });

  it('titles each period', () => {
    expect(periodTitle(day, 'en-GB')).toBe('Tuesday, 24 November 2026');
    // Spaces around the dash differ between ICU versions.
    expect(periodTitle(week, 'en-GB')).toMatch(/^23\s*–\s*29 November 2026$/);
    expect(periodTitle({ kind: 'week', start: '2026-12-28' }, 'en-GB')).toMatch(
      /^28 December 2026\s*–\s*3 January 2027$/,
    );
    expect(periodTitle(month, 'en-GB')).toBe('November 2026');
  });
});
