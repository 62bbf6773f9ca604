// Administrators' support inbox: every conversation with its unread count, mode and who has it,
// kept current by live frames, searched, filtered (all, mine, unassigned) and paged by "load
// more"; and the open conversation with its history, reply box and take and hand-back buttons.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  conversationHistory,
  handBack,
  listConversations,
  ratingAverages,
  takeOver,
  type Conversation,
} from '../../api/chat';
import type { AdminRatings } from '../../api/types';
import { listUsers } from '../../api/users';
import { describeError } from '../../api/form-errors';
import { ChatComposer } from '../../chat/chat-composer';
import { ChatLog } from '../../chat/chat-log';
import { holderLabel, inboxWithFrame, type Me } from '../../chat/inbox';
import { isWaiting } from '../../chat/waiting';
import { useConversation } from '../../chat/use-conversation';
import { Link } from '../../components/link';
import { SearchBox } from '../../components/search-box';
import { formatChatTime, plural } from '../../format/format';
import { useObservable } from '../../lib/use-observable';
import { frames, presence, recovered } from '../../live';
import { currentLocation, navigate, withParams } from '../../router/location';
import { sessionStore } from '../../services';

const PER_PAGE = 20;
const LAST_WORDS = { customer: '', rule: 'Bot: ', ai: 'AI: ', admin: 'Support: ', system: 'Notice: ' } as const;
const FILTERS = [
  { value: 'all', label: 'All' },
  { value: 'me', label: 'Mine' },
  { value: 'unassigned', label: 'Unassigned' },
] as const;
type Filter = (typeof FILTERS)[number]['value'];

const asFilter = (value: string | null): Filter => FILTERS.find((filter) => filter.value === value)?.value ?? 'all';

