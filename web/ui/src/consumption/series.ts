// Consumption values shaped for the view: aligned to a period's steps, summed over devices,
// summarised, and laid out for the chart and its table.
import type { ConsumptionPoint } from '../api/types';
import { slotStarts, type Period } from './period';

/** Sums of floating-point kWh carry noise in the last digits; like the API, keep micro-kWh. */
export function roundKwh(kwh: number): number {
  return Math.round(kwh * 1e6) / 1e6;
}

/**
 * One value per step of the period, from the API's points matched by their start; a step the
 * answer lacks counts as zero (the API zero-fills, so that only happens with a stale answer).
 */
export function valuesForPeriod(points: readonly ConsumptionPoint[], period: Period): number[] {
  const byStart = new Map<number, number>();
  for (const point of points) {
    const time = Date.parse(point.start);
    byStart.set(time, (byStart.get(time) ?? 0) + point.kwh);
  }
  return slotStarts(period).map((start) => roundKwh(byStart.get(Date.parse(start)) ?? 0));
}

/** Step-by-step sum of several devices' values; a shorter list counts as zeros where it ends. */
export function sumSeries(series: readonly (readonly number[])[]): number[] {
  const length = Math.max(0, ...series.map((values) => values.length));
  const sums = new Array<number>(length).fill(0);
  for (const values of series) values.forEach((value, index) => (sums[index]! += value));
  return sums.map(roundKwh);
}

export function totalOf(values: readonly number[]): number {
  return roundKwh(values.reduce((sum, value) => sum + value, 0));
}

/** The highest step (the first of equals), or null when nothing was used. */
export function peakOf(values: readonly number[]): { index: number; kwh: number } | null {
  let best: { index: number; kwh: number } | null = null;
  values.forEach((kwh, index) => {
    if (kwh > 0 && (best === null || kwh > best.kwh)) best = { index, kwh };
  });
  return best;
}

/** The steps above the limit, as the monitors judge it: strictly greater. */
export function stepsOverLimit(values: readonly number[], limit: number | null): number[] {
  if (limit === null) return [];
  return values.flatMap((kwh, index) => (kwh > limit ? [index] : []));
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

export interface ChartModel {
  /** Short axis labels, one per step ("08:00", "Mon 23", "23"). */
  labels: string[];
  current: number[];
  /** The previous period step by step, cut or padded with null to the current period's length. */
  previous: (number | null)[] | null;
  /** The hourly limit, drawn as a line on hourly charts only. */
  limit: number | null;
}

export function chartModel(
  labels: string[],
  current: number[],
  previous: number[] | null,
  limit: number | null,
): ChartModel {
  return {
    labels,
    current,
    previous: previous && labels.map((_, index) => previous[index] ?? null),
    limit,
  };
}

/** uPlot's columns: x (the step's index), the period, then the previous period and the limit if shown. */
export function chartColumns(model: ChartModel): (number | null)[][] {
  const columns: (number | null)[][] = [model.labels.map((_, index) => index), model.current];
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
