import { describe, expect, it } from 'vitest';
import { alert } from '../test/alerts';
import { createToastStore } from '../toast/toasts';
import { createAlertBadge } from './badge';
import { createAlertBus } from './bus';
import { connectAlerts, toastForIncident } from './live';

describe('alert bus', () => {
  it('passes each alert to every listener once, even when it arrives twice', () => {
    const bus = createAlertBus();
    const first: number[] = [];
    const second: number[] = [];
    bus.subscribe((received) => first.push(received.id));
    const stop = bus.subscribe((received) => second.push(received.id));
    bus.publish(alert({ id: 7 }));
    bus.publish(alert({ id: 7 }));
    stop();
    bus.publish(alert({ id: 8 }));
    expect(first).toEqual([7, 8]);
    expect(second).toEqual([7]);
  });
});

const peak = alert({
  id: 12,
  kind: 'peak',
  value: 3,
  limit_kwh: 2.5,
  reading_at: '2026-11-23T10:20:00Z',
  interval_s: 600,
});

describe('live alerts', () => {
  it('says what happened in a toast that leads to the alert centre', () => {
    expect(toastForIncident([alert()])).toEqual({
      tone: 'alert',
      title: 'Sauna heater: over the hourly limit',
      body: `${'2.75'} kWh in the hour 10:00–11:00 — limit 2.5 kWh`,
      action: { label: 'Open alerts', href: '/alerts?acknowledged=false' },
    });
    expect(toastForIncident([peak, alert()], '/admin/alerts')).toMatchObject({
      title: 'Sauna heater: over the hourly limit and peak above the limit',
      body: '3 kW average, 10 min ending 10:20 — limit 2.5 kW; 2.75 kWh in the hour 10:00–11:00 — limit 2.5 kWh',
      action: { href: '/admin/alerts' },
    });
  });

  it('shows one toast per incident and bumps the badge once for it', async () => {
    const bus = createAlertBus();
    const toasts = createToastStore();
    const badge = createAlertBadge(async () => 2);
    await badge.refresh();
    connectAlerts(bus, toasts, badge);

    bus.publish(alert({ id: 10 }));
    bus.publish(alert({ id: 10 }));
    bus.publish(peak);
    bus.publish(alert({ id: 11, kind: 'peak', device_name: 'Boiler', device_id: 'boiler' }));
    expect(badge.count.get()).toBe(4);
    expect(toasts.items.get().map((toast) => toast.title)).toEqual([
      'Sauna heater: over the hourly limit and peak above the limit',
      'Boiler: peak above the limit',
    ]);

    // Dismissed, then another alert of the same incident: no second toast.
    toasts.dismiss(toasts.items.get()[1]!.id);
    bus.publish(alert({ id: 13, kind: 'overconsumption', device_name: 'Boiler', device_id: 'boiler' }));
    expect(toasts.items.get()).toHaveLength(1);
    // Snoozed: neither counted nor shown.
    bus.publish(alert({ id: 14, hour: '2026-11-23T12:00:00Z', snoozed: true }));
    expect(toasts.items.get()).toHaveLength(1);
    expect(badge.count.get()).toBe(4);
    toasts.clear();
  });
});
