import { describe, expect, it, vi } from 'vitest';
import { ApiError, NO_RESPONSE, type Http, type RequestOptions } from '../api/http';
import { MemoryStorage, sessionResponse } from '../test/fakes';
import { createAuth } from './auth';
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

function setup(handler: Handler, now = () => 0) {
  const storage = new MemoryStorage();
  const store = createSessionStore(storage);
  const { http, calls } = fakeHttp(handler);
  const auth = createAuth({ http, store, now, locks: null });
  return { storage, store, auth, calls };
}

const unauthorized = new ApiError(401, 'unauthorized', 'the refresh token is not valid');

describe('auth', () => {
  it('stores the session a login returns', async () => {
    const answer = sessionResponse();
    const { auth, store, calls } = setup(() => answer);
    await auth.login('ana', 'ems-demo');
    expect(calls[0]).toEqual({
      path: '/api/auth/login',
      options: { method: 'POST', body: { username: 'ana', password: 'ems-demo' } },
    });
    expect(store.get()?.accessToken).toBe(answer.access_token);
    expect(auth.ended.get()).toBeNull();
  });

  it('rotates the tokens on refresh', async () => {
    const first = sessionResponse();
    const second = sessionResponse();
    const { auth, store, calls } = setup((path) => (path === '/api/auth/login' ? first : second));
    await auth.login('ana', 'ems-demo');
    const renewed = await auth.refresh(first.access_token);
    expect(calls[1]).toEqual({
      path: '/api/auth/refresh',
      options: { method: 'POST', body: { refresh_token: first.refresh_token } },
    });
    expect(renewed?.refreshToken).toBe(second.refresh_token);
    expect(store.get()?.accessToken).toBe(second.access_token);
  });

  it('sends one refresh for many simultaneous callers, since a reused refresh token ends the login', async () => {
    const { auth, store, calls } = setup(() => sessionResponse());
    store.set(sessionFromResponse(sessionResponse(), 0));
    const stale = store.get()!.accessToken;
    const results = await Promise.all([auth.refresh(stale), auth.refresh(stale), auth.refresh(stale)]);
    expect(calls.filter((call) => call.path === '/api/auth/refresh')).toHaveLength(1);
    expect(new Set(results.map((session) => session?.accessToken)).size).toBe(1);
  });

  it('uses tokens another tab already rotated instead of refreshing again', async () => {
    const { auth, store, storage, calls } = setup(() => sessionResponse());
    store.set(sessionFromResponse(sessionResponse(), 0));
    const stale = store.get()!.accessToken;
    const rotatedElsewhere = sessionFromResponse(sessionResponse(), 5);
    createSessionStore(storage).set(rotatedElsewhere);
    expect(await auth.refresh(stale)).toEqual(rotatedElsewhere);
    expect(calls).toHaveLength(0);
  });

  it('holds the cross-tab lock while refreshing', async () => {
    const storage = new MemoryStorage();
    const store = createSessionStore(storage);
    store.set(sessionFromResponse(sessionResponse(), 0));
    const request = vi.fn((_name: string, task: () => Promise<unknown>) => task());
    const { http } = fakeHttp(() => sessionResponse());
    const auth = createAuth({ http, store, locks: { request } as unknown as LockManager });
    await auth.refresh(store.get()!.accessToken);
    expect(request).toHaveBeenCalledWith('ems-session-refresh', expect.any(Function));
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
    const offline = new ApiError(NO_RESPONSE, 'network', 'The server could not be reached.');
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

  it('signs out locally even when the server cannot be told', async () => {
    const { auth, store, calls } = setup(() => {
      throw new ApiError(NO_RESPONSE, 'network', 'offline');
    });
    const session = sessionFromResponse(sessionResponse(), 0);
    store.set(session);
    await auth.logout();
    expect(store.get()).toBeNull();
    expect(auth.ended.get()).toBe('signed-out');
    expect(calls[0]).toEqual({
      path: '/api/auth/logout',
      options: { method: 'POST', body: { refresh_token: session.refreshToken } },
    });
  });
});
