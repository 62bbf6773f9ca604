// The number beside "Alerts" in the navigation: open incidents, an hour's alerts of one device
// still to acknowledge. The server's count (the `total` of open incidents) is the truth; between
// two counts, incidents raised live and acknowledgements made here move it at once, so it never
// waits for the next poll. A live alert of an incident already counted here adds nothing.
import { observable, type Observable } from '../lib/observable';
import type { Alert } from '../api/types';
import { incidentKey } from './describe';

/** What the badge shows: nothing at 0, "99+" beyond 99. */
export function badgeText(count: number | null): string {
  if (count === null || count <= 0) return '';
  return count > 99 ? '99+' : String(count);
}

/** The badge's words for screen readers, read after the link's own name. */
export function badgeDescription(count: number | null): string {
  if (count === null || count <= 0) return '';
  return count === 1 ? '1 to acknowledge' : `${count} to acknowledge`;
}

export interface AlertBadge {
  /** null until counted, and when signed out. */
  count: Observable<number | null>;
  /** Asks the server for the count. */
  refresh(): Promise<void>;
  /** A live alert arrived. */
  raised(alert: Alert): void;
  /** `incidents` open incidents (1 by default) were acknowledged here. */
  acknowledged(incidents?: number): void;
  /** Everything was acknowledged here. */
  acknowledgedAll(): void;
  /** Signed out: forget the count and ignore answers still on their way. */
  clear(): void;
}

export function createAlertBadge(countOpenIncidents: () => Promise<number>): AlertBadge {
  const count = observable<number | null>(null);
  // Incidents counted from live alerts since the last count: a second alert of one is no news.
  let counted = new Set<string>();
  // Bumped by every local change and every new request: an answer is used only if nothing
  // happened since its request, as it may or may not include a change made meanwhile.
  let generation = 0;
  let inFlight: Promise<void> | null = null;
  let again = false;

  async function ask(): Promise<void> {
    for (;;) {
      again = false;
      const asked = ++generation;
      let total: number;
      try {
        total = await countOpenIncidents();
      } catch {
        return; // Keep showing the last count; the next refresh tries again.
      }
      if (asked === generation) {
        count.set(total);
        counted = new Set();
        return;
      }
      // Changed here meanwhile: ask again. Signed out meanwhile: drop the answer.
      if (!again) return;
    }
  }

  function changedLocally() {
    generation += 1;
    // A request on its way may have been counted before this change: ask once more after it.
    if (inFlight) again = true;
  }

  return {
    count,
    refresh() {
      // A request already on its way answers for this one too.
      if (inFlight) return inFlight;
      const request: Promise<void> = ask().finally(() => {
        if (inFlight === request) inFlight = null;
      });
      inFlight = request;
      return request;
    },
    raised(alert) {
      // Live alerts (docs/websocket.md) carry no acknowledged_at at all: new, so not acknowledged.
      if (alert.acknowledged_at != null || alert.snoozed) return;
      const key = incidentKey(alert);
      if (counted.has(key)) return;
      counted.add(key);
      changedLocally();
      const current = count.get();
      if (current !== null) count.set(current + 1);
    },
    acknowledged(incidents = 1) {
      changedLocally();
      const current = count.get();
      if (current !== null) count.set(Math.max(0, current - incidents));
    },
    acknowledgedAll() {
      changedLocally();
      if (count.get() !== null) count.set(0);
    },
    clear() {
      generation += 1;
      counted = new Set();
      again = false;
      inFlight = null;
      count.set(null);
    },
  };
}
