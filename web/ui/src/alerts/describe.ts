// How an alert and an incident read, built from the alert's fields (value, limit, the hour and,
// for a peak or a forecast, its reading) rather than from the server's sentence, so units read naturally:
// a peak is power (kW) against the limit as power, an hour's total is energy (kWh).
import type { Alert, AlertKind } from '../api/types';
import { formatClock, formatKw, formatKwh } from '../format/format';

export const KIND_NAMES: Record<AlertKind, string> = {
  overconsumption: 'Over the hourly limit',
  peak: 'Peak above the limit',
  forecast: 'Forecast to cross the limit',
};

/** Overconsumption, peak, then forecast, as the API orders an incident's kinds. */
export const KIND_ORDER: AlertKind[] = ['overconsumption', 'peak', 'forecast'];

/** "Over the hourly limit and peak above the limit". */
export function kindsTitle(kinds: readonly AlertKind[]): string {
  const names = KIND_ORDER.filter((kind) => kinds.includes(kind)).map((kind) => KIND_NAMES[kind]);
  return names.map((name, index) => (index === 0 ? name : name.toLowerCase())).join(' and ');
}

/** "10 min", "7 s": a reading's interval. */
function intervalWords(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

const HOUR_MS = 3_600_000;

/**
 * What was measured against what. A peak: "2.2 kW average, 10 min ending 22:10 — limit 2 kW";
 * an hour's total: "2.6 kWh in the hour 14:00–15:00 — limit 2 kWh"; a forecast: "2.4 kWh
 * forecast for the hour 14:00–15:00 at 14:20, 40 min left — limit 2 kWh".
 */
export function describeAlert(alert: Alert, locale?: string): string {
  if (alert.kind === 'peak') {
    const reading =
      alert.reading_at && alert.interval_s
        ? `, ${intervalWords(alert.interval_s)} ending ${formatClock(alert.reading_at)}`
        : '';
    return `${formatKw(alert.value, locale)} average${reading} — limit ${formatKw(alert.limit_kwh, locale)}`;
  }
  const end = new Date(new Date(alert.hour).getTime() + HOUR_MS).toISOString();
  const hours = `${formatClock(alert.hour)}–${formatClock(end)}`;
  if (alert.kind === 'forecast') {
    const at = alert.reading_at ? ` at ${formatClock(alert.reading_at)}` : '';
    const left = alert.reading_at
      ? `, ${Math.max(0, Math.ceil((new Date(end).getTime() - new Date(alert.reading_at).getTime()) / 60_000))} min left`
      : '';
    return `${formatKwh(alert.value, locale)} forecast for the hour ${hours}${at}${left} — limit ${formatKwh(alert.limit_kwh, locale)}`;
  }
  return `${formatKwh(alert.value, locale)} in the hour ${hours} — limit ${formatKwh(alert.limit_kwh, locale)}`;
}

/** The incident an alert belongs to: its device and hour. */
export function incidentKey(alert: Pick<Alert, 'device_id' | 'hour'>): string {
  return `${alert.device_id} ${new Date(alert.hour).getTime()}`;
}

export type SnoozeChoice = '1h' | '8h' | 'tomorrow';

export const SNOOZE_CHOICES: { value: SnoozeChoice; label: string }[] = [
  { value: '1h', label: 'For 1 hour' },
  { value: '8h', label: 'For 8 hours' },
  { value: 'tomorrow', label: 'Until tomorrow morning' },
];

/** When tomorrow's snooze ends: 07:00 of the next day on this device's clock. */
export const MORNING_HOUR = 7;

/** The instant a snooze chosen `now` ends, as the API takes it. */
export function snoozeUntil(choice: SnoozeChoice, now = new Date()): string {
  if (choice === '1h') return new Date(now.getTime() + HOUR_MS).toISOString();
  if (choice === '8h') return new Date(now.getTime() + 8 * HOUR_MS).toISOString();
  const morning = new Date(now);
  morning.setDate(morning.getDate() + 1);
  morning.setHours(MORNING_HOUR, 0, 0, 0);
  return morning.toISOString();
}

/** Whether a device is snoozed now (the API leaves out or nulls a snooze that is over). */
export function isSnoozed(snoozedUntil: string | null | undefined, now = new Date()): boolean {
  return snoozedUntil != null && new Date(snoozedUntil).getTime() > now.getTime();
}

/** How far back an open incident still makes a card red: older ones wait in the alert centre. */
const RECENT_MS = 24 * 3_600_000;

/** The hour an incident must be about, at the earliest, to count as recent. */
export function recentSince(now = new Date()): string {
  const since = new Date(now.getTime() - RECENT_MS);
  since.setUTCMinutes(0, 0, 0);
  return since.toISOString();
}

/** Open incidents per device. */
export function countByDevice(incidents: readonly { device_id: string; open: boolean }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const incident of incidents) {
    if (incident.open) counts.set(incident.device_id, (counts.get(incident.device_id) ?? 0) + 1);
  }
  return counts;
}
