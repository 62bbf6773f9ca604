import type { Alert } from '../api/types';

/** An alert as the API sends it, with `changes` applied. */
export function alert(changes: Partial<Alert> = {}): Alert {
  return {
    id: 1,
    device_id: '5d1c9a2e-0000-4000-8000-000000000001',
    device_name: 'Sauna heater',
    user_id: '0b8f6a0e-7d7c-4a53-9d43-0d0c4a1c2b11',
    kind: 'overconsumption',
    hour: '2026-11-23T10:00:00Z',
    value: 2.75,
    limit_kwh: 2.5,
    reading_at: null,
    interval_s: null,
    snoozed: false,
    message: 'Sauna heater used 2.75 kWh in the hour 2026-11-23 10:00–11:00 UTC, above its limit of 2.50 kWh',
    created_at: '2026-11-23T10:50:01Z',
    acknowledged_at: null,
    ...changes,
  };
}
