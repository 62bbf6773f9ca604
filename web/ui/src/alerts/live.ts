// What happens when an alert arrives live: a toast says so and the badge counts it. The WebSocket
// client (src/live/) calls onAlert() (src/alerts/index.ts) for every alert it receives. An hour's
// alerts of one device are one incident and get one toast: a second kind arriving while its
// toast is shown replaces it with one naming both, and an incident already toasted is not toasted
// again (the alert centre has it).
import type { Alert } from '../api/types';
import type { ToastInput, ToastStore } from '../toast/toasts';
import type { AlertBadge } from './badge';
import type { AlertBus } from './bus';
import { describeAlert, incidentKey, KIND_NAMES, kindsTitle } from './describe';

export { KIND_NAMES };

/** How many incidents' toasts are remembered. */
const REMEMBERED = 200;

/** The toast of an incident from the alerts of it that arrived live (at least one). */
export function toastForIncident(alerts: readonly Alert[], alertsHref = '/alerts?acknowledged=false'): ToastInput {
  const latest = alerts[alerts.length - 1]!;
  return {
    tone: 'alert',
    title: `${latest.device_name}: ${kindsTitle(alerts.map((alert) => alert.kind)).toLowerCase()}`,
    body: alerts.map((alert) => describeAlert(alert)).join('; '),
    action: { label: 'Open alerts', href: alertsHref },
  };
}

/**
 * Routes every alert on the bus to the badge and to one toast per incident; returns the
 * function that stops it. `alertsHref` is the signed-in person's alert centre.
 */
export function connectAlerts(
  bus: AlertBus,
  toasts: Pick<ToastStore, 'show' | 'dismiss' | 'items'>,
  badge: Pick<AlertBadge, 'raised'>,
  alertsHref: () => string = () => '/alerts?acknowledged=false',
) {
  const toasted = new Map<string, { toast: number; alerts: Alert[] }>();
  return bus.subscribe((alert) => {
    badge.raised(alert);
    if (alert.snoozed) return;
    const key = incidentKey(alert);
    const earlier = toasted.get(key);
    if (earlier) {
      // Still on screen: one toast naming every kind. Gone: already told.
      if (!toasts.items.get().some((toast) => toast.id === earlier.toast)) return;
      toasts.dismiss(earlier.toast);
    }
    const alerts = [...(earlier?.alerts ?? []), alert];
    toasted.delete(key);
    toasted.set(key, { toast: toasts.show(toastForIncident(alerts, alertsHref())), alerts });
    if (toasted.size > REMEMBERED) toasted.delete(toasted.keys().next().value!);
  });
}
