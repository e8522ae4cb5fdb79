/** A tiny pathname router: four pages do not need a routing library. */
import { type MouseEvent, type ReactNode, useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

/** The current `location.pathname`, re-rendering on navigation. */
export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** Navigates within the app, keeping the query string (the transport choice lives there). */
export function navigate(pathname: string): void {
  if (pathname === window.location.pathname) return;
  window.history.pushState(null, '', pathname + window.location.search);
  notify();
}

/** Replaces the query string without navigating. */
export function replaceSearch(search: string): void {
  window.history.replaceState(null, '', window.location.pathname + search);
  notify();
}

export function Link(props: { to: string; className?: string; children: ReactNode; 'data-testid'?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} className={props.className} onClick={onClick} data-testid={props['data-testid']}>
      {props.children}
    </a>
  );
}
