import { api } from '../services';
import type { MyChanges, NewPassword, NewUser, Page, User, UserChanges, UserQuery } from './types';

export const listUsers = (query: UserQuery, signal?: AbortSignal) =>
  api<Page<User>>('/api/users', { query: { ...query }, signal });

export const createUser = (user: NewUser) => api<User>('/api/users', { method: 'POST', body: user });

export const updateUser = (id: string, changes: UserChanges) =>
  api<User>(`/api/users/${encodeURIComponent(id)}`, { method: 'PATCH', body: changes });

/** Also signs the user out on every device. */
export const resetPassword = (id: string, password: string) =>
  api<void>(`/api/users/${encodeURIComponent(id)}/password`, {
    method: 'PUT',
    body: { password } satisfies NewPassword,
  });

/** Their devices stay, unassigned. */
export const deleteUser = (id: string) => api<void>(`/api/users/${encodeURIComponent(id)}`, { method: 'DELETE' });

/** The signed-in user's own settings (their time zone). */
export const updateMe = (changes: MyChanges) => api<User>('/api/me', { method: 'PATCH', body: changes });
