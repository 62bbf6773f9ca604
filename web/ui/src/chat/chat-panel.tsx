// The customer's support chat, loaded the first time it is opened.
import { useEffect, useRef, useState } from 'preact/hooks';
import { myChat, type HistoryQuery, type SupportRating } from '../api/chat';
import { frames } from '../live';
import { ChatComposer } from './chat-composer';
import { ChatLog } from './chat-log';
import { RatingPrompt } from './rating-prompt';
import { useConversation } from './use-conversation';

export default function ChatPanel({ customerId, onClose }: { customerId: string; onClose: () => void }) {
  // The newest hand-back still to rate, from the history and then from live frames.
  const [ratingRequest, setRatingRequest] = useState<SupportRating | null>(null);
  const [rated, setRated] = useState<SupportRating | null>(null);
  const chat = useConversation(
    customerId,
    'client',
    async (query: HistoryQuery, signal?: AbortSignal) => {
      const history = await myChat(query, signal);
      if (query.before_id === undefined) setRatingRequest(history.rating_request ?? null);
      return history;
    },
    true,
  );
  const end = useRef<HTMLDivElement>(null);
  const count = chat.state.messages.length + chat.pending.length;

  useEffect(() => {
    const stops = [
      frames.on('chat.rating_request', (frame) => {
        setRated(null);
        setRatingRequest(frame.rating);
      }),
      frames.on('chat.rated', (frame) => {
        setRatingRequest((current) => (current?.id === frame.rating.id ? null : current));
        setRated(frame.rating);
      }),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }, []);

  useEffect(
    () => end.current?.scrollIntoView({ block: 'end' }),
    [count, chat.state.otherTyping, ratingRequest?.id, rated?.id],
  );

  return (
    <section
      class="chat-panel"
      role="dialog"
      aria-modal="false"
      aria-labelledby="chat-title"
      onKeyDown={(event) => {
        if (event.key === 'Escape') onClose();
      }}
    >
      <header class="chat-panel-head">
        <div>
          <h2 id="chat-title">Support chat</h2>
          <p class="chat-mode">
            {chat.state.mode === 'human'
              ? 'A person from the support team is answering.'
              : 'Automatic answers; ask for a person at any time.'}
          </p>
        </div>
        <button type="button" class="button button--quiet" onClick={onClose} aria-label="Close the support chat">
          ✕
        </button>
      </header>
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
        {chat.state.loaded && count === 0 && (
          <p class="chat-empty">Ask about your devices or your consumption, or ask to talk to a person.</p>
        )}
        <ChatLog state={chat.state} pending={chat.pending} role="client" />
        {ratingRequest && (
          <RatingPrompt
            key={ratingRequest.id}
            request={ratingRequest}
            onRated={(rating) => {
              setRatingRequest(null);
              setRated(rating);
            }}
          />
        )}
        {rated && !ratingRequest && (
          <p class="chat-rated" role="status">
            Thank you for rating {rated.admin_name ?? 'the support team'} {rated.rating}/5.
          </p>
        )}
        {chat.state.otherTyping && (
          <p class="chat-typing" role="status">
            Support is typing…
          </p>
        )}
        <div ref={end} />
      </div>
      {chat.error && (
        <p class="form-error" role="alert">
          {chat.error}
        </p>
      )}
      {chat.connection !== 'connected' && (
        <p class="chat-offline" role="status">
          {chat.connection === 'offline' ? 'You are offline.' : 'Reconnecting…'} Messages are sent when the connection
          is back.
        </p>
      )}
      <ChatComposer
        id="chat-input"
        label="Message to support"
        placeholder="Write a message"
        submitLabel="Send"
        conversation={chat}
        focusOnMount
      />
    </section>
  );
}
