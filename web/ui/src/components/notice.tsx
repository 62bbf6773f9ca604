/**
 * Says what an action did ("User ana created."). Always in the page, even when empty, because
 * screen readers only announce changes to live regions that already exist.
 */
export function Notice({ message }: { message: string }) {
  return (
    <p class="notice" role="status">
      {message}
    </p>
  );
}
