import { AlertsView } from './alerts-view';

/** Every customer's alerts, with a customer filter besides the customer's own ones. */
export default function AdminAlertsView() {
  return <AlertsView admin />;
}
