import { api } from '../services';
import type { Alert, AlertKind, Page, PageQuery } from './types';

export interface AlertQuery extends PageQuery {
  device_id?: string | undefined;
  /** Administrators only; the API ignores it for customers, who only ever see their own. */
  user_id?: string | undefined;
  kind?: AlertKind | undefined;
  acknowledged?: boolean | undefined;
  after_id?: number | undefined;
  /** Alerts about hours from this instant (RFC 3339). */
  from?: string | undefined;
  to?: string | undefined;
}

/** Newest first: a customer's own alerts, or anyone's for an administrator. */
export const listAlerts = (query: AlertQuery, signal?: AbortSignal) =>
  api<Page<Alert>>('/api/alerts', { query: { ...query }, signal });

/** Marks an alert as seen; acknowledging again keeps the first time. */
export const acknowledgeAlert = (id: number) =>
  api<Alert>(`/api/alerts/${encodeURIComponent(String(id))}/acknowledge`, { method: 'POST' });
