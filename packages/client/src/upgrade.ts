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
import { defer } from './defer.js';
import { createLink, type Link } from './link.js';
import type { NegotiateOptions } from './negotiate.js';
import { confirm, open } from './step.js';
import { type Platform, TransportError } from './transports/transport.js';

/**
 * What the connection lends the upgrader: the link to improve on and a few moves on it. The
 * upgrader decides; the connection only carries out.
 * @example upgrade(control, 30_000);
 */
export interface UpgradeControl {
  /** The current link, its place in the factory list and the session; undefined while the state allows no upgrade. */
  current(): { link: Link; index: number; clientId: string } | undefined;
  options(): NegotiateOptions;
  /** Schedules `fn` on the connection's upgrade timer (cleared when the link drops). */
  later(ms: number, fn: () => void): void;
  /** Pause: requests wait for `waiting` and the connect cycle stops; without it requests go out again. */
  hold(waiting?: Promise<void>): void;
  /** Swap: `next` becomes the current link, the cycle goes on over it from `confirmed`; `from` closes once its held connect is over. */
  adopt(from: Link, next: Link, index: number, confirmed: Reply): void;
  /** The upgrade gave up: the connect cycle goes on over the current link. */
  resume(): void;
  /** `link` died: the connection reconnects if it is still the current link. */
  lost(link: Link, error: TransportError): void;
}

/** True once `promise` settles within `timeout` ms (whichever way), false when the time runs out first. */
async function within(promise: Promise<unknown>, timeout: number, env: Platform): Promise<boolean> {
  let timer: unknown;
  const late = new Promise<false>((resolve) => {
    timer = env.clock.setTimeout(() => resolve(false), timeout);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    env.clock.clearTimeout(timer);
  }
}

/** Opens `factory` for the existing session; resolves once it proved alive within the deadline. */
async function probe(o: NegotiateOptions, index: number, clientId: string): Promise<Link> {
  const link = createLink(o.factories[index]!, o.url, o.env);
  link.onMessage = o.onMessage;
  try {
    await open(o, link, clientId);
    return link;
  } catch (error) {
    link.close();
    throw error;
  }
}

/**
 * Ends a trial: `next` replaces `from` if `from` is still current and `confirmed` (the connect
 * reply that came over `next`) is set; else `next` closes and the cycle goes on over `from`, or,
 * if `from` died meanwhile, the connection reconnects.
 */
function settle(
  control: UpgradeControl,
  from: Link,
  next: Link,
  index: number,
  confirmed: Reply | undefined,
  died: TransportError | undefined,
): boolean {
  const current = control.current()?.link === from;
  control.hold();
  if (current && confirmed && !next.closed) {
    from.onClose = () => {};
    control.adopt(from, next, index, confirmed);
    return true;
  }
  next.close();
  from.onClose = (why) => control.lost(from, why);
  if (current && (died || from.closed))
    control.lost(from, died ?? new TransportError('closed', from.factory.type));
  else control.resume();
  return false;
}

/**
 * One trial: tries each supported transport better than the current one, best first; true when
 * one was adopted. `@push/client` loads it on demand (`lazy.ts`), after the delay.
 */
export async function tryUpgrade(control: UpgradeControl): Promise<boolean> {
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
    const from = now.link;
    const paused = defer();
    control.hold(paused.promise);
    // While the new link proves itself the server may already close the old one (it moved the
    // session's downstream): that death counts only if the new link is not adopted.
    let died: TransportError | undefined;
    from.onClose = (why) => {
      died = why;
    };
    // A request of the old link that never ends (stuck in a proxy) must not hold the connect
    // cycle forever: past the deadline the upgrade is given up and the cycle goes on.
    const drained = await within(from.transport.pause(), o.timeout, o.env);
    let confirmed: Reply | undefined;
    try {
      const reply = drained ? await confirm(o, next, now.clientId) : undefined;
      if (reply?.successful) confirmed = reply;
    } catch {
      // no round trip over the new transport within the deadline: keep the current one
    }
    const swapped = settle(control, from, next, i, confirmed, died);
    paused.resolve();
    if (swapped) return true;
    if (control.current()?.link !== from) return false; // the current link died meanwhile
  }
  return false;
}

/**
 * The upgrader: after `delay`, re-probes better transports; on failure tries again after twice
 * the delay.
 * @example createClientFactory([websocket(), longPolling()], { upgrade });
 */
export function upgrade(control: UpgradeControl, delay: number): void {
  control.later(delay, () => void tryUpgrade(control).then((done) => done || upgrade(control, delay * 2)));
}
