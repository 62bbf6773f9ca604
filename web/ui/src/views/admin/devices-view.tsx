import { deleteDevice, listDevices, unassignDevice } from '../../api/devices';
import type { Device } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { CopyableText } from '../../components/copy-button';
import { ListFilter } from '../../components/list-filter';
import { ListPage, useListActions } from '../../components/list-page';
import { RowAction } from '../../components/row-action';
import { SearchBox } from '../../components/search-box';
import { formatKwh, formatTime } from '../../format/format';
import { formatAgo, liveness } from '../../format/relative';
import { pageParam, usePagedList } from '../../hooks/use-paged-list';
import { useObservable } from '../../lib/use-observable';
import { currentLocation, navigate, withParams } from '../../router/location';
import { AssignDialog } from './assign-dialog';
import { DeviceFormDialog } from './device-form-dialog';

const PER_PAGE = 20;

type OpenDialog =
  | { kind: 'create' }
  | { kind: 'edit'; device: Device }
  | { kind: 'assign'; device: Device }
  | { kind: 'delete'; device: Device };

function assignedParam(value: string | null): boolean | undefined {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  return undefined;
}

/** Administrators' list of devices: search, filter, create, edit, assign, unassign, delete. */
export default function DevicesView() {
  const { query } = useObservable(currentLocation);
  const q = query.get('q') ?? '';
  const assigned = assignedParam(query.get('assigned'));
  const page = pageParam(query);
  const list = usePagedList(
    (signal) => listDevices({ q, assigned, page, per_page: PER_PAGE }, signal),
    JSON.stringify([q, assigned, page]),
  );
  const { dialog, open, close, done, run, notice, failure } = useListActions<OpenDialog>(list);

  const unassign = (device: Device) =>
    run(async () => {
      await unassignDevice(device.id);
      return `${device.name} no longer has an owner.`;
    });

  return (
    <ListPage
      list={list}
      notice={notice}
      failure={failure}
      empty={q ? `No devices match “${q}”.` : 'No devices match these filters.'}
      noun={{ one: 'device', many: 'devices' }}
      toolbar={
        <>
          <SearchBox
            label="Search devices"
            value={q}
            onSearch={(text) => navigate(withParams({ q: text, page: null }), { replace: true })}
          />
          <ListFilter
            label="Owner"
            value={query.get('assigned') ?? ''}
            options={[
              { value: '', label: 'Any' },
              { value: 'yes', label: 'Assigned' },
              { value: 'no', label: 'Not assigned' },
            ]}
            onChange={(value) => navigate(withParams({ assigned: value, page: null }), { replace: true })}
          />
          <button type="button" class="button button--primary" onClick={() => open({ kind: 'create' })}>
            New device
          </button>
        </>
      }
      table={{
        caption: 'Devices',
        rowKey: (device) => device.id,
        columns: [
          { label: 'Name', cell: (device) => device.name },
          { label: 'Location', cell: (device) => device.location || '—' },
          { label: 'Hourly limit', cell: (device) => formatKwh(device.max_hourly_kwh) },
          { label: 'Owner', cell: (device) => device.owner_username ?? <span class="muted">Not assigned</span> },
          {
            label: 'Device id',
            cell: (device) => <CopyableText text={device.id} target={`the device id of ${device.name}`} />,
          },
          { label: 'Last reading', cell: (device) => <LastReadingCell device={device} /> },
        ],
        actions: (device) => (
          <>
            <RowAction
              label="Consumption"
              target={`of ${device.name}`}
              href={`/consumption?device=${encodeURIComponent(device.id)}`}
            />
            <RowAction label="Edit" target={device.name} onClick={() => open({ kind: 'edit', device })} />
            <RowAction
              label={device.owner_id ? 'Reassign' : 'Assign'}
              target={device.name}
              onClick={() => open({ kind: 'assign', device })}
            />
            {device.owner_id && (
              <RowAction label="Unassign" target={device.name} onClick={() => void unassign(device)} />
            )}
            <RowAction label="Delete" target={device.name} danger onClick={() => open({ kind: 'delete', device })} />
          </>
        ),
      }}
    >
      {dialog?.kind === 'create' && <DeviceFormDialog device={null} onClose={close} onSaved={done} />}
      {dialog?.kind === 'edit' && <DeviceFormDialog device={dialog.device} onClose={close} onSaved={done} />}
      {dialog?.kind === 'assign' && <AssignDialog device={dialog.device} onClose={close} onSaved={done} />}
      {dialog?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete ${dialog.device.name}?`}
          confirmLabel="Delete device"
          onClose={close}
          onConfirm={async () => {
            await deleteDevice(dialog.device.id);
            done(`Device ${dialog.device.name} deleted.`);
          }}
        >
          <p>
            {dialog.device.name}
            {dialog.device.owner_username ? `, owned by ${dialog.device.owner_username},` : ''} will be removed with its
            settings. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </ListPage>
  );
}

/** "3 h ago, 0.25 kWh" with the exact time as its tooltip, and whether the meter is reporting. */
function LastReadingCell({ device }: { device: Device }) {
  const last = device.last_reading ?? null;
  if (!last) return <span class="muted">No readings yet</span>;
  const status = liveness(last);
  return (
    <span class="last-reading">
      <time dateTime={last.at} title={formatTime(last.at)}>
        {formatAgo(last.at)}
      </time>
      , {formatKwh(last.kwh)}{' '}
      <span class={`status-tag status-tag--${status.online ? 'live' : 'down'}`} title={status.rule}>
        <span aria-hidden="true">{status.online ? 'Online' : 'Offline'}</span>
        <span class="visually-hidden">{status.rule}</span>
      </span>
    </span>
  );
}
