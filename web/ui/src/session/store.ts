// The signed-in session, kept in localStorage so a reload or a new tab stays signed in.
import type { SessionResponse, User } from '../api/types';
import { observable, type Observable } from '../lib/observable';

export interface Session {
  accessToken: string;
  refreshToken: string;
  /**
   * When the access token arrived and when it expires, in milliseconds of this device's clock.
   * Both come from `expires_in` rather than the token's own `exp`, so a wrong clock on the device
   * does not make us refresh too early or too late.
   */
  issuedAt: number;
  expiresAt: number;
  refreshExpiresAt: number;
  user: User;
}

export const SESSION_STORAGE_KEY = 'ems.session';

export function sessionFromResponse(response: SessionResponse, now: number): Session {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    issuedAt: now,
    expiresAt: now + response.expires_in * 1000,
    refreshExpiresAt: Date.parse(response.refresh_expires_at),
    user: response.user,
  };
}

export interface SessionStore extends Observable<Session | null> {
  /** Reads storage again, for when another tab may have signed in, out, or rotated the tokens. */
  reload(): Session | null;
}

export function createSessionStore(storage: Storage, key = SESSION_STORAGE_KEY): SessionStore {
  const value = observable(read(storage, key));
  return {
    get: value.get,
    subscribe: value.subscribe,
    set(session) {
      try {
        if (session) storage.setItem(key, JSON.stringify(session));
        else storage.removeItem(key);
      } catch {
        // Storage full or disabled (private mode): the session still works until the tab closes.
      }
      value.set(session);
    },
    reload() {
      const stored = read(storage, key);
      const current = value.get();
      if (stored?.accessToken !== current?.accessToken || stored?.refreshToken !== current?.refreshToken) {
        value.set(stored);
      }
      return value.get();
    },
  };
}

function read(storage: Storage, key: string): Session | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
  return isSession(parsed) ? parsed : null;
}

// What an older version of the app stored, or a hand-edited value, must not crash the app.
function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const session = value as Record<string, unknown>;
  const user = session['user'] as Record<string, unknown> | null | undefined;
  return (
    typeof session['accessToken'] === 'string' &&
    typeof session['refreshToken'] === 'string' &&
    typeof session['issuedAt'] === 'number' &&
    typeof session['expiresAt'] === 'number' &&
    typeof session['refreshExpiresAt'] === 'number' &&
    typeof user === 'object' &&
    user !== null &&
    typeof user['id'] === 'string' &&
    (user['role'] === 'admin' || user['role'] === 'client')
  );
}
