// The app's single instances of the session and the API client, wired to the browser.
import { createApiClient } from './api/client';
import { createHttp } from './api/http';
import { setTimeZone } from './format/format';
import type { User } from './api/types';
import { observable } from './lib/observable';
import { indexedDbAnswerStore } from './offline/answers';
import { createCachedClient } from './offline/cached-client';
import { createAuth, type TabMessage } from './session/auth';
import { scheduleRefresh } from './session/refresh-schedule';
import { createSessionStore, forgetStoredSession } from './session/store';

// Tells the other open tabs about signing in and out (never a token); absent in old browsers.
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('ems-session') : null;

export const http = createHttp();
export const sessionStore = createSessionStore();
export const auth = createAuth({ http, store: sessionStore, tabs });

const answers = indexedDbAnswerStore();
/**
 * Who was signed in on this device, while the app started without reaching the server; null
 * otherwise. The app shows that person's kept answers (offline/answers.ts) until the server can say
 * whether they are still signed in.
 */
export const offlineUser = observable<User | null>(null);
const cached = createCachedClient(createApiClient(http, auth), {
  store: answers,
  sessionUser: () => sessionStore.get()?.user ?? null,
  offlineUser: () => offlineUser.get(),
});
export const api = cached.api;
/** When the oldest kept answer on screen arrived; null while everything shown is fresh. */
export const shownFrom = cached.shownFrom;
export const forgetShown = cached.forgetShown;
/** False until it is known who, if anyone, is signed in (or was, when starting offline). */
export const started = observable(false);

// Times are shown in the signed-in user's zone (their setting, else the browser's).
sessionStore.subscribe((session) => setTimeZone(session?.user.time_zone));

forgetStoredSession(window.localStorage);
// A reload or a new tab: the session comes back from the refresh cookie, if there is one.
void auth.restore().then(async (session) => {
  if (!session && auth.unreachable.get()) offlineUser.set(await answers.lastUser().catch(() => null));
  started.set(true);
});

sessionStore.subscribe((session) => {
  if (!session) return;
  offlineUser.set(null);
  answers.keepFor(session.user).catch(() => undefined);
});
function forgetAnswers() {
  offlineUser.set(null);
  forgetShown();
  answers.clear().catch(() => undefined);
}
// Signed out, here or in another tab, or the session expired: nothing of it stays on the device.
auth.ended.subscribe((why) => {
  if (why) forgetAnswers();
});
// Back online after an offline start, and the server says no one is signed in any more.
auth.unreachable.subscribe((unreachable) => {
  if (!unreachable && !sessionStore.get()) forgetAnswers();
});

const refreshSchedule = scheduleRefresh(sessionStore, auth);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') refreshSchedule.reschedule();
});
window.addEventListener('online', () => {
  void auth.reconnected();
  refreshSchedule.reschedule();
});
tabs?.addEventListener('message', (event: MessageEvent<TabMessage>) => auth.heard(event.data));
