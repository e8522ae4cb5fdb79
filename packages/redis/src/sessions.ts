/**
 * Shared sessions on Redis (the server's `SessionStore`): which node holds each clientId, which
 * nodes are alive, and a Stream per node for what other nodes relay to it (requests, answers, the
 * writes of a session to a socket held elsewhere). With it a load balancer may send each request
 * of a client to any node (no sticky sessions).
 *
 * The relay is a Stream, not pub/sub, so a blip of the reading connection loses nothing: the reader
 * goes on from the last id it handled (at-least-once on the wire; the client drops duplicates by
 * offset). The reader trims what it handled, so the Stream holds only what is still unread.
 */
import { randomBytes } from 'node:crypto';
import type { SessionStore } from './broker-types.js';
import { RedisBrokerError } from './errors.js';
import type { KeyLayout } from './keys.js';
import type { RedisBrokerLogger } from './log.js';
import type { BrokerScripts, StreamEntry } from './scripts.js';

/** Options of {@link RedisSessions}. */
export interface RedisSessionsOptions {
  keys: KeyLayout;
  /** Runs a command on the command connection, waiting for it (bounded) when Redis is away. */
  run<T>(operation: string, call: (scripts: BrokerScripts) => Promise<T>, idempotent: boolean): Promise<T>;
  logger: RedisBrokerLogger;
  /** Milliseconds a node counts as alive after its last heartbeat (sent every third of it). */
  nodeTtl: number;
  /**
   * Blocking read of this node's relay Stream after `afterId` (XREAD BLOCK on a connection of its
   * own); resolves with the entries, or an empty list when the block timed out.
   */
  read(stream: string, afterId: string): Promise<StreamEntry[]>;
  /** Unread entries a node's relay Stream may hold; a send past it fails with `relay-backlog`. */
  relayBacklog: number;
}

/** Records refreshed per script call. */
const REFRESH_CHUNK = 500;

/** Relay entries handled between two trims of the Stream. */
const TRIM_EVERY = 100;

/**
 * How long a relay Stream outlives its last write: long after any relayed request gave up (5 s),
 * so only the Stream of a node that died without cleaning up ever expires.
 */
export function relayTtl(nodeTtl: number): number {
  return Math.max(30_000, nodeTtl * 10);
}

/** {@link SessionStore} on Redis. Call `start()` to run the heartbeat. */
export class RedisSessions implements SessionStore {
  readonly nodeId = randomBytes(8).toString('hex');
  /** The Stream this node reads relayed requests from. */
  readonly stream: string;
  /** clientId -> record TTL (ms) of the sessions this node holds. */
  private readonly owned = new Map<string, number>();
  private readonly listeners = new Set<(payload: string) => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private nextRecordRefresh = 0;
  private beating = false;
  /** Id of the last relay entry handled: a reader that reconnects goes on after it. */
  private lastId = '0-0';
  private reading = false;
  private stopped = false;

  constructor(private readonly options: RedisSessionsOptions) {
    this.stream = options.keys.relay(this.nodeId);
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

  /**
   * Appends `payload` to `nodeId`'s relay Stream. Not retried once it may have reached Redis (a
   * relayed batch must not run twice). Fails with `relay-backlog` when that node has
   * `relayBacklog` entries unread (it is stuck or gone): the caller answers its client `503`.
   */
  async send(nodeId: string, payload: string): Promise<void> {
    const { keys, relayBacklog, nodeTtl } = this.options;
    const stream = keys.relay(nodeId);
    const added = await this.options.run(
      'sessions.send',
      (s) => s.pushRelaySend(stream, payload, relayBacklog, relayTtl(nodeTtl)),
      false,
    );
    if (added === 0) {
      throw new RedisBrokerError(
        'relay-backlog',
        'sessions.send',
        `Node ${nodeId} has ${relayBacklog} relayed requests unread (option relayBacklog); it is stuck or gone — retry later`,
      );
    }
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

  /**
   * Reads this node's relay Stream until `stop()`. A read that fails (the connection dropped) is
   * tried again from the last id handled once the connection is back, so nothing written
   * meanwhile is skipped.
   */
  private async pump(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    let failing = false;
    let unTrimmed = 0;
    while (!this.stopped) {
      let entries: StreamEntry[];
      try {
        entries = await this.options.read(this.stream, this.lastId);
      } catch (error) {
        if (this.stopped) break;
        if (!failing)
          this.options.logger('warn', 'redis: relay read failed, resuming from the last entry read', {
            error: String(error),
          });
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      failing = false;
      if (this.stopped) break;
      for (const [id, fields] of entries) {
        this.lastId = id;
        const payload = fields[1];
        if (payload !== undefined) this.receive(payload);
      }
      // Trimmed in steps (or when idle), not after every read: one command less per relayed hop.
      unTrimmed += entries.length;
      if (unTrimmed >= TRIM_EVERY || (entries.length === 0 && unTrimmed > 0)) {
        unTrimmed = 0;
        this.trim(this.lastId);
      }
    }
    this.reading = false;
  }

  /** Drops what was handled, so the Stream's length is what this node has not read yet. */
  private trim(lastId: string): void {
    const dash = lastId.indexOf('-');
    const next = `${lastId.slice(0, dash)}-${Number(lastId.slice(dash + 1)) + 1}`;
    const stream = this.stream;
    void this.options
      .run('sessions.trim', (s) => s.xtrim(stream, 'MINID', next), true)
      .catch((error: unknown) => {
        this.options.logger('warn', 'redis: could not trim the relay stream, will on the next read', {
          error: String(error),
        });
      });
  }

  /** Starts the heartbeat (marks this node alive, extends its records) and the relay reader. */
  start(): void {
    if (this.timer) return;
    void this.pump();
    this.timer = setInterval(() => void this.beat(), Math.max(10, this.options.nodeTtl / 3));
    this.timer.unref?.();
    void this.beat();
  }

  /** Stops the heartbeat and, best effort, marks this node gone at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.listeners.clear();
    this.owned.clear();
    const node = this.options.keys.node(this.nodeId);
    await this.options.run('sessions.stop', (s) => s.pushSessionRelease(node, '1'), true).catch(() => {});
    await this.options.run('sessions.stop', (s) => s.del(this.stream), true).catch(() => {});
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
