// The address bar as an observable, changed with the History API so that links work without
// reloading the page. The server answers every non-API path with index.html, so any address
// the app makes also works when reloaded or shared.
import { observable } from '../lib/observable';

export interface AppLocation {
  path: string;
  query: URLSearchParams;
}

function read(): AppLocation {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

export const currentLocation = observable<AppLocation>(read());

window.addEventListener('popstate', () => currentLocation.set(read()));

export function navigate(to: string, { replace = false } = {}): void {
  const target = new URL(to, window.location.href);
  if (target.href === window.location.href) return;
  if (replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  currentLocation.set(read());
}

/** The current path with `changes` applied to its query; empty values are dropped. */
export function withParams(changes: Record<string, string | number | null | undefined>): string {
  const { path, query } = currentLocation.get();
  const next = new URLSearchParams(query);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') next.delete(name);
    else next.set(name, String(value));
  }
  const search = next.toString();
  return search ? `${path}?${search}` : path;
}
