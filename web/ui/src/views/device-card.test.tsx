// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { Device } from '../api/types';
import { mount } from '../test/dom';
import { DeviceCard } from './device-card';

const now = new Date('2026-11-24T12:00:00Z');

function device(lastReading: NonNullable<Device['last_reading']> | null): Device {
  return {
    id: '6f1c0c62-3f55-4d0a-9f4e-2b1d5d3e7a10',
    name: 'Oven',
    description: '',
    location: 'Kitchen',
    max_hourly_kwh: 2,
    owner_id: null,
    owner_username: null,
    forecast_alerts: true,
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
    first_reading_at: lastReading ? '2026-11-02T00:00:00Z' : null,
    last_reading: lastReading,
  };
}

const facts = (root: HTMLElement) =>
  [...root.querySelectorAll('.facts div')].map((fact) => [
    fact.querySelector('dt')!.textContent,
    fact.querySelector('dd')!.textContent,
  ]);
const status = (root: HTMLElement) => root.querySelector('.device-status')!;

describe('DeviceCard', () => {
  it('says a device that never reported has no readings, not that it used nothing', () => {
    const root = mount(
      <DeviceCard
        device={device(null)}
        today={{
          openIncidents: 0,
          day: { device_id: 'x', name: 'Oven', max_hourly_kwh: 2, total_kwh: null, hours: Array(24).fill(null) },
        }}
        now={now}
      />,
    );
    expect(facts(root)).toEqual([
      ['Location', 'Kitchen'],
      ['Hourly limit', '2 kWh'],
      ['Last reading', 'No readings yet'],
      ['Today (UTC)', 'No readings today'],
    ]);
    expect(status(root).querySelector('[aria-hidden]')!.textContent).toBe('Offline');
    expect(root.querySelector('.sparkline')).toBeNull();
  });

  it('shows the last reading and online for three intervals, offline after, with the rule', () => {
    const recent = mount(
      <DeviceCard device={device({ at: '2026-11-24T11:40:00Z', kwh: 0.25, interval_s: 600 })} today={null} now={now} />,
    );
    expect(facts(recent)[2]).toEqual(['Last reading', '20 min ago0.25 kWh at Nov 24, 2026, 11:40 UTC']);
    expect(status(recent).querySelector('[aria-hidden]')!.textContent).toBe('Online');
    expect(status(recent).getAttribute('title')).toContain('30 minutes');

    const old = mount(
      <DeviceCard device={device({ at: '2026-11-24T09:00:00Z', kwh: 0, interval_s: 600 })} today={null} now={now} />,
    );
    expect(facts(old)[2]![1]).toMatch(/^3 h ago0 kWh at /);
    expect(status(old).querySelector('[aria-hidden]')!.textContent).toBe('Offline');
    expect(status(old).textContent).toContain('no reading for more than 30 minutes');
  });

  it('offers the early-warning switch as it stands, and says which way it was turned', () => {
    const turned: boolean[] = [];
    const root = mount(
      <DeviceCard
        device={{ ...device(null), forecast_alerts: true }}
        today={null}
        now={now}
        onForecastAlerts={async (enabled) => {
          turned.push(enabled);
        }}
      />,
    );
    const box = root.querySelector<HTMLInputElement>('.device-forecast input')!;
    expect(box.checked).toBe(true);
    expect(root.querySelector('.device-forecast')!.textContent).toBe(
      'Warn me before the hourly limit is crossed by Oven',
    );
    box.click();
    expect(turned).toEqual([false]);
    // Without a handler (an administrator's view of someone's device) there is no switch.
    expect(
      mount(<DeviceCard device={device(null)} today={null} now={now} />).querySelector('.device-forecast'),
    ).toBeNull();
  });
});
