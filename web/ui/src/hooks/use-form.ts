import type { TargetedEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formErrors, NO_ERRORS, type FormErrors } from '../api/form-errors';

export interface BoundField {
  name: string;
  value: string;
  error: string | undefined;
  onInput: (event: TargetedEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) => void;
}

/**
 * A form's values, its errors placed by field, and its submission. After a failed submission
 * focus moves to the first field in error (or the form's message), so keyboard and screen
 * reader users land on what needs fixing.
 */
export function useForm<Values extends Record<string, string>>(initial: Values) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [submitting, setSubmitting] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    if (errors === NO_ERRORS) return;
    const target = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], .form-error');
    target?.focus();
  }, [errors]);

  function bind(name: keyof Values & string): BoundField {
    return {
      name,
      value: values[name] ?? '',
      error: errors.fields[name],
      onInput: (event) => {
        const value = event.currentTarget.value;
        setValues((current) => ({ ...current, [name]: value }));
      },
    };
  }

  async function submit(
    action: (values: Values) => Promise<void>,
    placeErrors: (error: unknown) => FormErrors = (error) => formErrors(error, Object.keys(initial)),
  ): Promise<void> {
    setSubmitting(true);
    setErrors(NO_ERRORS);
    try {
      await action(values);
    } catch (error) {
      setErrors(placeErrors(error));
    } finally {
      setSubmitting(false);
    }
  }

  return { values, errors, submitting, bind, submit, formRef };
}

export type Form<Values extends Record<string, string>> = ReturnType<typeof useForm<Values>>;
