import type { Role, User, UserChanges } from '../../api/types';
import { createUser, updateUser } from '../../api/users';
import { SelectField, TextField } from '../../components/field';
import { FormDialog } from '../../components/form-dialog';
import { timeZoneChoices } from '../../format/format';
import { useForm } from '../../hooks/use-form';
import { ROLE_OPTIONS } from './roles';

const USERNAME_HINT = "3 to 32 characters: letters, digits, '.', '_' or '-'. Stored in lower case.";

/** The user's own browser's zone, or one of the IANA zones. */
function zoneOptions(current: string | null | undefined) {
  const zones = timeZoneChoices();
  if (current && !zones.includes(current)) zones.unshift(current);
  return [{ value: '', label: 'Their browser’s own' }, ...zones.map((zone) => ({ value: zone, label: zone }))];
}

/** Creates a user (`user` null) or edits one. */
export function UserFormDialog({
  user,
  onClose,
  onSaved,
}: {
  user: User | null;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const form = useForm({
    username: user?.username ?? '',
    display_name: user?.display_name ?? '',
    role: user?.role ?? 'client',
    time_zone: user?.time_zone ?? '',
    password: '',
  });

  async function save(values: typeof form.values) {
    const role = values.role as Role;
    if (!user) {
      const created = await createUser({ ...values, role, time_zone: values.time_zone || null });
      onSaved(`User ${created.username} created.`);
      return;
    }
    const changes: UserChanges = {};
    if (values.username !== user.username) changes.username = values.username;
    if (values.display_name !== user.display_name) changes.display_name = values.display_name;
    if (role !== user.role) changes.role = role;
    if (values.time_zone !== (user.time_zone ?? '')) changes.time_zone = values.time_zone || null;
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    const updated = await updateUser(user.id, changes);
    onSaved(`User ${updated.username} saved.`);
  }

  return (
    <FormDialog
      title={user ? `Edit ${user.username}` : 'New user'}
      form={form}
      onSave={save}
      submitLabel={user ? 'Save' : 'Create user'}
      onClose={onClose}
    >
      <TextField
        field={form.bind('username')}
        label="Username"
        hint={USERNAME_HINT}
        autoComplete="off"
        autoCapitalize="none"
        spellcheck={false}
        required
      />
      <TextField field={form.bind('display_name')} label="Display name" autoComplete="off" required />
      <SelectField field={form.bind('role')} label="Role" options={ROLE_OPTIONS} />
      <SelectField
        field={form.bind('time_zone')}
        label="Time zone"
        hint="Times and days are shown to them in it; they can change it in their settings."
        options={zoneOptions(user?.time_zone)}
      />
      {!user && (
        <TextField
          field={form.bind('password')}
          label="Password"
          type="password"
          hint="At least 10 characters, not a common password or the username; a few words together are easy to remember."
          autoComplete="new-password"
          required
        />
      )}
    </FormDialog>
  );
}
