// The periods the consumption view shows, all in UTC like the API: a day at hourly steps, a week
// (Monday to Sunday) or a calendar month at daily steps, and the period before each to compare
// with. Dates are "YYYY-MM-DD" strings, so they go into addresses and API queries as they are.
import type { Step } from '../api/types';

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

/** Today's date in UTC, the API's calendar. */
export function todayUtc(now: Date = new Date()): string {
  return fromDate(now);
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

/** The start of every step of the period, as RFC 3339 UTC instants: 24 hours or 7 to 31 days. */
export function slotStarts(period: Period): string[] {
  const from = toDate(period.start).getTime();
  const to = toDate(periodEnd(period)).getTime();
  const step = period.kind === 'day' ? 3600 * 1000 : DAY_MS;
  const starts: string[] = [];
  for (let time = from; time < to; time += step) starts.push(new Date(time).toISOString().replace('.000Z', 'Z'));
  return starts;
}

function utcFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions) {
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' });
}

/** "08:00" for an hour of a day, "Mon 23" for a day of a week, "23" for a day of a month. */
export function slotLabel(period: Period, slotStart: string, locale?: string): string {
  const date = new Date(slotStart);
  if (period.kind === 'day') return `${String(date.getUTCHours()).padStart(2, '0')}:00`;
  if (period.kind === 'week') {
    // Written out, as some locales put the day first ("23 Mon").
    return `${utcFormat(locale, { weekday: 'short' }).format(date)} ${date.getUTCDate()}`;
  }
  return String(date.getUTCDate());
}

/** The step in full words, for tables and screen readers: "08:00–09:00", "Monday 23 November". */
export function slotName(period: Period, slotStart: string, locale?: string): string {
  const date = new Date(slotStart);
  if (period.kind === 'day') {
    const hour = date.getUTCHours();
    return `${String(hour).padStart(2, '0')}:00–${String((hour + 1) % 24).padStart(2, '0')}:00`;
  }
  return utcFormat(locale, { weekday: 'long', day: 'numeric', month: 'long' }).format(date);
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
