// The administrators' list of conversations, moved by live frames: a new message puts its
// conversation on top and counts it as unread unless it is the one open; a take or hand-back
// shows who has it now.
import type { Conversation } from '../api/chat';
import type { ServerFrame } from '../live/protocol';

/** Someone whose name the list may need: the signed-in administrator. */
export interface Me {
  id: string;
  name: string;
}

/** The name of administrator `id`, as some line of the list or `me` knows it. */
function nameOf(items: readonly Conversation[], id: string, me: Me | null): string | undefined {
  if (me && id === me.id) return me.name;
  return items.find((item) => item.admin_id === id && item.admin_name)?.admin_name ?? undefined;
}

/**
 * The list after `frame`, or null when the list cannot tell by itself (a conversation not in this
 * page, an administrator it has no name for): the caller reloads it.
 */
export function inboxWithFrame(
  items: readonly Conversation[],
  frame: ServerFrame,
  openId: string | null,
  me: Me | null = null,
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
    case 'chat.mode': {
      let adminName: string | null = null;
      if (frame.admin_id) {
        const known = nameOf(items, frame.admin_id, me);
        if (known === undefined) return null;
        adminName = known;
      }
      return items.map((item) =>
        item.customer_id === frame.customer_id
          ? { ...item, mode: frame.mode, admin_id: frame.admin_id, admin_name: adminName }
          : item,
      );
    }
    case 'chat.rated':
      return items.map((item) =>
        item.customer_id === frame.customer_id ? { ...item, last_rating: frame.rating.rating ?? null } : item,
      );
    case 'chat.read':
      return frame.role === 'admin'
        ? items.map((item) => (item.customer_id === frame.customer_id ? { ...item, unread: 0 } : item))
        : [...items];
    default:
      return [...items];
  }
}

/** Who has a conversation, as its line and header say it. */
export function holderLabel(item: Pick<Conversation, 'admin_id' | 'admin_name'>, myId: string | undefined): string {
  if (!item.admin_id) return '';
  if (item.admin_id === myId) return 'You';
  return item.admin_name ?? 'Another administrator';
}
