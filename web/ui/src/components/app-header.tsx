import type { User } from '../api/types';
import { Link } from './link';
import { ThemeToggle } from './theme-toggle';

interface NavItem {
  href: string;
  label: string;
}

const NAV: Record<User['role'], readonly NavItem[]> = {
  admin: [
    { href: '/admin/users', label: 'Users' },
    { href: '/admin/devices', label: 'Devices' },
  ],
  client: [{ href: '/devices', label: 'My devices' }],
};

export function AppHeader({ user, path, onSignOut }: { user: User | null; path: string; onSignOut: () => void }) {
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
