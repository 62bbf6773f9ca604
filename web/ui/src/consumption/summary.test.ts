import { describe, expect, it } from 'vitest';
import type { Period } from './period';
import { describeChange, describeCost, summarise } from './summary';

const day: Period = { kind: 'day', start: '2026-11-23' };
const week: Period = { kind: 'week', start: '2026-11-23' };

/** A day's hours: these measured, every other hour measured as 0. */
function hours(values: Record<number, number>): number[] {
  return Array.from({ length: 24 }, (_, hour) => values[hour] ?? 0);
}

/** A day's hours: only these measured, the others without readings. */
function measuredHours(values: Record<number, number>): (number | null)[] {
  return Array.from({ length: 24 }, (_, hour) => values[hour] ?? null);
}

describe('summarise', () => {
  it('says the total, the highest hour and the hours over the limit', () => {
    expect(
      summarise({ period: day, values: hours({ 8: 0.75, 10: 2.75, 14: 2.25 }), previous: null, limit: 2.5 }),
    ).toEqual(['Total 5.75 kWh.', 'Highest hour: 10:00–11:00, 2.75 kWh.', '1 hour over the limit of 2.5 kWh.']);
  });

  it('says when nothing was used or nothing went over', () => {
    expect(summarise({ period: day, values: hours({}), previous: null, limit: 2 })).toEqual([
      'Total 0 kWh.',
      'Nothing was used.',
      'No hour went over the limit of 2 kWh.',
    ]);
  });

  it('says there were no readings, which is not 0 kWh', () => {
    expect(summarise({ period: day, values: measuredHours({}), previous: null, limit: 2 })).toEqual([
      'No readings for this period.',
    ]);
    expect(summarise({ period: day, values: measuredHours({}), previous: hours({ 1: 2 }), limit: 2 })).toEqual([
      'No readings for this period.',
      'The previous day: 2 kWh.',
    ]);
  });

  it('counts the steps without readings, and does not compare with a period without any', () => {
    expect(
      summarise({ period: day, values: measuredHours({ 8: 0, 9: 0 }), previous: measuredHours({}), limit: 2 }),
    ).toEqual([
      'Total 0 kWh.',
      'Nothing was used.',
      'No hour went over the limit of 2 kWh.',
      'No readings for the previous day to compare with.',
      'No readings for 22 of 24 hours.',
    ]);
  });

  it('names the highest day of a week and compares with the week before', () => {
    expect(
      summarise({
        period: week,
        values: [1, 7.25, 0, 0, 0, 0, 0],
        previous: [2, 2, 0, 0, 0, 0, 0],
        limit: null,
        locale: 'en-GB',
      }),
    ).toEqual([
      'Total 8.25 kWh.',
      'Highest day: Tuesday 24 November, 7.25 kWh.',
      '4.25 kWh (106.3 %) more than the previous week (4 kWh).',
    ]);
  });
});

describe('describeChange', () => {
  it('reads as a person would say it', () => {
    expect(describeChange(4, 3, day)).toBe('1 kWh (25 %) less than the previous day');
    expect(describeChange(0, 3, day)).toBe('3 kWh more than the previous day');
    expect(describeChange(3, 3, week)).toBe('the same as the previous week');
  });
});

describe('describeCost', () => {
  it('says the cost, and against the previous period the difference in money', () => {
    const money = { currency: 'RON', costs: [5.5, 0.2, null], previous: [1.65, null, null] };
    expect(describeCost(money, day, 'en-US').map((text) => text.replaceAll('\u00a0', ' '))).toEqual([
      'Cost RON 5.70.',
      'RON 4.05 (245.5 %) more than the previous day (RON 1.65).',
    ]);
  });

  it('says nothing without readings, and comes after the kWh total in the summary', () => {
    expect(describeCost({ currency: 'EUR', costs: [null, null], previous: null }, day)).toEqual([]);
    const sentences = summarise({
      period: day,
      values: hours({ 8: 1 }),
      previous: null,
      limit: null,
      money: { currency: 'EUR', costs: hours({ 8: 0.25 }), previous: null },
      locale: 'en-US',
    });
    expect(sentences.slice(0, 2).map((text) => text.replaceAll('\u00a0', ' '))).toEqual([
      'Total 1 kWh.',
      'Cost €0.25.',
    ]);
  });
});
