import { useObservable } from '../lib/use-observable';
import type { Toast, ToastStore } from '../toast/toasts';
import { Link } from './link';

/**
 * The toasts of `store`, in a band across the bottom of the screen (styles/shell.css). The list is always in the page, because screen
 * readers only announce changes to a live region that already exists; each toast is announced
 * once, politely, and can be dismissed with its button or Escape.
 */
export function Toasts({ store }: { store: ToastStore }) {
  const items = useObservable(store.items);
  return (
    <section class="toasts" aria-label="Notifications">
      <ul aria-live="polite" aria-relevant="additions">
        {items.map((toast) => (
          <ToastItem key={toast.id} toast={toast} store={store} />
        ))}
      </ul>
    </section>
  );
}

function ToastItem({ toast, store }: { toast: Toast; store: ToastStore }) {
  const dismiss = () => store.dismiss(toast.id);
  return (
    <li
      class={`toast toast--${toast.tone}`}
      onMouseEnter={() => store.hold(toast.id)}
      onMouseLeave={() => store.release(toast.id)}
      onFocusIn={() => store.hold(toast.id)}
      onFocusOut={() => store.release(toast.id)}
      onKeyDown={(event) => {
        if (event.key === 'Escape') dismiss();
      }}
    >
      <div class="toast-text">
        <p class="toast-title">
          {toast.tone === 'alert' && <span aria-hidden="true">⚠ </span>}
          {toast.title}
        </p>
        {toast.body && <p class="toast-body">{toast.body}</p>}
        {toast.action && (
          <Link href={toast.action.href} class="toast-action">
            {toast.action.label}
          </Link>
        )}
      </div>
      <button type="button" class="button button--quiet button--small toast-close" onClick={dismiss}>
        <span aria-hidden="true">✕</span>
        <span class="visually-hidden">Dismiss: {toast.title}</span>
      </button>
    </li>
  );
}
