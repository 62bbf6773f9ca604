import { api } from '../services';
import type { MyDay, Series, SeriesQuery } from './types';

/** A device's consumption from `from` to `to`, one point per step, null where nothing was measured (own devices; admins any). */
export const deviceConsumption = (deviceId: string, query: SeriesQuery, signal?: AbortSignal) =>
  api<Series>(`/api/devices/${encodeURIComponent(deviceId)}/consumption`, { query: { ...query }, signal });

/** The signed-in user's day (UTC; today when `date` is omitted), per hour, per device and in total. */
export const myConsumption = (date: string | undefined, signal?: AbortSignal) =>
  api<MyDay>('/api/me/consumption', { query: { date }, signal });
