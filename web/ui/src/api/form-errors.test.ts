import { describe, expect, it } from 'vitest';
import { describeError, formErrors, loginErrors, sentence } from './form-errors';
import { ApiError, NO_RESPONSE } from './http';

const validation = (fields: { field: string; message: string }[]) =>
  new ApiError(422, 'validation_failed', 'invalid value; see `fields`', fields);

describe('sentence', () => {
  it('capitalises and ends with a full stop', () => {
    expect(sentence('must be 1 to 100 characters')).toBe('Must be 1 to 100 characters.');
    expect(sentence('this username is already taken; choose another')).toBe(
      'This username is already taken; choose another.',
    );
    expect(sentence('Already fine!')).toBe('Already fine!');
  });
});

describe('formErrors', () => {
  it("puts each message beside the form's own field", () => {
    const error = validation([
      { field: 'max_hourly_kwh', message: 'must be a number of kWh greater than 0 and at most 1000000' },
      { field: 'name', message: 'must be 1 to 100 characters' },
    ]);
    expect(formErrors(error, ['name', 'location', 'max_hourly_kwh'])).toEqual({
      fields: {
        max_hourly_kwh: 'Must be a number of kWh greater than 0 and at most 1000000.',
        name: 'Must be 1 to 100 characters.',
      },
      form: null,
    });
  });

  it('says above the form what is wrong with a field the form does not show', () => {
    const error = validation([
      { field: 'username', message: 'must be 3 to 32 characters' },
      { field: 'user_id', message: 'no user has this id' },
    ]);
    expect(formErrors(error, ['username'])).toEqual({
      fields: { username: 'Must be 3 to 32 characters.' },
      form: 'User id: No user has this id.',
    });
  });

  it('places a conflict on its field', () => {
    const error = new ApiError(409, 'conflict', 'this username is already taken; choose another', [
      { field: 'username', message: 'this username is already taken; choose another' },
    ]);
    expect(formErrors(error, ['username', 'display_name']).fields['username']).toBe(
      'This username is already taken; choose another.',
    );
  });

  it('explains errors without fields above the form', () => {
    expect(formErrors(new ApiError(404, 'not_found', 'no user has the id 1'), ['username']).form).toMatch(
      /no longer exists/,
    );
    expect(formErrors(new Error('boom'), ['username']).form).toMatch(/unexpected/);
  });
});

describe('describeError', () => {
  it('speaks plainly about each kind of failure', () => {
    expect(describeError(new ApiError(NO_RESPONSE, 'network', 'The server could not be reached.'))).toBe(
      'The server could not be reached.',
    );
    expect(describeError(new ApiError(401, 'unauthorized', 'expired'))).toMatch(/sign in again/i);
    expect(describeError(new ApiError(403, 'forbidden', 'x'))).toMatch(/only administrators/i);
    expect(describeError(new ApiError(429, 'too_many_requests', 'x', [], 90))).toBe(
      'Too many attempts. Try again in 1 minute 30 seconds.',
    );
    expect(describeError(new ApiError(409, 'conflict', 'you cannot delete your own account'))).toBe(
      'You cannot delete your own account.',
    );
  });
});

describe('loginErrors', () => {
  it('says the username or password is wrong, at the password', () => {
    const errors = loginErrors(new ApiError(401, 'unauthorized', 'the username or password is wrong'));
    expect(errors.fields['password']).toMatch(/username or password is wrong/);
    expect(errors.form).toBeNull();
  });

  it('says how long to wait after too many failures, at the username', () => {
    const errors = loginErrors(new ApiError(429, 'too_many_requests', 'locked', [], 30));
    expect(errors.fields['username']).toBe('Too many failed sign-ins for this username. Try again in 30 seconds.');
  });

  it('names empty fields', () => {
    const errors = loginErrors(validation([{ field: 'password', message: 'is required' }]));
    expect(errors.fields).toEqual({ password: 'Is required.' });
  });
});
