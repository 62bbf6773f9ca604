import { useId } from 'preact/hooks';

/**
 * A day's hours as small bars with the limit as a dashed line: a picture of what the text beside
 * it says, so screen readers get its label only. Bars above the limit are drawn in the danger
 * colour and hatched, so the difference does not rest on colour alone.
 */
export function Sparkline({
  values,
  limit,
  label,
}: {
  /** kWh per step; null (not measured) and 0 both draw no bar. */
  values: readonly (number | null)[];
  limit: number;
  label: string;
}) {
  const hatch = `sparkline-over-${useId()}`;
  const width = 240;
  const height = 48;
  const slot = width / Math.max(values.length, 1);
  const top = Math.max(limit, ...values.map((kwh) => kwh ?? 0)) * 1.1 || 1;
  const y = (kwh: number) => height - (kwh / top) * height;
  return (
    <svg class="sparkline" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
      <defs>
        <pattern id={hatch} width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="4" height="4" class="sparkline-over-fill" />
          <line x1="0" y1="0" x2="0" y2="4" class="sparkline-over-hatch" />
        </pattern>
      </defs>
      <line class="sparkline-base" x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} />
      {values.map((kwh, index) =>
        kwh !== null && kwh > 0 ? (
          <rect
            key={index}
            class={kwh > limit ? 'sparkline-bar sparkline-bar--over' : 'sparkline-bar'}
            fill={kwh > limit ? `url(#${hatch})` : undefined}
            x={index * slot + slot * 0.15}
            width={slot * 0.7}
            y={y(kwh)}
            height={height - y(kwh)}
          />
        ) : null,
      )}
      <line class="sparkline-limit" x1="0" x2={width} y1={y(limit)} y2={y(limit)} />
    </svg>
  );
}
