import { useEffect, useId, useState } from 'preact/hooks';
import { formErrors } from '../api/form-errors';
import { updateMe } from '../api/users';
import { browserTimeZone, timeZoneChoices, zoneAbbreviation } from '../format/format';
import { useObservable } from '../lib/use-observable';
import { sessionStore } from '../services';
import { describeError } from '../api/form-errors';
import { pushState, turnPushOff, turnPushOn, type PushState } from '../pwa/push';

const BROWSER = '';

/** The signed-in user's own settings: the time zone every time is shown in, and alerts pushed to
 * this browser while the dashboard is closed. */
export default function SettingsView() {
  return (
    <>
      <TimeZoneSettings />
      <PushSettings />
    </>
  );
}

const PUSH_WORDS: Record<PushState['kind'], string> = {
  unsupported: 'This browser cannot receive alerts while the dashboard is closed.',
  blocked: 'Notifications are blocked for this site: allow them in the browser’s site settings, then come back.',
  off: 'Off: alerts show only while the dashboard is open.',
  on: 'On: this browser shows alerts as notifications, also while the dashboard is closed.',
};

/** Web Push for this browser: on or off, with what stands in the way when it cannot be on. */
function PushSettings() {
  const [state, setState] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    pushState().then(setState, () => setState({ kind: 'unsupported' }));
  }, []);
  async function change(action: () => Promise<PushState>) {
    setBusy(true);
    setFailure(null);
    try {
      setState(await action());
    } catch (error) {
      setFailure(`Could not change it. ${describeError(error)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card settings-form push-settings" aria-labelledby="push-settings-title">
      <h2 id="push-settings-title">Alerts when the dashboard is closed</h2>
      <p role="status" class="settings-status">
        {state ? PUSH_WORDS[state.kind] : 'Checking this browser…'}
      </p>
      {state?.kind === 'off' && (
        <button type="button" class="button button--primary" disabled={busy} onClick={() => void change(turnPushOn)}>
          Turn on for this browser
        </button>
      )}
      {state?.kind === 'on' && (
        <button type="button" class="button" disabled={busy} onClick={() => void change(turnPushOff)}>
          Turn off for this browser
        </button>
      )}
      {failure && <p class="form-error">{failure}</p>}
    </section>
  );
}

/** The time zone every time is shown in. */
function TimeZoneSettings() {
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
