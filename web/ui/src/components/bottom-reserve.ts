// Room at the bottom of the page for what stands fixed at the bottom of the screen: the
// navigation bar on phones and the notifications. Their height goes into the --bottom-reserve and
// --nav-reserve custom properties, which the page's bottom padding (and the chat panel) use, so the
// last of the page can always be scrolled clear of them.
import { useEffect } from 'preact/hooks';

function fixedHeight(element: Element | null): number {
  if (!element || getComputedStyle(element).position !== 'fixed') return 0;
  return element.getBoundingClientRect().height;
}

/** Keeps the reserve current; `signedIn` says when the navigation may have come or gone. */
export function useBottomReserve(signedIn: boolean): void {
  useEffect(() => {
    const root = document.documentElement;
    const nav = document.querySelector('.app-nav');
    const toasts = document.querySelector('.toasts');
    function measure() {
      const navHeight = fixedHeight(nav);
      root.style.setProperty('--nav-reserve', `${navHeight}px`);
      root.style.setProperty('--bottom-reserve', `${navHeight + fixedHeight(toasts)}px`);
    }
    const resize = new ResizeObserver(measure);
    for (const element of [nav, toasts]) if (element) resize.observe(element);
    // Crossing the phone breakpoint fixes the navigation to the bottom, or puts it back.
    window.addEventListener('resize', measure);
    measure();
    return () => {
      resize.disconnect();
      window.removeEventListener('resize', measure);
    };
  }, [signedIn]);
}
