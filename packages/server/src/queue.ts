/** The per-client bounded queue (the Pushlet GuardedQueue idea): it never blocks, it overflows. */
import type { Delivery } from './delivery.js';

const EMPTY: Delivery[] = [];

/**
 * A FIFO of deliveries with a hard bound. `push` returns false instead of growing past it,
 * and the owner decides what overflow means (the server cuts that one client off).
 */
export class DeliveryQueue {
  /** Idle queues (most of them) share one empty array instead of holding their own. */
  private items: Delivery[] = EMPTY;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length;
  }

  /** Appends; false when the queue is full (nothing is added). */
  push(delivery: Delivery): boolean {
    if (this.items.length >= this.limit) return false;
    if (this.items === EMPTY) this.items = [delivery];
    else this.items.push(delivery);
    return true;
  }

  /** Puts deliveries back at the head (redelivery of unacked batches). False when that overflows. */
  unshift(deliveries: readonly Delivery[]): boolean {
    if (this.items.length + deliveries.length > this.limit) return false;
    this.items = [...deliveries, ...this.items];
    return true;
  }

  /** Removes and returns everything queued. */
  drain(): Delivery[] {
    const items = this.items;
    this.items = EMPTY;
    // A caller may keep (and add to) what it drained: never hand out the shared empty array.
    return items === EMPTY ? [] : items;
  }

  clear(): void {
    this.items = EMPTY;
  }
}
