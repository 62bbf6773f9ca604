import { describe, expect, it } from 'vitest';
import type { Conversation } from '../api/chat';
import type { ServerFrame } from '../live/protocol';
import { holderLabel, inboxWithFrame } from './inbox';

const line = (customer_id: string, admin_id: string | null = null, admin_name: string | null = null): Conversation => ({
  customer_id,
  username: customer_id,
  display_name: customer_id,
  mode: admin_id ? 'human' : 'bot',
  admin_id,
  admin_name,
  unread: 0,
  last_body: null,
  last_source: null,
  last_at: null,
  matched_body: null,
  last_rating: null,
});

const taken = (customer_id: string, admin_id: string | null): ServerFrame => ({
  v: 1,
  type: 'chat.mode',
  customer_id,
  mode: admin_id ? 'human' : 'bot',
  admin_id,
});

describe('who has a conversation, live', () => {
  const me = { id: 'maria-id', name: 'Maria' };

  it('names the administrator who took it when the list knows them, and me as myself', () => {
    const items = [line('ana'), line('ben', 'ion-id', 'Ion')];
    const byIon = inboxWithFrame(items, taken('ana', 'ion-id'), null, me)!;
    expect(byIon[0]).toMatchObject({ admin_id: 'ion-id', admin_name: 'Ion', mode: 'human' });
    const byMe = inboxWithFrame(items, taken('ana', 'maria-id'), null, me)!;
    expect(holderLabel(byMe[0]!, me.id)).toBe('You');
    expect(holderLabel(byMe[1]!, me.id)).toBe('Ion');
  });

  it('asks for a reload when it has no name for the new holder, and forgets the holder on hand-back', () => {
    const items = [line('ana', 'ion-id', 'Ion')];
    expect(inboxWithFrame(items, taken('ana', 'someone-new'), null, me)).toBeNull();
    const back = inboxWithFrame(items, taken('ana', null), null, me)!;
    expect(back[0]).toMatchObject({ admin_id: null, admin_name: null, mode: 'bot' });
    expect(holderLabel(back[0]!, me.id)).toBe('');
  });

  it('shows the rating a customer just gave', () => {
    const frame: ServerFrame = {
      v: 1,
      type: 'chat.rated',
      customer_id: 'ana',
      rating: {
        id: 1,
        customer_id: 'ana',
        admin_id: 'ion-id',
        admin_name: 'Ion',
        requested_at: '2026-12-07T10:00:00Z',
        rating: 5,
        comment: null,
        rated_at: '2026-12-07T10:01:00Z',
      },
    };
    expect(inboxWithFrame([line('ana'), line('ben')], frame, null)!.map((item) => item.last_rating)).toEqual([5, null]);
  });
});
