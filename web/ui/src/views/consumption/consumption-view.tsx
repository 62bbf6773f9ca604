import { useEffect, useId, useMemo, useState } from 'preact/hooks';
import { deviceConsumption, myConsumption } from '../../api/consumption';
import { listDevices, listMyDevices } from '../../api/devices';
import { describeError, formErrors } from '../../api/form-errors';
import { ApiError } from '../../api/http';
import type { Device, Page } from '../../api/types';
import { Link } from '../../components/link';
import { loadPeriod, type PeriodValues } from '../../consumption/load';
import {
  hasBegun,
  nextPeriod,
  parseDate,
  parsePeriodKind,
  periodContaining,
  periodTitle,
  PERIOD_KINDS,
  PREVIOUS_NAMES,
  previousPeriod,
  slotLabel,
  slotStarts,
  todayIn,
  type Period,
  type PeriodKind,
} from '../../consumption/period';
import { chartModel } from '../../consumption/series';
import { summarise } from '../../consumption/summary';
import { formatKwh, timeZone, zoneAbbreviation } from '../../format/format';
import { useObservable } from '../../lib/use-observable';
import { recovered } from '../../live';
import { currentLocation, navigate, withParams } from '../../router/location';
import { sessionStore } from '../../services';
import { lazyView } from '../lazy-view';
import { ConsumptionTable } from './consumption-table';
import { CsvDownload, MonthSoFar } from './cost-panels';

// uPlot and the chart around it load only once a chart is on screen.
const ConsumptionChart = lazyView(() => import('./consumption-chart'), 'Loading the chart…');

const KIND_NAMES: Record<PeriodKind, string> = { day: 'Day', week: 'Week', month: 'Month' };

/** Dates are typed, shown in the address and named in errors in one format. */
const DATE_FORMAT = 'YYYY-MM-DD';
const DATE_FORMAT_ERROR = `Enter the day as ${DATE_FORMAT}, such as 2026-11-24.`;
const ALL = '';

interface DeviceChoice {
  id: string;
  name: string;
}

/** Everything on the device menu: a customer's own devices, or for an administrator the first 100. */
async function loadDeviceChoices(admin: boolean, signal: AbortSignal): Promise<DeviceChoice[]> {
  if (admin) return (await listDevices({ per_page: 100 }, signal)).items;
  const devices: Device[] = [];
  for (let page = 1; page <= 10; page += 1) {
    const loaded: Page<Device> = await listMyDevices({ page, per_page: 100 }, signal);
    devices.push(...loaded.items);
    if (page >= loaded.total_pages) break;
  }
  return devices;
}

type Loaded =
  | { state: 'loading' }
  | { state: 'ready'; current: PeriodValues; previous: PeriodValues | null }
  /** `field` is where the error is shown: beside the date or the device, or above the results. */
  | { state: 'failed'; field: 'date' | 'device' | null; message: string };

const LOADING: Loaded = { state: 'loading' };

const source = { deviceSeries: deviceConsumption, myDay: myConsumption };

/** Where an API error belongs in this view's controls. */
function placeError(error: unknown): { field: 'date' | 'device' | null; message: string } {
  if (error instanceof ApiError && error.status === 404) {
    return { field: 'device', message: 'This device does not exist or is no longer yours. Choose another.' };
  }
  const placed = formErrors(error, ['from', 'to', 'date']);
  const dateError = placed.fields['from'] ?? placed.fields['to'] ?? placed.fields['date'];
  if (dateError) return { field: 'date', message: dateError };
  return { field: null, message: placed.form ?? describeError(error) };
}

