// How long ago something happened, as a person glancing at a dashboard reads it: "just now",
// "5 min ago", "3 h ago", "2 days ago". Whole units, rounded down, so "3 h ago" never means less
// than three hours.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** "just now" (under a minute, or a clock slightly ahead), "5 min ago", "3 h ago", "2 days ago". */
export function formatAgo(iso: string, now: Date = new Date()): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return '';
  const elapsed = now.getTime() - time;
  if (elapsed < MINUTE_MS) return 'just now';
  if (elapsed < HOUR_MS) return `${Math.floor(elapsed / MINUTE_MS)} min ago`;
  if (elapsed < 2 * DAY_MS) return `${Math.floor(elapsed / HOUR_MS)} h ago`;
  return `${Math.floor(elapsed / DAY_MS)} days ago`;
}

/** A device counts as offline once this many of its intervals passed without a reading. */
export const OFFLINE_AFTER_INTERVALS = 3;

/** "10-minute", "1-hour", "90-second": an interval's length as an adjective. */
export function intervalName(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}-hour`;
  if (seconds % 60 === 0) return `${seconds / 60}-minute`;
  return `${seconds}-second`;
}

/** "30 minutes", "3 hours", "90 seconds". */
function spanName(seconds: number): string {
  const unit = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}

export interface Liveness {
  online: boolean;
  /** The rule, said for a tooltip: why the device counts as online or offline. */
  rule: string;
}

/**
 * Whether a device is reporting: online while its newest reading is at most
 * OFFLINE_AFTER_INTERVALS of its intervals old (30 minutes for a meter sampling every 10).
 */
export function liveness(lastReading: { at: string; interval_s: number } | null, now: Date = new Date()): Liveness {
  if (!lastReading) return { online: false, rule: 'Offline: this device has not sent a reading yet.' };
  const window = OFFLINE_AFTER_INTERVALS * lastReading.interval_s;
  const why = `${OFFLINE_AFTER_INTERVALS} of its ${intervalName(lastReading.interval_s)} intervals`;
  const online = now.getTime() - Date.parse(lastReading.at) <= window * 1000;
  return online
    ? { online, rule: `Online: its last reading is at most ${spanName(window)} old (${why}).` }
    : { online, rule: `Offline: no reading for more than ${spanName(window)} (${why}).` };
}
