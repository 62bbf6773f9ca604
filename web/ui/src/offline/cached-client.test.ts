import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../api/client';
import { ApiError, NO_RESPONSE } from '../api/http';
import type { User } from '../api/types';
import { ANA } from '../test/fakes';
import { memoryAnswerStore } from './answers';
import { createCachedClient } from './cached-client';

const BEN: User = { ...ANA, id: '7d1c2b0e-1111-4a53-9d43-0d0c4a1c2b22', username: 'ben', display_name: 'Ben' };
const unreachable = new ApiError(NO_RESPONSE, 'network', 'The server could not be reached.');

function setup() {
  const store = memoryAnswerStore();
  let reachable = true;
  let answer = 1;
  const sent: { path: string; method: string | undefined }[] = [];
  const inner = (async (path: string, options: Parameters<ApiClient>[1] = {}) => {
    sent.push({ path, method: options.method });
    if (!reachable) throw unreachable;
    return { path, answer };
  }) as ApiClient;
  const state = { session: ANA as User | null, offline: null as User | null, now: 1_000 };
  const client = createCachedClient(inner, {
    store,
    sessionUser: () => state.session,
    offlineUser: () => state.offline,
    now: () => state.now,
  });
  return {
    store,
    client,
    state,
    sent,
    goOffline: () => (reachable = false),
    goOnline: () => (reachable = true),
    nextAnswer: () => (answer += 1),
  };
}

/** Lets the best-effort writes finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('cached client', () => {
  it('gives the kept answer when the server cannot be reached, and says from when', async () => {
    const { client, store, goOffline } = setup();
    await store.keepFor(ANA);
    expect(await client.api('/api/me/devices', { query: { page: 1 } })).toEqual({
      path: '/api/me/devices',
      answer: 1,
    });
    await settle();
    expect(client.shownFrom.get()).toBeNull();
    goOffline();
    expect(await client.api('/api/me/devices', { query: { page: 1 } })).toEqual({
      path: '/api/me/devices',
      answer: 1,
    });
    expect(client.shownFrom.get()).toBe(1_000);
    // Another question was never answered: the failure stands.
    await expect(client.api('/api/me/devices', { query: { page: 2 } })).rejects.toBe(unreachable);
  });

  it('is fresh again once the same request is answered', async () => {
    const { client, store, goOffline, goOnline, nextAnswer } = setup();
    await store.keepFor(ANA);
    await client.api('/api/alerts');
    await settle();
    goOffline();
    await client.api('/api/alerts');
    expect(client.shownFrom.get()).not.toBeNull();
    goOnline();
    nextAnswer();
    expect(await client.api('/api/alerts')).toEqual({ path: '/api/alerts', answer: 2 });
    expect(client.shownFrom.get()).toBeNull();
  });

  it('never keeps or replays changes', async () => {
    const { client, store, sent, goOffline } = setup();
    await store.keepFor(ANA);
    await client.api('/api/alerts/1/acknowledge', { method: 'POST' });
    await settle();
    goOffline();
    await expect(client.api('/api/alerts/1/acknowledge', { method: 'POST' })).rejects.toBe(unreachable);
    expect(sent).toHaveLength(2);
  });

  it('shows the person who was signed in when starting offline only their own kept answers', async () => {
    const { client, store, state, sent } = setup();
    await store.keepFor(ANA);
    await client.api('/api/me/devices');
    await settle();
    state.session = null;
    state.offline = ANA;
    const before = sent.length;
    expect(await client.api('/api/me/devices')).toEqual({ path: '/api/me/devices', answer: 1 });
    expect(sent).toHaveLength(before);
    state.offline = BEN;
    await expect(client.api('/api/me/devices')).rejects.toMatchObject({ status: NO_RESPONSE });
  });

  it('keeps nothing for a person once another signs in, nor after a sign-out', async () => {
    const { client, store, state, goOffline } = setup();
    await store.keepFor(ANA);
    await client.api('/api/me/devices');
    await settle();
    await store.keepFor(BEN);
    state.session = BEN;
    goOffline();
    await expect(client.api('/api/me/devices')).rejects.toBe(unreachable);
    await store.clear();
    expect(await store.lastUser()).toBeNull();
  });

  it('starts afresh on another page', async () => {
    const { client, store, goOffline } = setup();
    await store.keepFor(ANA);
    await client.api('/api/alerts');
    await settle();
    goOffline();
    await client.api('/api/alerts');
    client.forgetShown();
    expect(client.shownFrom.get()).toBeNull();
  });
});