/** A device's, or all devices', consumption for a day, week or month, as a chart or a table. */
export default function ConsumptionView() {
  const { query } = useObservable(currentLocation);
  const admin = useObservable(sessionStore)?.user.role === 'admin';
  const today = todayIn();
  const kind = parsePeriodKind(query.get('view'));
  const dateParam = query.get('date');
  const date = dateParam === null ? today : parseDate(dateParam);
  const period = date ? periodContaining(kind, date) : null;
  const deviceId = query.get('device') ?? ALL;
  const compare = query.get('compare') === '1';
  const asTable = query.get('show') === 'table';

  const [devices, setDevices] = useState<DeviceChoice[] | null>(null);
  const [devicesError, setDevicesError] = useState<string | null>(null);
  // Tagged with what was asked for, so the answer for another period or device never shows
  // (not even for the one render before the new request starts).
  const [answer, setAnswer] = useState<{ key: string; loaded: Loaded }>({ key: '', loaded: LOADING });
  const [attempt, setAttempt] = useState(0);
  // Back from a lost connection: load again, whether an error or kept answers are showing.
  const recoveries = useObservable(recovered);

  useEffect(() => {
    const controller = new AbortController();
    loadDeviceChoices(admin, controller.signal).then(
      (loaded) => {
        setDevices(loaded);
        setDevicesError(null);
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setDevicesError(describeError(error));
      },
    );
    return () => controller.abort();
  }, [admin, recoveries]);

  const needsDevice = admin && deviceId === ALL;
  const ready = period !== null && devices !== null && !needsDevice;
  const key = JSON.stringify([period, deviceId, compare, ready, attempt, recoveries, timeZone()]);
  useEffect(() => {
    if (!period || !devices || needsDevice) return;
    const controller = new AbortController();
    const target = deviceId === ALL ? { all: devices } : { device: deviceId };
    Promise.all([
      loadPeriod(source, target, period, controller.signal),
      compare ? loadPeriod(source, target, previousPeriod(period), controller.signal) : null,
    ]).then(
      ([current, previous]) => setAnswer({ key, loaded: { state: 'ready', current, previous } }),
      (error: unknown) => {
        if (!controller.signal.aborted) setAnswer({ key, loaded: { state: 'failed', ...placeError(error) } });
      },
    );
    return () => controller.abort();
  }, [key]);
  const loaded = answer.key === key ? answer.loaded : LOADING;

  const deviceName =
    deviceId === ALL ? 'All my devices' : (devices?.find((device) => device.id === deviceId)?.name ?? 'This device');
  const dateError =
    date === null ? DATE_FORMAT_ERROR : loaded.state === 'failed' && loaded.field === 'date' ? loaded.message : null;
  const deviceError = loaded.state === 'failed' && loaded.field === 'device' ? loaded.message : devicesError;

  return (
    <div class="consumption">
      <ConsumptionControls
        kind={kind}
        date={dateParam ?? today}
        period={period}
        today={today}
        deviceId={deviceId}
        devices={devices}
        admin={admin}
        compare={compare}
        dateError={dateError}
        deviceError={deviceError}
      />
      {devices && devices.length === 0 && (
        <p class="empty">
          {admin ? 'There are no devices yet.' : 'No devices are assigned to you yet, so there is nothing to show.'}
        </p>
      )}
      {needsDevice && devices && devices.length > 0 && <p class="empty">Choose a device to see its consumption.</p>}
      {period && ready && devices.length > 0 && (
        <>
          <ConsumptionResults
            period={period}
            deviceId={deviceId === ALL ? null : deviceId}
            deviceName={deviceName}
            loaded={loaded}
            compare={compare}
            asTable={asTable}
            onRetry={() => setAttempt((value) => value + 1)}
          />
          {/* The money of the month, below the chart so that on a phone the chart comes first. */}
          <MonthSoFar deviceId={deviceId === ALL ? null : deviceId} refresh={`${attempt} ${recoveries}`} />
        </>
      )}
    </div>
  );
}

