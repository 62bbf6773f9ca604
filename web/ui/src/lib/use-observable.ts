import { useEffect, useState } from 'preact/hooks';
import type { Observable } from './observable';

/** The observable's current value; the component re-renders when it changes. */
export function useObservable<T>(source: Observable<T>): T {
  const [value, setValue] = useState(source.get);
  useEffect(() => {
    // The value may have changed between the render and this effect.
    setValue(() => source.get());
    return source.subscribe((next) => setValue(() => next));
  }, [source]);
  return value;
}
