// How numbers, dates and durations read on screen. `locale` and `timeZone` default to the
// browser's; tests pass them explicitly.

export function formatKwh(value: number, locale?: string): string {
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 3 }).format(value)} kWh`;
}

/**
 * Reads a kWh amount as typed: "2.5", "2,5" (a decimal comma, common on phones set to European
 * locales) or "3". Returns null for anything else, including exponents and thousands separators,
 * which are more likely typos than intent in a per-hour limit.
 */
export function parseKwh(input: string): number | null {
  const text = input.trim();
  if (!/^\d+([.,]\d+)?$/.test(text)) return null;
  return Number(text.replace(',', '.'));
}

export function formatDate(iso: string, locale?: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', ...(timeZone ? { timeZone } : {}) }).format(date);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "45 seconds", "1 minute", "2 minutes 30 seconds": a wait as a person would say it. */
export function formatWait(totalSeconds: number): string {
  const seconds = Math.max(1, Math.ceil(totalSeconds));
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return plural(rest, 'second');
  return rest === 0 ? plural(minutes, 'minute') : `${plural(minutes, 'minute')} ${plural(rest, 'second')}`;
}

/** "21–40 of 42": which items of a paged list are on screen. */
export function formatRange(page: number, perPage: number, total: number): string {
  if (total === 0) return 'none';
  const first = (page - 1) * perPage + 1;
  const last = Math.min(page * perPage, total);
  return `${first}–${last} of ${total}`;
}

/** "23 Nov 2026, 10:00–11:00 UTC": the hour an alert or a reading is about, in the API's UTC. */
export function formatHourUtc(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
  const hour = date.getUTCHours();
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${day}, ${pad(hour)}:00–${pad((hour + 1) % 24)}:00 UTC`;
}

/** "23 Nov 2026, 11:02 UTC". */
export function formatTimeUtc(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' })
    .format(date)
    .concat(' UTC');
}

/** When a chat message was written, in the device's time: "10:42", or "Nov 23, 10:42" on another day. */
export function formatChatTime(iso: string, locale?: string, now = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(locale, {
    ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
    hour: '2-digit',
    minute: '2-digit',
  }).format(date);
}

/** "22:10": the time of day of an instant, in the same time as formatHourUtc and formatTimeUtc. */
export function formatClockUtc(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'UTC',
    hourCycle: 'h23',
  }).format(date);
}

/** "2.2 kW": an average power. */
export function formatKw(value: number, locale?: string): string {
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value)} kW`;
}
