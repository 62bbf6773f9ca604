// Rendering components into happy-dom for unit tests (files starting with
// `// @vitest-environment happy-dom`), and the few user actions they need.
import { render, type ComponentChild } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach } from 'vitest';

const roots: HTMLElement[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) {
    render(null, root);
    root.remove();
  }
});

/** Renders `node` into a fresh element of the page, removed after the test. */
export function mount(node: ComponentChild): HTMLElement {
  const root = document.createElement('div');
  document.body.append(root);
  roots.push(root);
  act(() => render(node, root));
  return root;
}

/** Replaces a field's text as typing would, firing `input`. */
export function type(field: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  act(() => {
    field.value = text;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export function press(target: Element, key: string, options: KeyboardEventInit = {}): void {
  act(() => {
    target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...options }));
  });
}

export function click(target: Element): void {
  act(() => (target as HTMLElement).click());
}

/** The button whose accessible text (visible and visually hidden) is `name`. */
export function button(root: Element, name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find((candidate) => candidate.textContent?.trim() === name);
  if (!found) throw new Error(`no button named “${name}” in ${root.innerHTML}`);
  return found;
}

/** Lets pending promises (and the renders they cause) settle. */
export async function settle(): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}
