// Administrators' support inbox: every conversation with its unread count and mode, kept current
// by live frames, and the open conversation with its history, reply box and take-over buttons.
import { useEffect, useRef, useState } from 'preact/hooks';
import { conversationHistory, handBack, listConversations, takeOver, type Conversation } from '../../api/chat';
import { describeError } from '../../api/form-errors';
import { ChatComposer } from '../../chat/chat-composer';
import { ChatLog } from '../../chat/chat-log';
import { inboxWithFrame } from '../../chat/inbox';
import { isWaiting } from '../../chat/waiting';
import { useConversation } from '../../chat/use-conversation';
import { Link } from '../../components/link';
import { SearchBox } from '../../components/search-box';
import { formatChatTime, plural } from '../../format/format';
import { useObservable } from '../../lib/use-observable';
import { frames, presence, recovered } from '../../live';
import { currentLocation, navigate, withParams } from '../../router/location';
import { sessionStore } from '../../services';

const PER_PAGE = 50;
const LAST_WORDS = { customer: '', rule: 'Bot: ', ai: 'AI: ', admin: 'Support: ', system: 'Notice: ' } as const;

function useInbox(q: string, openId: string | null) {
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const recoveries = useObservable(recovered);
  const open = useRef(openId);
  open.current = openId;

  useEffect(() => {
    const controller = new AbortController();
    listConversations({ q, per_page: PER_PAGE }, controller.signal).then(
      (page) => {
        setItems(page.items);
        setTotal(page.total);
        setError(null);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(describeError(failure));
      },
    );
    return () => controller.abort();
  }, [q, version, recoveries]);

  useEffect(() => {
    const reload = () => setVersion((value) => value + 1);
    const stops = (['chat.message', 'chat.mode', 'chat.read'] as const).map((type) =>
      frames.on(type, (frame) =>
        setItems((current) => {
          if (!current) return current;
          const next = inboxWithFrame(current, frame, open.current);
          if (next === null) {
            queueMicrotask(reload);
            return current;
          }
          return next;
        }),
      ),
    );
    // Back from a lost connection: frames may have been missed.
    const stopHello = frames.on('hello', reload);
    return () => {
      for (const stop of stops) stop();
      stopHello();
    };
  }, []);

  // Opening a conversation reads it.
  useEffect(() => {
    if (openId)
      setItems(
        (current) => current?.map((item) => (item.customer_id === openId ? { ...item, unread: 0 } : item)) ?? null,
      );
  }, [openId]);

  return { items, total, error };
}

