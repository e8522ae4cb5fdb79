/**
 * What a session still owes its client after a resume, fed to its queue as the client takes it.
 *
 * A resume can name more missed messages than the queue holds: a client 10 s behind a 200 msg/s
 * stream misses 2,000. Queued at once they overflowed it, the session was cut, the client
 * handshook and resumed from the same place, and so on forever. The backlog holds the replayed
 * history (broker messages, made into deliveries only when they go out) and, behind it, the live
 * deliveries that arrived since, so each channel keeps its order.
 */
import type { BrokerMessage } from './broker/types.js';
import { createDelivery, type Delivery } from './delivery.js';

type Entry = BrokerMessage | Delivery;

const isDelivery = (entry: Entry): entry is Delivery => 'json' in entry;

/** Taken entries are dropped from the array in chunks, not one `shift` at a time. */
const COMPACT_AT = 1024;

export class ReplayBacklog {
  private entries: Entry[] = [];
  private head = 0;
  private live = 0;

  /** `liveLimit`: live deliveries that may wait behind the replay before the client counts as too slow. */
  constructor(private readonly liveLimit: number) {}

  /** Entries not taken yet. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Appends messages read from history (in offset order). */
  addHistory(messages: readonly BrokerMessage[]): void {
    for (const message of messages) this.entries.push(message);
  }

  /** Appends a live delivery; false (nothing added) when `liveLimit` of them already wait. */
  addLive(delivery: Delivery): boolean {
    if (this.live >= this.liveLimit) return false;
    this.entries.push(delivery);
    this.live++;
    return true;
  }

  /** The next `count` entries (fewer when it holds fewer), as deliveries, in order. */
  take(count: number): Delivery[] {
    const end = Math.min(this.entries.length, this.head + count);
    const taken: Delivery[] = [];
    for (let i = this.head; i < end; i++) {
      const entry = this.entries[i]!;
      if (isDelivery(entry)) {
        this.live--;
        taken.push(entry);
      } else taken.push(createDelivery(entry));
    }
    this.head = end;
    if (this.head >= COMPACT_AT && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}
