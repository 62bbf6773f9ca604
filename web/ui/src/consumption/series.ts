// Consumption values shaped for the view: aligned to a period's steps, summed over devices,
// summarised, and laid out for the chart and its table.
import type { ConsumptionPoint } from '../api/types';
import { slotStarts, type Period } from './period';

/** Sums of floating-point kWh carry noise in the last digits; like the API, keep micro-kWh. */
export function roundKwh(kwh: number): number {
  return Math.round(kwh * 1e6) / 1e6;
}

/**
 * A step's energy: a number of kWh where readings were measured (0 when they add up to nothing),
 * null where there was no reading at all (the future, a silent meter, before the first reading).
 */
export type Measured = number | null;

/**
 * One value per step of the period, from the API's points matched by their start; a step the
 * answer lacks, or whose `kwh` is null, was not measured.
 */
export function valuesForPeriod(points: readonly ConsumptionPoint[], period: Period): Measured[] {
  const byStart = new Map<number, number>();
  for (const point of points) {
    if (point.kwh == null) continue;
    const time = Date.parse(point.start);
    byStart.set(time, (byStart.get(time) ?? 0) + point.kwh);
  }
  return slotStarts(period).map((start) => {
    const kwh = byStart.get(Date.parse(start));
    return kwh === undefined ? null : roundKwh(kwh);
  });
}

/**
 * Step-by-step sum of several devices' values: a step is measured when any device measured it
 * (the others count as nothing there), and null when none did.
 */
export function sumSeries(series: readonly (readonly Measured[])[]): Measured[] {
  const length = Math.max(0, ...series.map((values) => values.length));
  const sums = new Array<Measured>(length).fill(null);
  for (const values of series) {
    values.forEach((value, index) => {
      if (value !== null) sums[index] = (sums[index] ?? 0) + value;
    });
  }
  return sums.map((sum) => (sum === null ? null : roundKwh(sum)));
}

/** The sum of the measured steps; null when none was measured (no data is not 0 kWh). */
export function totalOf(values: readonly Measured[]): Measured {
  let total: Measured = null;
  for (const value of values) if (value !== null) total = (total ?? 0) + value;
  return total === null ? null : roundKwh(total);
}

/** Whether any step of these values was measured. */
export function hasData(values: readonly Measured[]): boolean {
  return values.some((value) => value !== null);
}

/** The highest step (the first of equals), or null when nothing was used or measured. */
export function peakOf(values: readonly Measured[]): { index: number; kwh: number } | null {
  let best: { index: number; kwh: number } | null = null;
  values.forEach((kwh, index) => {
    if (kwh !== null && kwh > 0 && (best === null || kwh > best.kwh)) best = { index, kwh };
  });
  return best;
}

/** The steps above the limit, as the monitors judge it: strictly greater. */
export function stepsOverLimit(values: readonly Measured[], limit: number | null): number[] {
  if (limit === null) return [];
  return values.flatMap((kwh, index) => (kwh !== null && kwh > limit ? [index] : []));
}

export interface Change {
  /** kWh more (positive) or less (negative) than before. */
  kwh: number;
  /** The change against the previous total, or null when that was zero. */
  percent: number | null;
}

export function changeFrom(previousTotal: number, currentTotal: number): Change {
  const kwh = roundKwh(currentTotal - previousTotal);
  return { kwh, percent: previousTotal > 0 ? Math.round((kwh / previousTotal) * 1000) / 10 : null };
}

/** One device's share of a breakdown of all devices. */
export interface DeviceValues {
  id: string;
  name: string;
  values: Measured[];
}

export interface ChartModel {
  /** Short axis labels, one per step ("08:00", "Mon 23", "23"). */
  labels: string[];
  /** The period step by step; null where nothing was measured, which the chart leaves empty. */
  current: Measured[];
  /** The previous period step by step, cut or padded with null to the current period's length. */
  previous: Measured[] | null;
  /** The hourly limit, drawn as a line on hourly charts only. */
  limit: number | null;
  /**
   * All devices, device by device, drawn stacked in place of `current`; null for one device.
   * Each device's values are cut or padded with null to the period's length.
   */
  breakdown: DeviceValues[] | null;
}

export function chartModel(
  labels: string[],
  current: Measured[],
  previous: Measured[] | null,
  limit: number | null,
  breakdown: DeviceValues[] | null = null,
): ChartModel {
  const aligned = (values: readonly Measured[]) => labels.map((_, index) => values[index] ?? null);
  return {
    labels,
    current,
    previous: previous && aligned(previous),
    limit,
    breakdown: breakdown && breakdown.map((device) => ({ ...device, values: aligned(device.values) })),
  };
}

/**
 * Stacked columns for a breakdown, as uPlot draws stacks (it does not add series up itself): one
 * column per device, each the sum of that device and all after it. Every bar reaches from 0 to
 * its column's value and later ones are drawn over earlier ones, so what shows of a device's bar
 * is its own share, the first device on top and the last at the bottom. A step that none of
 * those devices measured is null (nothing is drawn); one that some measured counts the others as
 * nothing.
 */
export function stackedColumns(breakdown: readonly DeviceValues[]): Measured[][] {
  const columns: Measured[][] = [];
  let above: Measured[] | null = null;
  for (let position = breakdown.length - 1; position >= 0; position -= 1) {
    const below: Measured[] | null = above;
    const column: Measured[] = breakdown[position]!.values.map((value, index) => {
      const rest = below?.[index] ?? null;
      return value === null && rest === null ? null : roundKwh((value ?? 0) + (rest ?? 0));
    });
    columns.unshift(column);
    above = column;
  }
  return columns;
}

/**
 * uPlot's columns: x (the step's index), the period (or, for a breakdown, each device stacked),
 * then the previous period and the limit if shown.
 */
export function chartColumns(model: ChartModel): Measured[][] {
  const columns: Measured[][] = [model.labels.map((_, index) => index)];
  if (model.breakdown) columns.push(...stackedColumns(model.breakdown));
  else columns.push(model.current);
  if (model.previous) columns.push(model.previous);
  if (model.limit !== null) columns.push(model.labels.map(() => model.limit));
  return columns;
}

/** The highest value the y axis must reach: the data or the limit, whichever is higher. */
export function yMaximum(model: ChartModel): number {
  const values = [...model.current, ...(model.previous ?? []), model.limit ?? 0].filter(
    (value): value is number => value !== null,
  );
  const highest = Math.max(0, ...values);
  return highest > 0 ? highest * 1.1 : 1;
}
