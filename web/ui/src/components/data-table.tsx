import type { ComponentChildren } from 'preact';

/** A column: its heading, which the stacked phone layout also shows beside each cell. */
export interface Column<T> {
  label: string;
  cell: (item: T) => ComponentChildren;
}

export interface DataTableProps<T> {
  /** Read by screen readers only, to name the table. */
  caption: string;
  /** The first heads each row (`<th scope="row">`), so a row is announced by it. */
  columns: readonly Column<T>[];
  items: readonly T[];
  rowKey: (item: T) => string | number;
  /** The row's buttons, in a last column whose heading only screen readers get. */
  actions?: (item: T) => ComponentChildren;
  /** A newer list is on its way. */
  busy?: boolean;
  /** Classes besides `data-table`. */
  class?: string;
  rowClass?: (item: T) => string;
}

/**
 * A list as a table. Under 48 rem the styles stack each row into a card, which is why every cell
 * carries its column's name in `data-label`.
 */
export function DataTable<T>({
  caption,
  columns,
  items,
  rowKey,
  actions,
  busy,
  class: extraClass,
  rowClass,
}: DataTableProps<T>) {
  const [heading, ...others] = columns;
  return (
    // Wide tables scroll sideways on their own rather than the whole page.
    <div class="table-scroll">
      <table class={extraClass ? `data-table ${extraClass}` : 'data-table'} aria-busy={busy}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.label} scope="col">
                {column.label}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={rowKey(item)} class={rowClass?.(item)}>
              {heading && (
                <th scope="row" data-label={heading.label}>
                  {heading.cell(item)}
                </th>
              )}
              {others.map((column) => (
                <td key={column.label} data-label={column.label}>
                  {column.cell(item)}
                </td>
              ))}
              {actions && (
                <td>
                  <div class="row-actions">{actions(item)}</div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
