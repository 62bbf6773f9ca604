import { Link } from './link';

interface RowActionProps {
  /** What sighted people read on the button: "Edit". */
  label: string;
  /**
   * Read after the label by screen readers only ("ana", "of ana"), so that the same button on
   * every row has a name of its own: "Edit ana".
   */
  target: string;
  /** A link to another page instead of a button. */
  href?: string;
  onClick?: () => void;
  disabled?: boolean;
  danger?: boolean;
}

/** One of a table row's actions. */
export function RowAction({ label, target, href, onClick, disabled = false, danger = false }: RowActionProps) {
  const content = (
    <>
      {label}
      <span class="visually-hidden"> {target}</span>
    </>
  );
  if (href !== undefined) {
    return (
      <Link class="button button--small" href={href}>
        {content}
      </Link>
    );
  }
  return (
    <button
      type="button"
      class={danger ? 'button button--small button--danger' : 'button button--small'}
      disabled={disabled}
      onClick={onClick}
    >
      {content}
    </button>
  );
}
