import type { Page } from '../api/types';
import { formatRange, plural } from '../format/format';
import { withParams } from '../router/location';
import { Link } from './link';

/** How many there are and, over several pages, links (real addresses) to the pages either side. */
export function Pagination({ page, noun }: { page: Page<unknown>; noun: { one: string; many: string } }) {
  const { page: number, per_page, total, total_pages } = page;
  if (total_pages <= 1) return <p class="pagination-range">{plural(total, noun.one, noun.many)}</p>;
  return (
    <nav class="pagination" aria-label={`Pages of ${noun.many}`}>
      <p class="pagination-range">
        {noun.many.charAt(0).toUpperCase() + noun.many.slice(1)} {formatRange(number, per_page, total)}
      </p>
      <div class="pagination-links">
        {number > 1 && (
          <Link class="button" href={withParams({ page: number - 1 })} rel="prev">
            Previous<span class="visually-hidden"> page</span>
          </Link>
        )}
        <span class="pagination-current">
          Page {number} of {total_pages}
        </span>
        {number < total_pages && (
          <Link class="button" href={withParams({ page: number + 1 })} rel="next">
            Next<span class="visually-hidden"> page</span>
          </Link>
        )}
      </div>
    </nav>
  );
}
