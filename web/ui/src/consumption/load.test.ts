import { describe, expect, it } from 'vitest';
import type { MyDay, Series } from '../api/types';
import { loadPeriod, type ConsumptionSource } from './load';
import { slotStarts, type Period, type SeriesRequest } from './period';

const week: Period = { kind: 'week', start: '2026-11-23' };
const day: Period = { kind: 'day', start: '2026-11-23' };

/** A fake API whose devices used `daily[device]` kWh on each day of the week asked for. */
function source(daily: Record<string, number[]>) {
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
        total_kwh: 0,
        points: slotStarts(period).map((start, index) => ({ start, kwh: daily[device]?.[index] ?? 0 })),
      };
    },
    async myDay(date: string): Promise<MyDay> {
      asked.push(`me ${date}`);
      return {
        date,
        time_zone: 'UTC',
        total_kwh: 1,
        hour_starts: slotStarts({ kind: 'day', start: date }),
        hours: Array.from({ length: 24 }, (_, hour) => (hour === 3 ? 0.1 + 0.2 : 0)),
        devices: [],
      };
    },
  };
  return { fake, asked };
}

describe('loadPeriod', () => {
  it('shows one device with its limit', async () => {
    const { fake, asked } = source({ a: [1, 2, 3, 4, 5, 6, 7] });
    expect(await loadPeriod(fake, { device: 'a' }, week)).toEqual({ values: [1, 2, 3, 4, 5, 6, 7], limit: 2.5 });
    expect(asked).toEqual(['a 2026-11-23 2026-11-30 day']);
  });

  it('takes all devices’ day from the day endpoint', async () => {
    const { fake, asked } = source({});
    const result = await loadPeriod(fake, { all: ['a', 'b'] }, day);
    expect(result.values[3]).toBe(0.3);
    expect(result.limit).toBeNull();
    expect(asked).toEqual(['me 2026-11-23']);
  });

  it('adds up every device’s days for a week', async () => {
    const { fake, asked } = source({ a: [1, 0, 0.1, 0, 0, 0, 0], b: [0.5, 2, 0.2, 0, 0, 0, 1] });
    expect(await loadPeriod(fake, { all: ['a', 'b'] }, week)).toEqual({
      values: [1.5, 2, 0.3, 0, 0, 0, 1],
      limit: null,
    });
    expect(asked.sort()).toEqual(['a 2026-11-23 2026-11-30 day', 'b 2026-11-23 2026-11-30 day']);
  });

  it('shows zeros for a customer without devices', async () => {
    const { fake } = source({});
    expect((await loadPeriod(fake, { all: [] }, week)).values).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});
