import { describe, expect, it } from 'vitest';
import type { MyDay, Series } from '../api/types';
import { loadPeriod, type ConsumptionSource } from './load';
import { slotStarts, type Period, type SeriesRequest } from './period';

const week: Period = { kind: 'week', start: '2026-11-23' };
const day: Period = { kind: 'day', start: '2026-11-23' };
const both = [
  { id: 'a', name: 'Oven' },
  { id: 'b', name: 'Heat pump' },
];

/**
 * A fake API whose devices used `daily[device]` kWh on each day of the week asked for; null (or
 * a device not listed) is a day without readings, as the API answers it.
 */
function source(daily: Record<string, (number | null)[]>) {
  const asked: string[] = [];
  const fake: ConsumptionSource = {
    async deviceSeries(device: string, query: SeriesRequest): Promise<Series> {
      asked.push(`${device} ${query.from} ${query.to} ${query.step}`);
      const period: Period = { kind: query.step === 'hour' ? 'day' : 'week', start: query.from };
      return {
        device_id: device,
        step: query.step,
        time_zone: 'UTC',
        max_hourly_kwh: 2.5,
        total_kwh: null,
        points: slotStarts(period).map((start, index) => ({ start, kwh: daily[device]?.[index] ?? null })),
      };
    },
    async myDay(date: string): Promise<MyDay> {
      asked.push(`me ${date}`);
      const hours = (at: number, kwh: number) => Array.from({ length: 24 }, (_, hour) => (hour === at ? kwh : null));
      return {
        date,
        time_zone: 'UTC',
        total_kwh: 0.3,
        hour_starts: slotStarts({ kind: 'day', start: date }),
        hours: hours(3, 0.1 + 0.2),
        currency: null,
        hour_costs: hours(-1, 0).map(() => null),
        devices: [
          { device_id: 'b', name: 'Heat pump', max_hourly_kwh: 2, total_kwh: 0.3, hours: hours(3, 0.1 + 0.2) },
          { device_id: 'a', name: 'Oven', max_hourly_kwh: 3, total_kwh: null, hours: hours(-1, 0) },
        ],
      };
    },
  };
  return { fake, asked };
}

describe('loadPeriod', () => {
  it('shows one device with its limit, null where nothing was measured', async () => {
    const { fake, asked } = source({ a: [1, 2, 0, null, 5, 6, 7] });
    expect(await loadPeriod(fake, { device: 'a' }, week)).toEqual({
      values: [1, 2, 0, null, 5, 6, 7],
      limit: 2.5,
      devices: null,
      costs: null,
      currency: null,
    });
    expect(asked).toEqual(['a 2026-11-23 2026-11-30 day']);
  });

  it('takes all devices’ day, each device too, from the day endpoint', async () => {
    const { fake, asked } = source({});
    const result = await loadPeriod(fake, { all: both }, day);
    expect(result.values[3]).toBe(0.3);
    expect(result.values[4]).toBeNull();
    expect(result.limit).toBeNull();
    expect(result.devices?.map((device) => [device.name, device.values[3]])).toEqual([
      ['Heat pump', 0.3],
      ['Oven', null],
    ]);
    expect(asked).toEqual(['me 2026-11-23']);
  });

  it('adds up every device’s days for a week, keeping each device’s own', async () => {
    const { fake, asked } = source({ a: [1, 0, 0.1, null, null, null, null], b: [0.5, 2, 0.2, 0, null, null, 1] });
    const result = await loadPeriod(fake, { all: both }, week);
    expect(result.values).toEqual([1.5, 2, 0.3, 0, null, null, 1]);
    expect(result.devices).toEqual([
      { id: 'a', name: 'Oven', values: [1, 0, 0.1, null, null, null, null] },
      { id: 'b', name: 'Heat pump', values: [0.5, 2, 0.2, 0, null, null, 1] },
    ]);
    expect(asked.sort()).toEqual(['a 2026-11-23 2026-11-30 day', 'b 2026-11-23 2026-11-30 day']);
  });

  it('shows no data, not zeros, for a customer without devices', async () => {
    const { fake } = source({});
    expect((await loadPeriod(fake, { all: [] }, week)).values).toEqual([null, null, null, null, null, null, null]);
  });
});

describe('loadPeriod with a tariff', () => {
  it('adds up every device’s costs, exact decimal strings shown as numbers', async () => {
    const costs: Record<string, (string | null)[]> = {
      a: ['0.10', '1.25', null, null, null, null, null],
      b: ['0.20', null, null, '0', null, null, null],
    };
    const fake: ConsumptionSource = {
      async deviceSeries(device: string, query: SeriesRequest): Promise<Series> {
        return {
          device_id: device,
          step: query.step,
          time_zone: 'UTC',
          max_hourly_kwh: 1,
          currency: 'RON',
          points: slotStarts(week).map((start, index) => ({
            start,
            kwh: costs[device]![index] === null ? null : 1,
            cost: costs[device]![index] ?? null,
          })),
        };
      },
      async myDay(): Promise<MyDay> {
        throw new Error('not asked for a week');
      },
    };
    const result = await loadPeriod(fake, { all: both }, week);
    expect(result.currency).toBe('RON');
    expect(result.costs).toEqual([0.3, 1.25, null, 0, null, null, null]);
  });
});
