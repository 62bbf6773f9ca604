// The app's single instances of the session and the API client, wired to the browser.
import { createApiClient } from './api/client';
import { createHttp } from './api/http';
import { setTimeZone } from './format/format';
import { createAuth, type TabMessage } from './session/auth';
import { scheduleRefresh } from './session/refresh-schedule';
import { createSessionStore, forgetStoredSession } from './session/store';

// Tells the other open tabs about signing in and out (never a token); absent in old browsers.
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('ems-session') : null;

export const http = createHttp();
export const sessionStore = createSessionStore();
export const auth = createAuth({ http, store: sessionStore, tabs });
export const api = createApiClient(http, auth);

// Times are shown in the signed-in user's zone (their setting, else the browser's).
sessionStore.subscribe((session) => setTimeZone(session?.user.time_zone));

forgetStoredSession(window.localStorage);
// A reload or a new tab: the session comes back from the refresh cookie, if there is one.
void auth.restore();

const refreshSchedule = scheduleRefresh(sessionStore, auth);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') refreshSchedule.reschedule();
});
window.addEventListener('online', () => {
  void auth.reconnected();
  refreshSchedule.reschedule();
});
tabs?.addEventListener('message', (event: MessageEvent<TabMessage>) => auth.heard(event.data));
