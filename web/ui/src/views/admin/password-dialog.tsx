import type { User } from '../../api/types';
import { resetPassword } from '../../api/users';
import { Dialog, DialogActions } from '../../components/dialog';
import { FormError, TextField } from '../../components/field';
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
    <Dialog title={`New password for ${user.username}`} onClose={onClose}>
      <form
        ref={form.formRef}
        class="form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(async ({ password }) => {
            await resetPassword(user.id, password);
            onSaved(`Password of ${user.username} changed; they were signed out everywhere.`);
          });
        }}
      >
        <p>{user.display_name} will be signed out on every device and will need this password to sign in again.</p>
        <FormError message={form.errors.form} />
        <TextField
          field={form.bind('password')}
          label="New password"
          type="password"
          hint="At least 8 characters."
          autoComplete="new-password"
          required
        />
        <DialogActions submitLabel="Set password" submitting={form.submitting} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
