/** The per-client bounded queue (the Pushlet GuardedQueue idea): it never blocks, it overflows. */
import type { Delivery } from './delivery.js';

const EMPTY: Delivery[] = [];

const epochOf = (delivery: Delivery) => delivery.message.ext?.push?.epoch;

/** Same message: same channel, offset and epoch (a history replay builds a new Delivery for it). */
const same = (a: Delivery, b: Delivery) =>
  a.offset === b.offset && a.channel === b.channel && epochOf(a) === epochOf(b);

/**
 * A FIFO of deliveries with a hard bound. `push` returns false instead of growing past it,
 * and the owner decides what overflow means (the server cuts that one client off).
 *
 * A message is queued once however many paths lead to it: on a transport switch the unacked
 * batches are queued again (`Session.acknowledge`) while the resume replays the same range from
 * history and live messages keep coming. A delivery whose (channel, offset) is already queued is
 * dropped, so the queue holds what the client still needs, not multiples of it.
 */
export class DeliveryQueue {
  /** Idle queues (most of them) share one empty array instead of holding their own. */
  private items: Delivery[] = EMPTY;
  /**
   * Highest offset queued per channel, dropped on drain: an offset above it cannot be queued yet,
   * so the common case (a live stream) never scans the queue. The first channel's is kept in two
   * fields: most queues hold one channel between two drains (one per tick on a stream), and a Map
   * for each would be an allocation per delivery per subscriber.
   */
  private firstChannel: string | undefined;
  private firstHigh = 0;
  /** The other channels' highest offsets (allocated when a second channel is queued). */
  private high: Map<string, number> | undefined;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length;
  }

  /** True when the same message is already queued. */
  has(delivery: Delivery): boolean {
    const high = delivery.channel === this.firstChannel ? this.firstHigh : this.high?.get(delivery.channel);
    if (high === undefined || delivery.offset > high) return false;
    return this.items.some((queued) => same(queued, delivery));
  }

  /** Appends; false when the queue is full (nothing is added). A message already queued is not added again. */
  push(delivery: Delivery): boolean {
    if (this.has(delivery)) return true;
    if (this.items.length >= this.limit) return false;
    if (this.items === EMPTY) this.items = [delivery];
    else this.items.push(delivery);
    this.note(delivery);
    return true;
  }

  /**
   * Puts deliveries back at the head (redelivery of unacked batches), leaving out those already
   * queued. False when that overflows (nothing is added).
   */
  unshift(deliveries: readonly Delivery[]): boolean {
    const fresh: Delivery[] = [];
    const seen = new Set<string>();
    for (const delivery of deliveries) {
      const key = `${delivery.channel}\u0000${delivery.offset}\u0000${epochOf(delivery)}`;
      if (seen.has(key) || this.has(delivery)) continue;
      seen.add(key);
      fresh.push(delivery);
    }
    if (this.items.length + fresh.length > this.limit) return false;
    this.items = [...fresh, ...this.items];
    for (const delivery of fresh) this.note(delivery);
    return true;
  }

  /** Removes and returns everything queued. */
  drain(): Delivery[] {
    const items = this.items;
    this.clear();
    // A caller may keep (and add to) what it drained: never hand out the shared empty array.
    return items === EMPTY ? [] : items;
  }

  clear(): void {
    this.items = EMPTY;
    this.firstChannel = undefined;
    this.high = undefined;
  }

  private note(delivery: Delivery): void {
    const { channel, offset } = delivery;
    if (this.firstChannel === undefined) {
      this.firstChannel = channel;
      this.firstHigh = offset;
      return;
    }
    if (channel === this.firstChannel) {
      if (offset > this.firstHigh) this.firstHigh = offset;
      return;
    }
    this.high ??= new Map();
    const high = this.high.get(channel);
    if (high === undefined || offset > high) this.high.set(channel, offset);
  }
}
