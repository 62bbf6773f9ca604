// The consumption view's words: what a chart shows, said as sentences for everyone (and as the
// chart's text alternative).
import { formatKwh, formatMoney, plural } from '../format/format';
import { PREVIOUS_NAMES, slotName, slotStarts, type Period } from './period';
import { changeFrom, peakOf, stepsOverLimit, totalOf, type Measured } from './series';

export interface SummaryInput {
  period: Period;
  /** One value per step; null where nothing was measured. */
  values: readonly Measured[];
  /** The previous period's values, when comparing. */
  previous: readonly Measured[] | null;
  /** The device's hourly limit; null for all devices together. */
  limit: number | null;
  /** What each step cost and the previous period's, in `currency`; absent without a tariff. */
  money?: { currency: string; costs: readonly Measured[]; previous: readonly Measured[] | null } | null;
  locale?: string;
}

/** "Cost RON 4.69.", and when comparing "RON 1.20 (34 %) more than the previous day (RON 3.49)." */
export function describeCost(money: NonNullable<SummaryInput['money']>, period: Period, locale?: string): string[] {
  const total = totalOf(money.costs);
  if (total === null) return [];
  const { currency } = money;
  const sentences = [`Cost ${formatMoney(total, currency, locale)}.`];
  const previousTotal = money.previous ? totalOf(money.previous) : null;
  if (previousTotal !== null) {
    const name = PREVIOUS_NAMES[period.kind];
    const change = changeFrom(previousTotal, total);
    const difference = Math.round(change.kwh * 100) / 100;
    const before = formatMoney(previousTotal, currency, locale);
    if (difference === 0) {
      sentences.push(`The same cost as the ${name} (${before}).`);
    } else {
      const percent = change.percent === null ? '' : ` (${Math.abs(change.percent)} %)`;
      const word = difference > 0 ? 'more' : 'less';
      sentences.push(
        `${formatMoney(Math.abs(difference), currency, locale)}${percent} ${word} than the ${name} (${before}).`,
      );
    }
  }
  return sentences;
}

/** "1.5 kWh (25 %) more than the previous day", "the same as the previous week". */
export function describeChange(previousTotal: number, currentTotal: number, period: Period, locale?: string): string {
  const name = PREVIOUS_NAMES[period.kind];
  const change = changeFrom(previousTotal, currentTotal);
  if (change.kwh === 0) return `the same as the ${name}`;
  const amount = formatKwh(Math.abs(change.kwh), locale);
  const percent = change.percent === null ? '' : ` (${Math.abs(change.percent)} %)`;
  return `${amount}${percent} ${change.kwh > 0 ? 'more' : 'less'} than the ${name}`;
}

/** What the total line says: the kWh measured, or that nothing was (which is not 0 kWh). */
export function describeTotal(values: readonly Measured[], locale?: string): string {
  const total = totalOf(values);
  return total === null ? NO_READINGS : formatKwh(total, locale);
}

/** Said of a period, a table's total or a chart in which no step was measured. */
export const NO_READINGS = 'No readings for this period';

export function summarise(input: SummaryInput): string[] {
  const money = input.money ? describeCost(input.money, input.period, input.locale) : [];
  const sentences = summariseKwh(input);
  // Money right after the kWh total, before the details.
  return sentences.length > 0 ? [sentences[0]!, ...money, ...sentences.slice(1)] : money;
}

function summariseKwh({ period, values, previous, limit, locale }: SummaryInput): string[] {
  const total = totalOf(values);
  const name = PREVIOUS_NAMES[period.kind];
  const previousTotal = previous ? totalOf(previous) : null;
  if (total === null) {
    const sentences = [`${NO_READINGS}.`];
    if (previous && previousTotal !== null) {
      sentences.push(`The ${name}: ${formatKwh(previousTotal, locale)}.`);
    }
    return sentences;
  }
  const sentences = [`Total ${formatKwh(total, locale)}.`];
  const peak = peakOf(values);
  const stepWord = period.kind === 'day' ? 'hour' : 'day';
  if (peak) {
    const when = slotName(period, slotStarts(period)[peak.index]!, locale);
    sentences.push(`Highest ${stepWord}: ${when}, ${formatKwh(peak.kwh, locale)}.`);
  } else {
    sentences.push('Nothing was used.');
  }
  if (limit !== null && period.kind === 'day') {
    const over = stepsOverLimit(values, limit).length;
    sentences.push(
      over === 0
        ? `No hour went over the limit of ${formatKwh(limit, locale)}.`
        : `${plural(over, 'hour')} over the limit of ${formatKwh(limit, locale)}.`,
    );
  }
  if (previous) {
    if (previousTotal === null) {
      sentences.push(`No readings for the ${name} to compare with.`);
    } else {
      const change = describeChange(previousTotal, total, period, locale);
      sentences.push(`${change.charAt(0).toUpperCase()}${change.slice(1)} (${formatKwh(previousTotal, locale)}).`);
    }
  }
  const missing = values.filter((value) => value === null).length;
  if (missing > 0) sentences.push(`No readings for ${missing} of ${plural(values.length, stepWord)}.`);
  return sentences;
}
