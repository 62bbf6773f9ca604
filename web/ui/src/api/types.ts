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
