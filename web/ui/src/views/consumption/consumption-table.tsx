import { PREVIOUS_NAMES, slotName, slotStarts, type Period } from '../../consumption/period';
import { totalOf, type DeviceValues, type Measured } from '../../consumption/series';
import { formatKwh, formatMoney } from '../../format/format';

/** A step's value: its kWh, or "no data" where nothing was measured (which is not 0 kWh). */
function MeasuredCell({ value }: { value: Measured | undefined }) {
  return value == null ? <span class="no-data">no data</span> : <>{formatKwh(value)}</>;
}

/** A column's total: its kWh, or "No readings" when none of its steps was measured. */
function TotalCell({ values }: { values: readonly Measured[] }) {
  const total = totalOf(values);
  return total === null ? <span class="no-data">No readings</span> : <>{formatKwh(total)}</>;
}

/** A step's cost in `currency`, or nothing where it has none. */
function CostCell({ value, currency }: { value: Measured | undefined; currency: string }) {
  return value == null ? <span class="no-data">—</span> : <>{formatMoney(value, currency)}</>;
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
  costs = null,
  previousCosts = null,
  currency = null,
}: {
  period: Period;
  caption: string;
  values: readonly Measured[];
  previous: readonly Measured[] | null;
  limit: number | null;
  devices?: readonly DeviceValues[] | null;
  /** Each step's cost, and the previous period's when comparing; null without a tariff. */
  costs?: readonly Measured[] | null;
  previousCosts?: readonly Measured[] | null;
  currency?: string | null;
}) {
  const money = currency && costs ? { currency, costs } : null;
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
            {money && (
              <th scope="col" class="number">
                Cost ({money.currency})
              </th>
            )}
            {previous && (
              <th scope="col" class="number">
                {previousName.charAt(0).toUpperCase() + previousName.slice(1)}
              </th>
            )}
            {money && previous && previousCosts && (
              <th scope="col" class="number">
                Cost, {previousName}
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
                {money && (
                  <td class="number">
                    <CostCell value={money.costs[index]} currency={money.currency} />
                  </td>
                )}
                {previous && (
                  <td class="number">
                    <MeasuredCell value={previous[index]} />
                  </td>
                )}
                {money && previous && previousCosts && (
                  <td class="number">
                    <CostCell value={previousCosts[index]} currency={money.currency} />
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
            {money && (
              <td class="number">
                <CostCell value={totalOf(money.costs)} currency={money.currency} />
              </td>
            )}
            {previous && (
              <td class="number">
                <TotalCell values={previous} />
              </td>
            )}
            {money && previous && previousCosts && (
              <td class="number">
                <CostCell value={totalOf(previousCosts)} currency={money.currency} />
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
