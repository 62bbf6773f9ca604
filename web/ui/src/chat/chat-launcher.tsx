// The customer's support chat: a button in the main navigation (the bar at the bottom on phones),
// and the panel it opens, whose code loads on first opening. On wide screens the panel stands in a
// column of its own beside the page, which makes room for it, so it covers nothing; on narrower
// screens it takes the whole screen until closed.
import { useEffect, useRef } from 'preact/hooks';
import { observable } from '../lib/observable';
import { useObservable } from '../lib/use-observable';
import { frames } from '../live';
import { sessionStore } from '../services';
import { lazyView } from '../views/lazy-view';

const ChatPanel = lazyView<{ customerId: string; onClose: () => void }>(
  () => import('./chat-panel'),
  'Opening the chat…',
);

const open = observable(false);
/** Messages from support (or automatic answers) since the chat was last open. */
const unread = observable(0);
/** Closing the panel puts the focus back on the button that opened it. */
let refocus = false;

frames.on('chat.message', (frame) => {
  if (frame.message.source !== 'customer' && !open.get()) unread.set(unread.get() + 1);
});

// Someone else signing in on this tab starts with the chat closed and nothing unread.
let chatUser: string | null = null;
sessionStore.subscribe((session) => {
  const next = session?.user.id ?? null;
  if (next === chatUser) return;
  chatUser = next;
  open.set(false);
  unread.set(0);
});

function close() {
  refocus = true;
  open.set(false);
}

/** Opens and closes the support chat; shows how many answers came while it was closed. */
export function ChatButton() {
  const isOpen = useObservable(open);
  const count = useObservable(unread);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!isOpen && refocus) button.current?.focus();
    refocus = false;
  }, [isOpen]);

  return (
    <button
      ref={button}
      type="button"
      class="chat-launcher"
      aria-expanded={isOpen ? 'true' : 'false'}
      onClick={() => {
        if (isOpen) return close();
        unread.set(0);
        open.set(true);
      }}
    >
      Support chat
      {count > 0 && (
        <span class="chat-unread" data-count={count}>
          <span aria-hidden="true">{count > 99 ? '99+' : count}</span>
          <span class="visually-hidden">, {count} new</span>
        </span>
      )}
    </button>
  );
}

/** The open chat panel, if it is open. */
export function ChatDock({ customerId }: { customerId: string }) {
  const isOpen = useObservable(open);
  if (!isOpen) return null;
  return (
    <div class="chat-dock">
      <ChatPanel customerId={customerId} onClose={close} />
    </div>
  );
}
