import { loginErrors } from '../api/form-errors';
import { FormError, TextField } from '../components/field';
import { useForm } from '../hooks/use-form';
import { useObservable } from '../lib/use-observable';
import { auth } from '../services';
import type { SessionEnd } from '../session/auth';

const ENDED: Record<Exclude<SessionEnd, null>, string> = {
  'signed-out': 'You have signed out.',
  expired: 'Your session has ended. Sign in again to continue.',
};

/** Signing in; once the session exists the router moves on to the page asked for. */
export default function LoginView() {
  const ended = useObservable(auth.ended);
  const form = useForm({ username: '', password: '' });

  return (
    <section class="login">
      {ended && (
        <p class="notice notice--info" role="status">
          {ENDED[ended]}
        </p>
      )}
      <form
        ref={form.formRef}
        class="card form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(async ({ username, password }) => {
            await auth.login(username, password);
          }, loginErrors);
        }}
      >
        <FormError message={form.errors.form} />
        <TextField
          field={form.bind('username')}
          label="Username"
          autoComplete="username"
          autoCapitalize="none"
          spellcheck={false}
          required
        />
        <TextField
          field={form.bind('password')}
          label="Password"
          type="password"
          autoComplete="current-password"
          required
        />
        <button type="submit" class="button button--primary button--wide" disabled={form.submitting}>
          {form.submitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
