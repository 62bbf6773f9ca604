import { api } from '../services';
import type {
  AdminRatings,
  Conversation,
  ConversationQuery,
  History,
  HistoryQuery,
  Inbox,
  NewRating,
  SupportRating,
} from './types';

export type { Conversation, History, HistoryQuery, Inbox, SupportRating };

export const myChat = (query: HistoryQuery = {}, signal?: AbortSignal) =>
  api<History>('/api/chat/messages', { query: { ...query }, signal });

export const listConversations = (query: ConversationQuery, signal?: AbortSignal) =>
  api<Inbox>('/api/support/conversations', { query: { ...query }, signal });

export const conversationHistory = (customerId: string, query: HistoryQuery = {}, signal?: AbortSignal) =>
  api<History>(`/api/support/conversations/${encodeURIComponent(customerId)}/messages`, {
    query: { ...query },
    signal,
  });

/** Takes the conversation; `force` takes it from the administrator who holds it (else a 409 naming them). */
export const takeOver = (customerId: string, force = false) =>
  api<History>(`/api/support/conversations/${encodeURIComponent(customerId)}/takeover`, {
    method: 'POST',
    query: force ? { force: true } : {},
  });

export const handBack = (customerId: string) =>
  api<History>(`/api/support/conversations/${encodeURIComponent(customerId)}/handback`, { method: 'POST' });

export const rate = (rating: NewRating) => api<SupportRating>('/api/chat/rating', { method: 'POST', body: rating });

export const ratingAverages = (signal?: AbortSignal) => api<AdminRatings[]>('/api/support/ratings', { signal });
