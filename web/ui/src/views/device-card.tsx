import { useId } from 'preact/hooks';
import type { Device } from '../api/types';
import { formatKwh } from '../format/format';

export function DeviceCard({ device }: { device: Device }) {
  const titleId = useId();
  return (
    <article class="card device-card" aria-labelledby={titleId}>
      <h2 id={titleId}>{device.name}</h2>
      <dl class="facts">
        <div>
          <dt>Location</dt>
          <dd>{device.location || 'Not given'}</dd>
        </div>
        <div>
          <dt>Hourly limit</dt>
          <dd>{formatKwh(device.max_hourly_kwh)}</dd>
        </div>
      </dl>
      {device.description && <p class="device-description">{device.description}</p>}
      {/* Today's consumption against the hourly limit belongs here, under the limit it is
          measured against, once the consumption API exists. */}
    </article>
  );
}
