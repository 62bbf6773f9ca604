// Refreshes the access token shortly before it expires, so requests rarely meet a 401.
import type { Auth } from './auth';
import type { Session, SessionStore } from './store';

/** Refresh this long before expiry at most… */
const MAX_LEEWAY_MS = 60_000;
/** …and at least this share of the token's lifetime before, for short lifetimes. */
const LEEWAY_SHARE = 0.2;
/** After a failed attempt (say, offline), try again this much later. */
export const RETRY_DELAY_MS = 15_000;

/** Milliseconds from `now` until the session should be refreshed; 0 when that is overdue. */
export function refreshDelay(session: Pick<Session, 'issuedAt' | 'expiresAt'>, now: number): number {
  const lifetime = session.expiresAt - session.issuedAt;
  const leeway = Math.min(MAX_LEEWAY_MS, lifetime * LEEWAY_SHARE);
  return Math.max(0, session.expiresAt - leeway - now);
}

export interface RefreshSchedule {
  /**
   * Re-plans from the current time; call it when the page becomes visible or the device comes
   * back online, since browsers delay timers in background tabs and while asleep.
   */
  reschedule(): void;
  stop(): void;
}

export function scheduleRefresh(store: SessionStore, auth: Pick<Auth, 'refresh'>, now = Date.now): RefreshSchedule {
  let timer: ReturnType<typeof setTimeout> | undefined;

  function plan(session: Session | null, delay?: number) {
    clearTimeout(timer);
    timer = undefined;
    if (!session) return;
    timer = setTimeout(
      () => {
        // A new session reschedules through the subscription below; only failures need a retry.
        auth.refresh(session.accessToken).catch(() => plan(store.get(), RETRY_DELAY_MS));
      },
      delay ?? refreshDelay(session, now()),
    );
  }

  const unsubscribe = store.subscribe((session) => plan(session));
  plan(store.get());
  return {
    reschedule: () => plan(store.get()),
    stop() {
      unsubscribe();
      clearTimeout(timer);
    },
  };
}
