import { useState } from 'preact/hooks';
import { assignDevice } from '../../api/devices';
import { describeError } from '../../api/form-errors';
import type { Device } from '../../api/types';
import { listUsers } from '../../api/users';
import { Dialog, DialogActions } from '../../components/dialog';
import { FormError } from '../../components/field';
import { SearchBox } from '../../components/search-box';
import { usePagedList } from '../../hooks/use-paged-list';
import { ROLE_LABELS } from './roles';

const SHOWN = 8;

/** Gives a device to a customer found by searching names. */
export function AssignDialog({
  device,
  onClose,
  onSaved,
}: {
  device: Device;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const [search, setSearch] = useState('');
  const [chosen, setChosen] = useState<string | null>(device.owner_id ?? null);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  // Devices belong to customers: administrators are not offered (the API refuses them too).
  const users = usePagedList((signal) => listUsers({ q: search, role: 'client', per_page: SHOWN }, signal), search);

  async function assign(event: Event) {
    event.preventDefault();
    const user = users.page?.items.find((candidate) => candidate.id === chosen);
    if (!chosen || !user) {
      setError('Choose the user who will own this device.');
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      await assignDevice(device.id, chosen);
      onSaved(`${device.name} assigned to ${user.username}.`);
    } catch (failure) {
      setError(describeError(failure));
      setSubmitting(false);
    }
  }

  const found = users.page;
  return (
    <Dialog title={`Assign ${device.name}`} onClose={onClose}>
      <SearchBox label="Find a user by name or username" value={search} onSearch={setSearch} />
      <form class="form" onSubmit={assign}>
        <fieldset class="choices" aria-busy={users.loading}>
          <legend>Owner</legend>
          {users.error && <p class="form-error">{users.error}</p>}
          {found && found.total === 0 && <p class="empty">No customer matches “{search}”.</p>}
          {found?.items.map((user) => (
            <label key={user.id} class="choice">
              <input
                type="radio"
                name="owner"
                value={user.id}
                checked={chosen === user.id}
                onChange={() => setChosen(user.id)}
              />
              <span>
                {user.display_name}
                <span class="choice-detail">
                  {user.username} · {ROLE_LABELS[user.role]}
                </span>
              </span>
            </label>
          ))}
          {found && found.total > found.items.length && (
            <p class="field-hint">
              Showing {found.items.length} of {found.total}; type more of the name to narrow the list.
            </p>
          )}
        </fieldset>
        <FormError message={error} />
        <DialogActions submitLabel="Assign" submitting={submitting} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
