import type { User } from '../../api/types';
import { resetPassword } from '../../api/users';
import { TextField } from '../../components/field';
import { FormDialog } from '../../components/form-dialog';
import { useForm } from '../../hooks/use-form';

export function PasswordDialog({
  user,
  onClose,
  onSaved,
}: {
  user: User;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const form = useForm({ password: '' });
  return (
    <FormDialog
      title={`New password for ${user.username}`}
      form={form}
      onSave={async ({ password }) => {
        await resetPassword(user.id, password);
        onSaved(`Password of ${user.username} changed; they were signed out everywhere.`);
      }}
      submitLabel="Set password"
      onClose={onClose}
      intro={
        <p>{user.display_name} will be signed out on every device and will need this password to sign in again.</p>
      }
    >
      <TextField
        field={form.bind('password')}
        label="New password"
        type="password"
        hint="At least 10 characters, not a common password or the username."
        autoComplete="new-password"
        required
      />
    </FormDialog>
  );
}
