// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { button, click, mount, press, type } from '../test/dom';
import { ChatComposer } from './chat-composer';

function setUp(props: { focusOnMount?: boolean } = {}) {
  const conversation = { send: vi.fn(), typed: vi.fn(), stopTyping: vi.fn() };
  const root = mount(
    <ChatComposer
      id="reply-input"
      label="Reply to Ana"
      placeholder="Write a reply"
      submitLabel="Send reply"
      conversation={conversation}
      {...props}
    />,
  );
  const input = root.querySelector('textarea')!;
  return { root, input, conversation };
}

describe('ChatComposer', () => {
  it('is a text area labelled for screen readers, with its send button', () => {
    const { root, input } = setUp();
    const label = root.querySelector('label')!;
    expect([label.htmlFor, label.className, label.textContent]).toEqual([
      'reply-input',
      'visually-hidden',
      'Reply to Ana',
    ]);
    expect([input.id, input.placeholder, input.maxLength, input.getAttribute('rows')]).toEqual([
      'reply-input',
      'Write a reply',
      4000,
      '2',
    ]);
    expect(button(root, 'Send reply').type).toBe('submit');
    expect(document.activeElement).not.toBe(input);
  });

  it('takes the focus when asked to, as the customer’s panel opens', () => {
    const { input } = setUp({ focusOnMount: true });
    expect(document.activeElement).toBe(input);
  });

  it('sends on Enter and empties the box; Shift+Enter does not send', () => {
    const { input, conversation } = setUp();
    type(input, 'Hello,\nmy oven');
    press(input, 'Enter', { shiftKey: true });
    expect(conversation.send).not.toHaveBeenCalled();
    press(input, 'Enter');
    expect(conversation.send).toHaveBeenCalledWith('Hello,\nmy oven');
    expect(input.value).toBe('');
  });

  it('sends with its button too, and never a blank message', () => {
    const { root, input, conversation } = setUp();
    type(input, '   ');
    click(button(root, 'Send reply'));
    press(input, 'Enter');
    expect(conversation.send).not.toHaveBeenCalled();
    type(input, 'Thanks');
    click(button(root, 'Send reply'));
    expect(conversation.send).toHaveBeenCalledExactlyOnceWith('Thanks');
  });

  it('says "typing" while there is text, and stops when the box is emptied', () => {
    const { input, conversation } = setUp();
    type(input, 'H');
    type(input, 'Hi');
    expect(conversation.typed).toHaveBeenCalledTimes(2);
    type(input, '');
    expect(conversation.stopTyping).toHaveBeenCalledOnce();
  });
});
