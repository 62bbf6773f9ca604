import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A component whose code is fetched the first time it is shown, so pages only some people use
 * (administration, consumption charts) stay out of everyone's first load.
 */
export function lazyView<Props extends object = object>(
  load: () => Promise<{ default: ComponentType<Props> }>,
  loading = 'Loading…',
): ComponentType<Props> {
  let loaded: ComponentType<Props> | null = null;
  return function LazyView(props: Props) {
    const [View, setView] = useState<ComponentType<Props> | null>(() => loaded);
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
          This part of the page could not be loaded. Check your connection, then reload the page.
        </p>
      );
    }
    return View ? <View {...props} /> : <p class="loading">{loading}</p>;
  };
}
