import { api } from '../services';
import type {
  Assignment,
  Device,
  DeviceChanges,
  DeviceQuery,
  ForecastAlerts,
  NewDevice,
  Page,
  PageQuery,
  Snooze,
} from './types';

const devicePath = (id: string) => `/api/devices/${encodeURIComponent(id)}`;

/** The signed-in user's own devices. */
export const listMyDevices = (query: PageQuery, signal?: AbortSignal) =>
  api<Page<Device>>('/api/me/devices', { query: { ...query }, signal });

export const listDevices = (query: DeviceQuery, signal?: AbortSignal) =>
  api<Page<Device>>('/api/devices', { query: { ...query }, signal });

export const createDevice = (device: NewDevice) => api<Device>('/api/devices', { method: 'POST', body: device });

export const updateDevice = (id: string, changes: DeviceChanges) =>
  api<Device>(devicePath(id), { method: 'PATCH', body: changes });

export const deleteDevice = (id: string) => api<void>(devicePath(id), { method: 'DELETE' });

export const assignDevice = (id: string, userId: string) =>
  api<Device>(`${devicePath(id)}/owner`, { method: 'PUT', body: { user_id: userId } satisfies Assignment });

export const unassignDevice = (id: string) => api<Device>(`${devicePath(id)}/owner`, { method: 'DELETE' });

/** Snoozes a device's alerts until `until` (an ISO instant), or ends the snooze with null. */
export const snoozeDevice = (id: string, until: string | null) =>
  api<Device>(`${devicePath(id)}/snooze`, { method: 'PUT', body: { until } satisfies Snooze });

/** Turns a device's early warnings (forecast alerts) on or off. */
export const setForecastAlerts = (id: string, enabled: boolean) =>
  api<Device>(`${devicePath(id)}/forecast-alerts`, { method: 'PUT', body: { enabled } satisfies ForecastAlerts });
