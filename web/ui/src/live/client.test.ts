import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../api/types';
import { BACKOFF_MAX_MS, backoffDelay } from './backoff';
import { createLiveClient, type SocketLike } from './client';
import { createAlertBadge } from '../alerts/badge';
import { createAlertBus } from '../alerts/bus';
import { connectAlerts } from '../alerts/live';
import { createToastStore } from '../toast/toasts';
import { alertIdStore, createFrameBus, dispatchFrame } from './frame-bus';
import { createOutbox } from './outbox';
import { parseFrame, type ServerFrame } from './protocol';
import { MemoryStorage } from '../test/fakes';

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: unknown[] = [];
  closedWith: number | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.closedWith = code;
  }
  // Test side
  open(role: 'client' | 'admin' = 'client') {
    this.readyState = 1;
    this.onopen?.({});
    this.receive({ v: 1, type: 'hello', user_id: 'u1', role });
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverClose(code: number) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

const alert = (id: number): Alert => ({
  id,
  device_id: 'd1',
  device_name: 'Sauna',
  user_id: 'u1',
  kind: 'overconsumption',
  hour: '2026-11-25T00:00:00Z',
  value: 3,
  limit_kwh: 2.5,
  message: 'over',
  created_at: '2026-11-25T01:00:00Z',
  acknowledged_at: null,
});

/** A ticket request refused as the server refuses a stale access token. */
class Refused extends Error {
  readonly status = 401;
}

function setup({ online = true, token = 'tok-1' } = {}) {
  const sockets: FakeSocket[] = [];
  let issued = 0;
  /** What the next ticket request does, instead of answering: refuse the token, or fail. */
  const ticketFailures: ('refused' | 'offline')[] = [];
  const frames: ServerFrame[] = [];
  let current: string | null = token;
  const auth = {
    validAccessToken: vi.fn(async () => current),
    refresh: vi.fn(async (_stale: string) => {
      current = current ? `${current}+` : null;
      return current ? { accessToken: current } : null;
    }),
  };
  let last: number | null = null;
  const state = { online };
  const client = createLiveClient({
    url: (t, id) => `/ws?ticket=${t}${id === null ? '' : `&last_alert_id=${id}`}`,
    // Each ticket names the token it was asked for with, so the tests see which one was used.
    ticket: vi.fn(async (accessToken: string) => {
      const failure = ticketFailures.shift();
      if (failure === 'refused') throw new Refused('stale token');
      if (failure === 'offline') throw new Error('no network');
      issued += 1;
      return `${issued}.${accessToken}`;
    }),
    auth,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    lastAlertId: { get: () => last, set: (id) => (last = id) },
    onFrame: (frame) => frames.push(frame),
    isOnline: () => state.online,
    random: () => 0.5,
  });
  return { client, sockets, frames, auth, state, ticketFailures, signOut: () => (current = null) };
}

describe('backoffDelay', () => {
  it('doubles from one second up to thirty, with jitter between half and all of it', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, () => 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 15000, 15000, 15000,
    ]);
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, () => 0.999999))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    for (let n = 0; n < 20; n += 1) expect(backoffDelay(n)).toBeLessThanOrEqual(BACKOFF_MAX_MS);
  });
});

describe('parseFrame', () => {
  it('accepts version 1 frames of known types only', () => {
    expect(parseFrame('{"v":1,"type":"ack","client_id":"a"}')).toEqual({ v: 1, type: 'ack', client_id: 'a' });
    expect(parseFrame('{"v":2,"type":"ack","client_id":"a"}')).toBeNull();
    expect(parseFrame('{"v":1,"type":"mystery"}')).toBeNull();
    const truncated = '{"v":1,"type":"replay.truncated","after_id":0,"oldest_replayed_id":7}';
    expect(parseFrame(truncated)).toEqual({ v: 1, type: 'replay.truncated', after_id: 0, oldest_replayed_id: 7 });
    expect(parseFrame('not json')).toBeNull();
    expect(parseFrame(new ArrayBuffer(2))).toBeNull();
  });
});

