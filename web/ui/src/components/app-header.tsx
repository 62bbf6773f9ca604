import { badgeDescription, badgeText } from '../alerts/badge';
import type { User } from '../api/types';
import { Link } from './link';
import { ThemeToggle } from './theme-toggle';

interface NavItem {
  href: string;
  label: string;
  /** Shows the count of alerts to acknowledge. */
  alerts?: true;
}

const NAV: Record<User['role'], readonly NavItem[]> = {
  admin: [
    { href: '/admin/users', label: 'Users' },
    { href: '/admin/devices', label: 'Devices' },
    { href: '/admin/alerts', label: 'Alerts', alerts: true },
  ],
  client: [
    { href: '/devices', label: 'My devices' },
    { href: '/consumption', label: 'Consumption' },
    { href: '/alerts', label: 'Alerts', alerts: true },
  ],
};

export function AppHeader({
  user,
  path,
  alertCount,
  onSignOut,
}: {
  user: User | null;
  path: string;
  /** Alerts still to acknowledge; null until counted. */
  alertCount: number | null;
  onSignOut: () => void;
}) {
  return (
    <header class="app-header">
      <div class="app-header-bar">
        <Link href="/" class="brand">
          <img src="/icons/icon.svg" alt="" width={28} height={28} />
          <span>EMS</span>
        </Link>
        <div class="app-header-tools">
          <ThemeToggle />
          {user && (
            <button type="button" class="button button--quiet" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </div>
      </div>
      {user && (
        <nav class="app-nav" aria-label="Main">
          <ul>
            {NAV[user.role].map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={path === item.href ? 'page' : undefined}>
                  {item.label}
                  {item.alerts && badgeText(alertCount) && (
                    <span class="nav-badge" data-count={alertCount}>
                      <span aria-hidden="true">{badgeText(alertCount)}</span>
                      <span class="visually-hidden">, {badgeDescription(alertCount)}</span>
                    </span>
                  )}
                </Link>
              </li>
            ))}
          </ul>
          <p class="app-user">
            Signed in as <strong>{user.display_name}</strong>
          </p>
        </nav>
      )}
    </header>
  );
}
