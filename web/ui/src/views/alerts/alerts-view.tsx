import { useEffect, useState } from 'preact/hooks';
import { acknowledgeAlert, listAlerts } from '../../api/alerts';
import { listDevices, listMyDevices } from '../../api/devices';
import { describeError } from '../../api/form-errors';
import type { Alert, AlertKind } from '../../api/types';
import { listUsers } from '../../api/users';
import { alertBadge, alertBus } from '../../alerts';
import { KIND_NAMES } from '../../alerts/live';
import { frames, recovered } from '../../live';
import { Link } from '../../components/link';
import { ListFilter } from '../../components/list-filter';
import { ListPage } from '../../components/list-page';
import { RowAction } from '../../components/row-action';
import { SearchBox } from '../../components/search-box';
import { formatHourUtc, formatKwh, formatTimeUtc } from '../../format/format';
import { pageParam, usePagedList } from '../../hooks/use-paged-list';
import { useObservable } from '../../lib/use-observable';
import { currentLocation, navigate, withParams } from '../../router/location';

const PER_PAGE = 20;

function kindParam(value: string | null): AlertKind | undefined {
  return value === 'overconsumption' || value === 'peak' ? value : undefined;
}

function acknowledgedParam(value: string | null): boolean | undefined {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

interface Choice {
  value: string;
  label: string;
}

/** Options for a filter, loaded once per `key`; the first option stands for "any". */
function useChoices(load: (signal: AbortSignal) => Promise<Choice[]>, key: string): Choice[] {
  const [choices, setChoices] = useState<Choice[]>([]);
  const recoveries = useObservable(recovered);
  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(setChoices, () => setChoices([]));
    return () => controller.abort();
  }, [key, recoveries]);
  return choices;
}

/** What was measured against what: "2.75 kWh in the hour; limit 2.5 kWh". */
function measured(alert: Alert): string {
  return alert.kind === 'overconsumption'
    ? `${formatKwh(alert.value)} in the hour; limit ${formatKwh(alert.limit_kwh)}`
    : `${new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(alert.value)} kW on average; limit ${formatKwh(alert.limit_kwh)} per hour`;
}

/**
 * The alert centre: alerts newest first, filtered by kind, status and device (and customer, for
 * administrators), each acknowledged with one button.
 */