describe('live client', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('connects with a new ticket, is connected after hello, and passes frames on', async () => {
    const { client, sockets, frames } = setup();
    client.start();
    expect(client.state.get()).toBe('connecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets[0]!.url).toBe('/ws?ticket=1.tok-1');
    sockets[0]!.open();
    expect(client.state.get()).toBe('connected');
    sockets[0]!.receive({ v: 1, type: 'alert', alert: alert(7) });
    sockets[0]!.receive({ v: 1, type: 'chat.typing', customer_id: 'u1', role: 'admin', user_id: 'a', typing: true });
    sockets[0]!.receive({ v: 9, type: 'alert', alert: alert(8) });
    expect(frames.map((frame) => frame.type)).toEqual(['hello', 'alert', 'chat.typing']);
  });

  it('reconnects with the highest alert id seen, after a backoff that grows', async () => {
    const { client, sockets } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    sockets[0]!.receive({ v: 1, type: 'alert', alert: alert(41) });
    sockets[0]!.receive({ v: 1, type: 'alert', alert: alert(40) });
    sockets[0]!.serverClose(1001);
    expect(client.state.get()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(749);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets[1]!.url).toBe('/ws?ticket=2.tok-1&last_alert_id=41');
    // It fails again before hello: the next wait is longer.
    sockets[1]!.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    // A good connection resets the schedule.
    sockets[2]!.open();
    sockets[2]!.serverClose(1001);
    await vi.advanceTimersByTimeAsync(750);
    expect(sockets).toHaveLength(4);
  });

  it('comes straight back when cut off for being slow or idle', async () => {
    const { client, sockets } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    sockets[0]!.receive({ v: 1, type: 'alert', alert: alert(3) });
    sockets[0]!.serverClose(4008);
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets[1]!.url).toContain('last_alert_id=3');
    sockets[1]!.open();
    sockets[1]!.serverClose(4000);
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets).toHaveLength(3);
  });

  it('refreshes the token after 4401 and reconnects with a ticket asked for with the new one', async () => {
    const { client, sockets, auth } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    sockets[0]!.serverClose(4401);
    await vi.advanceTimersByTimeAsync(0);
    expect(auth.refresh).toHaveBeenCalledWith('tok-1');
    expect(sockets[1]!.url).toBe('/ws?ticket=2.tok-1+');
  });

  it('refreshes the token when the ticket is refused with 401, then connects', async () => {
    const { client, sockets, auth, ticketFailures } = setup();
    ticketFailures.push('refused');
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(auth.refresh).toHaveBeenCalledWith('tok-1');
    expect(sockets.map((socket) => socket.url)).toEqual(['/ws?ticket=1.tok-1+']);
  });

  it('backs off when no ticket can be had, without opening a socket', async () => {
    const { client, sockets, auth, ticketFailures } = setup();
    ticketFailures.push('offline', 'offline');
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets).toHaveLength(0);
    expect(client.state.get()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(750);
    expect(sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(sockets.map((socket) => socket.url)).toEqual(['/ws?ticket=1.tok-1']);
    expect(auth.refresh).not.toHaveBeenCalled();
  });

  it('stops when the refresh says the session is over', async () => {
    const { client, sockets, signOut } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    signOut();
    sockets[0]!.serverClose(4401);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
    expect(client.state.get()).toBe('idle');
  });

  it('waits while offline, and retries at once when back online', async () => {
    const { client, sockets, state } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    state.online = false;
    sockets[0]!.serverClose(1006);
    expect(client.state.get()).toBe('offline');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sockets).toHaveLength(1);
    state.online = true;
    client.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets).toHaveLength(2);
  });

  it('sends frames only while connected, and closes for good on stop', async () => {
    const { client, sockets } = setup();
    client.start();
    expect(client.send({ type: 'chat.typing', typing: true })).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    expect(client.send({ type: 'chat.read', up_to_id: 5 })).toBe(true);
    expect(sockets[0]!.sent).toEqual([{ v: 1, type: 'chat.read', up_to_id: 5 }]);
    client.stop();
    expect(sockets[0]!.closedWith).toBe(1000);
    sockets[0]!.serverClose(1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
    expect(client.state.get()).toBe('idle');
  });

  it('reconnects after a drop from the page', async () => {
    const { client, sockets } = setup();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]!.open();
    client.drop();
    expect(client.state.get()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1_000);
    sockets[1]!.open();
    expect(client.state.get()).toBe('connected');
  });
});

