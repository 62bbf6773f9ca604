import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/form-errors';
import type { Page } from '../api/types';
import { useObservable } from '../lib/use-observable';
import { recovered } from '../live';
import { navigate, withParams } from '../router/location';

export interface PagedList<T> {
  page: Page<T> | null;
  error: string | null;
  loading: boolean;
  reload(): void;
}

/** The `page` query parameter as a page number, 1 when absent or nonsense. */
export function pageParam(query: URLSearchParams): number {
  const page = Number.parseInt(query.get('page') ?? '', 10);
  return Number.isSafeInteger(page) && page > 0 ? page : 1;
}

/**
 * Loads a page of a list whenever `key` changes (the search, page number and filters, joined), and
 * again when the connection comes back after a loss, cancelling the previous request so a slow answer never overwrites a newer one.
 */
export function usePagedList<T>(load: (signal: AbortSignal) => Promise<Page<T>>, key: string): PagedList<T> {
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const recoveries = useObservable(recovered);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    load(controller.signal).then(
      (loaded) => {
        setPage(loaded);
        setError(null);
        setLoading(false);
        // Past the end, say after deleting the last item of the last page: show the last page.
        if (loaded.items.length === 0 && loaded.page > 1 && loaded.total > 0) {
          navigate(withParams({ page: loaded.total_pages }), { replace: true });
        }
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setError(describeError(failure));
        setLoading(false);
      },
    );
    return () => controller.abort();
    // `load` is a new function on every render; `key` says when it asks for something else.
  }, [key, version, recoveries]);

  return { page, error, loading, reload: () => setVersion((value) => value + 1) };
}
