import { describe, expect, it, vi } from 'vitest';
import { sessionResponse } from '../test/fakes';
import { createSessionStore, sessionFromResponse, type Session } from '../session/store';
import { createApiClient } from './client';
import { ApiError, type Http, type RequestOptions } from './http';

const unauthorized = () => new ApiError(401, 'unauthorized', 'the access token has expired');

function setup(answer: (options: RequestOptions) => unknown) {
  const store = createSessionStore();
  const session = sessionFromResponse(sessionResponse(), 0);
  store.set(session);
  const renewed = sessionFromResponse(sessionResponse(), 1);
  const http = vi.fn(async (_path: string, options: RequestOptions = {}) => answer(options)) as unknown as Http &
    ReturnType<typeof vi.fn>;
  const auth = {
    validAccessToken: vi.fn(async () => store.get()?.accessToken ?? null),
    refresh: vi.fn(async (): Promise<Session | null> => {
      store.set(renewed);
      return renewed;
    }),
  };
  return { api: createApiClient(http, auth), http, auth, session, renewed, store };
}

describe('api client', () => {
  it('sends the access token', async () => {
    const { api, http, session } = setup(() => ({ ok: true }));
    await api('/api/me');
    expect(http).toHaveBeenCalledWith('/api/me', { token: session.accessToken });
  });

  it('refreshes once and retries when the token is refused', async () => {
    const { api, http, auth, session, renewed } = setup((options) => {
      if (options.token !== renewed.accessToken) throw unauthorized();
      return { ok: true };
    });
    expect(await api('/api/me')).toEqual({ ok: true });
    expect(auth.refresh).toHaveBeenCalledWith(session.accessToken);
    expect(http).toHaveBeenCalledTimes(2);
  });

  it('gives up after one retry', async () => {
    const { api, http, auth } = setup(() => {
      throw unauthorized();
    });
    await expect(api('/api/me')).rejects.toMatchObject({ status: 401 });
    expect(auth.refresh).toHaveBeenCalledTimes(1);
    expect(http).toHaveBeenCalledTimes(2);
  });

  it('does not retry other errors', async () => {
    const { api, http, auth } = setup(() => {
      throw new ApiError(403, 'forbidden', 'administrators only');
    });
    await expect(api('/api/users')).rejects.toMatchObject({ status: 403 });
    expect(auth.refresh).not.toHaveBeenCalled();
    expect(http).toHaveBeenCalledTimes(1);
  });

  it('refuses to call the API without a session', async () => {
    const { api, http, store } = setup(() => ({}));
    store.set(null);
    await expect(api('/api/me')).rejects.toMatchObject({ status: 401 });
    expect(http).not.toHaveBeenCalled();
  });
});
