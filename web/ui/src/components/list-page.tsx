import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { describeError } from '../api/form-errors';
import type { PagedList } from '../hooks/use-paged-list';
import { DataTable, type DataTableProps } from './data-table';
import { FormError } from './field';
import { ListStatus } from './list-status';
import { Notice } from './notice';
import { Pagination } from './pagination';

/**
 * A page of a list as every list view shows it: search and filters, what the last action did or
 * why it failed, the table (or why there is none), links to other pages, and whichever dialog is
 * open (`children`).
 */
export function ListPage<T>({
  toolbar,
  list,
  empty,
  noun,
  notice,
  failure = null,
  table,
  children,
}: {
  toolbar: ComponentChildren;
  list: PagedList<T>;
  /** Said when nothing matches. */
  empty: string;
  noun: { one: string; many: string };
  notice: string;
  failure?: string | null;
  table: Omit<DataTableProps<T>, 'items' | 'busy'>;
  children?: ComponentChildren;
}) {
  return (
    <div class="list-view">
      <div class="toolbar">{toolbar}</div>
      <Notice message={notice} />
      <FormError message={failure} />
      <ListStatus list={list} empty={empty} />
      {list.page && list.page.items.length > 0 && (
        <>
          <DataTable {...table} items={list.page.items} busy={list.loading} />
          <Pagination page={list.page} noun={noun} />
        </>
      )}
      {children}
    </div>
  );
}

/**
 * What a list view does around its dialogs: which one is open (`Dialog` says which, and for
 * which row), and after an action, closing it, saying what was done and showing the list again.
 */
export function useListActions<Dialog>(list: Pick<PagedList<unknown>, 'reload'>) {
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [notice, setNotice] = useState('');
  const [failure, setFailure] = useState<string | null>(null);

  function done(message: string) {
    setDialog(null);
    setFailure(null);
    setNotice(message);
    list.reload();
  }

  return {
    dialog,
    notice,
    failure,
    open: (next: Dialog) => setDialog(next),
    close: () => setDialog(null),
    done,
    /** An action without a dialog: `action` says what it did, or its failure is shown above the list. */
    async run(action: () => Promise<string>) {
      try {
        done(await action());
      } catch (error) {
        setFailure(describeError(error));
      }
    },
  };
}
