// Fetches what the consumption view shows for one period: one device's series, or all the
// customer's devices, each on its own and added up (their day from /api/me/consumption, or each
// device's daily series for a week or a month).
import type { MyDay, Series } from '../api/types';
import { seriesQuery, type Period, type SeriesRequest } from './period';
import { sumSeries, valuesForPeriod, type DeviceValues, type Measured } from './series';

export interface ConsumptionSource {
  deviceSeries(deviceId: string, query: SeriesRequest, signal?: AbortSignal): Promise<Series>;
  myDay(date: string, signal?: AbortSignal): Promise<MyDay>;
}

/** A device as the view names it. */
export interface NamedDevice {
  id: string;
  name: string;
}

/** One device, or all of these added up. */
export type Target = { device: string } | { all: readonly NamedDevice[] };

export interface PeriodValues {
  /** One value per step of the period; null where nothing was measured. */
  values: Measured[];
  /** The device's hourly limit; null for all devices together, where no single limit applies. */
  limit: number | null;
  /** For all devices: each device's values, in the order given; null for one device. */
  devices: DeviceValues[] | null;
  /** What each step cost, in `currency`; null without a tariff. */
  costs: Measured[] | null;
  /** The tariff's currency; null when there is none (then there is no money to show). */
  currency: string | null;
}

/** Costs are exact decimal strings in the API; as numbers they are only ever shown, rounded to cents. */
function costsOf(points: readonly { start: string; cost?: string | null }[], period: Period): Measured[] {
  return valuesForPeriod(
    points.map((point) => ({ start: point.start, kwh: point.cost == null ? null : Number(point.cost) })),
    period,
  );
}

export async function loadPeriod(
  source: ConsumptionSource,
  target: Target,
  period: Period,
  signal?: AbortSignal,
): Promise<PeriodValues> {
  if ('device' in target) {
    const series = await source.deviceSeries(target.device, seriesQuery(period), signal);
    const currency = series.currency ?? null;
    return {
      values: valuesForPeriod(series.points, period),
      limit: series.max_hourly_kwh,
      devices: null,
      costs: currency ? costsOf(series.points, period) : null,
      currency,
    };
  }
  if (period.kind === 'day') {
    const day = await source.myDay(period.start, signal);
    // Matched by start, like a series: a day has 23, 24 or 25 hours in the user's zone.
    const byHour = (hours: readonly (number | null | undefined)[]) =>
      valuesForPeriod(
        day.hour_starts.map((start, index) => ({ start, kwh: hours[index] ?? null })),
        period,
      );
    const devices = day.devices.map((device) => ({
      id: device.device_id,
      name: device.name,
      values: byHour(device.hours),
    }));
    const currency = day.currency ?? null;
    const costs = currency
      ? costsOf(
          day.hour_starts.map((start, index) => ({ start, cost: day.hour_costs[index] ?? null })),
          period,
        )
      : null;
    return { values: byHour(day.hours), limit: null, devices, costs, currency };
  }
  const all = await Promise.all(
    target.all.map((device) => source.deviceSeries(device.id, seriesQuery(period), signal)),
  );
  const devices = target.all.map((device, index) => ({
    id: device.id,
    name: device.name,
    values: valuesForPeriod(all[index]!.points, period),
  }));
  const values = sumSeries(devices.map((device) => device.values));
  // All the devices are one customer's, so one tariff and currency.
  const currency = all.find((series) => series.currency)?.currency ?? null;
  const costs = currency ? sumSeries(all.map((series) => costsOf(series.points, period))) : null;
  return { values: values.length ? values : valuesForPeriod([], period), limit: null, devices, costs, currency };
}
