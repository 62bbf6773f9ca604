// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/http';
import { useForm } from '../hooks/use-form';
import { button, click, mount, settle, type } from '../test/dom';
import { TextField } from './field';
import { FormDialog } from './form-dialog';

function RenameDialog({
  onSave,
  onClose,
}: {
  onSave: (values: { name: string }) => Promise<void>;
  onClose: () => void;
}) {
  const form = useForm({ name: 'Oven' });
  return (
    <FormDialog
      title="Rename Oven"
      form={form}
      onSave={onSave}
      submitLabel="Rename"
      onClose={onClose}
      intro={<p class="intro">Its owner sees the new name.</p>}
    >
      <TextField field={form.bind('name')} label="Name" required />
    </FormDialog>
  );
}

const submit = (root: HTMLElement) =>
  root.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));

describe('FormDialog', () => {
  it('is a modal dialog named by its title, with the intro first and the actions last', () => {
    const root = mount(<RenameDialog onSave={async () => undefined} onClose={() => undefined} />);
    const dialog = root.querySelector('dialog')!;
    expect(dialog.open).toBe(true);
    expect(document.getElementById(dialog.getAttribute('aria-labelledby')!)!.textContent).toBe('Rename Oven');
    const form = dialog.querySelector('form')!;
    expect(form.noValidate).toBe(true);
    expect(form.firstElementChild!.className).toBe('intro');
    expect([...form.querySelectorAll('.dialog-actions button')].map((action) => action.textContent)).toEqual([
      'Cancel',
      'Rename',
    ]);
  });

  it('saves the values as typed', async () => {
    const onSave = vi.fn(async () => undefined);
    const root = mount(<RenameDialog onSave={onSave} onClose={() => undefined} />);
    type(root.querySelector('input')!, 'Big oven');
    submit(root);
    await settle();
    expect(onSave).toHaveBeenCalledWith({ name: 'Big oven' });
  });

  it('puts what the API said beside the field, and other failures above the fields', async () => {
    const onSave = vi
      .fn<(values: { name: string }) => Promise<void>>()
      .mockRejectedValueOnce(
        new ApiError(422, 'validation_failed', 'invalid', [{ field: 'name', message: 'must be 1 to 100 characters' }]),
      )
      .mockRejectedValueOnce(new ApiError(404, 'not_found', 'no device has this id'));
    const root = mount(<RenameDialog onSave={onSave} onClose={() => undefined} />);
    submit(root);
    await settle();
    const input = root.querySelector('input')!;
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(root.querySelector('.field-error')!.textContent).toBe('Must be 1 to 100 characters.');
    expect(document.activeElement).toBe(input);

    submit(root);
    await settle();
    expect(root.querySelector('form > .form-error')!.textContent).toMatch(/no longer exists/);
  });

  it('closes with Cancel and with Escape', () => {
    const onClose = vi.fn();
    const root = mount(<RenameDialog onSave={async () => undefined} onClose={onClose} />);
    click(button(root, 'Cancel'));
    expect(onClose).toHaveBeenCalledTimes(1);
    // What a browser fires at a modal dialog on Escape.
    const escape = new Event('cancel', { cancelable: true });
    root.querySelector('dialog')!.dispatchEvent(escape);
    expect(onClose).toHaveBeenCalledTimes(2);
    expect(escape.defaultPrevented).toBe(true);
  });
});
