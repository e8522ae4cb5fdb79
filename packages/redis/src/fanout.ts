/**
 * Fan-out from the bus to this process's listeners, in publish order, exactly once.
 *
 * Every bus message carries a dense bus sequence number (and each channel its own dense offset).
 * A jump in the sequence — messages published while the subscriber connection was down — is
 * replayed from the bus log before anything newer is delivered. If the bus log no longer reaches
 * back that far, each known channel is repaired from its own history instead. Duplicates (by
 * sequence, then by channel offset) are dropped.
 */
import type { StreamPosition } from '@push/protocol';
import type { BrokerListener, BrokerMessage, HistoryResult } from './broker-types.js';
import { type BusItem, decodeBusItem } from './codec.js';
import type { RedisBrokerLogger } from './log.js';

/** The answer to a bus log replay. */
export interface BusReplay {
  busEpoch: string;
  /** False when the bus epoch changed or the log was trimmed past the asked sequence. */
  recovered: boolean;
  /** Items after the asked sequence, oldest first (one page). */
  items: BusItem[];
}

/** Options of {@link Fanout}. */
export interface FanoutOptions {
  /** Reads a channel's history (fallback repair). */
  history(channel: string, after: StreamPosition): Promise<HistoryResult>;
  /** Reads the bus log after `seq`. */
  replay(afterSeq: number, busEpoch: string): Promise<BusReplay>;
  /** The bus log's current end, or undefined when nothing was published yet. */
  top(): Promise<{ busEpoch: string; seq: number } | undefined>;
  logger: RedisBrokerLogger;
  /** Channels whose last offset is remembered (least recently used dropped). */
  trackedChannels: number;
}

/** The listeners of one broker, the bus position and the last offset seen per channel. */
export class Fanout {
  private readonly listeners = new Set<BrokerListener>();
  private readonly seen = new Map<string, StreamPosition>();
  private bus: { epoch: string; seq: number } | undefined;
  /** Set while a repair runs: live messages wait here, in arrival order. */
  private pending: BusItem[] | undefined;
  private repairAgain = false;

  constructor(private readonly options: FanoutOptions) {}

  add(listener: BrokerListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clear(): void {
    this.listeners.clear();
    this.pending = undefined;
  }

  /** A raw bus message arrived. */
  receive(raw: string): void {
    const item = decodeBusItem(raw);
    if (!item) {
      this.options.logger('warn', 'redis: ignored a malformed bus message', { sample: raw.slice(0, 80) });
      return;
    }
    if (this.pending) this.pending.push(item);
    else this.handle(item);
  }

  /**
   * Before the first subscribe: take the bus log's current end as the starting point, so that
   * a reconnect later knows what it missed even if nothing was delivered yet. Read before
   * subscribing, so every later message is either received live or replayed (duplicates dropped).
   */
  async prime(): Promise<void> {
    if (this.bus) return;
    const top = await this.options.top();
    if (top && !this.bus) this.bus = { epoch: top.busEpoch, seq: top.seq };
  }

  /** After a resubscribe: replay whatever the bus carried while this node was not listening. */
  repairAll(): Promise<void> {
    return this.repair([]);
  }

  private handle(item: BusItem): void {
    const bus = this.bus;
    if (bus && bus.epoch === item.busEpoch) {
      if (item.seq <= bus.seq) return;
      if (item.seq > bus.seq + 1) {
        void this.repair([item]);
        return;
      }
    }
    this.bus = { epoch: item.busEpoch, seq: item.seq };
    this.deliver(item.message);
  }

  /** Per-channel guard: drops what this channel already delivered. */
  private deliver(message: BrokerMessage): void {
    const last = this.seen.get(message.channel);
    if (last && last.epoch === message.epoch && message.offset <= last.offset) return;
    this.seen.delete(message.channel);
    this.seen.set(message.channel, { offset: message.offset, epoch: message.epoch });
    if (this.seen.size > this.options.trackedChannels) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        this.options.logger('error', 'redis: a broker listener threw', {
          channel: message.channel,
          error: String(error),
        });
      }
    }
  }

  private async repair(held: BusItem[]): Promise<void> {
    if (this.pending) {
      this.pending.push(...held);
      this.repairAgain = true;
      return;
    }
    this.pending = [...held];
    try {
      await this.replayBus();
    } catch (error) {
      this.options.logger('error', 'redis: could not replay missed messages', { error: String(error) });
    }
    const queue = this.pending ?? [];
    this.pending = undefined;
    for (let i = 0; i < queue.length; i++) {
      this.handle(queue[i]!);
      if (this.pending) {
        // `handle` found another gap: the rest waits behind that repair, in order.
        (this.pending as BusItem[]).push(...queue.slice(i + 1));
        return;
      }
    }
    if (this.repairAgain) {
      this.repairAgain = false;
      await this.repair([]);
    }
  }

  private async replayBus(): Promise<void> {
    for (;;) {
      const bus = this.bus;
      if (!bus) return; // no starting point known: nothing to catch up on
      const page = await this.options.replay(bus.seq, bus.epoch);
      if (!page.recovered) {
        if (page.busEpoch === bus.epoch) {
          this.options.logger(
            'warn',
            'redis: bus log trimmed past this node, repairing each channel from history',
          );
          await this.repairChannels();
        }
        this.bus = undefined; // accept the next message as the new start
        return;
      }
      for (const item of page.items) {
        this.bus = { epoch: item.busEpoch, seq: item.seq };
        this.deliver(item.message);
      }
      if (page.items.length === 0) return;
    }
  }

  /** Fallback: every known channel from its own history. */
  private async repairChannels(): Promise<void> {
    const gaps = [...this.seen.entries()];
    const results = await Promise.all(
      gaps.map(([channel, after]) =>
        this.options.history(channel, after).then(
          (result) => ({ channel, after, result }),
          (error: unknown) => ({
            channel,
            after,
            result: error instanceof Error ? error : new Error(String(error)),
          }),
        ),
      ),
    );
    for (const { channel, after, result } of results) {
      if (result instanceof Error || !result.recovered) {
        if (
          !(result instanceof Error) &&
          result.position.epoch === after.epoch &&
          result.position.offset > after.offset
        ) {
          this.options.logger('warn', 'redis: missed messages are beyond the history window', {
            channel,
            from: after.offset + 1,
            to: result.position.offset,
          });
        }
        continue;
      }
      for (const message of result.messages) this.deliver(message);
    }
  }
}
