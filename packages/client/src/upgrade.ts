/**
 * Background upgrade to a better transport, in engine.io's order: probe (open the better
 * transport for the existing session within the deadline: socket up, stream's first bytes) ->
 * pause (new requests wait, the connect cycle stops) and drain the old link's requests in flight
 * -> confirm (a `/meta/connect` with `advice.timeout: 0` must be answered over the new transport
 * within the deadline: a socket that goes silent right after its 101 is never adopted) -> swap ->
 * flush (held requests go out, the cycle restarts on the new link with that connect's reply). The old link stays open until its held connect returns, and messages arriving on
 * either link go to the same dispatcher, whose offset dedupe drops any duplicate. Only
 * `@push/client` wires it in; the WebSocket-only entry has nothing to upgrade to.
 */
import type { Reply } from '@push/protocol';
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
  /**
   * Swap: `next` replaces `from` if it is still current and `confirmed` (the connect reply that
   * came over `next`) is set; else `next` closes and the cycle goes on over `from`.
   */
  replace(from: Link, next: Link, index: number, confirmed: Reply | undefined): boolean;
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
    const type = next.factory.type;
    let confirmed: Reply | undefined;
    try {
      const connect = { ...o.connect(now.clientId, type, 0), id: o.nextId() };
      const reply = await step(next.request(connect), o.timeout, o.env, 'connect', type);
      if (reply.successful) confirmed = reply;
    } catch {
      // no round trip over the new transport within the deadline: keep the current one
    }
    const swapped = control.replace(now.link, next, i, confirmed);
    paused.resolve();
    if (swapped) return true;
    if (control.current()?.link !== now.link) return false; // the current link died meanwhile
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
