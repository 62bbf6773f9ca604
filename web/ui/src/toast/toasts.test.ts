import { describe, expect, it } from 'vitest';
import { createToastStore, type Timers } from './toasts';

/** Timers the test moves by hand. */
function manualTimers() {
  let now = 0;
  let lastHandle = 0;
  const due = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    set(callback, ms) {
      due.set(++lastHandle, { at: now + ms, callback });
      return lastHandle;
    },
    clear(handle) {
      due.delete(handle as number);
    },
  };
  return {
    timers,
    advance(ms: number) {
      now += ms;
      for (const [handle, timer] of [...due]) {
        if (timer.at <= now) {
          due.delete(handle);
          timer.callback();
        }
      }
    },
  };
}

const input = (title: string) => ({ tone: 'info' as const, title, body: '' });

describe('toasts', () => {
  it('shows a toast and takes it away after its time', () => {
    const clock = manualTimers();
    const toasts = createToastStore({ timeoutMs: 1000, timers: clock.timers });
    toasts.show(input('Saved'));
    expect(toasts.items.get().map((toast) => toast.title)).toEqual(['Saved']);
    clock.advance(999);
    expect(toasts.items.get()).toHaveLength(1);
    clock.advance(1);
    expect(toasts.items.get()).toHaveLength(0);
  });

  it('keeps a toast while it is hovered or focused, then gives it its full time again', () => {
    const clock = manualTimers();
    const toasts = createToastStore({ timeoutMs: 1000, timers: clock.timers });
    const id = toasts.show(input('Read me'));
    clock.advance(900);
    toasts.hold(id);
    clock.advance(5000);
    expect(toasts.items.get()).toHaveLength(1);
    toasts.release(id);
    clock.advance(999);
    expect(toasts.items.get()).toHaveLength(1);
    clock.advance(1);
    expect(toasts.items.get()).toHaveLength(0);
  });

  it('shows at most a few, dropping the oldest', () => {
    const clock = manualTimers();
    const toasts = createToastStore({ max: 2, timers: clock.timers });
    toasts.show(input('one'));
    toasts.show(input('two'));
    toasts.show(input('three'));
    expect(toasts.items.get().map((toast) => toast.title)).toEqual(['two', 'three']);
  });

  it('dismisses one toast on request, and all on clear', () => {
    const clock = manualTimers();
    const toasts = createToastStore({ timers: clock.timers });
    const first = toasts.show(input('one'));
    toasts.show(input('two'));
    toasts.dismiss(first);
    expect(toasts.items.get().map((toast) => toast.title)).toEqual(['two']);
    toasts.clear();
    expect(toasts.items.get()).toEqual([]);
    // A released id that is gone starts nothing.
    toasts.release(first);
    clock.advance(60_000);
    expect(toasts.items.get()).toEqual([]);
  });
});
