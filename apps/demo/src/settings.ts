/**
 * The inspector's transport choice: an ordered list of allowed transports, kept in the URL
 * (`?transports=eventsource,long-polling`, so a link reproduces it) and in localStorage.
 */
import { type DemoTransport, TRANSPORTS } from '../shared/types.js';

const STORAGE_KEY = 'push-demo:transports';

function parse(value: string | null | undefined): DemoTransport[] | undefined {
  if (!value) return undefined;
  const list = value
    .split(',')
    .map((name) => name.trim())
    .filter((name): name is DemoTransport => (TRANSPORTS as readonly string[]).includes(name));
  const unique = [...new Set(list)];
  return unique.length > 0 ? unique : undefined;
}

/** The saved choice: URL first, then localStorage, else every transport in default order. */
export function loadTransports(): DemoTransport[] {
  const fromUrl = parse(new URLSearchParams(window.location.search).get('transports'));
  if (fromUrl) return fromUrl;
  let stored: string | null = null;
  try {
    stored = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage disabled: fall through to the default
  }
  return parse(stored) ?? [...TRANSPORTS];
}

/** True when `list` is the default: all four transports in the default order. */
export function isDefault(list: readonly DemoTransport[]): boolean {
  return list.length === TRANSPORTS.length && list.every((name, i) => name === TRANSPORTS[i]);
}

/** Saves the choice to localStorage and returns the query string to put in the URL. */
export function saveTransports(list: readonly DemoTransport[]): string {
  const params = new URLSearchParams(window.location.search);
  try {
    if (isDefault(list)) window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, list.join(','));
  } catch {
    // storage disabled: the URL still carries it
  }
  if (isDefault(list)) params.delete('transports');
  else params.set('transports', list.join(','));
  const search = params.toString().replaceAll('%2C', ',');
  return search ? `?${search}` : '';
}

/** Keeps `list` in the default preference order. */
export function inDefaultOrder(list: Iterable<DemoTransport>): DemoTransport[] {
  const set = new Set(list);
  return TRANSPORTS.filter((name) => set.has(name));
}

const SHARE_KEY = 'push-demo:share';

/**
 * The inspector's "share one connection across tabs" switch: `?share=1` in the URL, else
 * localStorage; off by default.
 */
export function loadShare(): boolean {
  const fromUrl = new URLSearchParams(window.location.search).get('share');
  if (fromUrl !== null) return fromUrl === '1';
  try {
    return window.localStorage.getItem(SHARE_KEY) === '1';
  } catch {
    return false;
  }
}

/** Saves the switch to localStorage and returns the query string to put in the URL. */
export function saveShare(on: boolean): string {
  const params = new URLSearchParams(window.location.search);
  try {
    if (on) window.localStorage.setItem(SHARE_KEY, '1');
    else window.localStorage.removeItem(SHARE_KEY);
  } catch {
    // storage disabled: the URL still carries it
  }
  if (on) params.set('share', '1');
  else params.delete('share');
  const search = params.toString().replaceAll('%2C', ',');
  return search ? `?${search}` : '';
}
