// The last answers the API gave the signed-in user, kept on this device so that a reload without a
// network still shows something: the devices, the day's consumption, the alerts as they were last
// seen. The access token is in memory only and the refresh token in an HttpOnly cookie, so an
// offline reload has no session; it shows the answers of whoever was signed in last, read-only,
// with a notice of how old they are, until the server can say whether that person still is.
// Everything is forgotten on signing out, and when another person signs in.
import type { User } from '../api/types';

export interface SavedAnswer {
  /** When the answer arrived, in milliseconds of this device's clock. */
  savedAt: number;
  value: unknown;
}

export interface AnswerStore {
  get(userId: string, key: string): Promise<SavedAnswer | null>;
  put(userId: string, key: string, answer: SavedAnswer): Promise<void>;
  /** Whose answers are kept, if anyone's. */
  lastUser(): Promise<User | null>;
  /** Keeps answers for `user` from now on, forgetting any other person's. */
  keepFor(user: User): Promise<void>;
  /** Forgets every answer and who they were for. */
  clear(): Promise<void>;
}

/** Answers older than this are not worth showing (and are deleted when someone signs in). */
export const KEEP_MS = 14 * 24 * 60 * 60 * 1000;

/** An AnswerStore in memory, for unit tests and for browsers without IndexedDB. */
export function memoryAnswerStore(): AnswerStore {
  let user: User | null = null;
  const answers = new Map<string, SavedAnswer>();
  const id = (userId: string, key: string) => `${userId} ${key}`;
  return {
    get: async (userId, key) => (user?.id === userId ? (answers.get(id(userId, key)) ?? null) : null),
    async put(userId, key, answer) {
      if (user?.id === userId) answers.set(id(userId, key), answer);
    },
    lastUser: async () => user,
    async keepFor(next) {
      if (user?.id !== next.id) answers.clear();
      user = next;
    },
    async clear() {
      user = null;
      answers.clear();
    },
  };
}

const DB_NAME = 'ems-offline';
const ANSWERS = 'answers';
const META = 'meta';

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

interface StoredAnswer extends SavedAnswer {
  userId: string;
  key: string;
}

/**
 * An AnswerStore in IndexedDB (answers can be large: a month of hourly values per device, which
 * localStorage's few megabytes and synchronous writes suit badly). Falls back to memory where
 * IndexedDB cannot be opened (private windows of some browsers).
 */
export function indexedDbAnswerStore(now: () => number = Date.now): AnswerStore {
  const opening: Promise<IDBDatabase | null> = new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') return resolve(null);
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore(ANSWERS, { keyPath: ['userId', 'key'] }).createIndex('savedAt', 'savedAt');
      db.createObjectStore(META);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
  const fallback = memoryAnswerStore();

  async function withDb<T>(use: (db: IDBDatabase) => Promise<T>, otherwise: () => Promise<T>): Promise<T> {
    const db = await opening;
    return db ? use(db) : otherwise();
  }

  return {
    get: (userId, key) =>
      withDb(
        async (db) => {
          const stored = (await promised(db.transaction(ANSWERS).objectStore(ANSWERS).get([userId, key]))) as
            StoredAnswer | undefined;
          return stored ? { savedAt: stored.savedAt, value: stored.value } : null;
        },
        () => fallback.get(userId, key),
      ),
    put: (userId, key, answer) =>
      withDb(
        async (db) => {
          const transaction = db.transaction([ANSWERS, META], 'readwrite');
          const owner = (await promised(transaction.objectStore(META).get('user'))) as User | undefined;
          // Signed out (or someone else signed in) while the request was under way.
          if (owner?.id !== userId) return;
          transaction.objectStore(ANSWERS).put({ userId, key, ...answer } satisfies StoredAnswer);
          await done(transaction);
        },
        () => fallback.put(userId, key, answer),
      ),
    lastUser: () =>
      withDb(
        async (db) =>
          ((await promised(db.transaction(META).objectStore(META).get('user'))) as User | undefined) ?? null,
        () => fallback.lastUser(),
      ),
    keepFor: (user) =>
      withDb(
        async (db) => {
          const transaction = db.transaction([ANSWERS, META], 'readwrite');
          const answers = transaction.objectStore(ANSWERS);
          const owner = (await promised(transaction.objectStore(META).get('user'))) as User | undefined;
          if (owner?.id !== user.id) answers.clear();
          else
            answers.index('savedAt').openCursor(IDBKeyRange.upperBound(now() - KEEP_MS)).onsuccess = function () {
              const cursor = this.result;
              if (cursor) {
                cursor.delete();
                cursor.continue();
              }
            };
          transaction.objectStore(META).put(user, 'user');
          await done(transaction);
        },
        () => fallback.keepFor(user),
      ),
    clear: () =>
      withDb(
        async (db) => {
          const transaction = db.transaction([ANSWERS, META], 'readwrite');
          transaction.objectStore(ANSWERS).clear();
          transaction.objectStore(META).clear();
          await done(transaction);
        },
        () => fallback.clear(),
      ),
  };
}
