/**
 * The facade: wires platform, connection, subscriptions, outbox and presence together and exposes
 * the public `PushClient`. Holds no protocol logic of its own.
 */
import type { Message } from '@push/protocol';
import { createConnection } from './connection.js';
import { createEmitter } from './emitter.js';
import { PushError } from './errors.js';
import type { HoldPolicy } from './hold.js';
import type { TransportMemory } from './memory.js';
import { outboxOnDemand } from './outbox-on-demand.js';
import { createPlatform } from './platform.js';
import type { createPresences } from './presence.js';
import { createSubscriptions } from './subscriptions.js';
import type {
  ClientOptions,
  ConnectionType,
  OnlineSignal,
  Platform,
  PushClient,
  TransportFactory,
} from './types.js';
import type { UpgradeControl } from './upgrade.js';

/**
 * Builds a `createClient` bound to a registry of transport factories (names in
 * `options.transports` are looked up there). `@push/client` binds all four transports,
 * `@push/client/websocket` only WebSocket.
 * @example const createClient = createClientFactory([websocket(), longPolling()]);
 */
export function createClientFactory(
  registry: readonly TransportFactory[],
  extras: {
    upgrade?: (control: UpgradeControl, delay: number) => void;
    presence?: typeof createPresences;
    /** Held-request adaptation for HTTP transports (`createHoldPolicy`). */
    holdPolicy?: (env: Platform) => HoldPolicy;
    /** Remembers per origin which transport worked (`transportMemory`). */
    memory?: TransportMemory;
    /** The default online signal: `pageSignal` (page lifecycle); `browserOnline` when absent. */
    online?: () => OnlineSignal;
  } = {},
) {
  return (options: ClientOptions): PushClient => {
    // Sharing lives in its own entry (out of the core bundle): never ignore the option silently.
    if (options.share) throw new PushError('invalid-option', 'share: use @push/client/share');
    const url = new URL(options.url, (globalThis as { location?: { href: string } }).location?.href);
    const env = createPlatform(options, extras.online);
    const factories = (options.transports ?? registry).map((entry: ConnectionType | TransportFactory) => {
      if (typeof entry !== 'string') return entry;
      const factory = registry.find((f) => f.type === entry);
      if (!factory) {
        throw new PushError(
          'invalid-option',
          `Unknown transport ${entry}: pass its factory, e.g. longPolling()`,
        );
      }
      return factory;
    });
    const [emit, on, off] = createEmitter();

    const connected = () => connection.state === 'connected';
    const request = (message: Message) => connection.request(message);
    const attemptTimeout = options.attemptTimeout ?? 2500;
    const later = (fn: () => void) => void env.clock.setTimeout(fn, attemptTimeout);
    const heard = () => connection.heard;
    const subscriptions = createSubscriptions({
      connected,
      request,
      emit,
      later,
      heard,
      max: options.maxGapBuffer,
    });
    const outbox = outboxOnDemand({
      connected,
      closed: () => connection.state === 'closed',
      request,
      max: options.maxQueue ?? 100,
      high: options.backpressure?.high ?? 64,
      low: options.backpressure?.low ?? 16,
      pressure: (queued, high) => emit('backpressure', { queued, high }),
    });
    const presences = extras.presence?.(outbox.send, subscriptions);
    const connection = createConnection({
      url,
      env,
      factories,
      auth: options.auth,
      attemptTimeout,
      heartbeatGrace: options.heartbeatGrace ?? 10_000,
      backoff: { base: options.backoff?.base ?? 500, max: options.backoff?.max ?? 30_000 },
      upgradeDelay: options.upgradeDelay ?? 30_000,
      upgrade: extras.upgrade,
      holdPolicy: extras.holdPolicy,
      memory: extras.memory,
      emit,
      // Straight to the subscriptions: a delivery crosses one closure fewer.
      onMessage: subscriptions.deliver,
      onConnected(fresh) {
        subscriptions.renew(fresh);
        presences?.renew(fresh);
        outbox.flush();
      },
    });

    const client: PushClient = {
      get state() {
        return connection.state;
      },
      get transport() {
        return connection.transport;
      },
      get clientId() {
        return connection.clientId;
      },
      get fallbacks() {
        return connection.fallbacks;
      },
      subscribe: (channel, handler, opts) => subscriptions.subscribe(channel, handler as never, opts),
      publish: async (channel, data, options) => {
        await outbox.send(channel, data, options?.key);
      },
      presence(channel) {
        if (!presences) throw new PushError('invalid-option', 'No presence here: use @push/client');
        return presences.get(channel);
      },
      on,
      off,
      connect: () => connection.start(),
      async close() {
        outbox.fail(new PushError('closed', 'Client closed'));
        await connection.close();
      },
    };
    if (options.autoConnect !== false) connection.start();
    return client;
  };
}
