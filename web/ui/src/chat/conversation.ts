// One support conversation as either side sees it: history pages from REST merged with live
// frames, the messages still on their way, the other side's typing and read state. Pure, so the
// customer's panel and the administrators' inbox share it and it is unit-tested.
import type { History } from '../api/chat';
import type { Role } from '../api/types';
import type { ChatMessage, ChatSource, ConversationMode, ServerFrame } from '../live/protocol';
import type { Outgoing } from '../live/outbox';

export interface ConversationState {
  customerId: string | null;
  messages: ChatMessage[];
  hasMore: boolean;
  mode: ConversationMode;
  adminId: string | null;
  customerReadUpTo: number;
  adminReadUpTo: number;
  /** The other side is typing. */
  otherTyping: boolean;
  loaded: boolean;
}

export const emptyConversation = (customerId: string | null = null): ConversationState => ({
  customerId,
  messages: [],
  hasMore: false,
  mode: 'bot',
  adminId: null,
  customerReadUpTo: 0,
  adminReadUpTo: 0,
  otherTyping: false,
  loaded: false,
});

function merge(existing: ChatMessage[], added: ChatMessage[]): ChatMessage[] {
  const byId = new Map(existing.map((message) => [message.id, message]));
  for (const message of added) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The first page of history (the newest messages). */
export function withHistory(state: ConversationState, history: History): ConversationState {
  return {
    ...state,
    messages: merge(state.messages, history.messages),
    hasMore: history.has_more,
    mode: history.mode,
    adminId: history.admin_id ?? null,
    customerReadUpTo: Math.max(state.customerReadUpTo, history.customer_read_up_to),
    adminReadUpTo: Math.max(state.adminReadUpTo, history.admin_read_up_to),
    loaded: true,
  };
}

/** An older page, from "Load older". */
export function withOlder(state: ConversationState, history: History): ConversationState {
  return { ...state, messages: merge(state.messages, history.messages), hasMore: history.has_more };
}

/**
 * Applies a live frame seen by someone of `myRole`. Frames about another conversation (an
 * administrator gets them all) leave the state as it is.
 */
export function withFrame(state: ConversationState, frame: ServerFrame, myRole: Role): ConversationState {
  const about =
    'customer_id' in frame ? frame.customer_id : frame.type === 'chat.message' ? frame.message.customer_id : null;
  if (about === null || (state.customerId !== null && about !== state.customerId)) return state;
  switch (frame.type) {
    case 'chat.message': {
      const fromOther = myRole === 'admin' ? frame.message.source === 'customer' : frame.message.source !== 'customer';
      return {
        ...state,
        messages: merge(state.messages, [frame.message]),
        otherTyping: fromOther ? false : state.otherTyping,
      };
    }
    case 'chat.typing':
      return frame.role === myRole ? state : { ...state, otherTyping: frame.typing };
    case 'chat.read':
      return frame.role === 'admin'
        ? { ...state, adminReadUpTo: Math.max(state.adminReadUpTo, frame.up_to_id) }
        : { ...state, customerReadUpTo: Math.max(state.customerReadUpTo, frame.up_to_id) };
    case 'chat.mode':
      return { ...state, mode: frame.mode, adminId: frame.admin_id };
    default:
      return state;
  }
}

/** Whether a message was written on `role`'s side of the conversation. */
export function isMine(message: ChatMessage, role: Role): boolean {
  return role === 'admin' ? message.source !== 'customer' : message.source === 'customer';
}

/** Whether the other side has read this message (shown as "Seen" on one's own messages). */
export function seenByOther(state: ConversationState, message: ChatMessage, role: Role): boolean {
  return role === 'admin' ? message.id <= state.customerReadUpTo : message.id <= state.adminReadUpTo;
}

/** The newest message from the other side, for the read receipt. */
export function newestId(state: ConversationState): number | null {
  return state.messages.length > 0 ? state.messages[state.messages.length - 1]!.id : null;
}

/** The pending messages not yet shown as stored: each stored own message settles the oldest one with its text. */
export function unsettled(
  pending: readonly Outgoing[],
  messages: readonly ChatMessage[],
  role: Role,
  customerId: string | null,
): { show: Outgoing[]; settled: string[] } {
  const written = messages.filter((message) => message.source === (role === 'admin' ? 'admin' : 'customer'));
  const used = new Set<number>();
  const show: Outgoing[] = [];
  const settled: string[] = [];
  for (const item of pending) {
    if (role === 'admin' && item.customerId !== customerId) continue;
    const match = item.acked
      ? written.find(
          (message) => message.id > item.afterId && !used.has(message.id) && message.body.trim() === item.text.trim(),
        )
      : undefined;
    if (match) {
      used.add(match.id);
      settled.push(item.clientId);
    } else show.push(item);
  }
  return { show, settled };
}

/** Who wrote a message, in words. */
export function sourceLabel(source: ChatSource, role: Role, adminName?: string | null): string {
  switch (source) {
    case 'customer':
      return role === 'client' ? 'You' : 'Customer';
    case 'rule':
      return 'Automatic answer';
    case 'ai':
      return 'AI assistant';
    case 'admin':
      return role === 'admin' ? (adminName ?? 'Support team') : 'Support team';
    case 'system':
      return 'Notice';
  }
}
