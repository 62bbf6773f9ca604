// Signing in and out, and keeping the access token fresh. The refresh token is an HttpOnly cookie
// the browser sends to /api/auth only; the access token lives in this tab's memory, so a reload or
// a new tab starts by asking /api/auth/refresh for a session (restore).
//
// Refresh tokens rotate and a reused one revokes the whole login (docs/api.md). All tabs share the
// one cookie, so refreshes are serialised — within the tab by sharing one promise, across tabs by a
// Web Lock. A tab that waited for the lock sends the cookie the other tab's refresh just set.
import { ApiError, NO_RESPONSE, type Http } from '../api/http';
import type { LoginRequest, RefreshRequest, SessionResponse } from '../api/types';
import { observable, type Observable } from '../lib/observable';
import { sessionFromResponse, type Session, type SessionStore } from './store';

/** An access token this close to expiry is refreshed before use rather than sent. */
const EXPIRY_MARGIN_MS = 5_000;
export const REFRESH_LOCK = 'ems-session-refresh';
/** The refresh token travels in the cookie; the body must still be JSON (docs/api.md). */
const COOKIE_ONLY: RefreshRequest = {};

/** Why the last session ended, for the sign-in page to explain. */
export type SessionEnd = 'signed-out' | 'expired' | null;

/** What one tab tells the others; never a token. */
export type TabMessage = 'signed-in' | 'signed-out';

export interface Auth {
  readonly ended: Observable<SessionEnd>;
  /** False until the first restore has settled, so the app does not send anyone to sign in early. */
  readonly restored: Observable<boolean>;
  /**
   * True while the last restore could not reach the server (offline, or the server down): whoever
   * was signed in on this device may still be, which only the server can tell once it answers.
   */
  readonly unreachable: Observable<boolean>;
  /**
   * Gets a session from the refresh cookie, as on a reload or in a new tab. Resolves to null when
   * there is none (signed out: no error) or the server cannot be reached.
   */
  restore(): Promise<Session | null>;
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
  /** Back online: tells the server about a sign-out it missed, or restores a session it could not. */
  reconnected(): Promise<void>;
  /** Handles what another tab said (see `tabs`). */
  heard(message: TabMessage): void;
}

export interface AuthOptions {
  http: Http;
  store: SessionStore;
  now?: () => number;
  /** Serialises refreshes across tabs; null where the browser has no Web Locks. */
  locks?: LockManager | null;
  /** Tells the other tabs of this dashboard about signing in and out. */
  tabs?: { postMessage(message: TabMessage): void } | null;
}

export function createAuth({
  http,
  store,
  now = Date.now,
  locks = globalThis.navigator?.locks ?? null,
  tabs = null,
}: AuthOptions): Auth {
  const ended = observable<SessionEnd>(null);
  const restored = observable(false);
  const unreachable = observable(false);
  let inFlight: Promise<Session | null> | null = null;
  // Bumped on every sign-in and sign-out, so a refresh that was under way cannot bring back a
  // session the user has just left, or replace the one they have just started.
  let generation = 0;
  let logoutMissed = false;

  const exclusive = <T>(task: () => Promise<T>): Promise<T> =>
    locks ? (locks.request(REFRESH_LOCK, task) as Promise<T>) : task();

  function end(why: Exclude<SessionEnd, null>): null {
    generation += 1;
    ended.set(why);
    store.set(null);
    return null;
  }

  /** `staleAccessToken` null: restoring, with no session in this tab yet. */
  async function rotate(staleAccessToken: string | null): Promise<Session | null> {
    const current = store.get();
    // Renewed (or signed in) meanwhile in this tab, or signed out meanwhile.
    if (current && current.accessToken !== staleAccessToken) return current;
    if (!current && staleAccessToken !== null) return null;
    if (current && current.refreshExpiresAt <= now()) return end('expired');
    const started = generation;
    let response: SessionResponse;
    try {
      response = await http<SessionResponse>('/api/auth/refresh', { method: 'POST', body: COOKIE_ONLY });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      if (started !== generation) return store.get();
      // No session cookie (or a dead one) on a restore is simply being signed out.
      return current ? end('expired') : null;
    }
    if (started !== generation) return store.get();
    const session = sessionFromResponse(response, now());
    store.set(session);
    return session;
  }

  function renew(staleAccessToken: string | null): Promise<Session | null> {
    inFlight ??= exclusive(() => rotate(staleAccessToken)).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  // The access token is gone from this tab already; the server revokes the cookie's session and
  // clears the cookie, which only it can do (HttpOnly). Offline, that waits for `reconnected`.
  async function tellServerOfLogout(): Promise<void> {
    logoutMissed = false;
    try {
      await http('/api/auth/logout', { method: 'POST', body: COOKIE_ONLY });
    } catch (error) {
      if (error instanceof ApiError && error.status === NO_RESPONSE) logoutMissed = true;
    }
  }

  async function restore(): Promise<Session | null> {
    try {
      const session = await renew(null);
      unreachable.set(false);
      return session;
    } catch {
      // Offline: no session for now; the app retries when the device is back online.
      unreachable.set(true);
      return null;
    } finally {
      restored.set(true);
    }
  }

  return {
    ended,
    restored,
    unreachable,
    restore,
    refresh: (staleAccessToken) => renew(staleAccessToken),
    async login(username, password) {
      const response = await http<SessionResponse>('/api/auth/login', {
        method: 'POST',
        body: { username, password } satisfies LoginRequest,
      });
      generation += 1;
      const session = sessionFromResponse(response, now());
      unreachable.set(false);
      ended.set(null);
      store.set(session);
      tabs?.postMessage('signed-in');
      return session;
    },
    async validAccessToken() {
      const session = store.get();
      if (!session) return null;
      if (session.expiresAt - now() > EXPIRY_MARGIN_MS) return session.accessToken;
      return (await renew(session.accessToken))?.accessToken ?? null;
    },
    async logout() {
      const session = store.get();
      // Signing out while the server could not be reached: the cookie may still hold a session.
      const cookieMayLive = unreachable.get();
      unreachable.set(false);
      end('signed-out');
      if (!session && !cookieMayLive) return;
      tabs?.postMessage('signed-out');
      await tellServerOfLogout();
    },
    async reconnected() {
      if (logoutMissed) await tellServerOfLogout();
      else if (!store.get() && ended.get() === null) await restore();
    },
    heard(message) {
      if (message === 'signed-out') {
        if (store.get()) end('signed-out');
        return;
      }
      // Signed in elsewhere, perhaps as someone else: take up the session the cookie now holds.
      renew(store.get()?.accessToken ?? null).catch(() => undefined);
    },
  };
}
