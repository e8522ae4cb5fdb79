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
  /** Milliseconds a message stays in history. @defaultValue 300_000 */
  historyAge?: number;
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

/**
 * Creates the in-memory broker (the default when no `broker` option is given).
 * @example
 * const server = createPushServer({ server: httpServer, broker: createMemoryBroker({ historySize: 500 }) });
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const history = new ChannelHistory({
    maxCount: options.historySize,
    maxAge: options.historyAge,
    now: options.now,
  });
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
      listeners.clear();
    },
  };
}
