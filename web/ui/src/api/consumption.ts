import { timeZone } from '../format/format';
import { api } from '../services';
import type { MyDay, Series, SeriesQuery } from './types';

// Both ask in the zone the dashboard shows times in, unless the query names another.

/** A device's consumption from `from` to `to`, one point per step, null where nothing was measured (own devices; admins any). */
export const deviceConsumption = (deviceId: string, query: SeriesQuery, signal?: AbortSignal) =>
  api<Series>(`/api/devices/${encodeURIComponent(deviceId)}/consumption`, {
    query: { tz: timeZone(), ...query },
    signal,
  });

/** The signed-in user's day (today when `date` is omitted), per hour, per device and in total. */
export const myConsumption = (date: string | undefined, signal?: AbortSignal) =>
  api<MyDay>('/api/me/consumption', { query: { date, tz: timeZone() }, signal });
