// The signed-in session, in this tab's memory only. The refresh token is an HttpOnly cookie the
// page cannot read (docs/architecture.md, "Sessions and CSRF"); a reload or a new tab gets a new
// session from it through /api/auth/refresh (see auth.ts).
import type { SessionResponse, User } from '../api/types';
import { observable, type Observable } from '../lib/observable';

export interface Session {
  accessToken: string;
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

/** Where an earlier version of the dashboard kept the session, tokens included. */
export const LEGACY_SESSION_STORAGE_KEY = 'ems.session';

export function sessionFromResponse(response: SessionResponse, now: number): Session {
  return {
    accessToken: response.access_token,
    issuedAt: now,
    expiresAt: now + response.expires_in * 1000,
    refreshExpiresAt: Date.parse(response.refresh_expires_at),
    user: response.user,
  };
}

export type SessionStore = Observable<Session | null>;

export function createSessionStore(): SessionStore {
  return observable<Session | null>(null);
}

/** Deletes a session an earlier version left in storage: its refresh token must not linger there. */
export function forgetStoredSession(storage: Storage): void {
  try {
    storage.removeItem(LEGACY_SESSION_STORAGE_KEY);
  } catch {
    // Storage disabled: then nothing was stored either.
  }
}
