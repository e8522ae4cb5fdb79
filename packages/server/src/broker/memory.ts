/** The default broker: one process, everything in memory. */
import type { PresenceMember, StreamPosition } from '@push/protocol';
import { ChannelHistory } from '../history.js';
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPublishInput,
  HistoryResult,
  PresenceStore,
} from './types.js';

/** Options of {@link createMemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Messages of history kept per channel. @defaultValue 100 */
  historySize?: number;
  /** Milliseconds a message stays in history (evicted on a timer too). @defaultValue 300_000 */
  historyAge?: number;
  /** Bytes of history kept in all, oldest evicted first. @defaultValue 67_108_864 */
  historyBytes?: number;
  /** Channels with history kept. @defaultValue 10_000 */
  historyChannels?: number;
  /** Time source. @defaultValue Date.now */
  now?: () => number;
}

class MemoryPresence implements PresenceStore {
  private readonly channels = new Map<string, Map<string, PresenceMember>>();

  async enter(channel: string, member: PresenceMember): Promise<boolean> {
    let members = this.channels.get(channel);
    if (!members) {
      members = new Map();
      this.channels.set(channel, members);
    }
    const isNew = !members.has(member.clientId);
    members.set(member.clientId, member);
    return isNew;
  }

  async leave(channel: string, clientId: string): Promise<PresenceMember | undefined> {
    const members = this.channels.get(channel);
    const member = members?.get(clientId);
    if (!members || !member) return undefined;
    members.delete(clientId);
    if (members.size === 0) this.channels.delete(channel);
    return member;
  }

  async members(channel: string): Promise<PresenceMember[]> {
    return [...(this.channels.get(channel)?.values() ?? [])];
  }
}

/** The in-memory broker: a {@link Broker} that can also tell how much history it holds. */
export interface MemoryBroker extends Broker {
  /** Bytes (as counted against `historyBytes`), channels and messages of history held now. */
  historySize(): { bytes: number; channels: number; messages: number };
}

/**
 * Creates the in-memory broker (the default when no `broker` option is given).
 * @example
 * const server = createPushServer({ server: httpServer, broker: createMemoryBroker({ historySize: 500 }) });
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  const history = new ChannelHistory({
    maxCount: options.historySize,
    maxAge: options.historyAge,
    maxBytes: options.historyBytes,
    maxChannels: options.historyChannels,
    now: options.now,
  });
  // Age eviction also runs on a timer: a channel nobody publishes to again is reclaimed too.
  const maxAge = options.historyAge ?? 300_000;
  const sweeper = setInterval(() => history.sweep(), Math.min(60_000, Math.max(50, maxAge / 4)));
  sweeper.unref();
  const listeners = new Set<BrokerListener>();
  const presence = new MemoryPresence();
  return {
    presence,
    async publish(input: BrokerPublishInput): Promise<BrokerMessage> {
      const message = history.append(input);
      for (const listener of listeners) listener(message);
      return message;
    },
    onMessage(listener: BrokerListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async history(channel: string, after: StreamPosition): Promise<HistoryResult> {
      return history.since(channel, after);
    },
    async position(channel: string): Promise<StreamPosition> {
      return history.position(channel);
    },
    async close(): Promise<void> {
      clearInterval(sweeper);
      listeners.clear();
    },
    historySize: () => history.size,
  };
}
