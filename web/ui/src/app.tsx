import { useEffect, useRef } from 'preact/hooks';
import { alertBadge, toasts } from './alerts';
import { ChatLauncher } from './chat/chat-launcher';
import { AppHeader } from './components/app-header';
import { OfflineBanner, UpdateBanner } from './components/banners';
import { Toasts } from './components/toasts';
import { timeZoneSetting } from './format/format';
import { useObservable } from './lib/use-observable';
import { currentLocation, navigate } from './router/location';
import { homeFor, LOGIN_PATH, resolve } from './router/resolve';
import { live, waitingBadge } from './live';
import { routes } from './routes';
import { auth, sessionStore } from './services';
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
  const restored = useObservable(auth.restored);
  const alertCount = useObservable(alertBadge.count);
  const waitingCount = useObservable(waitingBadge.count);
  const connection = useObservable(live.state);
  // A new time zone draws every time on the page anew (views that load by day ask again).
  useObservable(timeZoneSetting);
  const role = session?.user.role ?? null;
  useAlertUpkeep(session?.user.id ?? null, location.path);
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
        user={session?.user ?? null}
        path={location.path}
        alertCount={alertCount}
        waitingCount={waitingCount}
        onSignOut={signOut}
        connection={connection}
      />
      <OfflineBanner />
      <UpdateBanner />
      <main id="main" class="app-main" tabIndex={-1}>
        {title && (
          <h1 ref={heading} tabIndex={-1}>
            {title}
          </h1>
        )}
        {content}
      </main>
      {session?.user.role === 'client' && <ChatLauncher key={session.user.id} customerId={session.user.id} />}
      <Toasts store={toasts} />
    </>
  );
}
