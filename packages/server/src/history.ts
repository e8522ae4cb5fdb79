/**
 * In-process channel history: per channel, the last messages bounded by count and age, with
 * offsets that increase by one per message; and, across channels, bounded total bytes and
 * channel count, evicting the oldest messages first.
 */
import type { StreamPosition } from '@push/protocol';
import type { BrokerMessage, HistoryResult } from './broker/types.js';

/** Bounds of a {@link ChannelHistory}. */
export interface HistoryOptions {
  /** Messages kept per channel. @defaultValue 100 */
  maxCount?: number;
  /** Milliseconds a message stays in history. @defaultValue 300_000 */
  maxAge?: number;
  /**
   * Bytes of history kept in all, counted as the JSON length of each message's `data` plus a
   * fixed overhead; past it the oldest messages (of any channel) are evicted. @defaultValue 67_108_864
   */
  maxBytes?: number;
  /**
   * Channels with history kept; past it the channel least recently published to is dropped
   * with its messages. @defaultValue 10_000
   */
  maxChannels?: number;
  /** Time source. @defaultValue Date.now */
  now?: () => number;
  /** The epoch; a new random one by default, so a restarted store never reuses old offsets. */
  epoch?: string;
}

/** What one retained message costs besides its data (the record, the arrays that hold it). */
const MESSAGE_OVERHEAD = 128;

interface ChannelLog {
  readonly channel: string;
  /** The epoch this log's offsets belong to (a new generation's after a channel was dropped). */
  readonly epoch: string;
  top: number;
  entries: BrokerMessage[];
  /** Bytes counted for each entry (parallel to `entries`). */
  sizes: number[];
  /** Index of the oldest retained entry in `entries`. */
  start: number;
}

/**
 * Bounded history for every channel.
 *
 * Offsets of a channel count up by one from 1, so a client sees a gap as a missing number. When a
 * whole channel is dropped (every message of it evicted, or `maxChannels` reached), its offsets
 * would start over if it came back; so the store moves to a new *generation*, and every channel
 * created from then on gets the epoch `<epoch>.<generation>`. A client resuming from the old epoch
 * is told `recovered: false` whenever anything was published since, never handed a silent gap.
 *
 * Past `maxBytes`, the channel published to least recently loses its oldest messages first.
 * @example
 * const history = new ChannelHistory({ maxCount: 10 });
 * history.append({ channel: '/a', data: 1 });
 * history.since('/a', { offset: 0, epoch: history.epoch }); // { recovered: true, messages: [..] }
 */
export class ChannelHistory {
  readonly epoch: string;
  private readonly maxCount: number;
  private readonly maxAge: number;
  private readonly maxBytes: number;
  private readonly maxChannels: number;
  private readonly now: () => number;
  /** Channels in order of their last append (a Map keeps insertion order; append re-inserts). */
  private readonly logs = new Map<string, ChannelLog>();
  private bytes = 0;
  private generation = 0;

  constructor(options: HistoryOptions = {}) {
    this.maxCount = Math.max(0, options.maxCount ?? 100);
    this.maxAge = Math.max(0, options.maxAge ?? 300_000);
    this.maxBytes = Math.max(0, options.maxBytes ?? 64 * 1024 * 1024);
    this.maxChannels = Math.max(1, options.maxChannels ?? 10_000);
    this.now = options.now ?? Date.now;
    this.epoch = options.epoch ?? randomEpoch();
  }

  /** What is retained now: bytes (as counted against `maxBytes`), channels and messages. */
  get size(): { bytes: number; channels: number; messages: number } {
    let messages = 0;
    for (const log of this.logs.values()) messages += log.entries.length - log.start;
    return { bytes: this.bytes, channels: this.logs.size, messages };
  }

