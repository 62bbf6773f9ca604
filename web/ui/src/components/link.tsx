import type { ComponentChildren, TargetedMouseEvent } from 'preact';
import { navigate } from '../router/location';

interface LinkProps {
  href: string;
  children: ComponentChildren;
  class?: string;
  rel?: string;
  'aria-current'?: 'page' | undefined;
}

/** An ordinary link that changes the view without reloading; new-tab clicks work as usual. */
export function Link({ href, children, ...rest }: LinkProps) {
  function onClick(event: TargetedMouseEvent<HTMLAnchorElement>) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  }
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
