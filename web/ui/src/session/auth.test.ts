import { describe, expect, it, vi } from 'vitest';
import { ApiError, NO_RESPONSE, type Http, type RequestOptions } from '../api/http';
import type { SessionResponse } from '../api/types';
import { sessionResponse } from '../test/fakes';
import { createAuth, REFRESH_LOCK, type TabMessage } from './auth';
import { createSessionStore, sessionFromResponse } from './store';

type Handler = (path: string, options: RequestOptions) => unknown;

/** An Http whose answers come from `handler`; a thrown ApiError is the server refusing. */
function fakeHttp(handler: Handler) {
  const calls: { path: string; options: RequestOptions }[] = [];
  const http = (async (path: string, options: RequestOptions = {}) => {
    calls.push({ path, options });
    return handler(path, options);
  }) as Http;
  return { http, calls };
}

/** Web Locks as the browser grants them: one holder at a time, the others queue. */
function fakeLocks() {
  let tail: Promise<unknown> = Promise.resolve();
  const request = vi.fn((_name: string, task: () => Promise<unknown>) => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  });
  return { request } as unknown as LockManager & { request: typeof request };
}

function setup(handler: Handler, now = () => 0) {
  const store = createSessionStore();
  const { http, calls } = fakeHttp(handler);
  const told: TabMessage[] = [];
  const auth = createAuth({ http, store, now, locks: null, tabs: { postMessage: (message) => told.push(message) } });
  return { store, auth, calls, told };
}

const unauthorized = new ApiError(401, 'unauthorized', 'not signed in: there is no session cookie; log in');
const offline = new ApiError(NO_RESPONSE, 'network', 'The server could not be reached.');
const REFRESH = { path: '/api/auth/refresh', options: { method: 'POST', body: {} } };

