import { useId } from 'preact/hooks';

/** A labelled drop-down that narrows a list. */
export function ListFilter({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: readonly { value: string; label: string }[];
  onChange: (value: string) => void;
}) {
  const id = useId();
  return (
    <div class="list-filter">
      <label for={id}>{label}</label>
      <select id={id} value={value} onInput={(event) => onChange(event.currentTarget.value)}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}
