// How numbers, dates and durations read on screen. `locale` defaults to the browser's; times are
// shown in the signed-in user's time zone (`setTimeZone`, kept in step with the session by
// services.ts), else the browser's. Tests pass both explicitly.
import { observable } from '../lib/observable';

/** The user's chosen IANA zone; null for the browser's own. */
export const timeZoneSetting = observable<string | null>(null);

/** The browser's own IANA zone, such as "Europe/Bucharest". */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Follows the user's setting from now on; null or a zone this browser does not know: its own. */
export function setTimeZone(zone: string | null | undefined): void {
  timeZoneSetting.set(zone && isKnownTimeZone(zone) ? zone : null);
}

/** The zone times are shown in now: the user's setting, else the browser's. */
export function timeZone(): string {
  return timeZoneSetting.get() ?? browserTimeZone();
}

export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every zone to choose from: UTC, then the IANA zones this browser knows. */
export function timeZoneChoices(): string[] {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...known.filter((zone) => zone !== 'UTC')];
}

/** "GMT+2", "EEST", "UTC": how the zone is abbreviated at that instant in the locale. */
export function zoneAbbreviation(iso: string | Date, locale?: string, zone = timeZone()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const part = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' })
    .formatToParts(date)
    .find((item) => item.type === 'timeZoneName');
  return part?.value ?? zone;
}

/** The calendar date of an instant in the zone, YYYY-MM-DD, the one format dates are typed in. */
export function isoDateIn(iso: string | Date, zone = timeZone()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    date,
  );
}

/** "08:00": the 24-hour clock time of an instant in the zone. */
export function formatClock(iso: string | Date, zone = timeZone()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .formatToParts(date)
    .reduce<Record<string, string>>((found, part) => ({ ...found, [part.type]: part.value }), {});
  return `${parts['hour']}:${parts['minute']}`;
}

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

/** "24 Nov 2026": the day of an instant, in the user's zone unless `zone` names another. */
export function formatDate(iso: string, locale?: string, zone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: zone ?? timeZone() }).format(date);
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

/** "23 Nov 2026, 12:00–13:00 GMT+2": the hour an alert or a reading is about, in the user's zone. */
export function formatHour(iso: string, locale?: string, zone = timeZone()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: zone }).format(date);
  const end = new Date(date.getTime() + 3600_000);
  return `${day}, ${formatClock(date, zone)}–${formatClock(end, zone)} ${zoneAbbreviation(date, locale, zone)}`;
}

/** "23 Nov 2026, 13:02 GMT+2": an instant on the 24-hour clock in the user's zone. */
export function formatTime(iso: string, locale?: string, zone = timeZone()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: zone }).format(date);
  return `${day}, ${formatClock(date, zone)} ${zoneAbbreviation(date, locale, zone)}`;
}

/**
 * When a chat message was written, on the 24-hour clock in the user's zone: "22:42", or
 * "Nov 23, 22:42" on another day.
 */
export function formatChatTime(iso: string, locale?: string, now = new Date(), zone = timeZone()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  if (isoDateIn(date, zone) === isoDateIn(now, zone)) return formatClock(date, zone);
  const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: zone }).format(date);
  return `${day}, ${formatClock(date, zone)}`;
}

/** "2.2 kW": an average power. */
export function formatKw(value: number, locale?: string): string {
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value)} kW`;
}

/** "RON 4.69" or "4,69 RON", as the locale writes money; amounts come from the API as exact decimal strings. */
export function formatMoney(value: number | string, currency: string, locale?: string): string {
  const amount = typeof value === 'string' ? Number(value) : value;
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }).format(amount);
  } catch {
    // A code this browser's Intl does not know: still the amount and the code.
    return `${amount.toFixed(2)} ${currency}`;
  }
}