export default function InboxView() {
  const { query } = useObservable(currentLocation);
  const q = query.get('q') ?? '';
  const openId = query.get('c');
  const inbox = useInbox(q, openId);
  const online = useObservable(presence);
  const open = inbox.items?.find((item) => item.customer_id === openId) ?? null;

  return (
    <div class={`inbox${openId ? ' inbox--open' : ''}`}>
      <section class="inbox-list" aria-labelledby="inbox-list-title">
        <h2 id="inbox-list-title" class="visually-hidden">
          Conversations
        </h2>
        <SearchBox
          label="Search conversations"
          value={q}
          onSearch={(text) => navigate(withParams({ q: text }), { replace: true })}
        />
        {inbox.error && (
          <p class="form-error" role="alert">
            The conversations could not be loaded. {inbox.error}
          </p>
        )}
        {!inbox.items && !inbox.error && <p class="loading">Loading conversations…</p>}
        {inbox.items && inbox.items.length === 0 && (
          <p>{q ? `No conversations match “${q}”.` : 'No conversations yet.'}</p>
        )}
        {inbox.items && inbox.items.length > 0 && (
          <>
            <p class="list-count">{plural(inbox.total, 'conversation')}</p>
            <ul class="conversation-list">
              {inbox.items.map((item) => {
                const isOnline = online.get(item.customer_id) === true;
                return (
                  <li key={item.customer_id}>
                    <Link
                      href={withParams({ c: item.customer_id })}
                      class="conversation-item"
                      aria-current={item.customer_id === openId ? 'page' : undefined}
                    >
                      <span class="conversation-name">
                        <span class={`presence-dot${isOnline ? ' presence-dot--online' : ''}`} aria-hidden="true" />
                        {item.display_name}
                        <span class="visually-hidden">{isOnline ? ', online' : ''}</span>
                        {item.unread > 0 && (
                          <span class="nav-badge" data-count={item.unread}>
                            <span aria-hidden="true">{item.unread}</span>
                            <span class="visually-hidden">, {item.unread} unread</span>
                          </span>
                        )}
                      </span>
                      <span class="conversation-meta">
                        <span class={`mode-tag mode-tag--${item.mode}`}>
                          {item.mode === 'human' ? 'Person' : 'Bot'}
                        </span>
                        {isWaiting(item.mode, item.admin_id) && <span class="mode-tag mode-tag--waiting">Waiting</span>}
                        {item.last_at && <time dateTime={item.last_at}>{formatChatTime(item.last_at)}</time>}
                      </span>
                      {item.last_body && (
                        <span class="conversation-last">
                          {item.last_source ? LAST_WORDS[item.last_source] : ''}
                          {item.last_body}
                        </span>
                      )}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </>
        )}
      </section>
      {openId ? (
        <ConversationPane key={openId} customerId={openId} conversation={open} online={online.get(openId) === true} />
      ) : (
        <p class="inbox-hint">Choose a conversation to read it and reply.</p>
      )}
    </div>
  );
}

function modeText(mode: Conversation['mode'], adminId: string | null, myId: string | undefined): string {
  if (mode === 'bot') return 'The bot is answering.';
  if (isWaiting(mode, adminId)) return 'Waiting for an administrator to answer.';
  return adminId === myId ? 'You are answering.' : 'Another administrator is answering.';
}

function ConversationPane({
  customerId,
  conversation,
  online,
}: {
  customerId: string;
  conversation: Conversation | null;
  online: boolean;
}) {
  const me = useObservable(sessionStore)?.user;
  const chat = useConversation(
    customerId,
    'admin',
    (query, signal) => conversationHistory(customerId, query, signal),
    true,
  );
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const count = chat.state.messages.length + chat.pending.length;
  const name = conversation ? `${conversation.display_name} (${conversation.username})` : 'Conversation';
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [count, chat.state.otherTyping]);

  async function setMode(action: typeof takeOver) {
    setBusy(true);
    setActionError(null);
    try {
      await action(customerId);
    } catch (failure) {
      setActionError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="inbox-conversation" aria-labelledby="conversation-title">
      <Link href={withParams({ c: null })} class="inbox-back">
        ← All conversations
      </Link>
      <header class="conversation-head">
        <div>
          <h2 id="conversation-title">{name}</h2>
          <p class="chat-mode">
            {online ? 'Online. ' : ''}
            {modeText(chat.state.mode, conversation ? (conversation.admin_id ?? null) : chat.state.adminId, me?.id)}
          </p>
        </div>
        <div class="conversation-actions">
          {chat.state.mode === 'bot' ? (
            <button type="button" class="button" disabled={busy} onClick={() => void setMode(takeOver)}>
              Take over
            </button>
          ) : (
            <button type="button" class="button" disabled={busy} onClick={() => void setMode(handBack)}>
              Hand back to the bot
            </button>
          )}
        </div>
      </header>
      {actionError && (
        <p class="form-error" role="alert">
          {actionError}
        </p>
      )}
      <div class="chat-scroll" tabIndex={0} role="region" aria-label="Messages">
        {chat.state.hasMore && (
          <button
            type="button"
            class="button button--small"
            onClick={() => void chat.loadOlder()}
            disabled={chat.loadingOlder}
          >
            {chat.loadingOlder ? 'Loading…' : 'Load older messages'}
          </button>
        )}
        {!chat.state.loaded && !chat.error && <p class="loading">Loading the conversation…</p>}
        <ChatLog
          state={chat.state}
          pending={chat.pending}
          role="admin"
          adminName={(id) => (id && id === me?.id ? 'You' : 'Support team')}
        />
        {chat.state.otherTyping && (
          <p class="chat-typing" role="status">
            The customer is typing…
          </p>
        )}
        <div ref={end} />
      </div>
      {chat.error && (
        <p class="form-error" role="alert">
          {chat.error}
        </p>
      )}
      <ChatComposer
        id="reply-input"
        label={`Reply to ${conversation?.display_name ?? 'the customer'}`}
        placeholder="Write a reply"
        submitLabel="Send reply"
        conversation={chat}
      />
    </section>
  );
}
