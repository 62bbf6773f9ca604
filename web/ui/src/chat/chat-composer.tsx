// Where a message is written, on either side of a conversation: the customer's panel and the
// administrators' inbox.
import { useEffect, useRef, useState } from 'preact/hooks';

/** What the composer tells the conversation (`useConversation` gives all three). */
export interface ComposerTarget {
  send(text: string): void;
  /** A keystroke while there is text: the other side sees "typing". */
  typed(): void;
  stopTyping(): void;
}

/**
 * A message box and its send button. Enter sends and Shift+Enter starts a new line; blank
 * messages are not sent; the other side sees "typing" while there is text.
 */
export function ChatComposer({
  id,
  label,
  placeholder,
  submitLabel,
  conversation,
  focusOnMount = false,
}: {
  /** The text area's id (the label is tied to it). */
  id: string;
  /** Read by screen readers only: the box's purpose and who reads it. */
  label: string;
  placeholder: string;
  submitLabel: string;
  conversation: ComposerTarget;
  focusOnMount?: boolean;
}) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (focusOnMount) input.current?.focus();
  }, []);

  function submit(event: Event) {
    event.preventDefault();
    if (!text.trim()) return;
    conversation.send(text);
    setText('');
  }

  return (
    <form class="chat-form" onSubmit={submit}>
      <label for={id} class="visually-hidden">
        {label}
      </label>
      <textarea
        id={id}
        ref={input}
        rows={2}
        maxLength={4000}
        value={text}
        placeholder={placeholder}
        onInput={(event) => {
          setText(event.currentTarget.value);
          if (event.currentTarget.value) conversation.typed();
          else conversation.stopTyping();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey) submit(event);
        }}
      />
      <button type="submit" class="button button--primary">
        {submitLabel}
      </button>
    </form>
  );
}
