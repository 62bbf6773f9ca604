import { useState } from 'preact/hooks';
import { deleteDevice, listDevices, unassignDevice } from '../../api/devices';
import { describeError } from '../../api/form-errors';
import type { Device } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { FormError } from '../../components/field';
import { Link } from '../../components/link';
import { ListStatus } from '../../components/list-status';
import { Notice } from '../../components/notice';
import { Pagination } from '../../components/pagination';
import { SearchBox } from '../../components/search-box';
import { formatKwh } from '../../format/format';
import { pageParam, usePagedList } from '../../hooks/use-paged-list';
import { useObservable } from '../../lib/use-observable';
import { currentLocation, navigate, withParams } from '../../router/location';
import { AssignDialog } from './assign-dialog';
import { DeviceFormDialog } from './device-form-dialog';
import { ListFilter } from './list-filter';

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
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [notice, setNotice] = useState('');
  const [failure, setFailure] = useState<string | null>(null);

  const close = () => setDialog(null);
  function done(message: string) {
    setDialog(null);
    setFailure(null);
    setNotice(message);
    list.reload();
  }

  async function unassign(device: Device) {
    try {
      await unassignDevice(device.id);
      done(`${device.name} no longer has an owner.`);
    } catch (error) {
      setFailure(describeError(error));
    }
  }

  return (
    <div class="list-view">
      <div class="toolbar">
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
        <button type="button" class="button button--primary" onClick={() => setDialog({ kind: 'create' })}>
          New device
        </button>
      </div>
      <Notice message={notice} />
      <FormError message={failure} />
      <ListStatus list={list} empty={q ? `No devices match “${q}”.` : 'No devices match these filters.'} />
      {list.page && list.page.items.length > 0 && (
        <>
          <table class="data-table" aria-busy={list.loading}>
            <caption class="visually-hidden">Devices</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Location</th>
                <th scope="col">Hourly limit</th>
                <th scope="col">Owner</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.page.items.map((device) => (
                <tr key={device.id}>
                  <th scope="row" data-label="Name">
                    {device.name}
                  </th>
                  <td data-label="Location">{device.location || '—'}</td>
                  <td data-label="Hourly limit">{formatKwh(device.max_hourly_kwh)}</td>
                  <td data-label="Owner">{device.owner_username ?? <span class="muted">Not assigned</span>}</td>
                  <td>
                    <div class="row-actions">
                      <Link class="button button--small" href={`/consumption?device=${encodeURIComponent(device.id)}`}>
                        Consumption<span class="visually-hidden"> of {device.name}</span>
                      </Link>
                      <button
                        type="button"
                        class="button button--small"
                        onClick={() => setDialog({ kind: 'edit', device })}
                      >
                        Edit<span class="visually-hidden"> {device.name}</span>
                      </button>
                      <button
                        type="button"
                        class="button button--small"
                        onClick={() => setDialog({ kind: 'assign', device })}
                      >
                        {device.owner_id ? 'Reassign' : 'Assign'}
                        <span class="visually-hidden"> {device.name}</span>
                      </button>
                      {device.owner_id && (
                        <button type="button" class="button button--small" onClick={() => void unassign(device)}>
                          Unassign<span class="visually-hidden"> {device.name}</span>
                        </button>
                      )}
                      <button
                        type="button"
                        class="button button--small button--danger"
                        onClick={() => setDialog({ kind: 'delete', device })}
                      >
                        Delete<span class="visually-hidden"> {device.name}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination page={list.page} noun={{ one: 'device', many: 'devices' }} />
        </>
      )}

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
    </div>
  );
}
