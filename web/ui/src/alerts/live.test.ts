import { describe, expect, it } from 'vitest';
import { alert } from '../test/alerts';
import { createToastStore } from '../toast/toasts';
import { createAlertBadge } from './badge';
import { createAlertBus } from './bus';
import { connectAlerts, toastForAlert } from './live';

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

describe('live alerts', () => {
  it('says what happened in a toast that leads to the alert centre', () => {
    expect(toastForAlert(alert())).toEqual({
      tone: 'alert',
      title: 'Sauna heater: over the hourly limit',
      body: '2.75 kWh in one hour; the limit is 2.5 kWh.',
      action: { label: 'Open alerts', href: '/alerts?acknowledged=false' },
    });
    const peak = alert({ kind: 'peak', message: 'Sauna heater drew 3.00 kW on average' });
    expect(toastForAlert(peak, '/admin/alerts')).toMatchObject({
      title: 'Sauna heater: peak above the limit',
      body: 'Sauna heater drew 3.00 kW on average',
      action: { href: '/admin/alerts' },
    });
  });

  it('shows a toast and bumps the badge for each new alert on the bus', async () => {
    const bus = createAlertBus();
    const toasts = createToastStore();
    const badge = createAlertBadge(async () => 2);
    await badge.refresh();
    connectAlerts(bus, toasts, badge);

    bus.publish(alert({ id: 10 }));
    bus.publish(alert({ id: 10 }));
    bus.publish(alert({ id: 11, kind: 'peak', device_name: 'Boiler' }));
    expect(badge.count.get()).toBe(4);
    expect(toasts.items.get().map((toast) => toast.title)).toEqual([
      'Sauna heater: over the hourly limit',
      'Boiler: peak above the limit',
    ]);
    toasts.clear();
  });
});
