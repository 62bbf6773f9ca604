// The number beside "Alerts" in the navigation: alerts still to acknowledge. The server's count
// (the `total` of `acknowledged=false`) is the truth; between two counts, alerts raised live and
// acknowledgements made here move it at once, so it never waits for the next poll.
import { observable, type Observable } from '../lib/observable';
import type { Alert } from '../api/types';

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
  /** An alert was acknowledged here. */
  acknowledged(): void;
  /** Signed out: forget the count and ignore answers still on their way. */
  clear(): void;
}

export function createAlertBadge(countUnacknowledged: () => Promise<number>): AlertBadge {
  const count = observable<number | null>(null);
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
        total = await countUnacknowledged();
      } catch {
        return; // Keep showing the last count; the next refresh tries again.
      }
      if (asked === generation) {
        count.set(total);
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
      if (alert.acknowledged_at != null) return;
      changedLocally();
      const current = count.get();
      if (current !== null) count.set(current + 1);
    },
    acknowledged() {
      changedLocally();
      const current = count.get();
      if (current !== null) count.set(Math.max(0, current - 1));
    },
    clear() {
      generation += 1;
      again = false;
      inFlight = null;
      count.set(null);
    },
  };
}
