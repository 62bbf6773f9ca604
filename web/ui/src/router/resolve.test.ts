import { describe, expect, it } from 'vitest';
import { afterLogin, resolve, type RouteDef } from './resolve';

const routes: RouteDef<string>[] = [
  { path: '/login', title: 'Sign in', access: 'public', view: 'login' },
  { path: '/devices', title: 'My devices', access: 'signed-in', view: 'devices' },
  { path: '/admin/users', title: 'Users', access: 'admin', view: 'users' },
];

const at = (path: string, search = '', next: string | null = null) => ({ path, search, next });

describe('resolve', () => {
  it('sends each role to its start page', () => {
    expect(resolve(routes, at('/'), null)).toEqual({ kind: 'redirect', to: '/login' });
    expect(resolve(routes, at('/'), 'client')).toEqual({ kind: 'redirect', to: '/devices' });
    expect(resolve(routes, at('/'), 'admin')).toEqual({ kind: 'redirect', to: '/admin/users' });
  });

  it('keeps administrators’ pages from customers', () => {
    expect(resolve(routes, at('/admin/users'), 'client')).toEqual({ kind: 'forbidden' });
    expect(resolve(routes, at('/admin/users'), 'admin')).toMatchObject({ kind: 'view', route: { view: 'users' } });
  });

  it('asks visitors to sign in and brings them back afterwards', () => {
    expect(resolve(routes, at('/admin/users', '?q=ana&page=2'), null)).toEqual({
      kind: 'redirect',
      to: '/login?next=%2Fadmin%2Fusers%3Fq%3Dana%26page%3D2',
    });
    expect(resolve(routes, at('/login', '', '/admin/users?q=ana'), 'admin')).toEqual({
      kind: 'redirect',
      to: '/admin/users?q=ana',
    });
  });

  it('shows the sign-in page only to visitors', () => {
    expect(resolve(routes, at('/login'), null)).toMatchObject({ kind: 'view', route: { view: 'login' } });
    expect(resolve(routes, at('/login'), 'client')).toEqual({ kind: 'redirect', to: '/devices' });
  });

  it('knows when a page does not exist', () => {
    expect(resolve(routes, at('/nowhere'), 'admin')).toEqual({ kind: 'not-found' });
  });
});

describe('afterLogin', () => {
  it('never leads off the site', () => {
    expect(afterLogin('//evil.example/phish', 'client')).toBe('/devices');
    expect(afterLogin('https://evil.example/', 'client')).toBe('/devices');
    expect(afterLogin('/login', 'admin')).toBe('/admin/users');
    expect(afterLogin(null, 'admin')).toBe('/admin/users');
  });
});
