import { useEffect, useRef } from 'preact/hooks';
import { alertBadge, toasts } from './alerts';
import { ChatButton, ChatDock } from './chat/chat-launcher';
import { AppHeader } from './components/app-header';
import { OfflineBanner, ShownFromNotice, UpdateBanner } from './components/banners';
import { useBottomReserve } from './components/bottom-reserve';
import { Toasts } from './components/toasts';
import { timeZoneSetting } from './format/format';
import { useObservable } from './lib/use-observable';
import { currentLocation, navigate } from './router/location';
import { homeFor, LOGIN_PATH, resolve } from './router/resolve';
import { connection as connectionState, waitingBadge } from './live';
import { routes } from './routes';
import { auth, forgetShown, offlineUser, sessionStore, started } from './services';
import { ForbiddenView, NotFoundView } from './views/problem-views';

/** The badge's count is asked for this often while the app is in view, besides on each page change. */
const BADGE_REFRESH_MS = 60_000;

/** Keeps the alert badge current for whoever is signed in, and forgets it all on signing out. */
function useAlertUpkeep(userId: string | null, path: string) {
  useEffect(() => {
    if (!userId) {
      alertBadge.clear();
      toasts.clear();
      return;
    }
    const refreshIfSeen = () => {
      if (document.visibilityState === 'visible') void alertBadge.refresh();
    };
    const timer = setInterval(refreshIfSeen, BADGE_REFRESH_MS);
    document.addEventListener('visibilitychange', refreshIfSeen);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', refreshIfSeen);
    };
  }, [userId]);

  useEffect(() => {
    if (userId) void alertBadge.refresh();
  }, [userId, path]);
}

/** The shell around every page: header, banners, the page's heading and its view. */
export function App() {
  const location = useObservable(currentLocation);
  const session = useObservable(sessionStore);
  // Until the refresh cookie has been tried, nobody is known to be signed in or out.
  const restored = useObservable(started);
  // Started offline: whoever was signed in last sees what this device kept for them.
  const kept = useObservable(offlineUser);
  const user = session?.user ?? kept;
  const alertCount = useObservable(alertBadge.count);
  const waitingCount = useObservable(waitingBadge.count);
  const connection = useObservable(connectionState);
  // A new time zone draws every time on the page anew (views that load by day ask again).
  useObservable(timeZoneSetting);
  const role = user?.role ?? null;
  useAlertUpkeep(user?.id ?? null, location.path);
  useBottomReserve(user !== null);
  const queryString = location.query.toString();
  const search = queryString ? `?${queryString}` : '';
  const resolution = resolve(routes, { path: location.path, search, next: location.query.get('next') }, role);
  const redirect = restored && resolution.kind === 'redirect' ? resolution.to : null;

  const title = !restored
    ? ''
    : resolution.kind === 'view'
      ? resolution.route.title
      : resolution.kind === 'forbidden'
        ? 'For administrators only'
        : resolution.kind === 'not-found'
          ? 'Page not found'
          : '';

  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  useEffect(() => {
    if (title) document.title = `${title} · EMS`;
  }, [title]);

  // Another page: whether what it shows was kept from earlier is its own matter.
  useEffect(() => forgetShown(), [location.path, queryString]);

  // After moving to another page, start keyboard and screen reader users at its heading, as a
  // full page load would; the first page keeps the browser's own starting point.
  const heading = useRef<HTMLHeadingElement>(null);
  const shownPath = useRef<string | null>(null);
  useEffect(() => {
    if (!title) return;
    if (shownPath.current !== null && shownPath.current !== location.path) heading.current?.focus();
    shownPath.current = location.path;
  }, [location.path, title]);

  function signOut() {
    // The session is cleared synchronously, so the sign-in page renders with no one signed in.
    void auth.logout();
    navigate(LOGIN_PATH);
  }

  let content = null;
  if (!restored) {
    // Blank for the moment the refresh takes, rather than a flash of the sign-in page.
  } else if (resolution.kind === 'view') {
    const View = resolution.route.view;
    content = <View />;
  } else if (resolution.kind === 'forbidden') {
    content = <ForbiddenView home={homeFor(role ?? 'client')} />;
  } else if (resolution.kind === 'not-found') {
    content = <NotFoundView />;
  }

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader
        user={user}
        path={location.path}
        alertCount={alertCount}
        waitingCount={waitingCount}
        onSignOut={signOut}
        connection={connection}
        navEnd={user?.role === 'client' ? <ChatButton /> : null}
      />
      <OfflineBanner />
      <UpdateBanner />
      <ShownFromNotice />
      <main id="main" class="app-main" tabIndex={-1}>
        {title && (
          <h1 ref={heading} tabIndex={-1}>
            {title}
          </h1>
        )}
        {content}
      </main>
      {user?.role === 'client' && <ChatDock key={user.id} customerId={user.id} />}
      <Toasts store={toasts} />
    </>
  );
}