describe('auth', () => {
  it('keeps the session a login returns and tells the other tabs', async () => {
    const answer = sessionResponse();
    const { auth, store, calls, told } = setup(() => answer);
    await auth.login('ana', 'ems-demo');
    expect(calls[0]).toEqual({
      path: '/api/auth/login',
      options: { method: 'POST', body: { username: 'ana', password: 'ems-demo' } },
    });
    expect(store.get()?.accessToken).toBe(answer.access_token);
    expect(auth.ended.get()).toBeNull();
    expect(told).toEqual(['signed-in']);
  });

  it('refreshes with the cookie alone: the body is an empty JSON object', async () => {
    const first = sessionResponse();
    const second = sessionResponse();
    const { auth, store, calls } = setup((path) => (path === '/api/auth/login' ? first : second));
    await auth.login('ana', 'ems-demo');
    const renewed = await auth.refresh(first.access_token);
    expect(calls[1]).toEqual(REFRESH);
    expect(renewed?.accessToken).toBe(second.access_token);
    expect(store.get()?.accessToken).toBe(second.access_token);
  });

  it('restores the session from the refresh cookie on start', async () => {
    const answer = sessionResponse();
    const { auth, store, calls } = setup(() => answer);
    expect(auth.restored.get()).toBe(false);
    const session = await auth.restore();
    expect(calls).toEqual([REFRESH]);
    expect(session?.accessToken).toBe(answer.access_token);
    expect(store.get()?.user).toEqual(answer.user);
    expect(auth.restored.get()).toBe(true);
  });

  it('restores nothing, and shows no error, when there is no session cookie', async () => {
    const { auth, store } = setup(() => {
      throw unauthorized;
    });
    expect(await auth.restore()).toBeNull();
    expect(store.get()).toBeNull();
    expect(auth.ended.get()).toBeNull();
    expect(auth.restored.get()).toBe(true);
  });

  it('restores once back online when it started offline', async () => {
    let online = false;
    const answer = sessionResponse();
    const { auth, store } = setup(() => {
      if (!online) throw offline;
      return answer;
    });
    expect(await auth.restore()).toBeNull();
    expect(auth.restored.get()).toBe(true);
    expect(auth.unreachable.get()).toBe(true);
    online = true;
    await auth.reconnected();
    expect(store.get()?.accessToken).toBe(answer.access_token);
    expect(auth.unreachable.get()).toBe(false);
  });

  it('says the server was not reached only when it was not, not when there is no session', async () => {
    const { auth } = setup(() => {
      throw unauthorized;
    });
    await auth.restore();
    expect(auth.unreachable.get()).toBe(false);
  });

  it('signing out after an offline start tells the server once it is back, as the cookie may live', async () => {
    let online = false;
    const { auth, calls } = setup((path) => {
      if (!online) throw offline;
      return path === '/api/auth/logout' ? undefined : sessionResponse();
    });
    await auth.restore();
    await auth.logout();
    expect(auth.ended.get()).toBe('signed-out');
    expect(auth.unreachable.get()).toBe(false);
    online = true;
    await auth.reconnected();
    expect(calls.filter((call) => call.path === '/api/auth/logout')).toHaveLength(2);
    expect(calls.filter((call) => call.path === '/api/auth/refresh')).toHaveLength(1);
  });

  it('sends one refresh for many simultaneous callers, since a reused refresh token ends the login', async () => {
    const { auth, store, calls } = setup(() => sessionResponse());
    store.set(sessionFromResponse(sessionResponse(), 0));
    const stale = store.get()!.accessToken;
    const results = await Promise.all([auth.refresh(stale), auth.refresh(stale), auth.refresh(stale)]);
    expect(calls.filter((call) => call.path === '/api/auth/refresh')).toHaveLength(1);
    expect(new Set(results.map((session) => session?.accessToken)).size).toBe(1);
  });

  it('holds the cross-tab lock while refreshing and restoring', async () => {
    const store = createSessionStore();
    const locks = fakeLocks();
    const { http } = fakeHttp(() => sessionResponse());
    const auth = createAuth({ http, store, locks });
    await auth.restore();
    await auth.refresh(store.get()!.accessToken);
    expect(locks.request).toHaveBeenCalledTimes(2);
    expect(locks.request).toHaveBeenCalledWith(REFRESH_LOCK, expect.any(Function));
  });

  it('keeps two tabs restoring at once from replaying one cookie into the reuse detection', async () => {
    // The server's side of one browser's cookie: each refresh rotates it; presenting a rotated
    // one revokes the whole login, as sessions.rs does.
    let cookie = 'token-1';
    const rotated = new Set<string>();
    let revoked = false;
    const server: Handler = async () => {
      const presented = cookie;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (revoked || rotated.has(presented)) {
        revoked = true;
        throw unauthorized;
      }
      rotated.add(presented);
      cookie = `token-${rotated.size + 1}`;
      return sessionResponse();
    };
    const locks = fakeLocks();
    const tab = () => createAuth({ http: fakeHttp(server).http, store: createSessionStore(), locks });
    const [first, second] = [tab(), tab()];
    const sessions = await Promise.all([first.restore(), second.restore()]);
    expect(sessions.every((session) => session !== null)).toBe(true);
    expect(revoked).toBe(false);
    expect(rotated).toEqual(new Set(['token-1', 'token-2']));
  });

  it('ends the session when the refresh token is refused', async () => {
    const { auth, store } = setup(() => {
      throw unauthorized;
    });
    store.set(sessionFromResponse(sessionResponse(), 0));
    expect(await auth.refresh(store.get()!.accessToken)).toBeNull();
    expect(store.get()).toBeNull();
    expect(auth.ended.get()).toBe('expired');
  });

  it('ends a session whose refresh token has expired without asking the server', async () => {
    const { auth, store, calls } = setup(
      () => sessionResponse(),
      () => Date.parse('2027-01-01T00:00:00Z'),
    );
    store.set(sessionFromResponse(sessionResponse(), 0));
    expect(await auth.validAccessToken()).toBeNull();
    expect(calls).toHaveLength(0);
    expect(store.get()).toBeNull();
    expect(auth.ended.get()).toBe('expired');
  });

  it('keeps the session when the refresh fails for want of a network', async () => {
    const { auth, store } = setup(() => {
      throw offline;
    });
    const session = sessionFromResponse(sessionResponse(), 0);
    store.set(session);
    await expect(auth.refresh(session.accessToken)).rejects.toBe(offline);
    expect(store.get()).toEqual(session);
  });

  it('refreshes before handing out a token about to expire', async () => {
    let clock = 0;
    const fresh = sessionResponse();
    const { auth, store, calls } = setup(
      () => fresh,
      () => clock,
    );
    store.set(sessionFromResponse(sessionResponse(900), 0));
    const current = store.get()!.accessToken;
    clock = 800_000;
    expect(await auth.validAccessToken()).toBe(current);
    expect(calls).toHaveLength(0);
    clock = 898_000;
    expect(await auth.validAccessToken()).toBe(fresh.access_token);
    expect(calls).toHaveLength(1);
  });

  it('signs out: forgets the token, has the server clear the cookie, and tells the other tabs', async () => {
    const { auth, store, calls, told } = setup(() => undefined);
    store.set(sessionFromResponse(sessionResponse(), 0));
    await auth.logout();
    expect(store.get()).toBeNull();
    expect(auth.ended.get()).toBe('signed-out');
    expect(calls).toEqual([{ path: '/api/auth/logout', options: { method: 'POST', body: {} } }]);
    expect(told).toEqual(['signed-out']);
  });

  it('signs out locally when the server cannot be told, and tells it once back online', async () => {
    let online = false;
    const { auth, store, calls } = setup(() => {
      if (!online) throw offline;
      return undefined;
    });
    store.set(sessionFromResponse(sessionResponse(), 0));
    await auth.logout();
    expect(store.get()).toBeNull();
    online = true;
    await auth.reconnected();
    await auth.reconnected();
    expect(calls.map((call) => call.path)).toEqual(['/api/auth/logout', '/api/auth/logout']);
    expect(store.get()).toBeNull();
  });

  it('does not let a refresh under way bring back a session signed out meanwhile', async () => {
    let answer: (response: SessionResponse) => void = () => undefined;
    const { auth, store } = setup((path) =>
      path === '/api/auth/refresh' ? new Promise((resolve) => (answer = resolve)) : undefined,
    );
    store.set(sessionFromResponse(sessionResponse(), 0));
    const refreshing = auth.refresh(store.get()!.accessToken);
    await auth.logout();
    answer(sessionResponse());
    expect(await refreshing).toBeNull();
    expect(store.get()).toBeNull();
  });

  it('follows the other tabs: out when one signs out, into the new session when one signs in', async () => {
    const elsewhere = sessionResponse();
    const { auth, store } = setup(() => elsewhere);
    store.set(sessionFromResponse(sessionResponse(), 0));
    auth.heard('signed-out');
    expect(store.get()).toBeNull();
    expect(auth.ended.get()).toBe('signed-out');
    auth.heard('signed-in');
    await vi.waitFor(() => expect(store.get()?.accessToken).toBe(elsewhere.access_token));
  });
});
