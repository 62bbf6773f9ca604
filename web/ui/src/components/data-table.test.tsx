// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { button, click, mount } from '../test/dom';
import { DataTable, type Column } from './data-table';
import { RowAction } from './row-action';

interface Meter {
  id: string;
  name: string;
  kwh: number;
}

const METERS: Meter[] = [
  { id: 'a', name: 'Oven', kwh: 2.5 },
  { id: 'b', name: 'Boiler', kwh: 4 },
];
const COLUMNS: Column<Meter>[] = [
  { label: 'Name', cell: (meter) => meter.name },
  { label: 'Limit', cell: (meter) => `${meter.kwh} kWh` },
];

describe('DataTable', () => {
  it('heads each row with its first column and labels every cell for the phone layout', () => {
    const root = mount(<DataTable caption="Meters" columns={COLUMNS} items={METERS} rowKey={(meter) => meter.id} />);
    const table = root.querySelector('table')!;
    expect(table.className).toBe('data-table');
    expect(table.hasAttribute('aria-busy')).toBe(false);
    expect(table.querySelector('caption')!.textContent).toBe('Meters');
    expect([...table.querySelectorAll('thead th')].map((th) => [th.getAttribute('scope'), th.textContent])).toEqual([
      ['col', 'Name'],
      ['col', 'Limit'],
    ]);
    const rows = table.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(2);
    const header = rows[1]!.querySelector('th')!;
    expect([header.getAttribute('scope'), header.dataset['label'], header.textContent]).toEqual([
      'row',
      'Name',
      'Boiler',
    ]);
    expect([...rows[1]!.querySelectorAll('td')].map((td) => [td.dataset['label'], td.textContent])).toEqual([
      ['Limit', '4 kWh'],
    ]);
  });

  it('adds a column of row actions, headed for screen readers only', () => {
    const edit = vi.fn();
    const root = mount(
      <DataTable
        caption="Meters"
        columns={COLUMNS}
        items={METERS}
        rowKey={(meter) => meter.id}
        busy
        class="meters"
        rowClass={(meter) => (meter.kwh > 3 ? 'big' : '')}
        actions={(meter) => <RowAction label="Edit" target={meter.name} onClick={() => edit(meter.id)} />}
      />,
    );
    const table = root.querySelector('table')!;
    expect(table.className).toBe('data-table meters');
    expect(table.getAttribute('aria-busy')).toBe('true');
    const actionsHeading = table.querySelectorAll('thead th')[2]!;
    expect(actionsHeading.querySelector('.visually-hidden')!.textContent).toBe('Actions');
    const boiler = table.querySelectorAll('tbody tr')[1]!;
    expect(boiler.className).toBe('big');
    const cell = boiler.querySelector('td:last-child')!;
    expect(cell.hasAttribute('data-label')).toBe(false);
    click(button(cell.querySelector('.row-actions')!, 'Edit Boiler'));
    expect(edit).toHaveBeenCalledWith('b');
  });
});

describe('RowAction', () => {
  it('names the button after its row for screen readers', () => {
    const root = mount(<RowAction label="Reset password" target="of ana" onClick={() => undefined} />);
    const action = root.querySelector('button')!;
    expect(action.textContent).toBe('Reset password of ana');
    expect(action.querySelector('.visually-hidden')!.textContent).toBe(' of ana');
    expect(action.className).toBe('button button--small');
    expect(action.type).toBe('button');
  });

  it('marks dangerous actions and can be disabled', () => {
    const onClick = vi.fn();
    const root = mount(<RowAction label="Delete" target="ana" danger disabled onClick={onClick} />);
    const action = root.querySelector('button')!;
    expect(action.className).toBe('button button--small button--danger');
    expect(action.disabled).toBe(true);
  });

  it('is a link that changes the view without reloading when it goes elsewhere', () => {
    const root = mount(<RowAction label="Consumption" target="of Oven" href="/consumption?device=a" />);
    const link = root.querySelector('a')!;
    expect([link.getAttribute('href'), link.className, link.textContent]).toEqual([
      '/consumption?device=a',
      'button button--small',
      'Consumption of Oven',
    ]);
    click(link);
    expect(window.location.pathname + window.location.search).toBe('/consumption?device=a');
  });
});
