import { useObservable } from '../lib/use-observable';
import { online } from '../pwa/online';
import { reloadIntoUpdate, updateWaiting } from '../pwa/service-worker';

/** Explains why nothing loads while offline; the app shell itself keeps working. */
export function OfflineBanner() {
  const isOnline = useObservable(online);
  if (isOnline) return null;
  return (
    <p class="banner banner--offline" role="status">
      You are offline. The app is available, but data cannot be loaded or saved until you reconnect.
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
