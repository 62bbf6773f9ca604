// What happens when an alert arrives live: a toast says so and the badge counts it. The WebSocket
// client (src/live/) calls onAlert() (src/alerts/index.ts) for every alert it receives.
import type { Alert } from '../api/types';
import { formatKwh } from '../format/format';
import type { ToastInput, ToastStore } from '../toast/toasts';
import type { AlertBadge } from './badge';
import type { AlertBus } from './bus';

export const KIND_NAMES: Record<Alert['kind'], string> = {
  overconsumption: 'Over the hourly limit',
  peak: 'Peak above the limit',
};

export function toastForAlert(alert: Alert, alertsHref = '/alerts?acknowledged=false'): ToastInput {
  return {
    tone: 'alert',
    title: `${alert.device_name}: ${KIND_NAMES[alert.kind].toLowerCase()}`,
    body:
      alert.kind === 'overconsumption'
        ? `${formatKwh(alert.value)} in one hour; the limit is ${formatKwh(alert.limit_kwh)}.`
        : alert.message,
    action: { label: 'Open alerts', href: alertsHref },
  };
}

/**
 * Routes every alert on the bus to a toast and the badge; returns the function that stops it.
 * `alertsHref` is the signed-in person's alert centre.
 */
export function connectAlerts(
  bus: AlertBus,
  toasts: Pick<ToastStore, 'show'>,
  badge: Pick<AlertBadge, 'raised'>,
  alertsHref: () => string = () => '/alerts?acknowledged=false',
) {
  return bus.subscribe((alert) => {
    badge.raised(alert);
    toasts.show(toastForAlert(alert, alertsHref()));
  });
}
