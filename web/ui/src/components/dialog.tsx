import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/**
 * A modal dialog, shown while mounted. The native <dialog> opened with showModal() keeps focus
 * inside, makes the page behind inert, closes on Escape and gives focus back when it closes.
 */
export function Dialog({
  title,
  onClose,
  children,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    dialog.showModal();
    return () => dialog.close();
  }, []);

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        // Escape: let the owner unmount us rather than the browser closing an element we still render.
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** Cancel and the main action, in the order people expect on each platform's forms. */
export function DialogActions({
  submitLabel,
  submitting,
  onCancel,
  danger = false,
}: {
  submitLabel: string;
  submitting: boolean;
  onCancel: () => void;
  danger?: boolean;
}) {
  return (
    <div class="dialog-actions">
      <button type="button" class="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" class={danger ? 'button button--danger' : 'button button--primary'} disabled={submitting}>
        {submitting ? 'Working…' : submitLabel}
      </button>
    </div>
  );
}
