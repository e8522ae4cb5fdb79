/**
 * The inspector's simulated network faults, kept in the `push-demo-faults` cookie so the demo
 * server sees them on WebSocket upgrades and stream requests (see server/faults.ts).
 */
import { type DemoTransport, TRANSPORTS } from '../shared/types.js';

export const BREAKABLE: readonly DemoTransport[] = ['websocket', 'eventsource', 'iframe'];

export function loadFaults(): DemoTransport[] {
  const value = /(?:^|;\s*)push-demo-faults=([^;]*)/.exec(document.cookie)?.[1] ?? '';
  const names = value.split('.');
  return TRANSPORTS.filter((name) => BREAKABLE.includes(name) && names.includes(name));
}

export function saveFaults(list: readonly DemoTransport[]): void {
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is not in every browser the demo targets
  document.cookie =
    list.length > 0
      ? `push-demo-faults=${list.join('.')}; path=/; SameSite=Lax`
      : 'push-demo-faults=; path=/; max-age=0; SameSite=Lax';
}
