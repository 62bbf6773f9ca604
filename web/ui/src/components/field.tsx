import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { BoundField } from '../hooks/use-form';

interface FieldFrameProps {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  children: (describedBy: string | undefined) => ComponentChildren;
}

/** Label, hint and error around a control, tied to it for screen readers. */
function FieldFrame({ id, label, hint, error, children }: FieldFrameProps) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <label for={id}>{label}</label>
      {hint && (
        <p id={hintId} class="field-hint">
          {hint}
        </p>
      )}
      {children(describedBy)}
      {error && (
        <p id={errorId} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

interface InputProps {
  type?: 'text' | 'password';
  inputMode?: 'text' | 'decimal';
  autoComplete?: string;
  autoCapitalize?: 'none';
  spellcheck?: boolean;
  required?: boolean;
}

export function TextField({
  field,
  label,
  hint,
  type = 'text',
  ...input
}: { field: BoundField; label: string; hint?: string } & InputProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={field.error}>
      {(describedBy) => {
        const attributes = {
          id,
          ...input,
          name: field.name,
          value: field.value,
          onInput: field.onInput,
          'aria-invalid': field.error ? ('true' as const) : undefined,
          'aria-describedby': describedBy,
        };
        // Written out per type: Preact's types allow different ARIA roles for each.
        return type === 'password' ? <input type="password" {...attributes} /> : <input type="text" {...attributes} />;
      }}
    </FieldFrame>
  );
}

export function TextAreaField({
  field,
  label,
  hint,
  rows = 3,
}: {
  field: BoundField;
  label: string;
  hint?: string;
  rows?: number;
}) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={field.error}>
      {(describedBy) => (
        <textarea
          id={id}
          rows={rows}
          name={field.name}
          value={field.value}
          onInput={field.onInput}
          aria-invalid={field.error ? 'true' : undefined}
          aria-describedby={describedBy}
        />
      )}
    </FieldFrame>
  );
}

export function SelectField({
  field,
  label,
  hint,
  options,
}: {
  field: BoundField;
  label: string;
  hint?: string;
  options: readonly { value: string; label: string }[];
}) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} hint={hint} error={field.error}>
      {(describedBy) => (
        <select
          id={id}
          name={field.name}
          value={field.value}
          onInput={field.onInput}
          aria-invalid={field.error ? 'true' : undefined}
          aria-describedby={describedBy}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </FieldFrame>
  );
}

/** A message about the whole form; focusable so a failed submission can move focus to it. */
export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="form-error" role="alert" tabIndex={-1}>
      {message}
    </p>
  );
}
