// The administrators' list of conversations, moved by live frames: a new message puts its
// conversation on top and counts it as unread unless it is the one open.
import type { Conversation } from '../api/chat';
import type { ServerFrame } from '../live/protocol';

export function inboxWithFrame(
  items: readonly Conversation[],
  frame: ServerFrame,
  openId: string | null,
): Conversation[] | null {
  switch (frame.type) {
    case 'chat.message': {
      const message = frame.message;
      const found = items.find((item) => item.customer_id === message.customer_id);
      // Not in this page: the caller reloads the list.
      if (!found) return null;
      const updated: Conversation = {
        ...found,
        last_body: message.body,
        last_source: message.source,
        last_at: message.created_at,
        unread: message.source === 'customer' && message.customer_id !== openId ? found.unread + 1 : found.unread,
      };
      return [updated, ...items.filter((item) => item !== found)];
    }
    case 'chat.mode':
      return items.map((item) =>
        item.customer_id === frame.customer_id ? { ...item, mode: frame.mode, admin_id: frame.admin_id } : item,
      );
    case 'chat.read':
      return frame.role === 'admin'
        ? items.map((item) => (item.customer_id === frame.customer_id ? { ...item, unread: 0 } : item))
        : [...items];
    default:
      return [...items];
  }
}