export function AlertsView({ admin }: { admin: boolean }) {
  const { query } = useObservable(currentLocation);
  const q = query.get('q') ?? '';
  const kind = kindParam(query.get('kind'));
  const acknowledged = acknowledgedParam(query.get('acknowledged'));
  const deviceId = query.get('device') ?? '';
  const userId = admin ? (query.get('user') ?? '') : '';
  const page = pageParam(query);
  const list = usePagedList(
    (signal) =>
      listAlerts(
        {
          q,
          kind,
          acknowledged,
          device_id: deviceId || undefined,
          user_id: userId || undefined,
          page,
          per_page: PER_PAGE,
        },
        signal,
      ),
    JSON.stringify([q, kind, acknowledged, deviceId, userId, page]),
  );
  const [changed, setChanged] = useState<ReadonlyMap<number, Alert>>(new Map());
  const [notice, setNotice] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [working, setWorking] = useState<number | null>(null);

  useEffect(() => setChanged(new Map()), [list.page]);
  // A live alert that belongs on this list: show the list again.
  useEffect(() => alertBus.subscribe(() => list.reload()), []);
  // Missed alerts older than those replayed live are only in the API.
  useEffect(() => frames.on('replay.truncated', () => list.reload()), []);

  const customers = useChoices(
    async (signal) =>
      admin
        ? (await listUsers({ role: 'client', per_page: 100 }, signal)).items.map((user) => ({
            value: user.id,
            label: `${user.display_name} (${user.username})`,
          }))
        : [],
    String(admin),
  );
  const devices = useChoices(
    async (signal) =>
      (admin
        ? (await listDevices({ owner_id: userId || undefined, per_page: 100 }, signal)).items
        : (await listMyDevices({ per_page: 100 }, signal)).items
      ).map((device) => ({ value: device.id, label: device.name })),
    `${admin} ${userId}`,
  );
  const customerName = (id: string | null) =>
    id === null ? 'No owner' : (customers.find((choice) => choice.value === id)?.label ?? 'Another customer');

  async function acknowledge(alert: Alert) {
    setWorking(alert.id);
    setFailure(null);
    try {
      const updated = await acknowledgeAlert(alert.id);
      setChanged((current) => new Map(current).set(alert.id, updated));
      setNotice(`Alert about ${alert.device_name} at ${formatHourUtc(alert.hour)} acknowledged.`);
      alertBadge.acknowledged();
      void alertBadge.refresh();
    } catch (error) {
      setFailure(`The alert about ${alert.device_name} could not be acknowledged. ${describeError(error)}`);
    } finally {
      setWorking(null);
    }
  }

  const filter = (name: string) => (value: string) =>
    navigate(withParams({ [name]: value, page: null }), { replace: true });
  const filtered = Boolean(q || kind || acknowledged !== undefined || deviceId || userId);

  // Acknowledged since the page loaded: shown as the answer said, without loading the list again.
  const current = (alert: Alert) => changed.get(alert.id) ?? alert;
  // The document lets the API leave out a null, so absent counts as not acknowledged.
  const acknowledgedAt = (alert: Alert) => current(alert).acknowledged_at ?? null;

  return (
    <ListPage
      list={list}
      notice={notice}
      failure={failure}
      empty={
        filtered ? 'No alerts match these filters.' : 'No alerts yet. When a device goes over its limit, it shows here.'
      }
      noun={{ one: 'alert', many: 'alerts' }}
      toolbar={
        <>
          <SearchBox label="Search alerts" value={q} onSearch={filter('q')} />
          {admin && (
            <ListFilter
              label="Customer"
              value={userId}
              options={[{ value: '', label: 'All customers' }, ...customers]}
              onChange={(value) => navigate(withParams({ user: value, device: null, page: null }), { replace: true })}
            />
          )}
          <ListFilter
            label="Device"
            value={deviceId}
            options={[
              { value: '', label: 'All devices' },
              ...devices,
              ...(deviceId && !devices.some((choice) => choice.value === deviceId)
                ? [{ value: deviceId, label: 'This device' }]
                : []),
            ]}
            onChange={filter('device')}
          />
          <ListFilter
            label="Kind"
            value={kind ?? ''}
            options={[
              { value: '', label: 'Any kind' },
              { value: 'overconsumption', label: KIND_NAMES.overconsumption },
              { value: 'peak', label: KIND_NAMES.peak },
            ]}
            onChange={filter('kind')}
          />
          <ListFilter
            label="Status"
            value={acknowledged === undefined ? '' : String(acknowledged)}
            options={[
              { value: '', label: 'Any status' },
              { value: 'false', label: 'To acknowledge' },
              { value: 'true', label: 'Acknowledged' },
            ]}
            onChange={filter('acknowledged')}
          />
        </>
      }
      table={{
        caption: 'Alerts, newest first',
        class: 'alerts-table',
        rowKey: (alert) => alert.id,
        rowClass: (alert) => (acknowledgedAt(alert) === null ? 'alert-row alert-row--open' : 'alert-row'),
        columns: [
          { label: 'Alert', cell: (alert) => <span class={`kind kind--${alert.kind}`}>{KIND_NAMES[alert.kind]}</span> },
          { label: 'Device', cell: (alert) => alert.device_name },
          ...(admin ? [{ label: 'Customer', cell: (alert: Alert) => customerName(alert.user_id ?? null) }] : []),
          {
            label: 'Hour',
            cell: (alert) => (
              <Link href={`/consumption?device=${encodeURIComponent(alert.device_id)}&date=${alert.hour.slice(0, 10)}`}>
                {formatHourUtc(alert.hour)}
              </Link>
            ),
          },
          { label: 'Measured', cell: (alert) => measured(alert) },
          {
            label: 'Status',
            cell: (alert) => {
              const at = acknowledgedAt(alert);
              return at === null ? (
                <RowAction
                  label="Acknowledge"
                  target={`${KIND_NAMES[alert.kind].toLowerCase()}, ${alert.device_name}, ${formatHourUtc(alert.hour)}`}
                  disabled={working === alert.id}
                  onClick={() => void acknowledge(current(alert))}
                />
              ) : (
                <span class="muted">Acknowledged {formatTimeUtc(at)}</span>
              );
            },
          },
        ],
      }}
    />
  );
}

export default function CustomerAlertsView() {
  return <AlertsView admin={false} />;
}
