import type { ChatMessage, ChatSource, ConversationMode } from '../live/protocol';
import { api } from '../services';
import type { Page, PageQuery } from './types';

/** A conversation's messages, oldest first. */
export interface History {
  messages: ChatMessage[];
  has_more: boolean;
  mode: ConversationMode;
  customer_read_up_to: number;
  admin_read_up_to: number;
}

export interface Conversation {
  customer_id: string;
  username: string;
  display_name: string;
  mode: ConversationMode;
  admin_id: string | null;
  unread: number;
  last_body: string | null;
  last_source: ChatSource | null;
  last_at: string | null;
}

export interface HistoryQuery {
  before_id?: number | undefined;
  limit?: number | undefined;
}

export const myChat = (query: HistoryQuery = {}, signal?: AbortSignal) =>
  api<History>('/api/chat/messages', { query: { ...query }, signal });

export const listConversations = (query: PageQuery & { mode?: ConversationMode | undefined }, signal?: AbortSignal) =>
  api<Page<Conversation>>('/api/support/conversations', { query: { ...query }, signal });

export const conversationHistory = (customerId: string, query: HistoryQuery = {}, signal?: AbortSignal) =>
  api<History>(`/api/support/conversations/${encodeURIComponent(customerId)}/messages`, {
    query: { ...query },
    signal,
  });

export const takeOver = (customerId: string) =>
  api<History>(`/api/support/conversations/${encodeURIComponent(customerId)}/takeover`, { method: 'POST' });

export const handBack = (customerId: string) =>
  api<History>(`/api/support/conversations/${encodeURIComponent(customerId)}/handback`, { method: 'POST' });
