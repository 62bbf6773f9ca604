import { PREVIOUS_NAMES, slotName, slotStarts, type Period } from '../../consumption/period';
import { totalOf, type DeviceValues, type Measured } from '../../consumption/series';
import { formatKwh } from '../../format/format';

/** A step's value: its kWh, or "no data" where nothing was measured (which is not 0 kWh). */
function MeasuredCell({ value }: { value: Measured | undefined }) {
  return value == null ? <span class="no-data">no data</span> : <>{formatKwh(value)}</>;
}

/** A column's total: its kWh, or "No readings" when none of its steps was measured. */
function TotalCell({ values }: { values: readonly Measured[] }) {
  const total = totalOf(values);
  return total === null ? <span class="no-data">No readings</span> : <>{formatKwh(total)}</>;
}

/**
 * Every value of the chart, step by step, with the previous period beside it when comparing, and
 * for all devices a column per device.
 */
export function ConsumptionTable({
  period,
  caption,
  values,
  previous,
  limit,
  devices = null,
}: {
  period: Period;
  caption: string;
  values: readonly Measured[];
  previous: readonly Measured[] | null;
  limit: number | null;
  devices?: readonly DeviceValues[] | null;
}) {
  const starts = slotStarts(period);
  const previousName = PREVIOUS_NAMES[period.kind];
  return (
    <div class="table-scroll">
      <table class="value-table">
        <caption>
          {caption}
          {limit !== null && <span class="caption-detail">Hourly limit {formatKwh(limit)}</span>}
        </caption>
        <thead>
          <tr>
            <th scope="col">{period.kind === 'day' ? 'Hour' : 'Day'}</th>
            <th scope="col" class="number">
              {devices ? 'All devices' : 'Consumption'}
            </th>
            {previous && (
              <th scope="col" class="number">
                {previousName.charAt(0).toUpperCase() + previousName.slice(1)}
              </th>
            )}
            {devices?.map((device) => (
              <th key={device.id} scope="col" class="number">
                {device.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {starts.map((start, index) => {
            const value = values[index] ?? null;
            const over = limit !== null && value !== null && value > limit;
            return (
              <tr key={start} class={over ? 'over-limit' : undefined}>
                <th scope="row">{slotName(period, start)}</th>
                <td class="number">
                  <MeasuredCell value={value} />
                  {over && <span class="over-limit-mark"> ⚠ over the limit</span>}
                </td>
                {previous && (
                  <td class="number">
                    <MeasuredCell value={previous[index]} />
                  </td>
                )}
                {devices?.map((device) => (
                  <td key={device.id} class="number">
                    <MeasuredCell value={device.values[index]} />
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td class="number">
              <TotalCell values={values} />
            </td>
            {previous && (
              <td class="number">
                <TotalCell values={previous} />
              </td>
            )}
            {devices?.map((device) => (
              <td key={device.id} class="number">
                <TotalCell values={device.values} />
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
