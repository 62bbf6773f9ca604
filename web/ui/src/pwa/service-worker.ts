// Registers the service worker that keeps the app shell available offline. A new version waits
// until the person chooses to reload, so nobody loses what they were typing.
import { registerSW } from 'virtual:pwa-register';
import { observable } from '../lib/observable';

export const updateWaiting = observable(false);

let activateUpdate: (() => Promise<void>) | null = null;

export function startServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const update = registerSW({ onNeedRefresh: () => updateWaiting.set(true) });
  activateUpdate = () => update(true);
}

export function reloadIntoUpdate(): void {
  void activateUpdate?.();
}
