import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage, sessionResponse } from '../test/fakes';
import { createSessionStore, forgetStoredSession, LEGACY_SESSION_STORAGE_KEY, sessionFromResponse } from './store';

describe('sessionFromResponse', () => {
  it('times the access token from expires_in on the local clock', () => {
    const session = sessionFromResponse(sessionResponse(900), 1_000_000);
    expect(session.issuedAt).toBe(1_000_000);
    expect(session.expiresAt).toBe(1_000_000 + 900_000);
    expect(session.refreshExpiresAt).toBe(Date.parse('2026-12-24T10:00:00Z'));
  });

  it('keeps nothing but the access token, its timing and the user', () => {
    const session = sessionFromResponse(sessionResponse(), 0);
    expect(Object.keys(session).sort()).toEqual(['accessToken', 'expiresAt', 'issuedAt', 'refreshExpiresAt', 'user']);
  });
});

describe('session store', () => {
  it('starts empty: a new tab has no session until the refresh cookie gives one', () => {
    expect(createSessionStore().get()).toBeNull();
  });

  it('keeps the session in memory only, never in storage', () => {
    const storage = new MemoryStorage();
    vi.stubGlobal('localStorage', storage);
    vi.stubGlobal('sessionStorage', storage);
    try {
      const store = createSessionStore();
      const session = sessionFromResponse(sessionResponse(), 0);
      store.set(session);
      expect(store.get()).toEqual(session);
      expect(storage.length).toBe(0);
      expect(createSessionStore().get()).toBeNull();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('forgets the session on sign-out', () => {
    const store = createSessionStore();
    store.set(sessionFromResponse(sessionResponse(), 0));
    store.set(null);
    expect(store.get()).toBeNull();
  });

  it('tells subscribers about changes and stops when asked', () => {
    const store = createSessionStore();
    const listener = vi.fn();
    const stop = store.subscribe(listener);
    const session = sessionFromResponse(sessionResponse(), 0);
    store.set(session);
    stop();
    store.set(null);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith(session);
  });
});

describe('forgetStoredSession', () => {
  it('deletes the tokens an earlier version kept in storage, and nothing else', () => {
    const storage = new MemoryStorage();
    storage.setItem(LEGACY_SESSION_STORAGE_KEY, JSON.stringify({ accessToken: 'a', refreshToken: 'r' }));
    storage.setItem('ems.theme', 'dark');
    forgetStoredSession(storage);
    expect(storage.getItem(LEGACY_SESSION_STORAGE_KEY)).toBeNull();
    expect(storage.getItem('ems.theme')).toBe('dark');
  });

  it('does not fail where storage is disabled', () => {
    const storage = new MemoryStorage();
    storage.removeItem = () => {
      throw new DOMException('denied', 'SecurityError');
    };
    expect(() => forgetStoredSession(storage)).not.toThrow();
  });
});
