import { api } from '../services';
import type { AcknowledgeFilter, Acknowledged, Alert, AlertQuery, Incident, Page } from './types';

/** Newest first: a customer's own alerts, or anyone's for an administrator. */
export const listAlerts = (query: AlertQuery, signal?: AbortSignal) =>
  api<Page<Alert>>('/api/alerts', { query: { ...query }, signal });

/** Marks an alert as seen; acknowledging again keeps the first time. */
export const acknowledgeAlert = (id: number) =>
  api<Alert>(`/api/alerts/${encodeURIComponent(String(id))}/acknowledge`, { method: 'POST' });

/** An hour's alerts of one device as one incident, newest first; the same filters as listAlerts. */
export const listIncidents = (query: AlertQuery, signal?: AbortSignal) =>
  api<Page<Incident>>('/api/alerts/incidents', { query: { ...query }, signal });

/** Acknowledges every alert matching `filter` (`{}`: all the caller may); says how many. */
export const acknowledgeAlerts = (filter: AcknowledgeFilter) =>
  api<Acknowledged>('/api/alerts/acknowledge', { method: 'POST', body: filter });
