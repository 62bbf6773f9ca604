import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage, sessionResponse } from '../test/fakes';
import { createSessionStore, SESSION_STORAGE_KEY, sessionFromResponse } from './store';

describe('sessionFromResponse', () => {
  it('times the access token from expires_in on the local clock', () => {
    const session = sessionFromResponse(sessionResponse(900), 1_000_000);
    expect(session.issuedAt).toBe(1_000_000);
    expect(session.expiresAt).toBe(1_000_000 + 900_000);
    expect(session.refreshExpiresAt).toBe(Date.parse('2026-12-24T10:00:00Z'));
  });
});

describe('session store', () => {
  it('keeps the session across a reload of the page', () => {
    const storage = new MemoryStorage();
    const session = sessionFromResponse(sessionResponse(), 0);
    createSessionStore(storage).set(session);
    expect(createSessionStore(storage).get()).toEqual(session);
  });

  it('forgets the session on sign-out', () => {
    const storage = new MemoryStorage();
    const store = createSessionStore(storage);
    store.set(sessionFromResponse(sessionResponse(), 0));
    store.set(null);
    expect(storage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    expect(createSessionStore(storage).get()).toBeNull();
  });

  it('ignores stored values that are not a session', () => {
    const storage = new MemoryStorage();
    for (const junk of ['not json', '{"accessToken": 3}', '[]', 'null']) {
      storage.setItem(SESSION_STORAGE_KEY, junk);
      expect(createSessionStore(storage).get()).toBeNull();
    }
  });

  it('tells subscribers about changes and stops when asked', () => {
    const store = createSessionStore(new MemoryStorage());
    const listener = vi.fn();
    const stop = store.subscribe(listener);
    const session = sessionFromResponse(sessionResponse(), 0);
    store.set(session);
    stop();
    store.set(null);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith(session);
  });

  it('picks up tokens another tab stored', () => {
    const storage = new MemoryStorage();
    const thisTab = createSessionStore(storage);
    const otherTab = createSessionStore(storage);
    thisTab.set(sessionFromResponse(sessionResponse(), 0));
    const rotated = sessionFromResponse(sessionResponse(), 1);
    otherTab.set(rotated);
    const listener = vi.fn();
    thisTab.subscribe(listener);
    expect(thisTab.reload()).toEqual(rotated);
    expect(listener).toHaveBeenCalledWith(rotated);
    thisTab.reload();
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('still works for this tab when storage refuses to write', () => {
    const storage = new MemoryStorage();
    storage.setItem = () => {
      throw new DOMException('quota exceeded', 'QuotaExceededError');
    };
    const store = createSessionStore(storage);
    const session = sessionFromResponse(sessionResponse(), 0);
    store.set(session);
    expect(store.get()).toEqual(session);
  });
});
