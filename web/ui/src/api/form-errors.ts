// Turns a failed request into sentences placed where a person looks: next to the field at fault
// when the API names one (`fields`), otherwise above the form.
import { formatWait } from '../format/format';
import { ApiError, NO_RESPONSE } from './http';

export interface FormErrors {
  /** Keyed by field name, as the API names them. */
  fields: Record<string, string>;
  form: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null };

/** "must be 1 to 100 characters" → "Must be 1 to 100 characters." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** "user_id" → "User id", for fields a form does not show. */
function fieldLabel(field: string): string {
  const words = field.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** What went wrong, for errors that belong to no field. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return 'Something unexpected went wrong. Reload the page and try again.';
  }
  switch (error.status) {
    case NO_RESPONSE:
      return error.message;
    case 401:
      return 'Your session has ended. Sign in again.';
    case 403:
      return 'Only administrators can do this.';
    case 404:
      return 'It no longer exists; someone may have just deleted it. The list now shows what is there.';
    case 429:
      return error.retryAfterSeconds === null
        ? 'Too many attempts. Wait a little, then try again.'
        : `Too many attempts. Try again in ${formatWait(error.retryAfterSeconds)}.`;
    default:
      return sentence(error.message);
  }
}

/**
 * Places an error's messages: those about the form's own `fields` (API names) beside them, any
 * other above the form, saying which field it is about.
 */
export function formErrors(error: unknown, formFields: readonly string[]): FormErrors {
  if (!(error instanceof ApiError) || error.fields.length === 0) {
    return { fields: {}, form: describeError(error) };
  }
  const fields: Record<string, string> = {};
  const elsewhere: string[] = [];
  for (const { field, message } of error.fields) {
    if (formFields.includes(field)) fields[field] ??= sentence(message);
    else elsewhere.push(`${fieldLabel(field)}: ${sentence(message)}`);
  }
  return { fields, form: elsewhere.length ? elsewhere.join(' ') : null };
}

/** Sign-in failures: which field to point at, and what to do about it. */
export function loginErrors(error: unknown): FormErrors {
  if (error instanceof ApiError && error.status === 401) {
    return { fields: { password: 'The username or password is wrong. Check both and try again.' }, form: null };
  }
  if (error instanceof ApiError && error.status === 429) {
    const wait = error.retryAfterSeconds === null ? 'a little while' : formatWait(error.retryAfterSeconds);
    return {
      fields: { username: `Too many failed sign-ins for this username. Try again in ${wait}.` },
      form: null,
    };
  }
  return formErrors(error, ['username', 'password']);
}
