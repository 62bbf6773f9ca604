import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, NO_RESPONSE } from '../api/http';
import { sessionResponse } from '../test/fakes';
import { refreshDelay, RETRY_DELAY_MS, scheduleRefresh } from './refresh-schedule';
import { createSessionStore, sessionFromResponse, type Session } from './store';

describe('refreshDelay', () => {
  it('refreshes a minute before a 15-minute token expires', () => {
    expect(refreshDelay({ issuedAt: 0, expiresAt: 900_000 }, 0)).toBe(840_000);
  });

  it('keeps a fifth of the lifetime in hand for short-lived tokens', () => {
    expect(refreshDelay({ issuedAt: 0, expiresAt: 60_000 }, 0)).toBe(48_000);
  });

  it('counts from now, and is due at once when overdue', () => {
    expect(refreshDelay({ issuedAt: 0, expiresAt: 900_000 }, 800_000)).toBe(40_000);
    expect(refreshDelay({ issuedAt: 0, expiresAt: 900_000 }, 899_000)).toBe(0);
    expect(refreshDelay({ issuedAt: 0, expiresAt: 900_000 }, 2_000_000)).toBe(0);
  });
});

describe('scheduleRefresh', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(refresh: (stale: string) => Promise<Session | null>) {
    const store = createSessionStore();
    const spy = vi.fn(refresh);
    const schedule = scheduleRefresh(store, { refresh: spy });
    return { store, spy, schedule };
  }

  it('refreshes shortly before expiry, and again for each new session', async () => {
    const { store, spy } = setup(async () => {
      const next = sessionFromResponse(sessionResponse(900), Date.now());
      store.set(next);
      return next;
    });
    const first = sessionFromResponse(sessionResponse(900), 0);
    store.set(first);

    await vi.advanceTimersByTimeAsync(839_999);
    expect(spy).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(spy).toHaveBeenCalledWith(first.accessToken);

    await vi.advanceTimersByTimeAsync(840_000);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('tries again later when a refresh fails', async () => {
    const { store, spy } = setup(() => Promise.reject(new ApiError(NO_RESPONSE, 'network', 'offline')));
    store.set(sessionFromResponse(sessionResponse(900), 0));
    await vi.advanceTimersByTimeAsync(840_000);
    expect(spy).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(RETRY_DELAY_MS);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('plans nothing while signed out, and stops when told', async () => {
    const { store, spy, schedule } = setup(async () => null);
    await vi.advanceTimersByTimeAsync(3_600_000);
    store.set(sessionFromResponse(sessionResponse(900), Date.now()));
    schedule.stop();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(spy).not.toHaveBeenCalled();
  });

  it('refreshes at once when rescheduled after the tab slept past the planned time', async () => {
    const { store, spy, schedule } = setup(async () => null);
    store.set(sessionFromResponse(sessionResponse(900), 0));
    // A sleeping device runs no timers: move the clock without firing them.
    vi.setSystemTime(895_000);
    schedule.reschedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
