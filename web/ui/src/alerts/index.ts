// The app's alert bus, badge and toasts, wired together.
import { listIncidents } from '../api/alerts';
import type { Alert } from '../api/types';
import { sessionStore } from '../services';
import { createToastStore } from '../toast/toasts';
import { createAlertBadge } from './badge';
import { createAlertBus } from './bus';
import { connectAlerts } from './live';

export const alertBus = createAlertBus();
export const toasts = createToastStore();
/** Counts open incidents: what there is to act on, however many kinds each has. */
export const alertBadge = createAlertBadge(
  async () => (await listIncidents({ acknowledged: false, per_page: 1 })).total,
);

/** Where the signed-in person deals with alerts. */
export function alertsPath(): string {
  return sessionStore.get()?.user.role === 'admin' ? '/admin/alerts' : '/alerts';
}

connectAlerts(alertBus, toasts, alertBadge, () => `${alertsPath()}?acknowledged=false`);
// A live alert may belong to an incident the last count already had: the server says.
alertBus.subscribe(() => void alertBadge.refresh());

/**
 * The entry point for alerts raised while the app is open: the WebSocket client (`src/live/`)
 * calls this with each alert it receives. It shows a toast and counts it on the badge.
 */
export function onAlert(alert: Alert): void {
  alertBus.publish(alert);
}
