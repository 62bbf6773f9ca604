// Signing in and out, and keeping the access token fresh. Refresh tokens rotate and a reused one
// revokes the whole login (docs/api.md), so refreshes are serialised — within the tab by sharing
// one promise, across tabs by a Web Lock — and a tab first checks whether another one already
// rotated the tokens.
import { ApiError, type Http } from '../api/http';
import type { LoginRequest, RefreshRequest, SessionResponse } from '../api/types';
import { observable, type Observable } from '../lib/observable';
import { sessionFromResponse, type Session, type SessionStore } from './store';

/** An access token this close to expiry is refreshed before use rather than sent. */
const EXPIRY_MARGIN_MS = 5_000;
const REFRESH_LOCK = 'ems-session-refresh';

/** Why the last session ended, for the sign-in page to explain. */
export type SessionEnd = 'signed-out' | 'expired' | null;

export interface Auth {
  readonly ended: Observable<SessionEnd>;
  login(username: string, password: string): Promise<Session>;
  /**
   * Replaces the session whose access token is `staleAccessToken`. Resolves to the new session,
   * or to null when the session is over (the refresh token was refused); rejects on network errors
   * and keeps the session.
   */
  refresh(staleAccessToken: string): Promise<Session | null>;
  /** An access token fit to send, refreshing first when it is about to expire. */
  validAccessToken(): Promise<string | null>;
  logout(): Promise<void>;
}

export interface AuthOptions {
  http: Http;
  store: SessionStore;
  now?: () => number;
  /** Serialises refreshes across tabs; null where the browser has no Web Locks. */
  locks?: LockManager | null;
}

export function createAuth({
  http,
  store,
  now = Date.now,
  locks = globalThis.navigator?.locks ?? null,
}: AuthOptions): Auth {
  const ended = observable<SessionEnd>(null);
  let inFlight: Promise<Session | null> | null = null;

  const exclusive = <T>(task: () => Promise<T>): Promise<T> =>
    locks ? (locks.request(REFRESH_LOCK, task) as Promise<T>) : task();

  function expire(): null {
    ended.set('expired');
    store.set(null);
    return null;
  }

  async function rotate(staleAccessToken: string): Promise<Session | null> {
    const latest = store.reload();
    if (!latest) return null;
    if (latest.accessToken !== staleAccessToken) return latest;
    if (latest.refreshExpiresAt <= now()) return expire();
    try {
      const response = await http<SessionResponse>('/api/auth/refresh', {
        method: 'POST',
        body: { refresh_token: latest.refreshToken } satisfies RefreshRequest,
      });
      const session = sessionFromResponse(response, now());
      store.set(session);
      return session;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return expire();
      throw error;
    }
  }

  function refresh(staleAccessToken: string): Promise<Session | null> {
    inFlight ??= exclusive(() => rotate(staleAccessToken)).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  return {
    ended,
    refresh,
    async login(username, password) {
      const response = await http<SessionResponse>('/api/auth/login', {
        method: 'POST',
        body: { username, password } satisfies LoginRequest,
      });
      const session = sessionFromResponse(response, now());
      ended.set(null);
      store.set(session);
      return session;
    },
    async validAccessToken() {
      const session = store.get();
      if (!session) return null;
      if (session.expiresAt - now() > EXPIRY_MARGIN_MS) return session.accessToken;
      return (await refresh(session.accessToken))?.accessToken ?? null;
    },
    async logout() {
      const session = store.get();
      ended.set('signed-out');
      store.set(null);
      if (!session) return;
      // The tokens are gone from this device already; telling the server is best effort, so
      // signing out works offline too.
      await http('/api/auth/logout', {
        method: 'POST',
        body: { refresh_token: session.refreshToken } satisfies RefreshRequest,
      }).catch(() => undefined);
    },
  };
}
