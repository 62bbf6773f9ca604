// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '../../test/dom';
import { ConsumptionTable } from './consumption-table';

const week = { kind: 'week', start: '2026-11-23' } as const;

const rows = (root: HTMLElement, part: string) =>
  [...root.querySelectorAll(`${part} tr`)].map((row) => [...row.children].map((cell) => cell.textContent));

describe('ConsumptionTable', () => {
  it('says "no data" where nothing was measured and 0 kWh where readings add up to nothing', () => {
    const root = mount(
      <ConsumptionTable
        period={week}
        caption="Oven"
        values={[1, 0, null, null, null, null, null]}
        previous={[null, null, null, null, null, null, null]}
        limit={null}
      />,
    );
    expect(rows(root, 'tbody').slice(0, 3)).toEqual([
      ['Monday, November 23', '1 kWh', 'no data'],
      ['Tuesday, November 24', '0 kWh', 'no data'],
      ['Wednesday, November 25', 'no data', 'no data'],
    ]);
    expect(rows(root, 'tfoot')).toEqual([['Total', '1 kWh', 'No readings']]);
  });

  it('gives all devices a column each after their sum', () => {
    const root = mount(
      <ConsumptionTable
        period={week}
        caption="All my devices"
        values={[1.5, null, null, null, null, null, 0]}
        previous={null}
        limit={null}
        devices={[
          { id: 'a', name: 'Oven', values: [1, null, null, null, null, null, 0] },
          { id: 'b', name: 'Attic', values: [0.5, null, null, null, null, null, null] },
        ]}
      />,
    );
    expect(rows(root, 'thead')).toEqual([['Day', 'All devices', 'Oven', 'Attic']]);
    expect(rows(root, 'tbody')[0]).toEqual(['Monday, November 23', '1.5 kWh', '1 kWh', '0.5 kWh']);
    expect(rows(root, 'tbody')[6]).toEqual(['Sunday, November 29', '0 kWh', '0 kWh', 'no data']);
    expect(rows(root, 'tfoot')).toEqual([['Total', '1.5 kWh', '1 kWh', '0.5 kWh']]);
  });

  it('adds the cost of each step beside its kWh, and the previous period’s beside its own', () => {
    const root = mount(
      <ConsumptionTable
        period={week}
        caption="Oven"
        values={[3, 0, null, null, null, null, null]}
        previous={[1.5, null, null, null, null, null, null]}
        limit={null}
        costs={[3.3, 0, null, null, null, null, null]}
        previousCosts={[1.65, null, null, null, null, null, null]}
        currency="RON"
      />,
    );
    const plain = (table: (string | null)[][]) =>
      table.map((row) => row.map((cell) => cell?.replaceAll('\u00a0', ' ')));
    expect(rows(root, 'thead')).toEqual([['Day', 'Consumption', 'Cost (RON)', 'Previous week', 'Cost, previous week']]);
    expect(plain(rows(root, 'tbody').slice(0, 3))).toEqual([
      ['Monday, November 23', '3 kWh', 'RON 3.30', '1.5 kWh', 'RON 1.65'],
      ['Tuesday, November 24', '0 kWh', 'RON 0.00', 'no data', '—'],
      ['Wednesday, November 25', 'no data', '—', 'no data', '—'],
    ]);
    expect(plain(rows(root, 'tfoot'))).toEqual([['Total', '3 kWh', 'RON 3.30', '1.5 kWh', 'RON 1.65']]);
  });
});
