import type { Page } from '../api/types';
import { formatRange } from '../format/format';
import { withParams } from '../router/location';
import { Link } from './link';

/** Where we are in a paged list, with links (real addresses) to the pages either side. */
export function Pagination({ page, noun }: { page: Page<unknown>; noun: string }) {
  const { page: number, per_page, total, total_pages } = page;
  return (
    <nav class="pagination" aria-label={`Pages of ${noun}`}>
      <p class="pagination-range">
        {noun.charAt(0).toUpperCase() + noun.slice(1)} {formatRange(number, per_page, total)}
      </p>
      {total_pages > 1 && (
        <div class="pagination-links">
          {number > 1 ? (
            <Link class="button" href={withParams({ page: number - 1 })} rel="prev">
              Previous<span class="visually-hidden"> page</span>
            </Link>
          ) : null}
          <span class="pagination-current">
            Page {number} of {total_pages}
          </span>
          {number < total_pages ? (
            <Link class="button" href={withParams({ page: number + 1 })} rel="next">
              Next<span class="visually-hidden"> page</span>
            </Link>
          ) : null}
        </div>
      )}
    </nav>
  );
}
