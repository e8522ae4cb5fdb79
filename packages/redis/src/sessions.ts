/**
 * Shared sessions on Redis (the server's `SessionStore`): which node holds each clientId, which
 * nodes are alive, and a pub/sub channel per node for requests other nodes relay to it. With it a
 * load balancer may send each HTTP request of a client to any node (no sticky sessions).
 */
import { randomBytes } from 'node:crypto';
import type { SessionStore } from './broker-types.js';
import type { KeyLayout } from './keys.js';
import type { RedisBrokerLogger } from './log.js';
import type { BrokerScripts } from './scripts.js';

/** Options of {@link RedisSessions}. */
export interface RedisSessionsOptions {
  keys: KeyLayout;
  /** Runs a command on the command connection, waiting for it (bounded) when Redis is away. */
  run<T>(operation: string, call: (scripts: BrokerScripts) => Promise<T>, idempotent: boolean): Promise<T>;
  logger: RedisBrokerLogger;
  /** Milliseconds a node counts as alive after its last heartbeat (sent every third of it). */
  nodeTtl: number;
}

/** Records refreshed per script call. */
const REFRESH_CHUNK = 500;

/** {@link SessionStore} on Redis. Call `start()` to run the heartbeat. */
export class RedisSessions implements SessionStore {
  readonly nodeId = randomBytes(8).toString('hex');
  /** The pub/sub channel this node receives relayed requests on. */
  readonly channel: string;
  /** clientId -> record TTL (ms) of the sessions this node holds. */
  private readonly owned = new Map<string, number>();
  private readonly listeners = new Set<(payload: string) => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private nextRecordRefresh = 0;
  private beating = false;

  constructor(private readonly options: RedisSessionsOptions) {
    this.channel = options.keys.relay(this.nodeId);
  }

  async claim(clientId: string, ttlMs: number): Promise<void> {
    const ttl = Math.max(1_000, Math.round(ttlMs));
    this.owned.set(clientId, ttl);
    const { keys, nodeTtl } = this.options;
    await this.options.run(
      'sessions.claim',
      (s) => s.pushSessionClaim(keys.session(clientId), keys.node(this.nodeId), this.nodeId, ttl, nodeTtl),
      true,
    );
  }

  async release(clientId: string): Promise<void> {
    if (!this.owned.delete(clientId)) return;
    const { keys } = this.options;
    await this.options.run(
      'sessions.release',
      (s) => s.pushSessionRelease(keys.session(clientId), this.nodeId),
      true,
    );
  }

  async owner(clientId: string): Promise<string | undefined> {
    const { keys } = this.options;
    const owner = await this.options.run(
      'sessions.owner',
      (s) => s.pushSessionOwner(keys.session(clientId), keys.node('')),
      true,
    );
    return owner ?? undefined;
  }

  async send(nodeId: string, payload: string): Promise<void> {
    const channel = this.options.keys.relay(nodeId);
    await this.options.run('sessions.send', (s) => s.publish(channel, payload), false);
  }

  onRelay(listener: (payload: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A message arrived on this node's relay channel. */
  receive(payload: string): void {
    for (const listener of this.listeners) {
      try {
        listener(payload);
      } catch (error) {
        this.options.logger('error', 'redis: a relay listener threw', { error: String(error) });
      }
    }
  }

  /** Starts the heartbeat: marks this node alive and extends the records it holds. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), Math.max(10, this.options.nodeTtl / 3));
    this.timer.unref?.();
    void this.beat();
  }

  /** Stops the heartbeat and, best effort, marks this node gone at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    this.owned.clear();
    const node = this.options.keys.node(this.nodeId);
    await this.options.run('sessions.stop', (s) => s.pushSessionRelease(node, '1'), true).catch(() => {});
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const { keys, nodeTtl } = this.options;
      const node = keys.node(this.nodeId);
      const sessionPrefix = keys.session('');
      let pairs: (string | number)[] = [];
      const now = Date.now();
      if (now >= this.nextRecordRefresh && this.owned.size > 0) {
        let shortest = Number.POSITIVE_INFINITY;
        for (const [clientId, ttl] of this.owned) {
          shortest = Math.min(shortest, ttl);
          pairs.push(clientId, ttl);
          if (pairs.length >= REFRESH_CHUNK * 2) {
            const chunk = pairs;
            pairs = [];
            await this.options.run(
              'sessions.refresh',
              (s) => s.pushSessionRefresh(node, nodeTtl, sessionPrefix, this.nodeId, ...chunk),
              true,
            );
          }
        }
        this.nextRecordRefresh = now + shortest / 3;
      }
      await this.options.run(
        'sessions.refresh',
        (s) => s.pushSessionRefresh(node, nodeTtl, sessionPrefix, this.nodeId, ...pairs),
        true,
      );
    } catch (error) {
      this.options.logger('warn', 'redis: session heartbeat failed, will retry', { error: String(error) });
    } finally {
      this.beating = false;
    }
  }
}
