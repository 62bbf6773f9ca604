import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A view whose code is fetched the first time it is shown, so pages only some people use
 * (administration, and later the charts) stay out of everyone's first load.
 */
export function lazyView(load: () => Promise<{ default: ComponentType }>): ComponentType {
  let loaded: ComponentType | null = null;
  return function LazyView() {
    const [View, setView] = useState<ComponentType | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (View) return;
      load().then(
        (module) => {
          loaded = module.default;
          setView(() => module.default);
        },
        () => setFailed(true),
      );
    }, [View]);
    if (failed) {
      return (
        <p class="form-error" role="alert">
          This page could not be loaded. Check your connection, then reload the page.
        </p>
      );
    }
    return View ? <View /> : <p class="loading">Loading…</p>;
  };
}
