// Fetches what the consumption view shows for one period: one device's series, or the sum of
// all the customer's devices (their day from /api/me/consumption, or each device's daily series
// added up for a week or a month).
import type { MyDay, Series } from '../api/types';
import { seriesQuery, type Period, type SeriesRequest } from './period';
import { sumSeries, valuesForPeriod } from './series';

export interface ConsumptionSource {
  deviceSeries(deviceId: string, query: SeriesRequest, signal?: AbortSignal): Promise<Series>;
  myDay(date: string, signal?: AbortSignal): Promise<MyDay>;
}

/** One device, or all of `deviceIds` added up. */
export type Target = { device: string } | { all: readonly string[] };

export interface PeriodValues {
  /** One value per step of the period. */
  values: number[];
  /** The device's hourly limit; null for all devices together, where no single limit applies. */
  limit: number | null;
}

export async function loadPeriod(
  source: ConsumptionSource,
  target: Target,
  period: Period,
  signal?: AbortSignal,
): Promise<PeriodValues> {
  if ('device' in target) {
    const series = await source.deviceSeries(target.device, seriesQuery(period), signal);
    return { values: valuesForPeriod(series.points, period), limit: series.max_hourly_kwh };
  }
  if (period.kind === 'day') {
    const day = await source.myDay(period.start, signal);
    // Matched by start, like a series: a day has 23, 24 or 25 hours in the user's zone.
    const points = day.hour_starts.map((start, index) => ({ start, kwh: day.hours[index] ?? 0 }));
    return { values: valuesForPeriod(points, period), limit: null };
  }
  const all = await Promise.all(target.all.map((device) => source.deviceSeries(device, seriesQuery(period), signal)));
  const values = sumSeries(all.map((series) => valuesForPeriod(series.points, period)));
  return { values: values.length ? values : valuesForPeriod([], period), limit: null };
}