function useInbox(q: string, assigned: Filter, openId: string | null, me: Me | null) {
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const recoveries = useObservable(recovered);
  const open = useRef(openId);
  open.current = openId;
  const who = useRef(me);
  who.current = me;
  const filter = useRef(assigned);
  filter.current = assigned;

  useEffect(() => {
    const controller = new AbortController();
    listConversations({ q: q || undefined, assigned, per_page: PER_PAGE }, controller.signal).then(
      (page) => {
        setItems(page.items);
        setTotal(page.total);
        setNext(page.next_after ?? null);
        setError(null);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(describeError(failure));
      },
    );
    return () => controller.abort();
  }, [q, assigned, version, recoveries]);

  useEffect(() => {
    const reload = () => setVersion((value) => value + 1);
    const stops = (['chat.message', 'chat.mode', 'chat.read', 'chat.rated'] as const).map((type) =>
      frames.on(type, (frame) =>
        setItems((current) => {
          if (!current) return current;
          // A take or hand-back moves a conversation in or out of "Mine" and "Unassigned".
          const next =
            frame.type === 'chat.mode' && filter.current !== 'all'
              ? null
              : inboxWithFrame(current, frame, open.current, who.current);
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

  async function loadMore() {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await listConversations({ q: q || undefined, assigned, per_page: PER_PAGE, after: next });
      setItems((current) => {
        const seen = new Set((current ?? []).map((item) => item.customer_id));
        return [...(current ?? []), ...page.items.filter((item) => !seen.has(item.customer_id))];
      });
      setNext(page.next_after ?? null);
      setTotal(page.total);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setLoadingMore(false);
    }
  }

  return { items, total, error, hasMore: next !== null, loadingMore, loadMore };
}

/** Every administrator's name by id, to say which of them are online. */
function useAdministrators(): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    const controller = new AbortController();
    listUsers({ role: 'admin', per_page: 100 }, controller.signal).then(
      (page) => setNames(new Map(page.items.map((user) => [user.id, user.display_name]))),
      // Only the "also online" line goes without names; the inbox itself does not need them.
      () => undefined,
    );
    return () => controller.abort();
  }, []);
  return names;
}

/** Takes a conversation; a 409 (someone else has it) is reported with the holder's name. */
async function take(customerId: string, force = false): Promise<string | null> {
  try {
    await takeOver(customerId, force);
    return null;
  } catch (failure) {
    return describeError(failure);
  }
}

export default function InboxView() {
  const { query } = useObservable(currentLocation);
  const q = query.get('q') ?? '';
  const assigned = asFilter(query.get('assigned'));
  const openId = query.get('c');
  const user = useObservable(sessionStore)?.user;
  const me = useMemo(() => (user ? { id: user.id, name: user.display_name } : null), [user?.id, user?.display_name]);
  const inbox = useInbox(q, assigned, openId, me);
  const online = useObservable(presence);
  const open = inbox.items?.find((item) => item.customer_id === openId) ?? null;
  const [rowError, setRowError] = useState<string | null>(null);
  const administrators = useAdministrators();
  const othersOnline = [...administrators]
    .filter(([id]) => id !== me?.id && online.get(id) === true)
    .map(([, name]) => name);

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
        <div class="inbox-filters" role="group" aria-label="Show conversations">
          {FILTERS.map((filter) => (
            <button
              key={filter.value}
              type="button"
              class={`filter-tab${filter.value === assigned ? ' filter-tab--active' : ''}`}
              aria-pressed={filter.value === assigned}
              onClick={() => navigate(withParams({ assigned: filter.value === 'all' ? null : filter.value }))}
            >
              {filter.label}
            </button>
          ))}
        </div>
        <p class="admins-online" role="status">
          {othersOnline.length > 0 ? `Also online: ${othersOnline.join(', ')}` : 'No other administrator is online.'}
        </p>
        <RatingsSummary />
        {rowError && (
          <p class="form-error" role="alert">
            {rowError}
          </p>
        )}
        {inbox.error && (
          <p class="form-error" role="alert">
            The conversations could not be loaded. {inbox.error}
          </p>
        )}
        {!inbox.items && !inbox.error && <p class="loading">Loading conversations…</p>}
        {inbox.items && inbox.items.length === 0 && (
          <p>{q ? `No conversations match “${q}”.` : assigned === 'all' ? 'No conversations yet.' : 'None here.'}</p>
        )}
        {inbox.items && inbox.items.length > 0 && (
          <>
            <p class="list-count">{plural(inbox.total, 'conversation')}</p>
            <ul class="conversation-list">
              {inbox.items.map((item) => {
                const isOnline = online.get(item.customer_id) === true;
                const holder = holderLabel(item, me?.id);
                return (
                  <li key={item.customer_id} class="conversation-row">
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
                        {holder && (
                          <span
                            class={`assignee-tag${item.admin_id === me?.id ? ' assignee-tag--me' : ''}`}
                            data-assignee={item.admin_id}
                          >
                            {holder === 'You' ? 'Yours' : `${holder} has it`}
                          </span>
                        )}
                        {item.last_rating !== null && item.last_rating !== undefined && (
                          <span class="rating-tag" title="The customer's latest rating">
                            ★ {item.last_rating}/5
                          </span>
                        )}
                        {item.last_at && <time dateTime={item.last_at}>{formatChatTime(item.last_at)}</time>}
                      </span>
                      {item.last_body && (
                        <span class="conversation-last">
                          {item.last_source ? LAST_WORDS[item.last_source] : ''}
                          {item.last_body}
                        </span>
                      )}
                      {item.matched_body && item.matched_body !== item.last_body && (
                        <span class="conversation-last conversation-match">Found in: {item.matched_body}</span>
                      )}
                    </Link>
                    {!item.admin_id && (
                      <button
                        type="button"
                        class="button button--small conversation-take"
                        aria-label={`Take the conversation with ${item.display_name}`}
                        onClick={() =>
                          void take(item.customer_id).then((failure) => {
                            setRowError(failure);
                            if (!failure) navigate(withParams({ c: item.customer_id }));
                          })
                        }
                      >
                        Take
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
            {inbox.hasMore && (
              <button
                type="button"
                class="button inbox-more"
                disabled={inbox.loadingMore}
                onClick={() => void inbox.loadMore()}
              >
                {inbox.loadingMore ? 'Loading…' : 'Load more conversations'}
              </button>
            )}
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

/** Every administrator's ratings, shown on demand. */
function RatingsSummary() {
  const [rows, setRows] = useState<AdminRatings[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <details
      class="ratings-summary"
      onToggle={(event) => {
        if (!event.currentTarget.open || rows) return;
        ratingAverages().then(setRows, (failure: unknown) => setError(describeError(failure)));
      }}
    >
      <summary>Ratings by administrator</summary>
      {error && <p class="form-error">{error}</p>}
      {rows && rows.length === 0 && <p>No ratings yet.</p>}
      {rows && rows.length > 0 && (
        <ul class="ratings-list">
          {rows.map((row) => (
            <li key={row.admin_id}>
              <span>{row.display_name}</span>{' '}
              <span class="rating-tag">
                ★ {row.average.toFixed(1)} ({plural(row.ratings, 'rating')})
              </span>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function modeText(mode: Conversation['mode'], adminId: string | null, holder: string): string {
  if (mode === 'bot') return 'The bot is answering.';
  if (isWaiting(mode, adminId)) return 'Waiting for an administrator to answer.';
  return holder === 'You' ? 'You are answering.' : `${holder} has this conversation.`;
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
  const adminId = conversation ? (conversation.admin_id ?? null) : chat.state.adminId;
  const holder = holderLabel({ admin_id: adminId, admin_name: conversation?.admin_name ?? null }, me?.id);
  const heldByOther = adminId !== null && adminId !== me?.id;

  async function act(action: () => Promise<unknown>) {
    setBusy(true);
    setActionError(null);
    try {
      await action();
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
            {modeText(chat.state.mode, adminId, holder)}
            {conversation?.last_rating ? ` Last rating: ${conversation.last_rating}/5.` : ''}
          </p>
        </div>
        <div class="conversation-actions">
          {adminId === null && (
            <button type="button" class="button" disabled={busy} onClick={() => void act(() => takeOver(customerId))}>
              Take over
            </button>
          )}
          {heldByOther && (
            <button
              type="button"
              class="button"
              disabled={busy}
              onClick={() => void act(() => takeOver(customerId, true))}
            >
              Take over from {holder}
            </button>
          )}
          {chat.state.mode === 'human' && (
            <button type="button" class="button" disabled={busy} onClick={() => void act(() => handBack(customerId))}>
              Hand back to the bot
            </button>
          )}
        </div>
      </header>{' '}
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
      {heldByOther && (
        <p class="notice notice--warning reply-warning" role="note">
          {holder} has this conversation: your reply reaches the customer, but the conversation stays with them.
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
