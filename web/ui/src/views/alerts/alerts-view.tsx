import { useEffect, useState } from 'preact/hooks';
import { acknowledgeAlerts, listIncidents } from '../../api/alerts';
import { listDevices, listMyDevices } from '../../api/devices';
import { describeError } from '../../api/form-errors';
import type { AcknowledgeFilter, AlertKind, Incident } from '../../api/types';
import { listUsers } from '../../api/users';
import { alertBadge, alertBus } from '../../alerts';
import { describeAlert, KIND_NAMES, KIND_ORDER, kindsTitle } from '../../alerts/describe';
import { frames, recovered } from '../../live';
import { Link } from '../../components/link';
import { ListFilter } from '../../components/list-filter';
import { ListPage } from '../../components/list-page';
import { RowAction } from '../../components/row-action';
import { SearchBox } from '../../components/search-box';
import { formatHour, formatTime, plural } from '../../format/format';
import { pageParam, usePagedList } from '../../hooks/use-paged-list';
import { useObservable } from '../../lib/use-observable';
import { currentLocation, navigate, withParams } from '../../router/location';

const PER_PAGE = 20;

function kindParam(value: string | null): AlertKind | undefined {
  return KIND_ORDER.find((kind) => kind === value);
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

/** When the last of an incident's alerts was acknowledged; null while any is open. */
function acknowledgedAt(incident: Incident): string | null {
  if (incident.open) return null;
  return incident.alerts.map((alert) => alert.acknowledged_at ?? '').reduce((a, b) => (a > b ? a : b), '') || null;
}

/**
 * The alert centre: incidents (an hour's alerts of one device) newest first, filtered by kind,
 * status and device (and customer, for administrators). Each is acknowledged with one button;
 * "Acknowledge all" (or "Acknowledge shown", under filters) does every open one at once.
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
      listIncidents(
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
  const [notice, setNotice] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [working, setWorking] = useState<string | null>(null);

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

  /** Acknowledges what `filter` names; `what` says it in the notice. */
  async function acknowledge(key: string, filter: AcknowledgeFilter, what: string, incidents: number | 'all') {
    setWorking(key);
    setFailure(null);
    try {
      const { acknowledged: count } = await acknowledgeAlerts(filter);
      setNotice(
        count === 0
          ? `Nothing was left to acknowledge in ${what}.`
          : `${what} acknowledged (${plural(count, 'alert')}).`,
      );
      if (incidents === 'all') alertBadge.acknowledgedAll();
      else alertBadge.acknowledged(incidents);
      void alertBadge.refresh();
      list.reload();
    } catch (error) {
      setFailure(`${what} could not be acknowledged. ${describeError(error)}`);
    } finally {
      setWorking(null);
    }
  }

  const filter = (name: string) => (value: string) =>
    navigate(withParams({ [name]: value, page: null }), { replace: true });
  const filtered = Boolean(q || kind || acknowledged !== undefined || deviceId || userId);
  // What is shown, as a filter of open alerts (an "acknowledged" status shows nothing to do).
  const shown: AcknowledgeFilter = {
    ...(q ? { q } : {}),
    ...(kind ? { kind } : {}),
    ...(deviceId ? { device_id: deviceId } : {}),
    ...(userId ? { user_id: userId } : {}),
  };
  const narrowed = Object.keys(shown).length > 0;
  const anyOpen = list.page?.items.some((incident) => incident.open) ?? false;
  const incidentName = (incident: Incident) => `${incident.device_name}, ${formatHour(incident.hour)}`;

  return (
    <ListPage
      list={list}
      notice={notice}
      failure={failure}
      empty={
        filtered ? 'No alerts match these filters.' : 'No alerts yet. When a device goes over its limit, it shows here.'
      }
      noun={{ one: 'incident', many: 'incidents' }}
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
              ...KIND_ORDER.map((each) => ({ value: each, label: KIND_NAMES[each] })),
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
          {acknowledged !== true && anyOpen && (
            <button
              type="button"
              class="button acknowledge-all"
              disabled={working !== null}
              onClick={() =>
                void acknowledge(
                  'all',
                  shown,
                  narrowed ? 'The alerts shown' : 'Every open alert',
                  narrowed ? (list.page?.items.filter((incident) => incident.open).length ?? 0) : 'all',
                )
              }
            >
              {narrowed ? 'Acknowledge shown' : 'Acknowledge all'}
            </button>
          )}
        </>
      }
      table={{
        caption: 'Incidents, newest first',
        class: 'alerts-table',
        rowKey: (incident) => `${incident.device_id} ${incident.hour}`,
        rowClass: (incident) => (incident.open ? 'alert-row alert-row--open' : 'alert-row'),
        columns: [
          {
            label: 'Incident',
            cell: (incident) => (
              <span class="incident-kinds">
                {incident.kinds.map((each) => (
                  <span key={each} class={`kind kind--${each}`}>
                    {KIND_NAMES[each]}
                  </span>
                ))}
              </span>
            ),
          },
          { label: 'Device', cell: (incident) => incident.device_name },
          ...(admin
            ? [{ label: 'Customer', cell: (incident: Incident) => customerName(incident.user_id ?? null) }]
            : []),
          {
            label: 'Hour',
            cell: (incident) => (
              <Link
                href={`/consumption?device=${encodeURIComponent(incident.device_id)}&date=${incident.hour.slice(0, 10)}`}
              >
                {formatHour(incident.hour)}
              </Link>
            ),
          },
          {
            label: 'Measured',
            cell: (incident) => (
              <ul class="incident-measures">
                {incident.alerts.map((alert) => (
                  <li key={alert.id}>{describeAlert(alert)}</li>
                ))}
              </ul>
            ),
          },
          {
            label: 'Status',
            cell: (incident) => {
              const key = `${incident.device_id} ${incident.hour}`;
              if (incident.open) {
                return (
                  <RowAction
                    label="Acknowledge"
                    target={`${kindsTitle(incident.kinds).toLowerCase()}, ${incidentName(incident)}`}
                    disabled={working !== null}
                    onClick={() =>
                      // What the row shows: under a kind filter, only that kind's alert; an
                      // alert that arrived since the list loaded is left for the next look.
                      void acknowledge(
                        key,
                        { ids: incident.alert_ids },
                        `The incident of ${incidentName(incident)}`,
                        kind ? 0 : 1,
                      )
                    }
                  />
                );
              }
              if (incident.snoozed) return <span class="muted">Snoozed</span>;
              const at = acknowledgedAt(incident);
              return <span class="muted">Acknowledged{at ? ` ${formatTime(at)}` : ''}</span>;
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
