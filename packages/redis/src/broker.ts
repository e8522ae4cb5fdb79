/** `createRedisBroker()`: the server's Broker interface on Redis. */
import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '@push/protocol';
import type { RedisOptions } from 'ioredis';
import type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPublishInput,
  HistoryResult,
} from './broker-types.js';
import { decodeBusEntries, decodeEntries, encodeBody } from './codec.js';
import { type Connection, openConnection } from './connection.js';
import { RedisBrokerError } from './errors.js';
import { Fanout } from './fanout.js';
import { createKeyLayout, type KeyLayout } from './keys.js';
import { type RedisBrokerLogger, stderrLogger } from './log.js';
import { RedisPresence } from './presence.js';
import { type BrokerScripts, defineScripts } from './scripts.js';
import { RedisSessions } from './sessions.js';

/**
 * Options of {@link createRedisBroker}. Every server process sharing a Redis must use the same
 * `prefix`, `historySize` and `historyAge`.
 */
export interface RedisBrokerOptions {
  /** Redis URL. The library reads no environment variable: pass it. @defaultValue `'redis://127.0.0.1:6379'` */
  url?: string;
  /** Prefix of every key and of the bus channel. @defaultValue `'push:'` */
  prefix?: string;
  /** Messages of history kept per channel (0: none, offsets still count). @defaultValue 100 */
  historySize?: number;
  /** Milliseconds a message stays in history. @defaultValue 300_000 */
  historyAge?: number;
  /**
   * Milliseconds a channel's epoch and offset counter outlive its last publish, so a client idle
   * that long still resumes with `recovered: true` when it missed nothing. @defaultValue 86_400_000
   */
  channelTtl?: number;
  /**
   * Longest wait for Redis per operation; after it the operation fails with
   * `RedisBrokerError('redis-unavailable')`. @defaultValue 5_000
   */
  commandTimeout?: number;
  /** Presence TTL in ms, instead of the one the server passes to `enter`. @defaultValue the server's */
  presenceTtl?: number;
  /** Milliseconds between sweeps for members of crashed nodes. @defaultValue 1_000 */
  presenceSweepInterval?: number;
  /**
   * Messages of all channels kept in the bus log, replayed to a node whose subscriber connection
   * dropped for a moment. @defaultValue 10_000
   */
  busHistory?: number;
  /** Channels whose last offset is remembered (duplicate guard, fallback repair). @defaultValue 10_000 */
  trackedChannels?: number;
  /**
   * Shared sessions: milliseconds a server process counts as alive after its last heartbeat (sent
   * every third of it). Requests that reach another node for the sessions of a node silent that
   * long are answered `402::Unknown client` (the client handshakes again). @defaultValue 3_000
   */
  nodeTtl?: number;
  /**
   * Shared sessions: entries a node's relay Stream may hold unread. A relayed request to a node
   * that far behind (stuck, or gone without cleaning up) fails at once and its client is answered
   * `503` with advice to retry. @defaultValue 10_000
   */
  relayBacklog?: number;
  /** Longest pause between reconnect attempts. @defaultValue 2_000 */
  maxReconnectDelay?: number;
  /** Where connection changes are logged. @defaultValue one line on stderr */
  logger?: RedisBrokerLogger;
  /** Extra ioredis options (password, TLS, …). Offline queueing and retries are the broker's. */
  redis?: RedisOptions;
}

/** A {@link Broker} on Redis, with a few extras for operations and tests. */
export interface RedisBroker extends Broker {
  readonly presence: RedisPresence;
  /** Shared sessions: any node serves any HTTP client (no sticky sessions). */
  readonly sessions: RedisSessions;
  /** The key layout in use. */
  readonly keys: KeyLayout;
  /** Resolves once the connections are up and the bus is subscribed; rejects after `commandTimeout`. */
  ready(): Promise<void>;
}

function check(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new RedisBrokerError(
      'invalid-option',
      'createRedisBroker',
      `Option ${name} must be a number >= ${min}, got ${value}`,
    );
  }
  return value;
}

