// Web Push from the browser's side: subscribing this browser at its push service with the
// server's key, handing the subscription to the API, and undoing both. The service worker shows
// what arrives (public/push-handler.js).
import { api } from '../services';
import type { PushKey } from '../api/types';

export type PushState =
  { kind: 'unsupported' } | { kind: 'blocked' } | { kind: 'off' } | { kind: 'on'; endpoint: string };

export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** Whether this browser receives pushes now. */
export async function pushState(): Promise<PushState> {
  if (!pushSupported()) return { kind: 'unsupported' };
  if (Notification.permission === 'denied') return { kind: 'blocked' };
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  return subscription ? { kind: 'on', endpoint: subscription.endpoint } : { kind: 'off' };
}

/** The key as `applicationServerKey` takes it: bytes from base64url. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const text = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** Asks for permission, subscribes this browser and tells the server. */
export async function turnPushOn(): Promise<PushState> {
  const { public_key } = await api<PushKey>('/api/push/key');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? { kind: 'blocked' } : { kind: 'off' };
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(public_key),
  });
  await api<void>('/api/me/push-subscriptions', { method: 'PUT', body: subscription.toJSON() });
  return { kind: 'on', endpoint: subscription.endpoint };
}

/** Stops pushes to this browser, at the server and at the push service. */
export async function turnPushOff(): Promise<PushState> {
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  if (subscription) {
    await api<void>('/api/me/push-subscriptions', { method: 'DELETE', body: { endpoint: subscription.endpoint } });
    await subscription.unsubscribe();
  }
  return { kind: 'off' };
}
