import type { ComponentChildren } from 'preact';
import { badgeDescription, badgeText } from '../alerts/badge';
import type { User } from '../api/types';
import { waitingDescription } from '../chat/waiting';
import type { LiveState } from '../live/client';
import { Link } from './link';
import { ThemeToggle } from './theme-toggle';

interface NavItem {
  href: string;
  label: string;
  /** Shows the count of alerts to acknowledge. */
  alerts?: true;
  /** Shows the count of conversations waiting for an administrator. */
  waiting?: true;
}

const NAV: Record<User['role'], readonly NavItem[]> = {
  admin: [
    { href: '/admin/users', label: 'Users' },
    { href: '/admin/devices', label: 'Devices' },
    { href: '/admin/alerts', label: 'Alerts', alerts: true },
    { href: '/admin/support', label: 'Support', waiting: true },
    { href: '/admin/system', label: 'System' },
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
  waitingCount = null,
  onSignOut,
  connection = 'idle',
  navEnd,
}: {
  /** Shown after the links, in the navigation (the support chat's button). */
  navEnd?: ComponentChildren;
  /** The live connection's state. */
  connection?: LiveState;
  user: User | null;
  path: string;
  /** Alerts still to acknowledge; null until counted. */
  alertCount: number | null;
  /** Support conversations waiting for an administrator; null until counted. */
  waitingCount?: number | null;
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
          {user && connection !== 'idle' && <ConnectionState state={connection} />}
          <ThemeToggle />
          {user && (
            <Link
              href="/settings"
              class="button button--quiet app-settings"
              aria-current={path === '/settings' ? 'page' : undefined}
            >
              <span aria-hidden="true">⚙</span> <span class="app-settings-name">Settings</span>
            </Link>
          )}
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
                  {item.waiting && badgeText(waitingCount) && (
                    <span class="nav-badge nav-badge--waiting" data-count={waitingCount}>
                      <span aria-hidden="true">{badgeText(waitingCount)}</span>
                      <span class="visually-hidden">, {waitingDescription(waitingCount)}</span>
                    </span>
                  )}
                </Link>
              </li>
            ))}
            {navEnd && <li class="app-nav-end">{navEnd}</li>}
          </ul>
          <p class="app-user">
            Signed in as <strong>{user.display_name}</strong>
          </p>
        </nav>
      )}
    </header>
  );
}

const CONNECTION_WORDS: Record<Exclude<LiveState, 'idle'>, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** Whether live alerts and chat are coming in, in words and a coloured dot. */
function ConnectionState({ state }: { state: Exclude<LiveState, 'idle'> }) {
  return (
    <p class={`connection connection--${state}`} role="status" data-state={state}>
      <span class="connection-dot" aria-hidden="true" />
      <span class="visually-hidden">Live updates: </span>
      {CONNECTION_WORDS[state]}
    </p>
  );
}
