import { useId, useState } from 'preact/hooks';
import { formErrors } from '../api/form-errors';
import { updateMe } from '../api/users';
import { browserTimeZone, timeZoneChoices, zoneAbbreviation } from '../format/format';
import { useObservable } from '../lib/use-observable';
import { sessionStore } from '../services';

const BROWSER = '';

/** The signed-in user's own settings: the time zone every time is shown in. */
export default function SettingsView() {
  const session = useObservable(sessionStore);
  const id = useId();
  const saved = session?.user.time_zone ?? BROWSER;
  const [choice, setChoice] = useState(saved);
  const [state, setState] = useState<
    { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved'; zone: string } | { kind: 'failed'; message: string }
  >({ kind: 'idle' });
  const browser = browserTimeZone();
  const zones = timeZoneChoices();
  if (saved && !zones.includes(saved)) zones.unshift(saved);

  async function save(event: Event) {
    event.preventDefault();
    setState({ kind: 'saving' });
    try {
      const user = await updateMe({ time_zone: choice === BROWSER ? null : choice });
      const current = sessionStore.get();
      if (current) sessionStore.set({ ...current, user });
      setState({ kind: 'saved', zone: user.time_zone ?? browser });
    } catch (error) {
      const placed = formErrors(error, ['time_zone']);
      setState({ kind: 'failed', message: placed.fields['time_zone'] ?? placed.form ?? 'Could not save.' });
    }
  }

  const error = state.kind === 'failed' ? state.message : null;
  return (
    <form class="card settings-form" onSubmit={save} noValidate>
      <div class={error ? 'field field--invalid' : 'field'}>
        <label for={`${id}-zone`}>Time zone</label>
        <p id={`${id}-hint`} class="field-hint">
          Every time and day is shown in it, and consumption is added up by its days.
        </p>
        <select
          id={`${id}-zone`}
          value={choice}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? `${id}-hint ${id}-error` : `${id}-hint`}
          onInput={(event) => setChoice(event.currentTarget.value)}
        >
          <option value={BROWSER}>This browser’s ({browser})</option>
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
        {error && (
          <p id={`${id}-error`} class="field-error">
            {error}
          </p>
        )}
      </div>
      <button type="submit" class="button button--primary" disabled={state.kind === 'saving'}>
        Save
      </button>
      <p role="status" class="settings-status">
        {state.kind === 'saved' &&
          `Saved. Times are shown in ${state.zone} (${zoneAbbreviation(new Date(), undefined, state.zone)}).`}
      </p>
    </form>
  );
}
