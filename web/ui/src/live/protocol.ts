// The frames of the WebSocket protocol, version 1 (docs/websocket.md).
import type { AlertEvent, ChatMessage, ChatSource, ConversationMode, Role, SupportRating } from '../api/types';

export type { ChatMessage, ChatSource, ConversationMode };

export const PROTOCOL_VERSION = 1;

/** An alert as the WebSocket sends it: just raised, so without `acknowledged_at`. */
export type LiveAlert = AlertEvent;

export type ServerFrame =
  | { v: 1; type: 'hello'; user_id: string; role: Role }
  | { v: 1; type: 'alert'; alert: LiveAlert }
  | { v: 1; type: 'chat.message'; message: ChatMessage }
  | { v: 1; type: 'chat.typing'; customer_id: string; role: Role; user_id: string; typing: boolean }
  | { v: 1; type: 'chat.read'; customer_id: string; role: Role; up_to_id: number }
  | {
      v: 1;
      type: 'chat.mode';
      customer_id: string;
      mode: ConversationMode;
      admin_id: string | null;
      /** After an explicit take-over: who held the conversation before. */
      previous_admin_id?: string | null;
    }
  /** A conversation an administrator held was handed back: the customer may rate it. */
  | { v: 1; type: 'chat.rating_request'; customer_id: string; rating: SupportRating }
  /** The customer rated a handed-back conversation. */
  | { v: 1; type: 'chat.rated'; customer_id: string; rating: SupportRating }
  | { v: 1; type: 'presence'; user_id: string; role?: Role; online: boolean }
  /** To administrators after `hello`: every customer and other administrator online now; `presence` frames follow changes. */
  | { v: 1; type: 'presence.snapshot'; online: string[]; admins?: string[] }
  | { v: 1; type: 'ack'; client_id: string }
  /** The replay was cut to the newest alerts: older ones (after `after_id`) are only in GET /api/alerts. */
  | { v: 1; type: 'replay.truncated'; after_id: number; oldest_replayed_id: number | null }
  | { v: 1; type: 'error'; code: string; message: string };

export type ClientFrame =
  | { type: 'chat.send'; client_id: string; text: string; customer_id?: string }
  | { type: 'chat.typing'; typing: boolean; customer_id?: string }
  | { type: 'chat.read'; up_to_id: number; customer_id?: string };

export type FrameType = ServerFrame['type'];
export type FrameOf<T extends FrameType> = Extract<ServerFrame, { type: T }>;

const TYPES = new Set<string>([
  'hello',
  'alert',
  'chat.message',
  'chat.typing',
  'chat.read',
  'chat.mode',
  'chat.rating_request',
  'chat.rated',
  'presence',
  'presence.snapshot',
  'ack',
  'replay.truncated',
  'error',
]);

/** The frame in a text message, or null when it is not one this client understands. */
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const frame = value as { v?: unknown; type?: unknown };
  if (frame.v !== PROTOCOL_VERSION || typeof frame.type !== 'string' || !TYPES.has(frame.type)) return null;
  return value as ServerFrame;
}

/** Closing codes the server uses (docs/websocket.md). */
export const CLOSE = {
  going_away: 1001,
  idle: 4000,
  too_slow: 4008,
  too_many_frames: 4029,
  unauthorized: 4401,
} as const;
