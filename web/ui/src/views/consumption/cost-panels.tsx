import { useEffect, useId, useState } from 'preact/hooks';
import { describeError } from '../../api/form-errors';
import { downloadCsv, monthToDate } from '../../api/tariffs';
import type { MonthToDate } from '../../api/types';
import { seriesQuery, type Period } from '../../consumption/period';
import { formatKwh, formatMoney } from '../../format/format';

/**
 * This month so far and where it is heading, in kWh and, with a tariff, in money. The projection
 * is the month's average per elapsed hour times the hours in the month, and says so.
 */
export function MonthSoFar({ deviceId, refresh }: { deviceId: string | null; refresh: string }) {
  const headingId = useId();
  const [month, setMonth] = useState<MonthToDate | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    setMonth(null);
    monthToDate(deviceId, controller.signal).then(
      (loaded) => {
        setMonth(loaded);
        setError(null);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(describeError(failure));
      },
    );
    return () => controller.abort();
  }, [deviceId, refresh]);

  const monthName = month
    ? new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
        new Date(`${month.month}T00:00:00Z`),
      )
    : 'This month';
  const money = (value: string | null | undefined) =>
    month?.currency && value != null ? formatMoney(value, month.currency) : null;
  return (
    <section class="card month-so-far" aria-labelledby={headingId}>
      <h2 id={headingId}>{monthName} so far</h2>
      {error && <p class="form-error">{error}</p>}
      {!month && !error && <p class="loading">Loading…</p>}
      {month && (
        <>
          <dl class="month-figures">
            <div>
              <dt>Used</dt>
              <dd data-figure="kwh-so-far">
                {month.kwh_so_far == null ? 'No readings yet' : formatKwh(month.kwh_so_far)}
              </dd>
            </div>
            {money(month.cost_so_far) && (
              <div>
                <dt>Cost so far</dt>
                <dd data-figure="cost-so-far">{money(month.cost_so_far)}</dd>
              </div>
            )}
            {month.projected_kwh != null && (
              <div>
                <dt>Projected for the month</dt>
                <dd data-figure="projection">
                  {formatKwh(Math.round(month.projected_kwh * 10) / 10)}
                  {money(month.projected_cost) && <> · {money(month.projected_cost)}</>}
                </dd>
              </div>
            )}
          </dl>
          <p class="zone-note">
            {month.currency
              ? 'Cost is each hour’s use at that hour’s price. '
              : 'No tariff is set, so consumption shows in kWh only. '}
            The projection is this month’s average per hour so far, over all {Math.round(month.hours_in_month)} hours of
            the month ({Math.floor(month.elapsed_hours)} have passed).
          </p>
        </>
      )}
    </section>
  );
}

/** Saves what the view shows, one device or all added up, as a CSV file (local times with offsets, kWh, cost). */
export function CsvDownload({ deviceId, period }: { deviceId: string | null; period: Period }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  return (
    <div class="csv-download">
      <button
        type="button"
        class="button button--small"
        disabled={state.busy}
        onClick={async () => {
          setState({ busy: true, error: null });
          try {
            await downloadCsv(deviceId, seriesQuery(period));
            setState({ busy: false, error: null });
          } catch (error) {
            setState({ busy: false, error: error instanceof Error ? error.message : describeError(error) });
          }
        }}
      >
        {state.busy ? 'Preparing…' : 'Download CSV'}
      </button>
      {state.error && (
        <p class="field-error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}