function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Creates a broker on Redis: fan-out over one pub/sub channel, history and offsets in a stream per
 * channel, presence in hashes with TTL. Connects at once and reconnects forever; operations wait
 * at most `commandTimeout` for Redis and then fail with a typed {@link RedisBrokerError}.
 * @example
 * import { createPushServer } from '@push/server';
 * import { createRedisBroker } from '@push/redis';
 * const push = createPushServer({ server: http, broker: createRedisBroker({ url: 'redis://127.0.0.1:6379' }) });
 */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const keys = createKeyLayout(options.prefix || 'push:');
  const historySize = Math.floor(check('historySize', options.historySize, 100, 0));
  const historyAge = Math.round(check('historyAge', options.historyAge, 300_000, 1));
  const channelTtl = Math.round(check('channelTtl', options.channelTtl, 86_400_000, 1));
  const commandTimeout = check('commandTimeout', options.commandTimeout, 5_000, 1);
  const logger = options.logger ?? stderrLogger;
  const connectionOptions = {
    url,
    logger,
    ...(options.redis ? { redis: options.redis } : {}),
    ...(options.maxReconnectDelay === undefined ? {} : { maxReconnectDelay: options.maxReconnectDelay }),
  };
  let closed = false;
  let inFlight = 0;

  const commands: Connection = openConnection({ ...connectionOptions, role: 'commands', commandTimeout });
  const scripts = defineScripts(commands.redis);

  async function run<T>(
    operation: string,
    call: (s: BrokerScripts) => Promise<T>,
    idempotent: boolean,
  ): Promise<T> {
    const deadline = Date.now() + commandTimeout;
    inFlight++;
    try {
      for (;;) {
        if (closed)
          throw new RedisBrokerError(
            'closed',
            operation,
            `The Redis broker is closed; ${operation} was not done`,
          );
        await commands.waitReady(Math.max(0, deadline - Date.now()), operation);
        try {
          return await call(scripts);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          if (error instanceof Error && error.name === 'ReplyError') {
            throw new RedisBrokerError('redis-reply', operation, `Redis refused ${operation}: ${reason}`, {
              cause: error,
            });
          }
          const notSent = /enableOfflineQueue/.test(reason);
          if ((notSent || idempotent) && Date.now() < deadline && !closed) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            continue;
          }
          const what = notSent ? 'was not sent' : 'may or may not have been applied';
          throw new RedisBrokerError(
            'redis-unavailable',
            operation,
            `Lost the Redis connection during ${operation} (${reason}); it ${what} — retry later`,
            { cause: error },
          );
        }
      }
    } finally {
      inFlight--;
    }
  }

  async function history(channel: string, after: StreamPosition): Promise<HistoryResult> {
    const [epoch, top, recovered, entries] = await run(
      'history',
      (s) =>
        s.pushHistory(
          keys.meta(channel),
          keys.log(channel),
          newEpoch(),
          channelTtl,
          after.offset,
          after.epoch,
          historySize,
          historyAge,
        ),
      true,
    );
    return {
      recovered: recovered === 1,
      messages: decodeEntries(entries, epoch),
      position: { offset: Number(top), epoch },
    };
  }

  const busHistory = Math.floor(check('busHistory', options.busHistory, 10_000, 1));
  const fanout = new Fanout({
    history,
    replay: async (afterSeq, busEpoch) => {
      const [epoch, recovered, entries] = await run(
        'replay',
        (s) => s.pushBusReplay(keys.busMeta, keys.busLog, afterSeq, busEpoch, 1_000),
        true,
      );
      return { busEpoch: epoch, recovered: recovered === 1, items: decodeBusEntries(entries, epoch) };
    },
    top: async () => {
      const top = await run('replay', (s) => s.pushBusTop(keys.busMeta, keys.busLog), true);
      return top ? { busEpoch: top[0], seq: Number(top[1]) } : undefined;
    },
    logger,
    trackedChannels: Math.floor(check('trackedChannels', options.trackedChannels, 10_000, 0)),
  });
  /** Relay reads block this long; the connection's command timeout allows for it. */
  const relayBlock = 2_000;
  const relayReader: Connection = openConnection({
    ...connectionOptions,
    role: 'relay',
    commandTimeout: relayBlock + commandTimeout,
  });
  const sessions = new RedisSessions({
    keys,
    run,
    logger,
    nodeTtl: check('nodeTtl', options.nodeTtl, 3_000, 30),
    relayBacklog: Math.floor(check('relayBacklog', options.relayBacklog, 10_000, 1)),
    read: async (stream, afterId) => {
      await relayReader.waitReady(commandTimeout, 'sessions.read');
      const reply = await relayReader.redis.xread(
        'COUNT',
        500,
        'BLOCK',
        relayBlock,
        'STREAMS',
        stream,
        afterId,
      );
      return reply?.[0]?.[1] ?? [];
    },
  });
  let markSubscribed: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => {
    markSubscribed = resolve;
  });
  const subscriber: Connection = openConnection({
    ...connectionOptions,
    role: 'subscriber',
    reconnectedMessage: 'redis: reconnected, resubscribed',
    onReconnect: async () => {
      await fanout.prime().catch((error: unknown) => {
        logger(
          'warn',
          'redis: could not read the bus position; messages missed before the first one may not be replayed',
          {
            error: String(error),
          },
        );
      });
      await subscriber.redis.subscribe(keys.bus);
      markSubscribed();
      await fanout.repairAll();
    },
  });
  subscriber.redis.on('message', (channel: string, message: string) => {
    if (closed) return;
    if (channel === keys.bus) fanout.receive(message);
  });

  async function publish(input: BrokerPublishInput): Promise<BrokerMessage> {
    const body = encodeBody(input);
    const [offset, epoch, time] = await run(
      'publish',
      (s) =>
        s.pushPublish(
          keys.meta(input.channel),
          keys.log(input.channel),
          keys.busMeta,
          keys.busLog,
          newEpoch(),
          channelTtl,
          body,
          historySize,
          historyAge,
          keys.bus,
          newEpoch(),
          busHistory,
        ),
      false,
    );
    const message: BrokerMessage = {
      channel: input.channel,
      data: input.data,
      offset: Number(offset),
      epoch,
      time: Number(time),
    };
    if (input.id !== undefined) message.id = input.id;
    if (input.publisherId !== undefined) message.publisherId = input.publisherId;
    return message;
  }

  const presence = new RedisPresence({
    keys,
    run,
    publish,
    logger,
    sweepInterval: check('presenceSweepInterval', options.presenceSweepInterval, 1_000, 1),
    ...(options.presenceTtl === undefined ? {} : { ttl: check('presenceTtl', options.presenceTtl, 0, 1) }),
  });
  presence.start();
  sessions.start();

  /** Lets operations already started (and what they chain, like a leave event) finish. */
  async function settle(limitMs: number): Promise<void> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      if (inFlight === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (inFlight === 0) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  return {
    keys,
    presence,
    sessions,
    publish,
    history,
    onMessage: (listener: BrokerListener) => fanout.add(listener),
    position: async (channel: string): Promise<StreamPosition> => {
      const [epoch, top] = await run(
        'position',
        (s) => s.pushPosition(keys.meta(channel), keys.log(channel), newEpoch(), channelTtl),
        true,
      );
      return { offset: Number(top), epoch };
    },
    async ready(): Promise<void> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RedisBrokerError(
                'redis-unavailable',
                'ready',
                `Redis at ${url} did not become ready within ${commandTimeout} ms`,
              ),
            ),
          commandTimeout,
        );
      });
      try {
        await Promise.race([Promise.all([commands.waitReady(commandTimeout, 'ready'), subscribed]), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      await settle(2_000);
      await sessions.stop();
      presence.stop();
      closed = true;
      fanout.clear();
      await Promise.all([commands.close(), subscriber.close(), relayReader.close(true)]);
    },
  };
}
