import { describe, expect, it } from 'vitest';
import type { Conversation, History } from '../api/chat';
import type { ChatMessage } from '../live/protocol';
import {
  emptyConversation,
  seenByOther,
  sourceLabel,
  unsettled,
  withFrame,
  withHistory,
  withOlder,
} from './conversation';
import { inboxWithFrame } from './inbox';

const C = 'cust-1';
const msg = (id: number, source: ChatMessage['source'], body = `m${id}`, customer_id = C): ChatMessage => ({
  id,
  customer_id,
  source,
  sender_id: null,
  body,
  created_at: '2026-11-25T10:00:00Z',
});
const history = (messages: ChatMessage[], extra: Partial<History> = {}): History => ({
  messages,
  has_more: false,
  mode: 'bot',
  customer_read_up_to: 0,
  admin_read_up_to: 0,
  admin_name: null,
  rating_request: null,
  ratings: [],
  ...extra,
});

describe('conversation', () => {
  it('merges history pages and live messages in id order, once each', () => {
    let state = withHistory(emptyConversation(C), history([msg(5, 'customer'), msg(6, 'rule')], { has_more: true }));
    state = withFrame(state, { v: 1, type: 'chat.message', message: msg(7, 'customer') }, 'client');
    state = withFrame(state, { v: 1, type: 'chat.message', message: msg(7, 'customer') }, 'client');
    state = withOlder(state, history([msg(3, 'customer'), msg(4, 'rule')]));
    expect(state.messages.map((message) => message.id)).toEqual([3, 4, 5, 6, 7]);
    expect(state.hasMore).toBe(false);
  });

  it('ignores other conversations, and its own side typing', () => {
    const state = emptyConversation(C);
    expect(withFrame(state, { v: 1, type: 'chat.message', message: msg(1, 'customer', 'x', 'other') }, 'admin')).toBe(
      state,
    );
    const typing = { v: 1, type: 'chat.typing', customer_id: C, user_id: 'u', typing: true } as const;
    expect(withFrame(state, { ...typing, role: 'admin' }, 'admin').otherTyping).toBe(false);
    const shown = withFrame(state, { ...typing, role: 'client' }, 'admin');
    expect(shown.otherTyping).toBe(true);
    // Their message ends the typing indicator.
    expect(withFrame(shown, { v: 1, type: 'chat.message', message: msg(2, 'customer') }, 'admin').otherTyping).toBe(
      false,
    );
  });

  it('tracks read receipts and the mode', () => {
    let state = withHistory(
      emptyConversation(C),
      history([msg(1, 'customer'), msg(2, 'rule'), msg(3, 'customer')], { admin_read_up_to: 1 }),
    );
    expect(seenByOther(state, state.messages[0]!, 'client')).toBe(true);
    expect(seenByOther(state, state.messages[2]!, 'client')).toBe(false);
    state = withFrame(state, { v: 1, type: 'chat.read', customer_id: C, role: 'admin', up_to_id: 3 }, 'client');
    expect(seenByOther(state, state.messages[2]!, 'client')).toBe(true);
    state = withFrame(state, { v: 1, type: 'chat.mode', customer_id: C, mode: 'human', admin_id: 'a1' }, 'client');
    expect(state.mode).toBe('human');
    expect(state.adminId).toBe('a1');
  });

  it('settles a pending message once its acknowledged, stored copy arrives', () => {
    const pending = [
      { clientId: 'p1', text: 'hello', customerId: undefined, acked: true, afterId: 2 },
      { clientId: 'p2', text: 'again', customerId: undefined, acked: false, afterId: 2 },
    ];
    // An older "hello" does not count.
    expect(unsettled(pending, [msg(1, 'customer', 'hello')], 'client', C)).toEqual({ show: pending, settled: [] });
    expect(unsettled(pending, [msg(1, 'customer', 'hello'), msg(3, 'customer', 'hello')], 'client', C)).toEqual({
      show: [pending[1]],
      settled: ['p1'],
    });
  });

  it('labels every source in words', () => {
    expect(sourceLabel('rule', 'client')).toBe('Automatic answer');
    expect(sourceLabel('ai', 'client')).toBe('AI assistant');
    expect(sourceLabel('admin', 'client')).toBe('Support team');
    expect(sourceLabel('admin', 'admin', 'You')).toBe('You');
    expect(sourceLabel('system', 'client')).toBe('Notice');
    expect(sourceLabel('customer', 'client')).toBe('You');
  });
});

describe('inbox', () => {
  const conv = (customer_id: string, unread = 0): Conversation => ({
    customer_id,
    username: customer_id,
    display_name: customer_id,
    mode: 'bot',
    admin_id: null,
    unread,
    last_body: null,
    last_source: null,
    last_at: null,
  });

  it('moves a conversation with a new message to the top and counts it unread', () => {
    const items = [conv('a'), conv('b', 1)];
    const next = inboxWithFrame(items, { v: 1, type: 'chat.message', message: msg(9, 'customer', 'hi', 'b') }, null)!;
    expect(next.map((item) => [item.customer_id, item.unread, item.last_body])).toEqual([
      ['b', 2, 'hi'],
      ['a', 0, null],
    ]);
    // Not while it is open, nor for the bot's answers.
    const open = inboxWithFrame(items, { v: 1, type: 'chat.message', message: msg(9, 'customer', 'hi', 'b') }, 'b')!;
    expect(open[0]!.unread).toBe(1);
    const bot = inboxWithFrame(items, { v: 1, type: 'chat.message', message: msg(10, 'rule', 'x', 'a') }, null)!;
    expect(bot[0]!.unread).toBe(0);
  });

  it('asks for a reload for a conversation it does not list, and clears unread on an admin read', () => {
    expect(
      inboxWithFrame([conv('a')], { v: 1, type: 'chat.message', message: msg(1, 'customer', 'x', 'z') }, null),
    ).toBeNull();
    const read = inboxWithFrame(
      [conv('a', 3)],
      { v: 1, type: 'chat.read', customer_id: 'a', role: 'admin', up_to_id: 4 },
      null,
    )!;
    expect(read[0]!.unread).toBe(0);
  });
});
