/**
 * In-process channel history: per channel, the last messages bounded by count and age, with
 * monotonically increasing offsets and one epoch for the whole store.
 */
import type { StreamPosition } from '@push/protocol';
import type { BrokerMessage, HistoryResult } from './broker/types.js';

/** Bounds of a {@link ChannelHistory}. */
export interface HistoryOptions {
  /** Messages kept per channel. @defaultValue 100 */
  maxCount?: number;
  /** Milliseconds a message stays in history. @defaultValue 300_000 */
  maxAge?: number;
  /** Time source. @defaultValue Date.now */
  now?: () => number;
  /** The epoch; a new random one by default, so a restarted store never reuses old offsets. */
  epoch?: string;
}

interface ChannelLog {
  top: number;
  entries: BrokerMessage[];
  /** Index of the oldest retained entry in `entries`. */
  start: number;
}

/**
 * Bounded per-channel history.
 * @example
 * const history = new ChannelHistory({ maxCount: 10 });
 * history.append({ channel: '/a', data: 1 });
 * history.since('/a', { offset: 0, epoch: history.epoch }); // { recovered: true, messages: [..] }
 */
export class ChannelHistory {
  readonly epoch: string;
  private readonly maxCount: number;
  private readonly maxAge: number;
  private readonly now: () => number;
  private readonly logs = new Map<string, ChannelLog>();

  constructor(options: HistoryOptions = {}) {
    this.maxCount = Math.max(0, options.maxCount ?? 100);
    this.maxAge = Math.max(0, options.maxAge ?? 300_000);
    this.now = options.now ?? Date.now;
    this.epoch = options.epoch ?? randomEpoch();
  }

  /** Stores a message with the channel's next offset and returns it. */
  append(input: Omit<BrokerMessage, 'offset' | 'epoch' | 'time'>): BrokerMessage {
    let log = this.logs.get(input.channel);
    if (!log) {
      log = { top: 0, entries: [], start: 0 };
      this.logs.set(input.channel, log);
    }
    log.top++;
    const message: BrokerMessage = { ...input, offset: log.top, epoch: this.epoch, time: this.now() };
    if (this.maxCount > 0) {
      log.entries.push(message);
      this.trim(log);
    }
    return message;
  }

  /** The channel's top position. */
  position(channel: string): StreamPosition {
    return { offset: this.logs.get(channel)?.top ?? 0, epoch: this.epoch };
  }

  /** Messages after `after`; `recovered: false` when the window or the epoch no longer covers it. */
  since(channel: string, after: StreamPosition): HistoryResult {
    const log = this.logs.get(channel);
    const position = this.position(channel);
    if (after.epoch !== this.epoch) {
      // A client that never saw a message of this channel lost nothing if nothing was published.
      const recovered = after.offset === 0 && position.offset === 0;
      return { recovered, messages: [], position };
    }
    if (!log || after.offset >= log.top) return { recovered: true, messages: [], position };
    this.trim(log);
    const retained = log.entries.length - log.start;
    const oldest = log.top - retained + 1;
    if (after.offset + 1 < oldest) return { recovered: false, messages: [], position };
    const from = log.start + (after.offset + 1 - oldest);
    return { recovered: true, messages: log.entries.slice(from), position };
  }

  private trim(log: ChannelLog): void {
    const oldestAllowed = this.now() - this.maxAge;
    while (log.start < log.entries.length) {
      const first = log.entries[log.start]!;
      if (log.entries.length - log.start > this.maxCount || first.time < oldestAllowed) log.start++;
      else break;
    }
    // Compact once the dead prefix dominates, so trimming stays amortised O(1).
    if (log.start > 64 && log.start * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.start);
      log.start = 0;
    }
  }
}

function randomEpoch(): string {
  return globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 16);
}