  /**
   * Stores a message with the channel's next offset and returns it. Throws what `JSON.stringify`
   * throws for `data` that cannot be serialized (nothing is stored then).
   */
  append(input: Omit<BrokerMessage, 'offset' | 'epoch' | 'time'>): BrokerMessage {
    // Serialized once here: the size counts against maxBytes and the caller's fan-out reuses it.
    const dataJson = this.maxCount > 0 ? JSON.stringify(input.data) : undefined;
    const bytes = this.maxCount > 0 ? (dataJson?.length ?? 0) + MESSAGE_OVERHEAD : 0;
    let log = this.logs.get(input.channel);
    if (log) {
      // Most recently published to goes last: the first entry is the first to lose messages.
      this.logs.delete(input.channel);
      this.logs.set(input.channel, log);
    } else {
      if (this.logs.size >= this.maxChannels) this.dropChannel(this.logs.values().next().value!);
      log = { channel: input.channel, epoch: this.currentEpoch(), top: 0, entries: [], sizes: [], start: 0 };
      this.logs.set(input.channel, log);
    }
    log.top++;
    const message: BrokerMessage = { ...input, offset: log.top, epoch: log.epoch, time: this.now() };
    if (this.maxCount > 0) {
      log.entries.push(message);
      log.sizes.push(bytes);
      this.bytes += bytes;
      this.trim(log, this.now());
      if (this.bytes > this.maxBytes) this.evictForBytes(log);
    }
    // The stored entry does not keep the JSON (history would hold every message twice).
    return dataJson === undefined ? message : { ...message, dataJson };
  }

  /** The channel's top position. */
  position(channel: string): StreamPosition {
    const log = this.logs.get(channel);
    return log ? { offset: log.top, epoch: log.epoch } : { offset: 0, epoch: this.currentEpoch() };
  }

  /** Messages after `after`; `recovered: false` when the window or the epoch no longer covers it. */
  since(channel: string, after: StreamPosition): HistoryResult {
    const log = this.logs.get(channel);
    const position = this.position(channel);
    if (after.epoch !== position.epoch) {
      // A client that never saw a message of this channel lost nothing if nothing was published.
      const recovered = after.offset === 0 && position.offset === 0;
      return { recovered, messages: [], position };
    }
    if (!log || after.offset >= log.top) return { recovered: true, messages: [], position };
    this.trim(log, this.now());
    const retained = log.entries.length - log.start;
    const oldest = log.top - retained + 1;
    if (after.offset + 1 < oldest) return { recovered: false, messages: [], position };
    const from = log.start + (after.offset + 1 - oldest);
    return { recovered: true, messages: log.entries.slice(from), position };
  }

  /**
   * Evicts every message past `maxAge` and drops the channels left empty. The memory broker runs
   * it on a timer, so the history of channels nobody publishes to again is reclaimed too.
   */
  sweep(): void {
    const now = this.now();
    for (const log of [...this.logs.values()]) {
      this.trim(log, now);
      if (log.start >= log.entries.length) this.dropChannel(log);
    }
  }

  /** Frees bytes from the channels published to least recently, `current` last. */
  private evictForBytes(current: ChannelLog): void {
    for (const log of this.logs.values()) {
      if (this.bytes <= this.maxBytes) return;
      if (log === current) continue;
      while (log.start < log.entries.length && this.bytes > this.maxBytes) this.shift(log);
      if (log.start >= log.entries.length) this.dropChannel(log);
      else this.compactLog(log);
    }
    // Only the channel just published to is left: it keeps at least its newest message.
    while (this.bytes > this.maxBytes && current.entries.length - current.start > 1) this.shift(current);
    this.compactLog(current);
  }

  private shift(log: ChannelLog): void {
    this.bytes -= log.sizes[log.start]!;
    log.start++;
  }

  private dropChannel(log: ChannelLog): void {
    while (log.start < log.entries.length) this.shift(log);
    this.logs.delete(log.channel);
    // Its offsets restart if it comes back: channels created from now on get a new epoch.
    this.generation++;
  }

  private currentEpoch(): string {
    return this.generation === 0 ? this.epoch : `${this.epoch}.${this.generation}`;
  }

  private trim(log: ChannelLog, now: number): void {
    const oldestAllowed = now - this.maxAge;
    while (log.start < log.entries.length) {
      const first = log.entries[log.start]!;
      if (log.entries.length - log.start > this.maxCount || first.time < oldestAllowed) this.shift(log);
      else break;
    }
    this.compactLog(log);
  }

  /** Compacts a log once its dead prefix dominates, so trimming stays amortised O(1). */
  private compactLog(log: ChannelLog): void {
    if (log.start > 64 && log.start * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.start);
      log.sizes = log.sizes.slice(log.start);
      log.start = 0;
    }
  }
}

function randomEpoch(): string {
  return globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 16);
}
