// The app's single instances of the session and the API client, wired to the browser.
import { createApiClient } from './api/client';
import { createHttp } from './api/http';
import { createAuth } from './session/auth';
import { scheduleRefresh } from './session/refresh-schedule';
import { createSessionStore, SESSION_STORAGE_KEY } from './session/store';

const http = createHttp();
export const sessionStore = createSessionStore(window.localStorage);
export const auth = createAuth({ http, store: sessionStore });
export const api = createApiClient(http, auth);

const refreshSchedule = scheduleRefresh(sessionStore, auth);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') refreshSchedule.reschedule();
});
window.addEventListener('online', () => refreshSchedule.reschedule());
// Another tab signed in or out, or rotated the tokens.
window.addEventListener('storage', (event) => {
  if (event.key === SESSION_STORAGE_KEY || event.key === null) sessionStore.reload();
});
