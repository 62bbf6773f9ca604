// The periods the consumption view shows: a day at hourly steps, a week (Monday to Sunday) or a
// calendar month at daily steps, and the period before each to compare with. Dates are
// "YYYY-MM-DD" strings, days of the user's time zone (format/format.ts), so they go into
// addresses and API queries as they are; the API counts them in the same zone (`tz`). Steps
// start at local midnight, so the days the clocks change have 23 or 25 hours.
import type { Step } from '../api/types';
import { formatClock, isoDateIn, timeZone, zoneAbbreviation } from '../format/format';

export type PeriodKind = 'day' | 'week' | 'month';

export const PERIOD_KINDS: readonly PeriodKind[] = ['day', 'week', 'month'];

export interface Period {
  kind: PeriodKind;
  /** The first day, YYYY-MM-DD: the day itself, a Monday, or the 1st of a month. */
  start: string;
}

const DAY_MS = 24 * 3600 * 1000;

function toDate(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

function fromDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A real calendar date written YYYY-MM-DD, or null. */
export function parseDate(text: string | null | undefined): string | null {
  if (!text || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const date = toDate(text);
  return !Number.isNaN(date.getTime()) && fromDate(date) === text ? text : null;
}

export function parsePeriodKind(text: string | null | undefined): PeriodKind {
  return PERIOD_KINDS.find((kind) => kind === text) ?? 'day';
}

/** Today's date in UTC. */
export function todayUtc(now: Date = new Date()): string {
  return fromDate(now);
}

/** Today's date in the user's time zone (or `zone`). */
export function todayIn(zone = timeZone(), now: Date = new Date()): string {
  return isoDateIn(now, zone);
}

/** How far the zone's clocks are ahead of UTC at `time`, in milliseconds. */
function offsetAt(time: number, zone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(new Date(time))
      .map((part) => [part.type, Number(part.value)]),
  );
  const local = Date.UTC(
    parts['year']!,
    parts['month']! - 1,
    parts['day'],
    parts['hour'],
    parts['minute'],
    parts['second'],
  );
  return local - Math.floor(time / 1000) * 1000;
}

/**
 * The first instant of `date` in `zone`, in milliseconds: local midnight or, where a clock change
 * skips midnight, the first local time that exists. The API counts days from the same instant.
 */
export function startOfDay(date: string, zone = timeZone()): number {
  const midnight = toDate(date).getTime();
  const first = midnight - offsetAt(midnight, zone);
  const second = midnight - offsetAt(first, zone);
  const inDay = [first, second].filter((time) => isoDateIn(new Date(time), zone) === date);
  return inDay.length ? Math.min(...inDay) : first;
}

export function addDays(date: string, days: number): string {
  return fromDate(new Date(toDate(date).getTime() + days * DAY_MS));
}

/** The 1st of the month `months` after the one `date` is in. */
export function addMonths(date: string, months: number): string {
  const day = toDate(date);
  return fromDate(new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + months, 1)));
}

/** The day, week (from Monday) or month that contains `date`. */
export function periodContaining(kind: PeriodKind, date: string): Period {
  switch (kind) {
    case 'day':
      return { kind, start: date };
    case 'week': {
      // getUTCDay: Sunday 0 … Saturday 6; weeks start on Monday (ISO 8601).
      const sinceMonday = (toDate(date).getUTCDay() + 6) % 7;
      return { kind, start: addDays(date, -sinceMonday) };
    }
    case 'month':
      return { kind, start: addMonths(date, 0) };
  }
}

/** The day after the period, exclusive, as the API's `to` wants it. */
export function periodEnd(period: Period): string {
  switch (period.kind) {
    case 'day':
      return addDays(period.start, 1);
    case 'week':
      return addDays(period.start, 7);
    case 'month':
      return addMonths(period.start, 1);
  }
}

export function previousPeriod(period: Period): Period {
  switch (period.kind) {
    case 'day':
      return { kind: 'day', start: addDays(period.start, -1) };
    case 'week':
      return { kind: 'week', start: addDays(period.start, -7) };
    case 'month':
      return { kind: 'month', start: addMonths(period.start, -1) };
  }
}

