// The consumption chart, drawn by uPlot on a canvas. This module and uPlot are a chunk of their
// own, loaded when a chart is first shown. The canvas is a picture: its text alternative is the
// summary given as `label`, and the table view lists every value.
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { chartColumns, totalOf, yMaximum, type ChartModel } from '../../consumption/series';
import { formatKwh, formatMoney } from '../../format/format';
import type { Measured } from '../../consumption/series';
import { themeChoice } from '../../theme/theme';

interface Colours {
  text: string;
  muted: string;
  grid: string;
  current: string;
  previous: string;
  limit: string;
  /** One colour per device of a breakdown, repeating after the last. */
  devices: string[];
}

/** How many `--device-colour-N` variables the stylesheet defines. */
const DEVICE_COLOURS = 6;

/** The page's colours as the canvas needs them: CSS variables resolved for the current theme. */
function resolveColours(host: HTMLElement): Colours {
  const probe = document.createElement('span');
  host.append(probe);
  const resolve = (variable: string) => {
    probe.style.color = `var(${variable})`;
    return getComputedStyle(probe).color;
  };
  const colours = {
    text: resolve('--text'),
    muted: resolve('--muted'),
    grid: resolve('--border'),
    current: resolve('--primary'),
    previous: resolve('--muted'),
    limit: resolve('--danger'),
    devices: Array.from({ length: DEVICE_COLOURS }, (_, index) => resolve(`--device-colour-${index + 1}`)),
  };
  probe.remove();
  return colours;
}

/** "rgb(11, 110, 79)" → "rgba(11, 110, 79, alpha)". */
function withAlpha(colour: string, alpha: number): string {
  const channels = colour.match(/[\d.]+/g);
  if (!channels || channels.length < 3) return colour;
  return `rgba(${channels.slice(0, 3).join(', ')}, ${alpha})`;
}

/** Re-renders when the light or dark theme changes, by the toggle or the system. */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((value) => value + 1);
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', bump);
    const stop = themeChoice.subscribe(bump);
    return () => {
      media.removeEventListener('change', bump);
      stop();
    };
  }, []);
  return version;
}

/** Each step's cost, and the previous period's, shown beside the kWh in the legend. */
export interface ChartMoney {
  currency: string;
  costs: readonly Measured[];
  previous: readonly Measured[] | null;
}

function options(
  model: ChartModel,
  names: { step: string; current: string; previous: string },
  width: number,
  colours: Colours,
  money: ChartMoney | null,
) {
  const count = model.labels.length;
  const axis = {
    stroke: colours.text,
    grid: { stroke: withAlpha(colours.grid, 0.6), width: 1 },
    ticks: { stroke: colours.grid, width: 1 },
  };
  const kwh = (_: uPlot, value: number | null) => (value === null ? '—' : formatKwh(value));
  /** "3 kWh · RON 3.30" where the step has a cost. */
  const withCost =
    (costs: readonly Measured[] | null | undefined) =>
    (_: uPlot, value: number | null, _series: number, index: number | null) => {
      const cost = index === null ? null : (costs?.[index] ?? null);
      return cost === null || value === null || !money
        ? kwh(_, value)
        : `${kwh(_, value)} · ${formatMoney(cost, money.currency)}`;
    };
  const barSize = model.previous ? 0.4 : 0.7;
  const bars = () => uPlot.paths.bars!({ size: [barSize, 48], align: model.previous ? 1 : 0 });
  // With several devices stacked, the step's cost (all of them) goes beside its name.
  const stepCost = (index: number) => {
    const cost = money && model.breakdown ? (money.costs[index] ?? null) : null;
    return cost === null || !money ? '' : ` · ${formatMoney(cost, money.currency)}`;
  };
  const series: uPlot.Series[] = [
    { label: names.step, value: (_, index) => `${model.labels[index] ?? ''}${stepCost(index)}` },
  ];
  if (model.breakdown) {
    // Stacked: each device's column holds it and those below it (see stackedColumns), drawn
    // opaque so that only its own share shows; its legend says its own value and total.
    model.breakdown.forEach((device, position) => {
      const colour = colours.devices[position % colours.devices.length]!;
      const total = totalOf(device.values);
      series.push({
        label: `${device.name} (${total === null ? 'no readings' : formatKwh(total)})`,
        stroke: colour,
        fill: colour,
        width: 1,
        paths: bars(),
        points: { show: false },
        value: (_: uPlot, raw: number | null, _series: number, index: number | null) =>
          raw === null || index === null ? '—' : kwh(_, device.values[index] ?? null),
      });
    });
  } else {
    series.push({
      label: names.current,
      stroke: colours.current,
      fill: withAlpha(colours.current, 0.75),
      width: 1,
      paths: bars(),
      points: { show: false },
      value: withCost(money?.costs),
    });
  }
  if (model.previous) {
    series.push({
      label: names.previous,
      stroke: colours.previous,
      fill: withAlpha(colours.previous, 0.35),
      width: 1,
      paths: uPlot.paths.bars!({ size: [barSize, 48], align: -1 }),
      points: { show: false },
      value: withCost(money?.previous),
    });
  }
  if (model.limit !== null) {
    series.push({
      label: 'Hourly limit',
      stroke: colours.limit,
      width: 2,
      dash: [8, 5],
      points: { show: false },
      value: kwh,
    });
  }
  return {
    width,
    height: width < 480 ? 220 : 300,
    series,
    legend: { show: true, live: true },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: (): uPlot.Range.MinMax => [-0.5, count - 0.5] },
      y: { range: (): uPlot.Range.MinMax => [0, yMaximum(model)] },
    },
    axes: [
      {
        ...axis,
        space: 34,
        incrs: [1, 2, 3, 4, 6, 12],
        values: (_: uPlot, splits: number[]) => splits.map((split) => model.labels[split] ?? ''),
      },
      {
        ...axis,
        size: 56,
        values: (_: uPlot, splits: number[]) => splits.map((split) => `${+split.toFixed(3)}`),
        label: 'kWh',
        labelSize: 18,
      },
    ],
  } satisfies uPlot.Options;
}

export default function ConsumptionChart({
  model,
  stepName,
  currentName,
  previousName,
  label,
  money = null,
}: {
  model: ChartModel;
  /** What the x axis counts: "Hour" or "Day". */
  stepName: string;
  currentName: string;
  previousName: string;
  label: string;
  money?: ChartMoney | null;
}) {
  const host = useRef<HTMLDivElement>(null);
  const theme = useThemeVersion();

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const colours = resolveColours(element);
    const names = { step: stepName, current: currentName, previous: previousName };
    let plot = new uPlot(
      options(model, names, element.clientWidth, colours, money),
      chartColumns(model) as uPlot.AlignedData,
      element,
    );
    let width = element.clientWidth;
    const observer = new ResizeObserver(() => {
      if (element.clientWidth === width) return;
      width = element.clientWidth;
      // The height depends on the width too, so draw anew.
      plot.destroy();
      plot = new uPlot(options(model, names, width, colours, money), chartColumns(model) as uPlot.AlignedData, element);
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [model, theme, stepName, currentName, previousName, money]);

  return (
    <figure class="chart">
      <div ref={host} class="chart-canvas" role="img" aria-label={label} />
    </figure>
  );
}
