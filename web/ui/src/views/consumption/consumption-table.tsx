import { PREVIOUS_NAMES, slotName, slotStarts, type Period } from '../../consumption/period';
import { totalOf } from '../../consumption/series';
import { formatKwh } from '../../format/format';

/** Every value of the chart, step by step, with the previous period beside it when comparing. */
export function ConsumptionTable({
  period,
  caption,
  values,
  previous,
  limit,
}: {
  period: Period;
  caption: string;
  values: readonly number[];
  previous: readonly number[] | null;
  limit: number | null;
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
              Consumption
            </th>
            {previous && (
              <th scope="col" class="number">
                {previousName.charAt(0).toUpperCase() + previousName.slice(1)}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {starts.map((start, index) => {
            const value = values[index] ?? 0;
            const over = limit !== null && value > limit;
            return (
              <tr key={start} class={over ? 'over-limit' : undefined}>
                <th scope="row">{slotName(period, start)}</th>
                <td class="number">
                  {formatKwh(value)}
                  {over && <span class="over-limit-mark"> ⚠ over the limit</span>}
                </td>
                {previous && <td class="number">{previous[index] === undefined ? '—' : formatKwh(previous[index])}</td>}
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td class="number">{formatKwh(totalOf(values))}</td>
            {previous && <td class="number">{formatKwh(totalOf(previous))}</td>}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
