// Chat messages on their way: each is sent with its own client_id and sent again (same id, so the
// server stores it once) on every reconnection and every few seconds until its `ack` arrives.
import { observable, type Observable } from '../lib/observable';
import type { ClientFrame } from './protocol';

export const RESEND_MS = 5_000;

export interface Outgoing {
  clientId: string;
  text: string;
  /** The conversation, for administrators. */
  customerId: string | undefined;
  acked: boolean;
  /** The newest message id of the conversation when it was sent: its stored copy comes after. */
  afterId: number;
}

export interface Outbox {
  /** Messages sent from here, oldest first, until the conversation shows them. */
  readonly items: Observable<readonly Outgoing[]>;
  send(text: string, customerId?: string, afterId?: number): Outgoing;
  /** An `ack` arrived. */
  acked(clientId: string): void;
  /** The connection is (again) up: send whatever is not acknowledged yet. */
  flush(): void;
  /** The stored message has arrived: stop showing the pending copy. */
  settle(clientId: string): void;
  clear(): void;
  stop(): void;
}

export function newClientId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createOutbox(transmit: (frame: ClientFrame) => boolean, newId = newClientId): Outbox {
  const items = observable<readonly Outgoing[]>([]);
  const timer = setInterval(() => flush(), RESEND_MS);

  function frameOf(item: Outgoing): ClientFrame {
    return item.customerId
      ? { type: 'chat.send', client_id: item.clientId, text: item.text, customer_id: item.customerId }
      : { type: 'chat.send', client_id: item.clientId, text: item.text };
  }

  function flush() {
    for (const item of items.get()) if (!item.acked) transmit(frameOf(item));
  }

  return {
    items,
    send(text, customerId, afterId = 0) {
      const item: Outgoing = { clientId: newId(), text, customerId, acked: false, afterId };
      items.set([...items.get(), item]);
      transmit(frameOf(item));
      return item;
    },
    acked(clientId) {
      if (!items.get().some((item) => item.clientId === clientId && !item.acked)) return;
      items.set(items.get().map((item) => (item.clientId === clientId ? { ...item, acked: true } : item)));
    },
    flush,
    settle(clientId) {
      items.set(items.get().filter((item) => item.clientId !== clientId));
    },
    clear() {
      items.set([]);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
