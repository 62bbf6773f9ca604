import { formatChatTime } from '../format/format';
import { useObservable } from '../lib/use-observable';
import { connection } from '../live';
import { reloadIntoUpdate, updateWaiting } from '../pwa/service-worker';
import { shownFrom } from '../services';

/**
 * Explains why nothing new loads while offline; the app shell itself keeps working. It follows
 * the same connection state as the header, so the two never disagree.
 */
export function OfflineBanner() {
  const state = useObservable(connection);
  if (state !== 'offline') return null;
  return (
    <p class="banner banner--offline" role="status">
      You are offline. The app is available, but nothing new can be loaded or saved until you reconnect; it catches up
      by itself.
    </p>
  );
}

/** Says when what is on screen was loaded, while it comes from this device rather than the server. */
export function ShownFromNotice() {
  const since = useObservable(shownFrom);
  const state = useObservable(connection);
  if (since === null) return null;
  const when = formatChatTime(new Date(since).toISOString());
  return (
    <p class="banner banner--shown-from" role="status" data-since={since}>
      Shown from {when}, {state === 'offline' ? 'offline' : 'as the server cannot be reached'}.
    </p>
  );
}

export function UpdateBanner() {
  const waiting = useObservable(updateWaiting);
  if (!waiting) return null;
  return (
    <div class="banner banner--update" role="status">
      <span>A new version of EMS is ready.</span>
      <button type="button" class="button button--primary" onClick={reloadIntoUpdate}>
        Reload
      </button>
    </div>
  );
}
