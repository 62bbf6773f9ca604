import type { PagedList } from '../hooks/use-paged-list';

/** What a list says when it has nothing to show yet: loading, failed, or empty. */
export function ListStatus({ list, empty }: { list: PagedList<unknown>; empty: string }) {
  if (list.error) {
    return (
      <div class="form-error" role="alert">
        <p>{list.error}</p>
        <button type="button" class="button" onClick={list.reload}>
          Try again
        </button>
      </div>
    );
  }
  if (!list.page) return list.loading ? <p class="loading">Loading…</p> : null;
  if (list.page.total === 0) return <p class="empty">{empty}</p>;
  return null;
}
