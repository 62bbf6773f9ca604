// Conversations waiting for an administrator: handed to a person, and nobody answering yet. The
// administrators' Support badge counts them: from the inbox API on connecting (so a reload shows
// the right number), then moved by each live `chat.mode` frame.
import { observable, type Observable } from '../lib/observable';
import type { ConversationMode, ServerFrame } from '../live/protocol';

/** Whether a conversation in this state waits for an administrator to answer. */
export function isWaiting(mode: ConversationMode, adminId: string | null | undefined): boolean {
  return mode === 'human' && !adminId;
}

/** The waiting set after a frame: a `chat.mode` frame says where its conversation stands now. */
export function waitingWithFrame(waiting: ReadonlySet<string>, frame: ServerFrame): ReadonlySet<string> {
  if (frame.type !== 'chat.mode') return waiting;
  const now = isWaiting(frame.mode, frame.admin_id);
  if (now === waiting.has(frame.customer_id)) return waiting;
  const next = new Set(waiting);
  if (now) next.add(frame.customer_id);
  else next.delete(frame.customer_id);
  return next;
}

export interface WaitingBadge {
  /** How many conversations wait; null until counted, and when signed out or not an administrator. */
  count: Observable<number | null>;
  /** Asks the server which conversations wait. */
  refresh(): Promise<void>;
  /** A live frame arrived. */
  apply(frame: ServerFrame): void;
  /** Signed out: forget the count and ignore answers still on their way. */
  clear(): void;
}

/**
 * The badge's store. `load` answers the ids of the waiting conversations. Mode changes that
 * arrive while a load is on its way are applied again to its answer, which may predate them.
 */
export function createWaitingBadge(load: () => Promise<string[]>): WaitingBadge {
  const count = observable<number | null>(null);
  let waiting: ReadonlySet<string> | null = null;
  let since: ServerFrame[] | null = null;
  let generation = 0;

  function show(next: ReadonlySet<string> | null) {
    waiting = next;
    count.set(next === null ? null : next.size);
  }

  return {
    count,
    async refresh() {
      const asked = ++generation;
      since = [];
      let ids: string[];
      try {
        ids = await load();
      } catch {
        return; // Keep the last count; the next connection asks again.
      }
      if (asked !== generation) return;
      const changes = since;
      since = null;
      show(changes.reduce(waitingWithFrame, new Set(ids) as ReadonlySet<string>));
    },
    apply(frame) {
      if (frame.type !== 'chat.mode') return;
      since?.push(frame);
      if (waiting !== null) show(waitingWithFrame(waiting, frame));
    },
    clear() {
      generation += 1;
      since = null;
      show(null);
    },
  };
}

/** The badge's words for screen readers, read after the link's own name. */
export function waitingDescription(count: number | null): string {
  if (count === null || count <= 0) return '';
  return count === 1 ? '1 waiting for an administrator' : `${count} waiting for an administrator`;
}
