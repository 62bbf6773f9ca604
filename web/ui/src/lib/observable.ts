// A value that views and services can watch. Framework-free so the stores built on it can be
// unit-tested in Node; lib/use-observable.ts connects it to Preact.

export interface Observable<T> {
  get(): T;
  set(value: T): void;
  /** Calls `listener` after each change; returns the function that stops it. */
  subscribe(listener: (value: T) => void): () => void;
}

export function observable<T>(initial: T): Observable<T> {
  let current = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => current,
    set(value) {
      if (Object.is(value, current)) return;
      current = value;
      for (const listener of [...listeners]) listener(value);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
