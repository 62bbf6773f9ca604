import { api, sessionStore } from '../services';
import { timeZone } from '../format/format';
import { ApiError, withQuery } from './http';
import type { MonthToDate, SeriesQuery, Tariff, TariffInput } from './types';

/** A customer's tariff, or null when they have none (administrators only). */
export async function getTariff(userId: string, signal?: AbortSignal): Promise<Tariff | null> {
  try {
    return await api<Tariff>(`/api/users/${encodeURIComponent(userId)}/tariff`, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export const setTariff = (userId: string, tariff: TariffInput) =>
  api<Tariff>(`/api/users/${encodeURIComponent(userId)}/tariff`, { method: 'PUT', body: tariff });

export const removeTariff = (userId: string) =>
  api<void>(`/api/users/${encodeURIComponent(userId)}/tariff`, { method: 'DELETE' });

/** The month so far and its projection: one device, or all the signed-in user's devices. */
export const monthToDate = (deviceId: string | null, signal?: AbortSignal) =>
  api<MonthToDate>(
    deviceId
      ? `/api/devices/${encodeURIComponent(deviceId)}/consumption/month-to-date`
      : '/api/me/consumption/month-to-date',
    { query: { tz: timeZone() }, signal },
  );

/**
 * Downloads a device's consumption (or all the customer's devices') as CSV: fetched with the session's token (a plain link would
 * carry none), then saved under the name the server gives.
 */
export async function downloadCsv(deviceId: string | null, query: SeriesQuery): Promise<void> {
  // A cheap authenticated call first, so an expired access token is refreshed before the download.
  await api<unknown>('/api/me').catch(() => undefined);
  const token = sessionStore.get()?.accessToken;
  // One device, or all the signed-in customer's devices added up.
  const path = deviceId ? `/api/devices/${encodeURIComponent(deviceId)}/consumption.csv` : '/api/me/consumption.csv';
  const url = withQuery(path, { tz: timeZone(), ...query });
  const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`The download failed (HTTP ${response.status}). Try again.`);
  const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1] ?? 'consumption.csv';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
