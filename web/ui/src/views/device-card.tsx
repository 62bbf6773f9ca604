import { useId } from 'preact/hooks';
import type { Device, DeviceDay } from '../api/types';
import { Link } from '../components/link';
import { Sparkline } from '../components/sparkline';
import { formatClock, formatKwh, plural, zoneAbbreviation } from '../format/format';
import { peakOf } from '../consumption/series';

export interface DeviceToday {
  /** Today's hours in the user's zone; null while loading or when it could not be loaded. */
  day: DeviceDay | null;
  /** Unacknowledged alerts about today's hours. */
  openAlerts: number;
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
}: {
  device: Device;
  today: DeviceToday | null;
  /** When each of today's hours starts (RFC 3339), as the day's answer lists them. */
  hourStarts?: readonly string[] | undefined;
}) {
  const titleId = useId();
  const alerting = (today?.openAlerts ?? 0) > 0;
  return (
    <article class={alerting ? 'card device-card device-card--alerting' : 'card device-card'} aria-labelledby={titleId}>
      <h2 id={titleId}>{device.name}</h2>
      {alerting && (
        <p class="device-alerting">
          <span aria-hidden="true">⚠ </span>
          <Link href={`/alerts?device=${encodeURIComponent(device.id)}&acknowledged=false`}>
            {plural(today!.openAlerts, 'alert')} today to acknowledge
          </Link>
        </p>
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
        {today?.day && <TodayFacts day={today.day} limit={device.max_hourly_kwh} hourStarts={hourStarts} />}
      </dl>
      {today?.day && (
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
