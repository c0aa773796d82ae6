import type { MouseEvent } from "react";

/**
 * Lets a plain `<a href>` navigate inside the app: a left click without modifiers goes through
 * onNavigate (the router), anything else (new tab, copy link) stays the browser's. This keeps the
 * design system free of any router.
 */
export function followLink(
  event: MouseEvent<HTMLAnchorElement>,
  href: string,
  onNavigate: ((href: string) => void) | undefined,
): void {
  if (!onNavigate || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  onNavigate(href);
}
