// When to load data again: each time the connection is live again after being lost (offline,
// reconnecting), but not on the first connection after signing in, when the views have just loaded.
import { observable, type Observable } from '../lib/observable';
import type { LiveState } from './client';

/** A counter that goes up each time `connection` is back to 'connected' after a loss. */
export function createRecovery(connection: Observable<LiveState>): Observable<number> {
  const count = observable(0);
  let lost = false;
  const follow = (state: LiveState) => {
    if (state === 'offline' || state === 'reconnecting') lost = true;
    else if (state === 'idle') lost = false;
    else if (state === 'connected' && lost) {
      lost = false;
      count.set(count.get() + 1);
    }
  };
  follow(connection.get());
  connection.subscribe(follow);
  return count;
}
