// The messages of a conversation, as either side sees them.
import type { Role } from '../api/types';
import { formatChatTime } from '../format/format';
import type { Outgoing } from '../live/outbox';
import { isMine, seenByOther, sourceLabel, type ConversationState } from './conversation';

export function ChatLog({
  state,
  pending,
  role,
  adminName,
}: {
  state: ConversationState;
  pending: readonly Outgoing[];
  role: Role;
  /** The name to show on administrators' messages, for an administrator. */
  adminName?: (adminId: string | null) => string | null;
}) {
  return (
    <ol class="chat-log" aria-live="polite" aria-relevant="additions">
      {state.messages.map((message) => {
        const mine = isMine(message, role);
        return (
          <li
            key={message.id}
            class={`chat-message chat-message--${message.source}${mine ? ' chat-message--mine' : ''}`}
          >
            <span class="chat-source">{sourceLabel(message.source, role, adminName?.(message.sender_id ?? null))}</span>
            <p class="chat-body">{message.body}</p>
            <span class="chat-meta">
              <time dateTime={message.created_at}>{formatChatTime(message.created_at)}</time>
              {mine &&
                message.source === (role === 'admin' ? 'admin' : 'customer') &&
                seenByOther(state, message, role) && <span class="chat-seen"> · Seen</span>}
            </span>
          </li>
        );
      })}
      {pending.map((item) => (
        <li
          key={item.clientId}
          class={`chat-message chat-message--${role === 'admin' ? 'admin' : 'customer'} chat-message--mine chat-message--pending`}
        >
          <span class="chat-source">You</span>
          <p class="chat-body">{item.text}</p>
          <span class="chat-meta">{item.acked ? 'Sent' : 'Sending…'}</span>
        </li>
      ))}
    </ol>
  );
}
