// The support chat button on every page of a customer; the panel's code loads on first opening.
import { useEffect, useRef, useState } from 'preact/hooks';
import { frames } from '../live';
import { lazyView } from '../views/lazy-view';

const ChatPanel = lazyView<{ customerId: string; onClose: () => void }>(
  () => import('./chat-panel'),
  'Opening the chat…',
);

export function ChatLauncher({ customerId }: { customerId: string }) {
  const [open, setOpen] = useState(false);
  const [unread, setUnread] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);

  useEffect(() => {
    if (!open && refocus.current) button.current?.focus();
    refocus.current = false;
  }, [open]);

  useEffect(
    () =>
      frames.on('chat.message', (frame) => {
        if (frame.message.source !== 'customer') setUnread((count) => (open ? 0 : count + 1));
      }),
    [open],
  );

  function close() {
    refocus.current = true;
    setOpen(false);
  }

  return (
    <>
      {open && (
        <div class="chat-dock">
          <ChatPanel customerId={customerId} onClose={close} />
        </div>
      )}
      {!open && (
        <button
          ref={button}
          type="button"
          class="button button--primary chat-launcher"
          aria-expanded="false"
          onClick={() => {
            setUnread(0);
            setOpen(true);
          }}
        >
          Support chat
          {unread > 0 && (
            <span class="nav-badge chat-unread" data-count={unread}>
              <span aria-hidden="true">{unread > 99 ? '99+' : unread}</span>
              <span class="visually-hidden">, {unread} new</span>
            </span>
          )}
        </button>
      )}
    </>
  );
}