function ConsumptionControls({
  kind,
  date,
  period,
  today,
  deviceId,
  devices,
  admin,
  compare,
  dateError,
  deviceError,
}: {
  kind: PeriodKind;
  date: string;
  period: Period | null;
  today: string;
  deviceId: string;
  devices: DeviceChoice[] | null;
  admin: boolean;
  compare: boolean;
  dateError: string | null;
  deviceError: string | null;
}) {
  const id = useId();
  const set = (changes: Record<string, string | null>) => navigate(withParams(changes), { replace: true });
  const previous = period && previousPeriod(period);
  const next = period && nextPeriod(period);
  const kindName = KIND_NAMES[kind].toLowerCase();
  // What is typed, kept while it is not yet a whole date; the address changes once it is.
  const [typed, setTyped] = useState(date);
  const [typedError, setTypedError] = useState(false);
  useEffect(() => {
    setTyped(date);
    setTypedError(false);
  }, [date]);
  const shownDateError = typedError ? DATE_FORMAT_ERROR : dateError;

  return (
    <form class="consumption-controls" noValidate onSubmit={(event) => event.preventDefault()}>
      <div class={deviceError ? 'field field--invalid' : 'field'}>
        <label for={`${id}-device`}>Device</label>
        <select
          id={`${id}-device`}
          value={deviceId}
          aria-invalid={deviceError ? 'true' : undefined}
          aria-describedby={deviceError ? `${id}-device-error` : undefined}
          onInput={(event) => set({ device: event.currentTarget.value || null })}
        >
          <option value={ALL}>{admin ? 'Choose a device' : 'All my devices'}</option>
          {devices?.map((device) => (
            <option key={device.id} value={device.id}>
              {device.name}
            </option>
          ))}
          {devices && deviceId !== ALL && !devices.some((device) => device.id === deviceId) && (
            <option value={deviceId}>This device</option>
          )}
        </select>
        {deviceError && (
          <p id={`${id}-device-error`} class="field-error">
            {deviceError}
          </p>
        )}
      </div>

      <fieldset class="segmented">
        <legend>Period</legend>
        <div class="segmented-options">
          {PERIOD_KINDS.map((option) => (
            <label key={option} class="segmented-option">
              <input
                type="radio"
                name={`${id}-period`}
                value={option}
                checked={option === kind}
                onChange={() => set({ view: option === 'day' ? null : option })}
              />
              <span>{KIND_NAMES[option]}</span>
            </label>
          ))}
        </div>
      </fieldset>

      <div class={shownDateError ? 'field field--invalid' : 'field'}>
        <label for={`${id}-date`}>
          {kind === 'day' ? `Day (${DATE_FORMAT})` : `A day in the ${kindName} (${DATE_FORMAT})`}
        </label>
        <input
          id={`${id}-date`}
          type="text"
          inputMode="numeric"
          autoComplete="off"
          placeholder={DATE_FORMAT}
          maxLength={10}
          value={typed}
          aria-invalid={shownDateError ? 'true' : undefined}
          aria-describedby={shownDateError ? `${id}-date-error` : undefined}
          onInput={(event) => {
            const value = event.currentTarget.value.trim();
            setTyped(event.currentTarget.value);
            if (parseDate(value)) {
              setTypedError(false);
              set({ date: value === today ? null : value });
            }
          }}
          onChange={(event) => setTypedError(!parseDate(event.currentTarget.value.trim()))}
        />
        {shownDateError && (
          <p id={`${id}-date-error`} class="field-error">
            {shownDateError}
          </p>
        )}
      </div>

      <label class="checkbox">
        <input
          type="checkbox"
          checked={compare}
          onChange={(event) => set({ compare: event.currentTarget.checked ? '1' : null })}
        />
        Compare with the {PREVIOUS_NAMES[kind]}
      </label>

      {previous && next && (
        <nav class="period-nav" aria-label={`Other ${kindName}s`}>
          <Link class="button" href={withParams({ date: previous.start })} rel="prev">
            <span aria-hidden="true">‹ </span>Previous {kindName}
          </Link>
          {!hasBegun(next, today) ? null : (
            <Link class="button" href={withParams({ date: next.start })} rel="next">
              Next {kindName}
              <span aria-hidden="true"> ›</span>
            </Link>
          )}
          {period && period.start !== periodContaining(kind, today).start && (
            <Link class="button" href={withParams({ date: null })}>
              {kind === 'day' ? 'Today' : `This ${kindName}`}
            </Link>
          )}
        </nav>
      )}
    </form>
  );
}

