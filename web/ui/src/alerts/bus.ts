// Alerts as they are raised. The WebSocket client (src/live/) hands every alert it receives to
// publish(); the toasts and the navigation badge listen. An alert can arrive twice (after a
// reconnection the client asks for what it missed with last_alert_id), so each id is passed on
// once.
import type { Alert } from '../api/types';

export interface AlertBus {
  publish(alert: Alert): void;
  /** Calls `listener` with each new alert; returns the function that stops it. */
  subscribe(listener: (alert: Alert) => void): () => void;
}

/** How many recent ids are remembered to drop repeats. */
const REMEMBERED = 500;

export function createAlertBus(): AlertBus {
  const listeners = new Set<(alert: Alert) => void>();
  const seen = new Set<number>();
  return {
    publish(alert) {
      if (seen.has(alert.id)) return;
      seen.add(alert.id);
      if (seen.size > REMEMBERED) seen.delete(seen.values().next().value!);
      for (const listener of [...listeners]) listener(alert);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
