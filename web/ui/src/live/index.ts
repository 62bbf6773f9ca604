// The app's one live connection, wired to the session and the browser: it runs while someone is
// signed in, hands alerts to the alert bus and every frame to the frame bus (chat, presence).
import { alertBadge, onAlert } from '../alerts';
import { listConversations } from '../api/chat';
import { createWaitingBadge } from '../chat/waiting';
import { observable } from '../lib/observable';
import type { WsTicket } from '../api/types';
import { auth, http, sessionStore } from '../services';
import { createLiveClient, type SocketLike } from './client';
import { alertIdStore, createFrameBus, dispatchFrame } from './frame-bus';
import { createOutbox } from './outbox';

export const frames = createFrameBus();

let userId: string | null = null;
const lastAlertId = alertIdStore(window.localStorage, () => (userId ? `ems.lastAlertId.${userId}` : null));

function wsUrl(ticket: string, last: number | null): string {
  const url = new URL('/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('ticket', ticket);
  if (last !== null) url.searchParams.set('last_alert_id', String(last));
  return url.toString();
}

export const live = createLiveClient({
  url: wsUrl,
  // With the token in hand, not through the API client: a 401 is the live client's to handle.
  ticket: async (token) => (await http<WsTicket>('/api/ws-ticket', { method: 'POST', token })).ticket,
  auth,
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  lastAlertId,
  onFrame: (frame) => dispatchFrame(frame, onAlert, frames),
});

/** Chat messages on their way to the server. */
export const outbox = createOutbox((frame) => live.send(frame));
frames.on('ack', (frame) => outbox.acked(frame.client_id));
frames.on('hello', () => outbox.flush());
// Only the newest missed alerts were replayed: the count comes from the API (the alert list
// reloads too), so the older ones are not silently missed.
frames.on('replay.truncated', () => void alertBadge.refresh());

/**
 * Customers online (administrators only hear of it): the snapshot sent on connecting, then each
 * change. Signing out (`follow`) forgets it.
 */
export const presence = observable<ReadonlyMap<string, boolean>>(new Map());
frames.on('presence.snapshot', (frame) => presence.set(new Map(frame.online.map((id) => [id, true]))));
frames.on('presence', (frame) => presence.set(new Map(presence.get()).set(frame.user_id, frame.online)));

/** Administrators' Support badge: conversations waiting for one of them (the API's first 100). */
export const waitingBadge = createWaitingBadge(async () =>
  (await listConversations({ waiting: true, per_page: 100 })).items.map((item) => item.customer_id),
);
frames.on('chat.mode', (frame) => waitingBadge.apply(frame));
// On every (re)connection: frames may have been missed, so the count comes from the API again.
frames.on('hello', (frame) => {
  if (frame.role === 'admin') void waitingBadge.refresh();
  else waitingBadge.clear();
});

function follow() {
  const next = sessionStore.get()?.user.id ?? null;
  if (next === userId) return;
  live.stop();
  outbox.clear();
  lastAlertId.reset();
  waitingBadge.clear();
  presence.set(new Map());
  userId = next;
  if (userId) live.start();
}

sessionStore.subscribe(follow);
follow();
window.addEventListener('online', () => live.retryNow());
window.addEventListener('offline', () => {
  if (live.state.get() !== 'idle' && live.state.get() !== 'connected') live.state.set('offline');
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') live.retryNow();
});

// For the end-to-end tests: drop the connection as a network failure would.
(window as unknown as { __emsLive?: { drop(): void } }).__emsLive = { drop: () => live.drop() };