describe('outbox', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resends with the same client id until acknowledged', async () => {
    const sent: unknown[] = [];
    let up = false;
    const outbox = createOutbox(
      (frame) => {
        if (up) sent.push(frame);
        return up;
      },
      () => 'id-1',
    );
    outbox.send('hello');
    expect(sent).toEqual([]);
    up = true;
    outbox.flush();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toEqual([
      { type: 'chat.send', client_id: 'id-1', text: 'hello' },
      { type: 'chat.send', client_id: 'id-1', text: 'hello' },
    ]);
    outbox.acked('id-1');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent).toHaveLength(2);
    expect(outbox.items.get()).toEqual([
      { clientId: 'id-1', text: 'hello', customerId: undefined, acked: true, afterId: 0 },
    ]);
    outbox.settle('id-1');
    expect(outbox.items.get()).toEqual([]);
    outbox.stop();
  });

  it('names the conversation for administrators', () => {
    const sent: unknown[] = [];
    const outbox = createOutbox(
      (frame) => sent.push(frame) > 0,
      () => 'id-2',
    );
    outbox.send('on it', 'cust-1');
    expect(sent).toEqual([{ type: 'chat.send', client_id: 'id-2', text: 'on it', customer_id: 'cust-1' }]);
    outbox.stop();
  });
});

describe('frame bus and alert ids', () => {
  it('passes frames to the listeners of their type', () => {
    const bus = createFrameBus();
    const seen: string[] = [];
    const stop = bus.on('ack', (frame) => seen.push(frame.client_id));
    bus.publish({ v: 1, type: 'ack', client_id: 'a' });
    bus.publish({ v: 1, type: 'error', code: 'bad_frame', message: 'x' });
    stop();
    bus.publish({ v: 1, type: 'ack', client_id: 'b' });
    expect(seen).toEqual(['a']);
  });

  it('turns each alert, once, into a toast and one more on the badge, and passes chat frames on', async () => {
    const alerts = createAlertBus();
    const toasts = createToastStore();
    const badge = createAlertBadge(async () => 1);
    await badge.refresh();
    connectAlerts(alerts, toasts, badge);
    const bus = createFrameBus();
    const chat: number[] = [];
    bus.on('chat.message', (frame) => chat.push(frame.message.id));
    const { acknowledged_at: _, ...live } = alert(21);
    const publish = (frame: unknown) =>
      dispatchFrame(parseFrame(JSON.stringify(frame))!, (a) => alerts.publish(a), bus);
    publish({ v: 1, type: 'alert', alert: live });
    // Sent again after a reconnection: dropped.
    publish({ v: 1, type: 'alert', alert: live });
    publish({
      v: 1,
      type: 'chat.message',
      message: {
        id: 4,
        customer_id: 'u1',
        source: 'rule',
        sender_id: null,
        body: 'Hi',
        created_at: '2026-11-25T10:00:00Z',
      },
    });
    expect(badge.count.get()).toBe(2);
    expect(toasts.items.get().map((toast) => toast.title)).toEqual(['Sauna: over the hourly limit']);
    expect(chat).toEqual([4]);
    toasts.clear();
  });

  it('remembers the highest alert id per user', () => {
    const storage = new MemoryStorage();
    let user: string | null = 'u1';
    const ids = alertIdStore(storage, () => (user ? `ems.lastAlertId.${user}` : null));
    expect(ids.get()).toBeNull();
    ids.set(12);
    expect(storage.getItem('ems.lastAlertId.u1')).toBe('12');
    ids.reset();
    expect(ids.get()).toBe(12);
    user = 'u2';
    ids.reset();
    expect(ids.get()).toBeNull();
  });
});
