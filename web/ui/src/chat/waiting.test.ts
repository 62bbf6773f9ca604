import { describe, expect, it } from 'vitest';
import type { History } from '../api/chat';
import type { ServerFrame } from '../live/protocol';
import { emptyConversation, withFrame, withHistory } from './conversation';
import { inboxWithFrame } from './inbox';
import { createWaitingBadge, isWaiting, waitingDescription, waitingWithFrame } from './waiting';

const mode = (customer_id: string, to: 'bot' | 'human', admin_id: string | null = null): ServerFrame => ({
  v: 1,
  type: 'chat.mode',
  customer_id,
  mode: to,
  admin_id,
});

/** A load of the waiting ids the test answers when it chooses. */
function server() {
  const pending: { resolve: (ids: string[]) => void; reject: (error: Error) => void }[] = [];
  return {
    load: () => new Promise<string[]>((resolve, reject) => pending.push({ resolve, reject })),
    async answer(ids: string[]) {
      pending.shift()!.resolve(ids);
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    async fail() {
      pending.shift()!.reject(new Error('offline'));
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

describe('waiting for an administrator', () => {
  it('is a conversation handed to a person that nobody answers yet', () => {
    expect(isWaiting('human', null)).toBe(true);
    expect(isWaiting('human', 'admin-1')).toBe(false);
    expect(isWaiting('bot', null)).toBe(false);
  });

  it('changes with each mode frame: handed off, answered, handed back', () => {
    let waiting: ReadonlySet<string> = new Set();
    waiting = waitingWithFrame(waiting, mode('ana', 'human'));
    waiting = waitingWithFrame(waiting, mode('ben', 'human'));
    expect([...waiting]).toEqual(['ana', 'ben']);
    waiting = waitingWithFrame(waiting, mode('ana', 'human', 'admin-1'));
    expect([...waiting]).toEqual(['ben']);
    waiting = waitingWithFrame(waiting, mode('ben', 'bot'));
    expect(waiting.size).toBe(0);
    const same = waitingWithFrame(waiting, { v: 1, type: 'ack', client_id: 'x' });
    expect(same).toBe(waiting);
  });

  it('describes the count for screen readers', () => {
    expect(waitingDescription(null)).toBe('');
    expect(waitingDescription(0)).toBe('');
    expect(waitingDescription(1)).toBe('1 waiting for an administrator');
    expect(waitingDescription(3)).toBe('3 waiting for an administrator');
  });
});

describe('the Support badge', () => {
  it('counts what the API says, then moves with live frames', async () => {
    const api = server();
    const badge = createWaitingBadge(api.load);
    expect(badge.count.get()).toBeNull();
    badge.apply(mode('ana', 'human'));
    expect(badge.count.get(), 'nothing counted before the API answers').toBeNull();

    const loading = badge.refresh();
    await api.answer(['ana', 'ben']);
    await loading;
    expect(badge.count.get()).toBe(2);
    badge.apply(mode('ana', 'human', 'admin-1'));
    expect(badge.count.get()).toBe(1);
    badge.apply(mode('carl', 'human'));
    badge.apply(mode('carl', 'human'));
    expect(badge.count.get(), 'a conversation counts once').toBe(2);
    badge.apply(mode('ben', 'bot'));
    badge.apply(mode('carl', 'human', 'admin-2'));
    expect(badge.count.get()).toBe(0);
  });

  it('applies frames that arrive while the API is asked to its answer', async () => {
    const api = server();
    const badge = createWaitingBadge(api.load);
    const loading = badge.refresh();
    badge.apply(mode('ana', 'human', 'admin-1'));
    badge.apply(mode('dan', 'human'));
    await api.answer(['ana', 'ben']);
    await loading;
    expect(badge.count.get(), 'ben and dan; ana is answered').toBe(2);
  });

  it('keeps its count when the API fails, and forgets it on signing out', async () => {
    const api = server();
    const badge = createWaitingBadge(api.load);
    const first = badge.refresh();
    await api.answer(['ana']);
    await first;
    const second = badge.refresh();
    await api.fail();
    await second;
    expect(badge.count.get()).toBe(1);

    const late = badge.refresh();
    badge.clear();
    await api.answer(['ana', 'ben', 'carl']);
    await late;
    expect(badge.count.get(), 'an answer after signing out is dropped').toBeNull();
  });
});

describe('the inbox and the open conversation', () => {
  const item = {
    customer_id: 'ana',
    username: 'ana',
    display_name: 'Ana',
    mode: 'human' as const,
    admin_id: null,
    admin_name: null,
    unread: 1,
    last_body: 'a person please',
    last_source: 'customer' as const,
    last_at: '2026-12-04T10:00:00Z',
    matched_body: null,
    last_rating: null,
  };

  it('stop waiting once an administrator replies, and wait again when handed off again', () => {
    let items = inboxWithFrame([item], mode('ana', 'human', 'admin-1'), null, { id: 'admin-1', name: 'Maria' })!;
    expect(isWaiting(items[0]!.mode, items[0]!.admin_id)).toBe(false);
    items = inboxWithFrame(items, mode('ana', 'bot'), null)!;
    expect(isWaiting(items[0]!.mode, items[0]!.admin_id)).toBe(false);
    items = inboxWithFrame(items, mode('ana', 'human'), null)!;
    expect(isWaiting(items[0]!.mode, items[0]!.admin_id)).toBe(true);
  });

  it('know from the history who answers, before any live frame', () => {
    const history: History = {
      messages: [],
      has_more: false,
      mode: 'human',
      admin_id: 'admin-1',
      admin_name: 'Maria',
      customer_read_up_to: 0,
      admin_read_up_to: 0,
      rating_request: null,
      ratings: [],
    };
    const state = withHistory(emptyConversation('ana'), history);
    expect((({ mode, adminId }) => ({ mode, adminId }))(state)).toEqual({ mode: 'human', adminId: 'admin-1' });
    const handedBack = withFrame(state, mode('ana', 'bot'), 'admin');
    expect(handedBack.adminId).toBeNull();
  });
});
