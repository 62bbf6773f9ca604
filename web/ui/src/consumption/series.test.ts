import { describe, expect, it } from 'vitest';
import {
  changeFrom,
  chartColumns,
  hasData,
  chartModel,
  peakOf,
  roundKwh,
  stackedColumns,
  stepsOverLimit,
  sumSeries,
  totalOf,
  valuesForPeriod,
  yMaximum,
} from './series';

describe('values of a period', () => {
  it('puts each point at its step, null where nothing was measured and 0 where it was', () => {
    const values = valuesForPeriod(
      [
        { start: '2026-11-24T08:00:00Z', kwh: 0.75 },
        // RFC 3339 with an offset is the same instant.
        { start: '2026-11-24T11:00:00+01:00', kwh: 2.75 },
        { start: '2026-11-24T12:00:00Z', kwh: 0 },
        { start: '2026-11-24T13:00:00Z', kwh: null },
        { start: '2026-11-25T00:00:00Z', kwh: 9 },
      ],
      { kind: 'day', start: '2026-11-24' },
    );
    expect(values).toHaveLength(24);
    expect(values[8]).toBe(0.75);
    expect(values[10]).toBe(2.75);
    expect(values[12]).toBe(0);
    expect(values[13]).toBeNull();
    expect(values[0]).toBeNull();
    expect(totalOf(values)).toBe(3.5);
  });

  it('totals no data as null, and measured zeros as 0', () => {
    expect(totalOf([null, null])).toBeNull();
    expect(totalOf([])).toBeNull();
    expect(totalOf([null, 0, null])).toBe(0);
    expect(hasData([null, 0])).toBe(true);
    expect(hasData([null])).toBe(false);
  });

  it('rounds away floating-point noise', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(roundKwh(0.1 + 0.2)).toBe(0.3);
    expect(totalOf([0.1, 0.2, 0.4])).toBe(0.7);
  });
});

describe('sumSeries', () => {
  it('adds devices step by step', () => {
    expect(
      sumSeries([
        [1, 0, 0.1],
        [0.5, 2, 0.2],
      ]),
    ).toEqual([1.5, 2, 0.3]);
  });

  it('treats a shorter series as unmeasured and no series as nothing', () => {
    expect(sumSeries([[1, 2, 3], [1]])).toEqual([2, 2, 3]);
    expect(sumSeries([])).toEqual([]);
  });

  it('is measured where any device measured, and null only where none did', () => {
    expect(
      sumSeries([
        [null, 0, 1, null],
        [null, null, 0.5, 0],
      ]),
    ).toEqual([null, 0, 1.5, 0]);
  });
});

describe('summaries', () => {
  it('finds the highest step, the first of equals, none when all are zero', () => {
    expect(peakOf([0, 2, 3, 3, 1])).toEqual({ index: 2, kwh: 3 });
    expect(peakOf([0, 0])).toBeNull();
    expect(peakOf([null, 1, null])).toEqual({ index: 1, kwh: 1 });
  });

  it('counts only steps strictly above the limit', () => {
    expect(stepsOverLimit([2.5, 2.75, 1, 3], 2.5)).toEqual([1, 3]);
    expect(stepsOverLimit([10], null)).toEqual([]);
    expect(stepsOverLimit([null, 3], 2.5)).toEqual([1]);
  });

  it('compares with the previous period', () => {
    expect(changeFrom(4, 5)).toEqual({ kwh: 1, percent: 25 });
    expect(changeFrom(3, 2)).toEqual({ kwh: -1, percent: -33.3 });
    expect(changeFrom(0, 2)).toEqual({ kwh: 2, percent: null });
  });
});

describe('chart data', () => {
  it('lines the previous period up with this one, cut or padded to its length', () => {
    // February after January: January's last days have no counterpart; a 31-day month after a
    // 30-day one has nothing to compare on its 31st.
    expect(chartModel(['1', '2'], [1, 2], [3, 4, 5], null).previous).toEqual([3, 4]);
    expect(chartModel(['1', '2', '3'], [1, 2, 3], [4, 5], null).previous).toEqual([4, 5, null]);
    expect(chartModel(['1'], [1], null, null).previous).toBeNull();
  });

  it('gives uPlot the steps, the values, the previous period and the limit as a flat line', () => {
    const model = chartModel(['08:00', '09:00', '10:00'], [0.75, 1.5, 2.75], [0, 0, 1], 2.5);
    expect(chartColumns(model)).toEqual([
      [0, 1, 2],
      [0.75, 1.5, 2.75],
      [0, 0, 1],
      [2.5, 2.5, 2.5],
    ]);
    expect(chartColumns(chartModel(['a'], [1], null, null))).toEqual([[0], [1]]);
  });

  it('leaves steps without readings as gaps (null), not zero bars', () => {
    const model = chartModel(['08:00', '09:00', '10:00'], [null, 0, 1.5], null, null);
    expect(chartColumns(model)).toEqual([
      [0, 1, 2],
      [null, 0, 1.5],
    ]);
  });

  it('stacks a breakdown: each device over the ones after it, gaps where none measured', () => {
    const breakdown = [
      { id: 'a', name: 'Oven', values: [1, null, null, 0.5] },
      { id: 'b', name: 'Pump', values: [0.5, null, 2, 0.25] },
      { id: 'c', name: 'Spare', values: [null, null, null, null] },
    ];
    expect(stackedColumns(breakdown)).toEqual([
      [1.5, null, 2, 0.75],
      [0.5, null, 2, 0.25],
      [null, null, null, null],
    ]);
    const model = chartModel(['a', 'b', 'c', 'd'], [1.5, null, 2, 0.75], null, null, breakdown);
    expect(chartColumns(model)).toEqual([[0, 1, 2, 3], ...stackedColumns(breakdown)]);
    // Padded to the period's length like the previous period.
    expect(chartModel(['a', 'b'], [1, 2], null, null, [{ id: 'a', name: 'A', values: [1] }]).breakdown).toEqual([
      { id: 'a', name: 'A', values: [1, null] },
    ]);
  });

  it('makes room above the highest value or the limit', () => {
    expect(yMaximum(chartModel(['a', 'b'], [1, 2], null, 2.5))).toBeCloseTo(2.75);
    expect(yMaximum(chartModel(['a', 'b'], [1, 4], [5], 2.5))).toBeCloseTo(5.5);
    expect(yMaximum(chartModel(['a'], [0], null, null))).toBe(1);
    expect(yMaximum(chartModel(['a', 'b'], [null, null], null, null))).toBe(1);
  });
});
