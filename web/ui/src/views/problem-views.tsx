import { Link } from '../components/link';

export function ForbiddenView({ home }: { home: string }) {
  return (
    <div class="card">
      <p>This page is for administrators. Your account cannot open it.</p>
      <p>
        <Link href={home}>Go to your start page</Link>
      </p>
    </div>
  );
}

export function NotFoundView() {
  return (
    <div class="card">
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <Link href="/">Go to the start page</Link>
      </p>
    </div>
  );
}
