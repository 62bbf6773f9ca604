import { api } from '../services';
import type { Conversation, ConversationQuery, History, HistoryQuery, Page } from './types';

export type { Conversation, History, HistoryQuery };

export const myChat = (query: HistoryQuery = {}, signal?: AbortSignal) =>
  api<History>('/api/chat/messages', { query: { ...query }, signal });

export const listConversations = (query: ConversationQuery, signal?: AbortSignal) =>
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
