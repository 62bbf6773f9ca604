// Short messages that appear at the bottom of the screen and go away by themselves, like "Sauna
// heater is over its limit". Framework-free, so it is unit-tested in Node; components/toasts.tsx
// shows them.
// A toast only repeats what the page itself can show (the alert centre), and its timer stops
// while the pointer or keyboard focus is on it, so nobody loses one they are reading.
import { observable, type Observable } from '../lib/observable';

export interface ToastInput {
  tone: 'alert' | 'info';
  title: string;
  body: string;
  /** A link to where the matter is dealt with. */
  action?: { label: string; href: string };
}

export interface Toast extends ToastInput {
  id: number;
}

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ToastStore {
  items: Observable<readonly Toast[]>;
  show(toast: ToastInput): number;
  dismiss(id: number): void;
  /** Stops the toast's timer (hovered or focused). */
  hold(id: number): void;
  /** Restarts it with the full time. */
  release(id: number): void;
  clear(): void;
}

export const TOAST_MS = 12_000;
/** At most this many at once; the oldest goes first. */
export const MAX_TOASTS = 3;

const browserTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function createToastStore({ timeoutMs = TOAST_MS, max = MAX_TOASTS, timers = browserTimers } = {}): ToastStore {
  const items = observable<readonly Toast[]>([]);
  const pending = new Map<number, unknown>();
  let lastId = 0;

  function stopTimer(id: number) {
    if (pending.has(id)) timers.clear(pending.get(id));
    pending.delete(id);
  }

  function startTimer(id: number) {
    stopTimer(id);
    pending.set(
      id,
      timers.set(() => dismiss(id), timeoutMs),
    );
  }

  function dismiss(id: number) {
    stopTimer(id);
    const remaining = items.get().filter((toast) => toast.id !== id);
    if (remaining.length !== items.get().length) items.set(remaining);
  }

  return {
    items,
    show(input) {
      const toast: Toast = { ...input, id: ++lastId };
      const shown = [...items.get(), toast];
      for (const dropped of shown.slice(0, Math.max(0, shown.length - max))) stopTimer(dropped.id);
      items.set(shown.slice(-max));
      startTimer(toast.id);
      return toast.id;
    },
    dismiss,
    hold: stopTimer,
    release(id) {
      if (items.get().some((toast) => toast.id === id)) startTimer(id);
    },
    clear() {
      for (const id of [...pending.keys()]) stopTimer(id);
      items.set([]);
    },
  };
}
