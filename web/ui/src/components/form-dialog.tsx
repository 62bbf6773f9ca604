import type { ComponentChildren } from 'preact';
import type { Form } from '../hooks/use-form';
import { Dialog, DialogActions } from './dialog';
import { FormError } from './field';

/**
 * A dialog holding one form: the form's message above its fields, Cancel and the main action
 * below. Submitting runs `onSave` through the form, which places its errors beside the fields.
 */
export function FormDialog<Values extends Record<string, string>>({
  title,
  form,
  onSave,
  submitLabel,
  onClose,
  intro,
  children,
}: {
  title: string;
  form: Form<Values>;
  onSave: (values: Values) => Promise<void>;
  submitLabel: string;
  onClose: () => void;
  /** Said before anything else in the form. */
  intro?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        ref={form.formRef}
        class="form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(onSave);
        }}
      >
        {intro}
        <FormError message={form.errors.form} />
        {children}
        <DialogActions submitLabel={submitLabel} submitting={form.submitting} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
