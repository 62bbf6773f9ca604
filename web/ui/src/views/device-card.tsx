import { useId } from 'preact/hooks';
import type { Device, DeviceDay } from '../api/types';
import { Link } from '../components/link';
import { Sparkline } from '../components/sparkline';
import { formatKwh, formatTimeUtc, plural } from '../format/format';
import { formatAgo, liveness } from '../format/relative';
import { peakOf } from '../consumption/series';

export interface DeviceToday {
  /** Today's hours (UTC); null while loading or when it could not be loaded. */
  day: DeviceDay | null;
  /** Unacknowledged alerts about today's hours. */
  openAlerts: number;
}

function hourName(index: number): string {
  return `${String(index).padStart(2, '0')}:00`;
}

export function DeviceCard({
  device,
  today,
  now = new Date(),
}: {
  device: Device;
  today: DeviceToday | null;
  now?: Date;
}) {
  const titleId = useId();
  const alerting = (today?.openAlerts ?? 0) > 0;
  const last = device.last_reading ?? null;
  const status = liveness(last, now);
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
        <div>
          <dt>Last reading</dt>
          <dd class="last-reading">
            {last ? (
              <>
                <time dateTime={last.at} title={formatTimeUtc(last.at)}>
                  {formatAgo(last.at, now)}
                </time>
                <span class="fact-detail">
                  {formatKwh(last.kwh)} at {formatTimeUtc(last.at)}
                </span>
              </>
            ) : (
              'No readings yet'
            )}
          </dd>
        </div>
        {today?.day && <TodayFacts day={today.day} limit={device.max_hourly_kwh} />}
      </dl>
      {today?.day && today.day.total_kwh != null && (
        <Sparkline
          values={today.day.hours}
          limit={device.max_hourly_kwh}
          label={`Today by the hour (UTC), against the limit of ${formatKwh(device.max_hourly_kwh)}`}
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

function TodayFacts({ day, limit }: { day: DeviceDay; limit: number }) {
  const peak = peakOf(day.hours);
  const share = peak ? Math.round((peak.kwh / limit) * 100) : 0;
  if (day.total_kwh == null) {
    return (
      <div>
        <dt>Today (UTC)</dt>
        <dd>No readings today</dd>
      </div>
    );
  }
  return (
    <>
      <div>
        <dt>Today (UTC)</dt>
        <dd>{formatKwh(day.total_kwh)}</dd>
      </div>
      <div>
        <dt>Highest hour</dt>
        <dd class={peak && peak.kwh > limit ? 'over-limit' : undefined}>
          {peak ? (
            <>
              {formatKwh(peak.kwh)} at {hourName(peak.index)}
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
