import { useEffect, useId, useState } from 'preact/hooks';
import type { Device, DeviceDay } from '../api/types';
import { isSnoozed, SNOOZE_CHOICES, type SnoozeChoice } from '../alerts/describe';
import { Link } from '../components/link';
import { Sparkline } from '../components/sparkline';
import { formatClock, formatKwh, formatTime, plural, zoneAbbreviation } from '../format/format';
import { formatAgo, liveness } from '../format/relative';
import { peakOf } from '../consumption/series';

export interface DeviceToday {
  /** Today's hours in the user's zone; null while loading or when it could not be loaded. */
  day: DeviceDay | null;
  /** Open incidents about the last 24 hours (older ones do not make the card red). */
  openIncidents: number;
}

/** When the hour at `index` of today starts, on the user's clock. */
function hourName(index: number, hourStarts: readonly string[] | undefined): string {
  const start = hourStarts?.[index];
  return start ? formatClock(start) : `${String(index).padStart(2, '0')}:00`;
}

/** Today's hours are the user's: "Today (GMT+2)". */
function todayName(): string {
  return `Today (${zoneAbbreviation(new Date())})`;
}

export function DeviceCard({
  device,
  today,
  hourStarts,
  now = new Date(),
  onAcknowledge,
  onSnooze,
  onForecastAlerts,
}: {
  device: Device;
  today: DeviceToday | null;
  /** When each of today's hours starts (RFC 3339), as the day's answer lists them. */
  hourStarts?: readonly string[] | undefined;
  now?: Date;
  /** Acknowledges every open alert of the device. */
  onAcknowledge?: () => Promise<void>;
  /** Snoozes the device's alerts, or (null) ends the snooze. */
  onSnooze?: (choice: SnoozeChoice | null) => Promise<void>;
  /** Turns the device's early warnings (forecast alerts) on or off. */
  onForecastAlerts?: (enabled: boolean) => Promise<void>;
}) {
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const alerting = (today?.openIncidents ?? 0) > 0;
  const snoozed = isSnoozed(device.snoozed_until);
  // The switch shows what was chosen at once, and what is stored once the list reloads (or, if
  // storing failed, goes back to it).
  const [forecastAlerts, setForecastAlerts] = useState(device.forecast_alerts);
  useEffect(() => setForecastAlerts(device.forecast_alerts), [device.forecast_alerts]);
  const last = device.last_reading ?? null;
  const status = liveness(last, now);
  async function act(action: () => Promise<void>) {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  }
  return (
    <article class={alerting ? 'card device-card device-card--alerting' : 'card device-card'} aria-labelledby={titleId}>
      <div class="device-card-head">
        <h2 id={titleId}>{device.name}</h2>
        <span class={`status-tag device-status status-tag--${status.online ? 'live' : 'down'}`} title={status.rule}>
          <span aria-hidden="true">{status.online ? 'Online' : 'Offline'}</span>
          <span class="visually-hidden">{status.rule}</span>
        </span>
      </div>
      {alerting && (
        <p class="device-alerting">
          <span aria-hidden="true">⚠ </span>
          <Link href={`/alerts?device=${encodeURIComponent(device.id)}&acknowledged=false`}>
            {plural(today!.openIncidents, 'incident')} in the last 24 h to acknowledge
          </Link>
          {onAcknowledge && (
            <button type="button" class="button button--small" disabled={busy} onClick={() => void act(onAcknowledge)}>
              Acknowledge<span class="visually-hidden"> the alerts of {device.name}</span>
            </button>
          )}
        </p>
      )}
      {onSnooze && (
        <div class="device-snooze">
          {snoozed ? (
            <>
              <span class="snoozed" title={formatTime(device.snoozed_until!)}>
                Snoozed until {formatClock(device.snoozed_until!)}
              </span>
              <button
                type="button"
                class="button button--small"
                disabled={busy}
                onClick={() => void act(() => onSnooze(null))}
              >
                Turn off<span class="visually-hidden"> the snooze of {device.name}</span>
              </button>
            </>
          ) : (
            <label>
              <span>Snooze alerts</span>
              <select
                disabled={busy}
                value=""
                onChange={(event) => {
                  const choice = (event.currentTarget as HTMLSelectElement).value as SnoozeChoice | '';
                  if (choice) void act(() => onSnooze(choice));
                }}
              >
                <option value="">Not snoozed</option>
                {SNOOZE_CHOICES.map((choice) => (
                  <option key={choice.value} value={choice.value}>
                    {choice.label}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      )}
      {onForecastAlerts && (
        <label class="device-forecast">
          <input
            type="checkbox"
            checked={forecastAlerts}
            disabled={busy}
            onChange={(event) => {
              const enabled = (event.currentTarget as HTMLInputElement).checked;
              setForecastAlerts(enabled);
              void act(() => onForecastAlerts(enabled)).catch(() => setForecastAlerts(!enabled));
            }}
          />
          <span>
            Warn me before the hourly limit is crossed
            <span class="visually-hidden"> by {device.name}</span>
          </span>
        </label>
      )}
      <dl class="facts">
        <div>
          <dt>Location</dt>
          <dd>{device.location || 'Not given'}</dd>
        </div>
        <div>
          <dt>Hourly limit</dt>
          <dd>{formatKwh(device.max_hourly_kwh)}</dd>
        </div>
        <div>
          <dt>Last reading</dt>
          <dd class="last-reading">
            {last ? (
              <>
                <time dateTime={last.at} title={formatTime(last.at)}>
                  {formatAgo(last.at, now)}
                </time>
                <span class="fact-detail">
                  {formatKwh(last.kwh)} at {formatTime(last.at)}
                </span>
              </>
            ) : (
              'No readings yet'
            )}
          </dd>
        </div>
        {today?.day && <TodayFacts day={today.day} limit={device.max_hourly_kwh} hourStarts={hourStarts} />}
      </dl>
      {today?.day && today.day.total_kwh != null && (
        <Sparkline
          values={today.day.hours}
          limit={device.max_hourly_kwh}
          label={`${todayName()} by the hour, against the limit of ${formatKwh(device.max_hourly_kwh)}`}
        />
      )}
      {device.description && <p class="device-description">{device.description}</p>}
      <p class="device-links">
        <Link href={`/consumption?device=${encodeURIComponent(device.id)}`}>
          Consumption<span class="visually-hidden"> of {device.name}</span>
        </Link>
      </p>
    </article>
  );
}

function TodayFacts({
  day,
  limit,
  hourStarts,
}: {
  day: DeviceDay;
  limit: number;
  hourStarts: readonly string[] | undefined;
}) {
  const peak = peakOf(day.hours);
  const share = peak ? Math.round((peak.kwh / limit) * 100) : 0;
  if (day.total_kwh == null) {
    return (
      <div>
        <dt>{todayName()}</dt>
        <dd>No readings today</dd>
      </div>
    );
  }
  return (
    <>
      <div>
        <dt>{todayName()}</dt>
        <dd>{formatKwh(day.total_kwh)}</dd>
      </div>
      <div>
        <dt>Highest hour</dt>
        <dd class={peak && peak.kwh > limit ? 'over-limit' : undefined}>
          {peak ? (
            <>
              {formatKwh(peak.kwh)} at {hourName(peak.index, hourStarts)}
              <span class="fact-detail">
                {peak.kwh > limit ? `over the limit (${share} %)` : `${share} % of the limit`}
              </span>
            </>
          ) : (
            'Nothing used yet'
          )}
        </dd>
      </div>
    </>
  );
}
