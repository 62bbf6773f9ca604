// Every page of the app. New pages are added here; views that
// only some people open are loaded lazily so they do not weigh on everyone's first load.
import type { ComponentType } from 'preact';
import type { RouteDef } from './router/resolve';
import { lazyView } from './views/lazy-view';
import LoginView from './views/login-view';
import MyDevicesView from './views/my-devices-view';

export const routes: readonly RouteDef<ComponentType>[] = [
  { path: '/login', title: 'Sign in', access: 'public', view: LoginView },
  { path: '/devices', title: 'My devices', access: 'signed-in', view: MyDevicesView },
  {
    path: '/consumption',
    title: 'Consumption',
    access: 'signed-in',
    view: lazyView(() => import('./views/consumption/consumption-view')),
  },
  {
    path: '/alerts',
    title: 'Alerts',
    access: 'signed-in',
    view: lazyView(() => import('./views/alerts/alerts-view')),
  },
  {
    path: '/settings',
    title: 'Settings',
    access: 'signed-in',
    view: lazyView(() => import('./views/settings-view')),
  },
  {
    path: '/admin/users',
    title: 'Users',
    access: 'admin',
    view: lazyView(() => import('./views/admin/users-view')),
  },
  {
    path: '/admin/devices',
    title: 'Devices',
    access: 'admin',
    view: lazyView(() => import('./views/admin/devices-view')),
  },
  {
    path: '/admin/alerts',
    title: 'Alerts of all customers',
    access: 'admin',
    view: lazyView(() => import('./views/alerts/admin-alerts-view')),
  },
  {
    path: '/admin/support',
    title: 'Support inbox',
    access: 'admin',
    view: lazyView(() => import('./views/support/inbox-view')),
  },
  {
    path: '/admin/system',
    title: 'System',
    access: 'admin',
    view: lazyView(() => import('./views/system/system-view')),
  },
];
