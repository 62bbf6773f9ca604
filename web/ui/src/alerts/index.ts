// The app's alert bus, badge and toasts, wired together.
import { listAlerts } from '../api/alerts';
import type { Alert } from '../api/types';
import { sessionStore } from '../services';
import { createToastStore } from '../toast/toasts';
import { createAlertBadge } from './badge';
import { createAlertBus } from './bus';
import { connectAlerts } from './live';

export const alertBus = createAlertBus();
export const toasts = createToastStore();
export const alertBadge = createAlertBadge(async () => (await listAlerts({ acknowledged: false, per_page: 1 })).total);

/** Where the signed-in person deals with alerts. */
export function alertsPath(): string {
  return sessionStore.get()?.user.role === 'admin' ? '/admin/alerts' : '/alerts';
}

connectAlerts(alertBus, toasts, alertBadge, () => `${alertsPath()}?acknowledged=false`);

/**
 * The entry point for alerts raised while the app is open: the WebSocket client (`src/live/`)
 * calls this with each alert it receives. It shows a toast and counts it on the badge.
 */
export function onAlert(alert: Alert): void {
  alertBus.publish(alert);
}
