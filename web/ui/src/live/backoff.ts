// How long to wait before reconnecting: exponential, capped, with jitter so that many clients cut
// off together (a server restart) do not all come back in the same instant.

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;

/**
 * The delay before reconnection attempt `attempt` (0 for the first after a drop): a random value
 * between half and all of min(max, base × 2^attempt). `random` is in [0, 1).
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
