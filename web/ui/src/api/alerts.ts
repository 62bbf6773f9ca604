import { api } from '../services';
import type { Alert, AlertQuery, Page } from './types';

/** Newest first: a customer's own alerts, or anyone's for an administrator. */
export const listAlerts = (query: AlertQuery, signal?: AbortSignal) =>
  api<Page<Alert>>('/api/alerts', { query: { ...query }, signal });

/** Marks an alert as seen; acknowledging again keeps the first time. */
export const acknowledgeAlert = (id: number) =>
  api<Alert>(`/api/alerts/${encodeURIComponent(String(id))}/acknowledge`, { method: 'POST' });
