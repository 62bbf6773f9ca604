// The app's one live connection, wired to the session and the browser: it runs while someone is
// signed in, hands alerts to the alert bus and every frame to the frame bus (chat, presence).
import { alertBadge, onAlert } from '../alerts';
import { listConversations } from '../api/chat';
import { createWaitingBadge } from '../chat/waiting';
import { observable } from '../lib/observable';
import type { WsTicket } from '../api/types';
import { online } from '../pwa/online';
import { auth, http, offlineUser, sessionStore } from '../services';
import { createLiveClient, type LiveState, type SocketLike } from './client';
import { createRecovery } from './recovery';
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
frames.on('presence.snapshot', (frame) =>
  presence.set(new Map([...frame.online, ...(frame.admins ?? [])].map((id) => [id, true]))),
);
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
// A socket that was open when the network went can look open for minutes; the device is offline
// now, so it is dropped and taken up again by the 'online' event.
window.addEventListener('offline', () => {
  if (live.state.get() === 'idle') return;
  live.drop();
  live.state.set('offline');
});

/**
 * The one connection state the header and the banners show: offline whenever the browser is,
 * otherwise the live connection's; reconnecting while a person who was signed in when the app
 * started offline waits for the server to take their session up again.
 */
export const connection = observable<LiveState>('idle');
function updateConnection() {
  const state = live.state.get();
  if (!online.get()) connection.set('offline');
  else if (state !== 'idle') connection.set(state);
  // Signed in a moment ago: the connection is about to start.
  else if (sessionStore.get()) connection.set('connecting');
  else connection.set(offlineUser.get() ? 'reconnecting' : 'idle');
}
live.state.subscribe(updateConnection);
online.subscribe(updateConnection);
offlineUser.subscribe(updateConnection);
sessionStore.subscribe(updateConnection);
updateConnection();

/**
 * Counts the times the connection came back after it was lost. Views load their data again on
 * each, so they recover from an error (or from kept answers) by themselves.
 */
export const recovered = createRecovery(connection);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') live.retryNow();
});

// For the end-to-end tests: drop the connection as a network failure would.
(window as unknown as { __emsLive?: { drop(): void } }).__emsLive = { drop: () => live.drop() };
