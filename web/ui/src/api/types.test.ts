// Checked by `tsc` (npm run lint) rather than at run time: the few names in types.ts that are
// not a straight copy of a generated schema must still mean what the API sends.
import { describe, expectTypeOf, it } from 'vitest';
import type { components, operations } from './schema';
import type { Alert, Device, HistoryQuery, Page, User } from './types';

type Schemas = components['schemas'];

describe('api types', () => {
  it('has one Page<T> for every list the API pages', () => {
    expectTypeOf<Page<User>>().toEqualTypeOf<Schemas['Page_User']>();
    expectTypeOf<Page<Device>>().toEqualTypeOf<Schemas['Page_Device']>();
    expectTypeOf<Page<Alert>>().toEqualTypeOf<Schemas['Page_Alert']>();
  });

  it('asks for a customer’s and an administrator’s chat history the same way', () => {
    type Both = NonNullable<operations['conversation_history']['parameters']['query']>;
    expectTypeOf<Required<HistoryQuery>>().toEqualTypeOf<{ [K in keyof Both]-?: Both[K] | undefined }>();
  });
});
