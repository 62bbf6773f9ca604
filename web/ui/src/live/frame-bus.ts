// Passes each frame to the listeners of its type.
import type { Alert } from '../api/types';
import type { FrameOf, FrameType, ServerFrame } from './protocol';

export interface FrameBus {
  publish(frame: ServerFrame): void;
  /** Calls `listener` with each frame of `type`; returns the function that stops it. */
  on<T extends FrameType>(type: T, listener: (frame: FrameOf<T>) => void): () => void;
}

export function createFrameBus(): FrameBus {
  const listeners = new Map<string, Set<(frame: ServerFrame) => void>>();
  return {
    publish(frame) {
      for (const listener of [...(listeners.get(frame.type) ?? [])]) listener(frame);
    },
    on(type, listener) {
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      const entry = listener as (frame: ServerFrame) => void;
      set.add(entry);
      return () => set.delete(entry);
    },
  };
}

/** Where the highest alert id seen is kept, per user, so a reload asks only for what it missed. */
export function alertIdStore(storage: Storage, key: () => string | null) {
  let memory: number | null = null;
  return {
    get(): number | null {
      const name = key();
      if (!name) return memory;
      try {
        const stored = Number.parseInt(storage.getItem(name) ?? '', 10);
        if (Number.isFinite(stored) && (memory === null || stored > memory)) memory = stored;
      } catch {
        // Storage disabled: memory only.
      }
      return memory;
    },
    set(id: number) {
      memory = id;
      const name = key();
      try {
        if (name) storage.setItem(name, String(id));
      } catch {
        // As above.
      }
    },
    reset() {
      memory = null;
    },
  };
}

/**
 * Where each frame goes: an alert to the alert bus (toast and badge), as the REST API shapes
 * alerts; then every frame, alerts too, to the listeners of its type.
 */
export function dispatchFrame(frame: ServerFrame, onAlert: (alert: Alert) => void, bus: FrameBus): void {
  // Pushed as it is raised, so never acknowledged yet.
  if (frame.type === 'alert') onAlert({ ...frame.alert, acknowledged_at: null });
  bus.publish(frame);
}
