// The WebSocket connection to /ws: connects with a single-use ticket (POST /api/ws-ticket, so the
// access token never goes in a URL), passes on every frame, and reconnects after any drop with
// backoff and a new ticket, refreshing the access token first when the server refused it (4401,
// or 401 for the ticket). It asks for missed alerts with `last_alert_id`, the highest alert id seen.
import { observable, type Observable } from '../lib/observable';
import { backoffDelay } from './backoff';
import { CLOSE, parseFrame, PROTOCOL_VERSION, type ClientFrame, type ServerFrame } from './protocol';

/** What the header shows. `idle` is signed out (nothing to show). */
export type LiveState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** The part of a WebSocket the client uses, so tests can give it a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

export interface LiveClientOptions {
  /** The address to connect to with `ticket`. */
  url(ticket: string, lastAlertId: number | null): string;
  /** A new ticket for one connection, asked for with `accessToken`; rejects with a `status` of 401
   * when the token is refused. */
  ticket(accessToken: string): Promise<string>;
  auth: {
    validAccessToken(): Promise<string | null>;
    refresh(staleAccessToken: string): Promise<unknown>;
  };
  createSocket(url: string): SocketLike;
  /** Where the highest alert id seen is kept. */
  lastAlertId: { get(): number | null; set(id: number): void };
  onFrame(frame: ServerFrame): void;
  isOnline?: () => boolean;
  random?: () => number;
}

export interface LiveClient {
  readonly state: Observable<LiveState>;
  /** Connects (if not already); call when someone signs in. */
  start(): void;
  /** Disconnects for good; call on signing out. */
  stop(): void;
  /** Sends a frame now; false when not connected. */
  send(frame: ClientFrame): boolean;
  /** Skips any wait and reconnects now, for when the device comes back online. */
  retryNow(): void;
  /** Closes the socket as if the network dropped it (a test hook). */
  drop(): void;
}

export function createLiveClient(options: LiveClientOptions): LiveClient {
  const isOnline = options.isOnline ?? (() => globalThis.navigator?.onLine ?? true);
  const random = options.random ?? Math.random;
  const state = observable<LiveState>('idle');
  let running = false;
  let socket: SocketLike | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Failed attempts since the last good connection. */
  let attempt = 0;
  /** Bumped on every stop/start so late callbacks of an old connection do nothing. */
  let generation = 0;

  function schedule(delay: number) {
    clearTimeout(timer);
    if (!isOnline()) {
      // The 'online' event calls retryNow().
      state.set('offline');
      return;
    }
    state.set('reconnecting');
    timer = setTimeout(() => void connect(), delay);
  }

  async function connect() {
    const mine = generation;
    clearTimeout(timer);
    if (!running || socket) return;
    if (!isOnline()) {
      state.set('offline');
      return;
    }
    if (state.get() !== 'reconnecting') state.set('connecting');
    let token: string | null;
    try {
      token = await options.auth.validAccessToken();
    } catch {
      if (mine === generation) retry();
      return;
    }
    if (mine !== generation || !running || socket) return;
    if (!token) {
      // Signed out meanwhile; the session subscription stops us.
      state.set('idle');
      return;
    }
    let ticket: string;
    try {
      ticket = await options.ticket(token);
    } catch (error) {
      if (mine !== generation || !running || socket) return;
      // A refused token is handled as the server refusing the connection: refresh, then retry.
      if ((error as { status?: unknown } | null)?.status === 401) void closed(CLOSE.unauthorized, token);
      else retry();
      return;
    }
    if (mine !== generation || !running || socket) return;
    const ws = options.createSocket(options.url(ticket, options.lastAlertId.get()));
    socket = ws;
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.type === 'hello') {
        attempt = 0;
        state.set('connected');
      } else if (frame.type === 'alert') {
        const last = options.lastAlertId.get();
        if (last === null || frame.alert.id > last) options.lastAlertId.set(frame.alert.id);
      }
      options.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      if (!running || mine !== generation) return;
      void closed(event.code, token);
    };
    ws.onerror = () => undefined;
  }

  function retry() {
    const delay = backoffDelay(attempt, random);
    attempt += 1;
    schedule(delay);
  }

  async function closed(code: number, token: string) {
    const mine = generation;
    if (code === CLOSE.unauthorized) {
      state.set('reconnecting');
      try {
        const renewed = await options.auth.refresh(token);
        if (mine !== generation) return;
        if (!renewed) {
          // The session is over; signing out stops the client.
          state.set('idle');
          return;
        }
      } catch {
        // Offline or the server is down: back off and try again.
        if (mine === generation) retry();
        return;
      }
    }
    // A good connection that the server cut (too slow, idle, token expired) comes back at once;
    // a restart, an error or repeated failures wait longer each time.
    const immediate = attempt === 0 && (code === CLOSE.too_slow || code === CLOSE.idle || code === CLOSE.unauthorized);
    if (immediate) {
      attempt += 1;
      schedule(0);
    } else retry();
  }

  return {
    state,
    start() {
      if (running) return;
      running = true;
      generation += 1;
      attempt = 0;
      void connect();
    },
    stop() {
      running = false;
      generation += 1;
      clearTimeout(timer);
      const ws = socket;
      socket = null;
      ws?.close(1000, 'signed out');
      state.set('idle');
    },
    send(frame) {
      if (!socket || socket.readyState !== OPEN || state.get() !== 'connected') return false;
      socket.send(JSON.stringify({ v: PROTOCOL_VERSION, ...frame }));
      return true;
    },
    retryNow() {
      if (!running || socket) return;
      attempt = 0;
      void connect();
    },
    drop() {
      const ws = socket;
      if (!ws) return;
      ws.close(4999, 'dropped for a test');
      // A browser fires close asynchronously; act at once so the state shows it.
      ws.onclose?.({ code: 1006, reason: 'dropped' });
    },
  };
}
