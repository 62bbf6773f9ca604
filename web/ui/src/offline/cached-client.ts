// An ApiClient that keeps every answer to a GET in an AnswerStore and gives back the kept one when
// the server cannot be reached, saying how old it is in `shownFrom`.
import type { ApiClient } from '../api/client';
import { ApiError, NO_RESPONSE, withQuery } from '../api/http';
import type { User } from '../api/types';
import { observable, type Observable } from '../lib/observable';
import type { AnswerStore } from './answers';

export interface CachedClientOptions {
  store: AnswerStore;
  /** The signed-in user; null when no one is. */
  sessionUser(): User | null;
  /** Who was signed in on this device when it started without reaching the server; else null. */
  offlineUser(): User | null;
  now?: () => number;
}

export interface CachedClient {
  api: ApiClient;
  /** When the oldest answer on screen arrived, while some are kept ones; null when all are fresh. */
  shownFrom: Observable<number | null>;
  /** A new page is showing: what the last one showed no longer counts. */
  forgetShown(): void;
}

const aborted = () => new DOMException('The request was cancelled.', 'AbortError');

export function createCachedClient(inner: ApiClient, options: CachedClientOptions): CachedClient {
  const now = options.now ?? Date.now;
  const shownFrom = observable<number | null>(null);
  /** The kept answers on screen: request → when it arrived. */
  const stale = new Map<string, number>();

  function update() {
    shownFrom.set(stale.size === 0 ? null : Math.min(...stale.values()));
  }

  async function kept(userId: string, key: string, signal: AbortSignal | undefined, failure: unknown) {
    const saved = await options.store.get(userId, key).catch(() => null);
    if (signal?.aborted) throw aborted();
    if (!saved) throw failure;
    stale.set(key, saved.savedAt);
    update();
    return saved.value;
  }

  const api: ApiClient = async <T>(path: string, request: Parameters<ApiClient>[1] = {}): Promise<T> => {
    if ((request.method ?? 'GET') !== 'GET') return inner<T>(path, request);
    const key = withQuery(path, request.query);
    const user = options.sessionUser();
    if (!user) {
      const offline = options.offlineUser();
      if (!offline) return inner<T>(path, request);
      return (await kept(
        offline.id,
        key,
        request.signal,
        new ApiError(
          NO_RESPONSE,
          'network',
          'The server cannot be reached, and this has not been loaded on this device before. It loads by itself once the connection is back.',
        ),
      )) as T;
    }
    let value: T;
    try {
      value = await inner<T>(path, request);
    } catch (error) {
      if (error instanceof ApiError && error.status === NO_RESPONSE)
        return (await kept(user.id, key, request.signal, error)) as T;
      throw error;
    }
    if (stale.delete(key)) update();
    // Best effort: an answer that cannot be kept is still shown.
    options.store.put(user.id, key, { savedAt: now(), value }).catch(() => undefined);
    return value;
  };

  return {
    api,
    shownFrom,
    forgetShown() {
      stale.clear();
      update();
    },
  };
}
