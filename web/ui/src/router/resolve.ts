// Which view an address shows to whom. Pure, so the access rules are unit-tested; the API
// enforces the same rules, this only keeps people away from pages that would refuse them.
import type { Role } from '../api/types';

export type Access = 'public' | 'signed-in' | 'admin';

export interface RouteDef<View> {
  path: string;
  title: string;
  access: Access;
  view: View;
}

export type Resolution<View> =
  | { kind: 'view'; route: RouteDef<View> }
  | { kind: 'redirect'; to: string }
  | { kind: 'forbidden' }
  | { kind: 'not-found' };

export const LOGIN_PATH = '/login';

export function homeFor(role: Role): string {
  return role === 'admin' ? '/admin/users' : '/devices';
}

/** The sign-in page, coming back to `address` afterwards. */
export function loginPathFor(address: string): string {
  return address === '/' ? LOGIN_PATH : `${LOGIN_PATH}?next=${encodeURIComponent(address)}`;
}

/** Where to go once signed in: the page asked for, if it is one of ours. */
export function afterLogin(next: string | null, role: Role): string {
  // Only same-site paths: "//evil.example" or "https://…" would lead elsewhere.
  if (next && next.startsWith('/') && !next.startsWith('//') && next !== LOGIN_PATH) return next;
  return homeFor(role);
}

/**
 * `address` is the path with its query string, where a signed-out visitor comes back to after
 * signing in; `next` is the sign-in page's own `next` parameter.
 */
export function resolve<View>(
  routes: readonly RouteDef<View>[],
  address: { path: string; search: string; next: string | null },
  role: Role | null,
): Resolution<View> {
  const { path } = address;
  if (path === '/') return { kind: 'redirect', to: role ? homeFor(role) : LOGIN_PATH };
  const route = routes.find((candidate) => candidate.path === path);
  if (!route) return { kind: 'not-found' };
  if (route.access === 'public') {
    return role ? { kind: 'redirect', to: afterLogin(address.next, role) } : { kind: 'view', route };
  }
  if (!role) return { kind: 'redirect', to: loginPathFor(path + address.search) };
  if (route.access === 'admin' && role !== 'admin') return { kind: 'forbidden' };
  return { kind: 'view', route };
}
