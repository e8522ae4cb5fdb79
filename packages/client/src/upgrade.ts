/**
 * Background upgrade to a better transport, in engine.io's order: probe (open the better
 * transport for the existing session within the deadline) -> confirm (it reported open: socket
 * up, stream's first bytes) -> pause (new requests wait, the connect cycle stops) and drain the
 * old link's requests in flight -> swap -> flush (held requests go out, the cycle restarts on the
 * new link). The old link stays open until its held connect returns, and messages arriving on
 * either link go to the same dispatcher, whose offset dedupe drops any duplicate. Only
 * `@push/client` wires it in; the WebSocket-only entry has nothing to upgrade to.
 */
import { createLink, defer, type Link } from './link.js';
import { type NegotiateOptions, step } from './negotiate.js';

/**
 * What the connection lends the upgrader.
 * @example upgrade(control, 30_000);
 */
export interface UpgradeControl {
  current(): { link: Link; index: number; clientId: string } | undefined;
  options(): NegotiateOptions;
  /** Schedules `fn` on the connection's upgrade timer (cleared when the link drops). */
  later(ms: number, fn: () => void): void;
  /** Pause: requests wait for `waiting`; the connect cycle stops. */
  hold(waiting: Promise<void>): void;
  /** Swap: `next` replaces `from` if it is still current (else `next` closes); restarts the cycle. */
  replace(from: Link, next: Link, index: number): boolean;
}

/** Opens `factory` for the existing session; resolves once it proved alive within the deadline. */
async function probe(o: NegotiateOptions, index: number, clientId: string): Promise<Link> {
  const factory = o.factories[index]!;
  const link = createLink(factory, o.url, o.env);
  link.onMessage = o.onMessage;
  try {
    link.transport.open(clientId);
    await step(link.opened, o.timeout, o.env, 'open', factory.type);
    return link;
  } catch (error) {
    link.close();
    throw error;
  }
}

/** Tries each supported transport better than the current one, best first. */
async function attempt(control: UpgradeControl): Promise<boolean> {
  const now = control.current();
  const o = control.options();
  for (let i = 0; now && i < now.index; i++) {
    if (!o.factories[i]!.isSupported(o.env)) continue;
    let next: Link;
    try {
      next = await probe(o, i, now.clientId);
    } catch {
      continue;
    }
    const paused = defer();
    control.hold(paused.promise);
    await now.link.transport.pause();
    const swapped = control.replace(now.link, next, i);
    paused.resolve();
    return swapped;
  }
  return false;
}

/**
 * The upgrader: after `delay`, re-probes better transports; on failure tries again after twice
 * the delay.
 * @example createClientFactory([websocket(), longPolling()], { upgrade });
 */
export function upgrade(control: UpgradeControl, delay: number): void {
  control.later(delay, () => void attempt(control).then((done) => done || upgrade(control, delay * 2)));
}
