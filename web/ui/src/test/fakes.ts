// Stand-ins for browser pieces in unit tests, which run in Node.
import type { SessionResponse, User } from '../api/types';

export class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

export const ANA: User = {
  id: '0b8f6a0e-7d7c-4a53-9d43-0d0c4a1c2b11',
  username: 'ana',
  display_name: 'Ana Popescu',
  role: 'client',
  created_at: '2026-01-05T09:30:00Z',
  updated_at: '2026-01-05T09:30:00Z',
};

let issued = 0;

/** A login or refresh answer with fresh, distinct tokens. */
export function sessionResponse(expiresIn = 900, user: User = ANA): SessionResponse {
  issued += 1;
  return {
    access_token: `access-${issued}`,
    token_type: 'Bearer',
    expires_in: expiresIn,
    refresh_expires_at: '2026-12-24T10:00:00Z',
    user,
  };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}