export function nextPeriod(period: Period): Period {
  return period.kind === 'month'
    ? { kind: 'month', start: addMonths(period.start, 1) }
    : { kind: period.kind, start: periodEnd(period) };
}

/** Whether the period has begun by `today`; later ones can only hold zeros. */
export function hasBegun(period: Period, today: string): boolean {
  return period.start <= today;
}

/** Hourly steps for a day, daily steps for a week or month. */
export function stepOf(kind: PeriodKind): Step {
  return kind === 'day' ? 'hour' : 'day';
}

export interface SeriesRequest {
  from: string;
  to: string;
  step: Step;
}

/** The series request covering the period. */
export function seriesQuery(period: Period): SeriesRequest {
  return { from: period.start, to: periodEnd(period), step: stepOf(period.kind) };
}

const HOUR_MS = 3600 * 1000;

function instant(time: number): string {
  return new Date(time).toISOString().replace('.000Z', 'Z');
}

/**
 * The start of every step of the period, as RFC 3339 UTC instants: the hours of a local day (24,
 * or 23 or 25 when the clocks change) or the local midnights of 7 to 31 days.
 */
export function slotStarts(period: Period, zone = timeZone()): string[] {
  const starts: string[] = [];
  if (period.kind === 'day') {
    const to = startOfDay(periodEnd(period), zone);
    // In zones a fraction of an hour off UTC, the day's hours are the UTC hours starting in it.
    for (let time = Math.ceil(startOfDay(period.start, zone) / HOUR_MS) * HOUR_MS; time < to; time += HOUR_MS) {
      starts.push(instant(time));
    }
    return starts;
  }
  const end = periodEnd(period);
  for (let day = period.start; day < end; day = addDays(day, 1)) starts.push(instant(startOfDay(day, zone)));
  return starts;
}

function zonedFormat(locale: string | undefined, zone: string, options: Intl.DateTimeFormatOptions) {
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: zone });
}

/** "08:00" for an hour of a day, "Mon 23" for a day of a week, "23" for a day of a month. */
export function slotLabel(period: Period, slotStart: string, locale?: string, zone = timeZone()): string {
  const date = new Date(slotStart);
  if (period.kind === 'day') return formatClock(date, zone);
  const dayOfMonth = Number(isoDateIn(date, zone).slice(8, 10));
  if (period.kind === 'week') {
    // Written out, as some locales put the day first ("23 Mon").
    return `${zonedFormat(locale, zone, { weekday: 'short' }).format(date)} ${dayOfMonth}`;
  }
  return String(dayOfMonth);
}

/** The step in full words, for tables and screen readers: "08:00–09:00", "Monday 23 November". */
export function slotName(period: Period, slotStart: string, locale?: string, zone = timeZone()): string {
  const date = new Date(slotStart);
  if (period.kind === 'day') {
    const end = new Date(date.getTime() + HOUR_MS);
    const [from, to] = [formatClock(date, zone), formatClock(end, zone)];
    // The hour the clocks go back in starts and ends at the same time of day: name both offsets.
    if (from === to)
      return `${from} ${zoneAbbreviation(date, locale, zone)}–${to} ${zoneAbbreviation(end, locale, zone)}`;
    return `${from}–${to}`;
  }
  return zonedFormat(locale, zone, { weekday: 'long', day: 'numeric', month: 'long' }).format(date);
}

function utcFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions) {
  return zonedFormat(locale, 'UTC', options);
}

/** "Tuesday, 24 November 2026", "23–29 November 2026", "November 2026" (locale-dependent). */
export function periodTitle(period: Period, locale?: string): string {
  const start = toDate(period.start);
  switch (period.kind) {
    case 'day':
      return utcFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(start);
    case 'week':
      return utcFormat(locale, { day: 'numeric', month: 'long', year: 'numeric' }).formatRange(
        start,
        toDate(addDays(period.start, 6)),
      );
    case 'month':
      return utcFormat(locale, { month: 'long', year: 'numeric' }).format(start);
  }
}

export const PREVIOUS_NAMES: Record<PeriodKind, string> = {
  day: 'previous day',
  week: 'previous week',
  month: 'previous month',
};
