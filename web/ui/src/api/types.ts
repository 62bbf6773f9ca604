// The shapes the EMS REST API sends and accepts (docs/api.md, /api/openapi.json).

export type Role = 'admin' | 'client';

export interface User {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  created_at: string;
  updated_at: string;
}

export interface Device {
  id: string;
  name: string;
  description: string;
  location: string;
  /** Energy per hour above which the owner is alerted, in kWh. */
  max_hourly_kwh: number;
  owner_id: string | null;
  owner_username: string | null;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  page: number;
  per_page: number;
  total: number;
  total_pages: number;
}

/** What login and refresh return. */
export interface SessionResponse {
  access_token: string;
  token_type: string;
  /** Seconds until the access token expires. */
  expires_in: number;
  refresh_token: string;
  refresh_expires_at: string;
  user: User;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface ErrorBody {
  code: string;
  message: string;
  fields?: FieldError[];
}

export interface NewUser {
  username: string;
  display_name: string;
  password: string;
  role: Role;
}

export type UserChanges = Partial<Pick<User, 'username' | 'display_name' | 'role'>>;

export interface NewDevice {
  name: string;
  description: string;
  location: string;
  max_hourly_kwh: number;
}

export type DeviceChanges = Partial<NewDevice>;

export interface PageQuery {
  q?: string;
  page?: number;
  per_page?: number;
}

/** Consumption series steps; all in UTC. */
export type Step = 'hour' | 'day' | 'month';

export interface ConsumptionPoint {
  /** Start of the step, RFC 3339 UTC. */
  start: string;
  kwh: number;
}

/** GET /api/devices/{id}/consumption: one point per step, zero-filled. */
export interface Series {
  device_id: string;
  step: Step;
  max_hourly_kwh: number;
  total_kwh: number;
  points: ConsumptionPoint[];
}

export interface DeviceDay {
  device_id: string;
  name: string;
  max_hourly_kwh: number;
  total_kwh: number;
  /** 24 hourly values from 00:00 UTC. */
  hours: number[];
}

/** GET /api/me/consumption: one UTC day of the signed-in user's devices. */
export interface MyDay {
  /** YYYY-MM-DD */
  date: string;
  total_kwh: number;
  /** All devices together, 24 hourly values from 00:00 UTC. */
  hours: number[];
  devices: DeviceDay[];
}

export type AlertKind = 'overconsumption' | 'peak';

export interface Alert {
  /** Increasing: a higher id was raised later. */
  id: number;
  device_id: string;
  device_name: string;
  /** The device's owner when the alert was raised. */
  user_id: string | null;
  kind: AlertKind;
  /** Start of the hour (UTC) the alert is about. */
  hour: string;
  /** kWh in that hour (overconsumption) or the reading's average kW (peak). */
  value: number;
  limit_kwh: number;
  message: string;
  created_at: string;
  acknowledged_at: string | null;
}
