import { useEffect, useId, useRef, useState } from 'preact/hooks';

/** Typing pauses shorter than this are one search, so each keystroke does not fetch a page. */
const TYPING_PAUSE_MS = 300;

/** A search field that reports its text after a typing pause, or at once on Enter. */
export function SearchBox({
  label,
  value,
  onSearch,
}: {
  label: string;
  value: string;
  onSearch: (text: string) => void;
}) {
  const id = useId();
  const [text, setText] = useState(value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // The search can also change from outside, e.g. with the browser's back button.
  useEffect(() => setText(value), [value]);
  useEffect(() => () => clearTimeout(timer.current), []);

  function report(next: string) {
    clearTimeout(timer.current);
    if (next.trim() !== value.trim()) onSearch(next.trim());
  }

  return (
    <form
      role="search"
      class="search-box"
      onSubmit={(event) => {
        event.preventDefault();
        report(text);
      }}
    >
      <label for={id}>{label}</label>
      <input
        id={id}
        type="search"
        value={text}
        autoComplete="off"
        onInput={(event) => {
          const next = event.currentTarget.value;
          setText(next);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => report(next), TYPING_PAUSE_MS);
        }}
      />
    </form>
  );
}