function ConsumptionResults({
  period,
  deviceId,
  deviceName,
  loaded,
  compare,
  asTable,
  onRetry,
}: {
  period: Period;
  /** The device shown; null for all devices together. */
  deviceId: string | null;
  deviceName: string;
  loaded: Loaded;
  compare: boolean;
  asTable: boolean;
  onRetry: () => void;
}) {
  const headingId = useId();
  const title = periodTitle(period);
  const ready = loaded.state === 'ready' ? loaded : null;
  // Hourly limits are drawn on hourly charts; on daily totals a line at the hourly limit would mislead.
  const limit = ready && period.kind === 'day' ? ready.current.limit : null;
  const summary = ready
    ? summarise({
        period,
        values: ready.current.values,
        previous: ready.previous?.values ?? null,
        limit,
        money: ready.current.currency
          ? {
              currency: ready.current.currency,
              costs: ready.current.costs ?? [],
              previous: compare ? (ready.previous?.costs ?? null) : null,
            }
          : null,
      })
    : [];
  const previousValues = compare ? (ready?.previous?.values ?? null) : null;
  const currency = ready?.current.currency ?? null;
  const chartMoney = useMemo(
    () =>
      ready && currency && ready.current.costs
        ? { currency, costs: ready.current.costs, previous: compare ? (ready.previous?.costs ?? null) : null }
        : null,
    [ready, currency, compare],
  );
  // The same object while the data is the same, so the chart is not drawn anew on every render.
  const model = useMemo(
    () =>
      ready &&
      chartModel(
        slotStarts(period).map((start) => slotLabel(period, start)),
        ready.current.values,
        previousValues,
        limit,
        ready.current.devices,
      ),
    [ready, period.kind, period.start, previousValues, limit],
  );

  return (
    <section class="card consumption-results" aria-labelledby={headingId} aria-busy={loaded.state === 'loading'}>
      <div class="results-head">
        <h2 id={headingId}>
          {deviceName}
          <span class="results-period">{title}</span>
        </h2>
        <div class="view-switch" role="group" aria-label="Show as">
          <Link
            class="button button--small"
            href={withParams({ show: null })}
            aria-current={asTable ? undefined : 'page'}
          >
            Chart
          </Link>
          <Link
            class="button button--small"
            href={withParams({ show: 'table' })}
            aria-current={asTable ? 'page' : undefined}
          >
            Table
          </Link>
        </div>
      </div>
      {loaded.state === 'loading' && <p class="loading">Loading…</p>}
      {loaded.state === 'failed' && loaded.field === null && (
        <div class="form-error" role="alert">
          <p>{loaded.message}</p>
          <button type="button" class="button" onClick={onRetry}>
            Try again
          </button>
        </div>
      )}
      {loaded.state === 'failed' && loaded.field !== null && (
        <p class="empty">Nothing to show until the {loaded.field} above is corrected.</p>
      )}
      {ready && (
        <>
          {asTable ? (
            <ConsumptionTable
              period={period}
              caption={`${deviceName}, ${title}`}
              values={ready.current.values}
              previous={previousValues}
              limit={limit}
              devices={ready.current.devices}
              costs={ready.current.costs}
              previousCosts={compare ? (ready.previous?.costs ?? null) : null}
              currency={ready.current.currency}
            />
          ) : (
            <ConsumptionChart
              model={model!}
              stepName={period.kind === 'day' ? 'Hour' : 'Day'}
              currentName={title}
              previousName={`The ${PREVIOUS_NAMES[period.kind]}`}
              label={`Chart of ${deviceName}, ${title}. ${summary.join(' ')} The table view lists every value.`}
              money={chartMoney}
            />
          )}
          {/* After the chart, so that on a phone the chart is on the first screen. */}
          <p class="consumption-summary" id={`${headingId}-summary`}>
            {ready.current.limit !== null && period.kind !== 'day' && (
              <>Hourly limit {formatKwh(ready.current.limit)}; see a day for each hour against it. </>
            )}
            {summary.join(' ')}
          </p>
        </>
      )}
      <p class="zone-note">{zoneNote(timeZone(), new Date(slotStarts(period)[0] ?? Date.now()))}</p>
      <CsvDownload deviceId={deviceId} period={period} />
    </section>
  );
}

/** "Times in Europe/Bucharest (GMT+2)"; just "Times in UTC" where the name says it all. */
function zoneNote(zone: string, at: Date): string {
  const abbreviation = zoneAbbreviation(at);
  return abbreviation === zone ? `Times in ${zone}` : `Times in ${zone} (${abbreviation})`;
}
