import { describe, expect, it } from 'vitest';
import { alert } from '../test/alerts';
import { badgeDescription, badgeText, createAlertBadge } from './badge';

/** A count request the test answers when it chooses. */
function server() {
  const pending: ((total: number) => void)[] = [];
  let calls = 0;
  return {
    count: () => {
      calls += 1;
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    answer(total: number) {
      pending.shift()!(total);
      return new Promise((resolve) => setTimeout(resolve, 0));
    },
    get calls() {
      return calls;
    },
    get waiting() {
      return pending.length;
    },
  };
}

describe('badge text', () => {
  it('shows nothing at zero and caps long counts', () => {
    expect(badgeText(null)).toBe('');
    expect(badgeText(0)).toBe('');
    expect(badgeText(7)).toBe('7');
    expect(badgeText(99)).toBe('99');
    expect(badgeText(100)).toBe('99+');
    expect(badgeDescription(1)).toBe('1 to acknowledge');
    expect(badgeDescription(250)).toBe('250 to acknowledge');
    expect(badgeDescription(0)).toBe('');
  });
});

describe('alert badge', () => {
  it('shows the server’s count of open incidents', async () => {
    const api = server();
    const badge = createAlertBadge(api.count);
    expect(badge.count.get()).toBeNull();
    const refreshed = badge.refresh();
    await api.answer(4);
    await refreshed;
    expect(badge.count.get()).toBe(4);
  });

  it('counts live alerts and acknowledgements at once, never below zero', async () => {
    const api = server();
    const badge = createAlertBadge(api.count);
    const refreshed = badge.refresh();
    await api.answer(1);
    await refreshed;
    badge.raised(alert({ id: 2 }));
    expect(badge.count.get()).toBe(2);
    // Already acknowledged elsewhere: nothing to count.
    badge.raised(alert({ id: 3, acknowledged_at: '2026-11-23T11:00:00Z' }));
    expect(badge.count.get()).toBe(2);
    badge.acknowledged();
    badge.acknowledged();
    badge.acknowledged();
    expect(badge.count.get()).toBe(0);
  });

  it('counts an incident once, whichever of its kinds arrive, and clears at once on acknowledging all', async () => {
    const api = server();
    const badge = createAlertBadge(api.count);
    const refreshed = badge.refresh();
    await api.answer(0);
    await refreshed;
    badge.raised(alert({ id: 2, kind: 'peak', hour: '2026-11-23T10:00:00Z' }));
    badge.raised(alert({ id: 3, kind: 'overconsumption', hour: '2026-11-23T10:00:00Z' }));
    expect(badge.count.get()).toBe(1);
    badge.raised(alert({ id: 4, hour: '2026-11-23T11:00:00Z' }));
    badge.raised(alert({ id: 5, device_id: 'another-device', hour: '2026-11-23T11:00:00Z' }));
    // Raised while the device was snoozed: nothing to act on.
    badge.raised(alert({ id: 6, hour: '2026-11-23T12:00:00Z', snoozed: true }));
    expect(badge.count.get()).toBe(3);
    badge.acknowledged(2);
    expect(badge.count.get()).toBe(1);
    badge.acknowledgedAll();
    expect(badge.count.get()).toBe(0);
  });

  it('asks once while a count is on its way', async () => {
    const api = server();
    const badge = createAlertBadge(api.count);
    const first = badge.refresh();
    const second = badge.refresh();
    expect(api.calls).toBe(1);
    await api.answer(3);
    await Promise.all([first, second]);
    expect(badge.count.get()).toBe(3);
  });

  it('asks again when something changed while it was counting', async () => {
    const api = server();
    const badge = createAlertBadge(api.count);
    const refreshed = badge.refresh();
    // Acknowledged while the count was on its way: that answer may predate it.
    badge.acknowledged();
    await api.answer(5);
    expect(badge.count.get()).toBeNull();
    expect(api.waiting).toBe(1);
    await api.answer(4);
    await refreshed;
    expect(badge.count.get()).toBe(4);
    expect(api.calls).toBe(2);
  });

  it('drops an answer that arrives after signing out', async () => {
    const api = server();
    const badge = createAlertBadge(api.count);
    const refreshed = badge.refresh();
    badge.clear();
    await api.answer(9);
    await refreshed;
    expect(badge.count.get()).toBeNull();
    // Signing in again asks afresh rather than waiting for the dropped answer.
    const again = badge.refresh();
    expect(api.calls).toBe(2);
    await api.answer(1);
    await again;
    expect(badge.count.get()).toBe(1);
  });

  it('keeps the last count when the server cannot be reached', async () => {
    let fail = false;
    const badge = createAlertBadge(async () => {
      if (fail) throw new Error('offline');
      return 2;
    });
    await badge.refresh();
    fail = true;
    await badge.refresh();
    expect(badge.count.get()).toBe(2);
  });
});
