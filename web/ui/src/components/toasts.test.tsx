// @vitest-environment happy-dom
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertBadge } from '../alerts/badge';
import { createAlertBus } from '../alerts/bus';
import { connectAlerts } from '../alerts/live';
import { alert } from '../test/alerts';
import { createToastStore } from '../toast/toasts';
import { Toasts } from './toasts';

describe('Toasts with the alert bus', () => {
  let root: HTMLElement;
  beforeEach(() => {
    root = document.createElement('div');
    document.body.append(root);
  });
  afterEach(() => {
    render(null, root);
    root.remove();
  });

  function setUp() {
    const bus = createAlertBus();
    const store = createToastStore();
    const badge = createAlertBadge(async () => 0);
    connectAlerts(bus, store, badge);
    act(() => render(<Toasts store={store} />, root));
    return { bus, store, badge };
  }

  it('keeps an empty live region in the page before anything arrives', () => {
    setUp();
    const region = root.querySelector('section[aria-label="Notifications"] [aria-live="polite"]');
    expect(region).not.toBeNull();
    expect(region!.children).toHaveLength(0);
  });

  it('shows a toast for an alert published on the bus, linking to the alert centre', () => {
    const { bus, store } = setUp();
    act(() => bus.publish(alert({ id: 21 })));
    const toasts = root.querySelectorAll('.toast');
    expect(toasts).toHaveLength(1);
    expect(toasts[0]!.textContent).toContain('Sauna heater: over the hourly limit');
    expect(toasts[0]!.textContent).toContain('2.75 kWh in the hour 10:00–11:00 — limit 2.5 kWh');
    expect(toasts[0]!.querySelector('a')!.getAttribute('href')).toBe('/alerts?acknowledged=false');
    store.clear();
  });

  it('closes with its button, named after the toast, and with Escape', () => {
    const { bus, store } = setUp();
    act(() => {
      bus.publish(alert({ id: 31, device_name: 'Boiler', device_id: 'boiler' }));
      bus.publish(alert({ id: 32, device_name: 'Oven', device_id: 'oven' }));
    });
    const close = [...root.querySelectorAll('button')].find((button) =>
      button.textContent?.includes('Dismiss: Boiler'),
    );
    act(() => close!.click());
    expect([...root.querySelectorAll('.toast-title')].map((title) => title.textContent)).toEqual([
      '⚠ Oven: over the hourly limit',
    ]);
    act(() => {
      root.querySelector('.toast')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect(root.querySelectorAll('.toast')).toHaveLength(0);
    expect(store.items.get()).toHaveLength(0);
  });

  it('stops a toast’s timer while the pointer is on it', () => {
    const { bus, store } = setUp();
    const held: number[] = [];
    const hold = store.hold;
    store.hold = (id) => {
      held.push(id);
      hold(id);
    };
    act(() => bus.publish(alert({ id: 41 })));
    // Preact listens to mouseenter itself; happy-dom dispatches it as given.
    act(() => {
      root.querySelector('.toast')!.dispatchEvent(new MouseEvent('mouseenter'));
    });
    expect(held).toHaveLength(1);
    store.clear();
  });
});
