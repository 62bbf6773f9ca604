import { useEffect, useRef, useState } from 'preact/hooks';

/** How long "Copied" shows before the button reads "Copy" again. */
const CONFIRM_MS = 2_000;

/**
 * Text to type into something else (a meter's configuration), shown in monospace with a button
 * that copies it. Where the clipboard cannot be written (a page served over plain HTTP), the
 * button selects the text instead, so that the usual copy keys copy it.
 */
export function CopyableText({ text, target }: { text: string; target: string }) {
  const code = useRef<HTMLElement>(null);
  const [said, setSaid] = useState<string | null>(null);
  useEffect(() => {
    if (said === null) return;
    const timer = setTimeout(() => setSaid(null), CONFIRM_MS);
    return () => clearTimeout(timer);
  }, [said]);

  function selectText() {
    const element = code.current;
    const selection = window.getSelection();
    if (!element || !selection) return;
    const range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied');
    } catch {
      selectText();
      setSaid('Selected: press Ctrl+C (⌘C) to copy');
    }
  }

  return (
    <span class="copyable">
      <code ref={code} class="copyable-text">
        {text}
      </code>
      <button type="button" class="button button--small" onClick={() => void copy()}>
        Copy<span class="visually-hidden"> {target}</span>
      </button>
      <span class="copyable-said" role="status">
        {said}
      </span>
    </span>
  );
}
