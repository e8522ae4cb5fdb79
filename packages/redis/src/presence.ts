/**
 * Presence in Redis: a hash of members per channel plus one expiry index over all channels.
 * The node that owns a member refreshes its expiry every third of its TTL; a node that dies stops
 * refreshing, and any surviving node's sweep claims the expired members and publishes their leave
 * events (exactly once: the claim is atomic).
 */
import { type PresenceEvent, type PresenceMember, presenceChannel } from '@push/protocol';
import type { BrokerPublishInput, PresenceStore } from './broker-types.js';
import type { KeyLayout } from './keys.js';
import { presenceEntry } from './keys.js';
import type { RedisBrokerLogger } from './log.js';
import type { BrokerScripts } from './scripts.js';

/** Options of {@link RedisPresence}. */
export interface RedisPresenceOptions {
  keys: KeyLayout;
  /** Runs a script on the command connection, waiting for it (bounded) when Redis is away. */
  run<T>(operation: string, call: (scripts: BrokerScripts) => Promise<T>, idempotent: boolean): Promise<T>;
  /** Publishes a join/leave event through the broker. */
  publish(input: BrokerPublishInput): Promise<unknown>;
  logger: RedisBrokerLogger;
  /** When set, used instead of the TTL the server asks for. */
  ttl?: number;
  /** Milliseconds between sweeps for expired members. */
  sweepInterval: number;
}

interface Owned {
  channel: string;
  member: PresenceMember;
  ttl: number;
}

/** {@link PresenceStore} on Redis. Call `start()` to run the refresh and sweep timers. */
export class RedisPresence implements PresenceStore {
  private readonly owned = new Map<string, Owned>();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private sweeping = false;

  constructor(private readonly options: RedisPresenceOptions) {}

  async enter(channel: string, member: PresenceMember, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.round(this.options.ttl ?? ttlMs));
    const owned: Owned = { channel, member, ttl };
    this.owned.set(presenceEntry(channel, member.clientId), owned);
    this.scheduleRefresh();
    return (await this.write(owned)) === 1;
  }

  async leave(channel: string, clientId: string): Promise<PresenceMember | undefined> {
    const entry = presenceEntry(channel, clientId);
    this.owned.delete(entry);
    const { keys } = this.options;
    const json = await this.options.run(
      'presence.leave',
      (s) => s.pushPresenceLeave(keys.members(channel), keys.presenceExpiry, clientId, entry),
      false,
    );
    return json ? (JSON.parse(json) as PresenceMember) : undefined;
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const { keys } = this.options;
    const list = await this.options.run(
      'presence.members',
      (s) => s.pushPresenceMembers(keys.members(channel), keys.presenceExpiry, channel),
      true,
    );
    return list.map((json) => JSON.parse(json) as PresenceMember);
  }

  /** Starts the sweep timer (the refresh timer starts with the first member). */
  start(): void {
    this.sweepTimer ??= setInterval(() => void this.sweep(), this.options.sweepInterval);
    this.sweepTimer.unref?.();
  }

  stop(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.refreshTimer = undefined;
    this.sweepTimer = undefined;
    this.owned.clear();
  }

  /**
   * Claims expired members of every channel and publishes their leave events. Runs on a timer;
   * callable directly. Resolves with the number of members that left.
   */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let count = 0;
    try {
      const { keys } = this.options;
      for (;;) {
        const claimed = await this.options.run(
          'presence.sweep',
          (s) => s.pushPresenceSweep(keys.presenceExpiry, keys.prefix, 100),
          false,
        );
        for (let i = 0; i + 2 < claimed.length; i += 3) {
          const channel = claimed[i]!;
          const clientId = claimed[i + 1]!;
          const json = claimed[i + 2]!;
          const member: PresenceMember = json ? (JSON.parse(json) as PresenceMember) : { clientId };
          const event: PresenceEvent = { type: 'leave', channel, member };
          await this.options.publish({ channel: presenceChannel(channel), data: event });
          count++;
        }
        if (claimed.length < 300) break;
      }
    } catch (error) {
      this.options.logger('warn', 'redis: presence sweep failed, will retry', { error: String(error) });
    } finally {
      this.sweeping = false;
    }
    return count;
  }

  /** Writes (or re-writes) an owned member; 1 when Redis did not have it. */
  private write(owned: Owned): Promise<number> {
    const { keys } = this.options;
    const { channel, member, ttl } = owned;
    return this.options.run(
      'presence.enter',
      (s) =>
        s.pushPresenceEnter(
          keys.members(channel),
          keys.presenceExpiry,
          member.clientId,
          JSON.stringify(member),
          ttl,
          presenceEntry(channel, member.clientId),
        ),
      true,
    );
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer || this.owned.size === 0) return;
    let every = Number.POSITIVE_INFINITY;
    for (const owned of this.owned.values()) every = Math.min(every, owned.ttl / 3);
    this.refreshTimer = setTimeout(
      () => {
        this.refreshTimer = undefined;
        void this.refresh().finally(() => this.scheduleRefresh());
      },
      Math.max(10, every),
    );
    this.refreshTimer.unref?.();
  }

  /** Extends every owned member; one that a sweep removed meanwhile (a long outage) rejoins. */
  private async refresh(): Promise<void> {
    await Promise.all(
      [...this.owned.entries()].map(async ([entry, owned]) => {
        try {
          const added = await this.write(owned);
          if (added === 1 && this.owned.get(entry) === owned) {
            const event: PresenceEvent = { type: 'join', channel: owned.channel, member: owned.member };
            await this.options.publish({ channel: presenceChannel(owned.channel), data: event });
          }
        } catch (error) {
          this.options.logger('warn', 'redis: presence refresh failed, will retry', { error: String(error) });
        }
      }),
    );
  }
}
