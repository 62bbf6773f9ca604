// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/http';
import type { Page } from '../api/types';
import type { PagedList } from '../hooks/use-paged-list';
import { button, click, mount, settle } from '../test/dom';
import { ListPage, useListActions } from './list-page';
import { RowAction } from './row-action';

interface Meter {
  id: string;
  name: string;
}

const page = (items: Meter[], total = items.length): Page<Meter> => ({
  items,
  page: 1,
  per_page: 20,
  total,
  total_pages: Math.max(1, Math.ceil(total / 20)),
});

const loaded = (items: Meter[], total?: number): PagedList<Meter> => ({
  page: page(items, total),
  error: null,
  loading: false,
  reload: vi.fn(),
});

const table = {
  caption: 'Meters',
  rowKey: (meter: Meter) => meter.id,
  columns: [{ label: 'Name', cell: (meter: Meter) => meter.name }],
};

function show(list: PagedList<Meter>, extra: { notice?: string; failure?: string | null } = {}) {
  return mount(
    <ListPage
      list={list}
      notice={extra.notice ?? ''}
      failure={extra.failure ?? null}
      empty="No meters match."
      noun={{ one: 'meter', many: 'meters' }}
      toolbar={<button type="button">New meter</button>}
      table={table}
    >
      <p class="open-dialog">a dialog</p>
    </ListPage>,
  );
}

describe('ListPage', () => {
  it('shows the toolbar, the table and how many there are', () => {
    const root = show(loaded([{ id: 'a', name: 'Oven' }]));
    const view = root.querySelector('.list-view')!;
    expect(view.querySelector('.toolbar')!.textContent).toBe('New meter');
    expect(view.querySelector('tbody th')!.textContent).toBe('Oven');
    expect(view.querySelector('table')!.getAttribute('aria-busy')).toBe('false');
    expect(view.querySelector('.pagination-range')!.textContent).toBe('1 meter');
    expect(view.querySelector('.open-dialog')).not.toBeNull();
  });

  it('keeps an empty live region for notices, and says what the last action did or why it failed', () => {
    const quiet = show(loaded([]));
    expect(quiet.querySelector('[role="status"]')!.textContent).toBe('');
    expect(quiet.querySelector('[role="alert"]')).toBeNull();

    const root = show(loaded([{ id: 'a', name: 'Oven' }]), { notice: 'Meter Oven saved.', failure: 'It went wrong.' });
    expect(root.querySelector('[role="status"]')!.textContent).toBe('Meter Oven saved.');
    expect(root.querySelector('[role="alert"]')!.textContent).toBe('It went wrong.');
  });

  it('says when nothing matches, instead of an empty table', () => {
    const root = show(loaded([]));
    expect(root.querySelector('table')).toBeNull();
    expect(root.querySelector('.empty')!.textContent).toBe('No meters match.');
  });

  it('offers to try again when the list could not be loaded', () => {
    const list: PagedList<Meter> = {
      page: null,
      error: 'The server could not be reached.',
      loading: false,
      reload: vi.fn(),
    };
    const root = show(list);
    click(button(root, 'Try again'));
    expect(list.reload).toHaveBeenCalledOnce();
  });
});

type OpenDialog = { kind: 'edit'; meter: Meter };

/** A list view in miniature: an Edit button per row opening a dialog, and a Remove button acting at once. */
function MeterList({ list, remove }: { list: PagedList<Meter>; remove: (meter: Meter) => Promise<void> }) {
  const { dialog, open, close, done, run, notice, failure } = useListActions<OpenDialog>(list);
  return (
    <ListPage
      list={list}
      notice={notice}
      failure={failure}
      empty="None."
      noun={{ one: 'meter', many: 'meters' }}
      toolbar={null}
      table={{
        ...table,
        actions: (meter) => (
          <>
            <RowAction label="Edit" target={meter.name} onClick={() => open({ kind: 'edit', meter })} />
            <RowAction
              label="Remove"
              target={meter.name}
              onClick={() =>
                void run(async () => {
                  await remove(meter);
                  return `${meter.name} removed.`;
                })
              }
            />
          </>
        ),
      }}
    >
      {dialog && (
        <div class="fake-dialog">
          Editing {dialog.meter.name}
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="button" onClick={() => done(`${dialog.meter.name} saved.`)}>
            Save
          </button>
        </div>
      )}
    </ListPage>
  );
}

describe('useListActions', () => {
  const oven = { id: 'a', name: 'Oven' };

  it('opens the dialog for a row and closes it without reloading on Cancel', () => {
    const list = loaded([oven]);
    const root = mount(<MeterList list={list} remove={async () => undefined} />);
    click(button(root, 'Edit Oven'));
    expect(root.querySelector('.fake-dialog')!.textContent).toContain('Editing Oven');
    click(button(root, 'Cancel'));
    expect(root.querySelector('.fake-dialog')).toBeNull();
    expect(list.reload).not.toHaveBeenCalled();
  });

  it('after an action: closes the dialog, says what was done and loads the list again', () => {
    const list = loaded([oven]);
    const root = mount(<MeterList list={list} remove={async () => undefined} />);
    click(button(root, 'Edit Oven'));
    click(button(root, 'Save'));
    expect(root.querySelector('.fake-dialog')).toBeNull();
    expect(root.querySelector('[role="status"]')!.textContent).toBe('Oven saved.');
    expect(list.reload).toHaveBeenCalledOnce();
  });

  it('shows why an action without a dialog failed, and clears it after the next success', async () => {
    const list = loaded([oven]);
    const remove = vi
      .fn<(meter: Meter) => Promise<void>>()
      .mockRejectedValueOnce(new ApiError(409, 'conflict', 'the meter is still in use'))
      .mockResolvedValueOnce(undefined);
    const root = mount(<MeterList list={list} remove={remove} />);
    click(button(root, 'Remove Oven'));
    await settle();
    expect(root.querySelector('[role="alert"]')!.textContent).toBe('The meter is still in use.');
    expect(list.reload).not.toHaveBeenCalled();

    click(button(root, 'Remove Oven'));
    await settle();
    expect(root.querySelector('[role="alert"]')).toBeNull();
    expect(root.querySelector('[role="status"]')!.textContent).toBe('Oven removed.');
    expect(list.reload).toHaveBeenCalledOnce();
  });
});
