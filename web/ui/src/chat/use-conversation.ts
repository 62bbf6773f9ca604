// A conversation kept current: its history from REST, then live frames; shared by the customer's
// panel and the administrators' inbox.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { History, HistoryQuery } from '../api/chat';
import { describeError } from '../api/form-errors';
import type { Role } from '../api/types';
import { connection as connectionState, frames, live, outbox, recovered } from '../live';
import type { ClientFrame } from '../live/protocol';
import { useObservable } from '../lib/use-observable';
import {
  emptyConversation,
  newestId,
  unsettled,
  withFrame,
  withHistory,
  withOlder,
  type ConversationState,
} from './conversation';

const PAGE = 30;
/** Stop showing "typing" this long after the last keystroke. */
const TYPING_IDLE_MS = 3_000;

export function useConversation(
  customerId: string | null,
  role: Role,
  load: (query: HistoryQuery, signal?: AbortSignal) => Promise<History>,
  active: boolean,
) {
  const [state, setState] = useState<ConversationState>(() => emptyConversation(customerId));
  const [error, setError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const pending = useObservable(outbox.items);
  const connection = useObservable(connectionState);
  const readSent = useRef(0);
  const typing = useRef<{ on: boolean; timer?: ReturnType<typeof setTimeout> }>({ on: false });
  const target = role === 'admin' && customerId ? { customer_id: customerId } : {};

  useEffect(() => {
    setState(emptyConversation(customerId));
    setError(null);
    readSent.current = 0;
    const controller = new AbortController();
    const stops = (['chat.message', 'chat.typing', 'chat.read', 'chat.mode'] as const).map((type) =>
      frames.on(type, (frame) => setState((current) => withFrame(current, frame, role))),
    );
    load({ limit: PAGE }, controller.signal).then(
      (history) => setState((current) => withHistory(current, history)),
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(describeError(failure));
      },
    );
    return () => {
      controller.abort();
      for (const stop of stops) stop();
      stopTyping();
    };
  }, [customerId]);

  // Back from a lost connection: messages may have been missed meanwhile, or the first load failed.
  const recoveries = useObservable(recovered);
  const recoveriesSeen = useRef(recoveries);
  useEffect(() => {
    if (recoveries === recoveriesSeen.current) return;
    recoveriesSeen.current = recoveries;
    const controller = new AbortController();
    load({ limit: PAGE }, controller.signal).then(
      (history) => {
        setState((current) => withHistory(current, history));
        setError(null);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(describeError(failure));
      },
    );
    return () => controller.abort();
  }, [recoveries]);

  // Read receipt for the newest message while the conversation is in view.
  const newest = newestId(state);
  useEffect(() => {
    const send = () => {
      if (!active || newest === null || newest <= readSent.current || document.visibilityState !== 'visible') return;
      if (live.send({ type: 'chat.read', up_to_id: newest, ...target } as ClientFrame)) readSent.current = newest;
    };
    send();
    document.addEventListener('visibilitychange', send);
    return () => document.removeEventListener('visibilitychange', send);
  }, [newest, active, connection]);

  // Pending copies give way to the stored messages.
  const { show, settled } = unsettled(pending, state.messages, role, customerId);
  useEffect(() => {
    for (const clientId of settled) outbox.settle(clientId);
  }, [settled.join()]);

  function stopTyping() {
    clearTimeout(typing.current.timer);
    if (typing.current.on) live.send({ type: 'chat.typing', typing: false, ...target } as ClientFrame);
    typing.current.on = false;
  }

  return {
    state,
    error,
    pending: show,
    connection,
    loadingOlder,
    async loadOlder() {
      const oldest = state.messages[0]?.id;
      if (oldest === undefined) return;
      setLoadingOlder(true);
      try {
        const history = await load({ before_id: oldest, limit: PAGE });
        setState((current) => withOlder(current, history));
      } catch (failure) {
        setError(describeError(failure));
      } finally {
        setLoadingOlder(false);
      }
    },
    send(text: string) {
      const body = text.trim();
      if (!body) return;
      stopTyping();
      outbox.send(body, role === 'admin' ? (customerId ?? undefined) : undefined, newest ?? 0);
    },
    typed() {
      clearTimeout(typing.current.timer);
      if (!typing.current.on) {
        typing.current.on = live.send({ type: 'chat.typing', typing: true, ...target } as ClientFrame);
      }
      typing.current.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
    },
    stopTyping,
  };
}
