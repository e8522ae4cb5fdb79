/**
 * What `@push/client` loads on demand with `import()`, so its first chunk holds the WebSocket path,
 * negotiation and resume only. The fallback transports and the upgrader (`fallback.ts`) are fetched
 * when negotiation first reaches an HTTP transport, the upgrader when the client runs off its best
 * transport; presence when the app first calls one of a handle's methods. The stand-ins here have
 * the same signatures and behaviour as the real ones, so the public API does not change. A load
 * that fails never hangs: a transport fails with `TransportError('open-failed')` (its send
 * rejects, its open closes it: negotiation falls back, or the round fails with
 * `negotiation-failed` and is retried with backoff), a presence
 * call rejects with `PushError('load-failed')`, and the next use loads again.
 */
import type { ConnectionType, PresenceMember, Reply } from '@push/protocol';
import { PushError } from './errors.js';
import type { PresenceDeps, Presences } from './presence.js';
import type { Subscriptions } from './subscriptions.js';
import type { FrameOpener } from './transports/iframe.js';
import {
  type Platform,
  type Transport,
  TransportError,
  type TransportFactory,
} from './transports/transport.js';
import { unreachable } from './transports/unreachable.js';
import type { Presence } from './types.js';
import type { UpgradeControl } from './upgrade.js';

/** `load()` once; a failed load is not kept, so the next call tries again (a blip, a redeploy). Exported for tests. */
export const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
};

/** The fallback transports and the upgrader. */
const loadFallback = once(() => import('./fallback.js'));
const loadPresence = once(() => import('./presence.js'));
type Fallback = Awaited<ReturnType<typeof loadFallback>>;
type PresenceChunk = Awaited<ReturnType<typeof loadPresence>>;

/**
 * An HTTP transport factory whose code loads with its first `create()`. What negotiation reads
 * before that (`type`, `duplex`, `isSupported`, `outage`) is here; `lazy.test.ts` checks it
 * against the real factory. `load` is injectable for tests.
 */
export function lazyTransport(
  type: ConnectionType,
  isSupported: (env: Platform) => boolean,
  make: (chunk: Fallback) => TransportFactory,
  load: () => Promise<Fallback> = loadFallback,
): TransportFactory {
  return {
    type,
    duplex: false,
    outage: unreachable,
    isSupported,
    create(url, events, env) {
      let real: Transport | undefined;
      let closed = false;
      const ready = load().then(
        (chunk) => (real = make(chunk).create(url, events, env)),
        (cause: unknown) => {
          throw new TransportError('open-failed', type, { cause });
        },
      );
      ready.catch(() => {}); // reported by send() and open()
      // Calls made before the chunk arrived run in order once it did; later ones go straight through.
      // A failed load fails what was asked of the transport: a send rejects, an open closes it.
      const later = (fn: (transport: Transport) => unknown, failed = (_: TransportError) => {}) =>
        real ? fn(real) : ready.then(fn, failed);
      return {
        type,
        open: (clientId) =>
          void later(
            (t) => closed || t.open(clientId),
            (error: TransportError) => {
              if (closed) return;
              closed = true;
              events.close(error);
            },
          ),
        send: async (batch) => (real ?? (await ready)).send(batch),
        pause: async () => (real ?? (await ready)).pause(),
        close() {
          closed = true;
          later((t) => t.close());
        },
      };
    },
  };
}

/**
 * The eventsource (SSE) transport factory, loaded on first use (see `transports/eventsource.ts`).
 * @param options.idleTimeout default 25 000 ms (two of the server's 10 s heartbeats plus margin)
 * @example createClient({ url, transports: [eventSource({ idleTimeout: 30_000 }), longPolling()] });
 */
export const eventSource = (options: { idleTimeout?: number } = {}): TransportFactory =>
  lazyTransport(
    'eventsource',
    (env) => !!env.fetch && typeof ReadableStream !== 'undefined',
    (chunk) => chunk.eventSource(options),
  );

/**
 * The long-polling transport factory, loaded on first use (see `transports/long-polling.ts`).
 * @example createClient({ url, transports: [longPolling()] });
 */
export const longPolling = (): TransportFactory =>
  lazyTransport(
    'long-polling',
    (env) => !!env.fetch,
    (chunk) => chunk.longPolling(),
  );

/**
 * The forever-iframe transport factory, loaded on first use (see `transports/iframe.ts`).
 * @param frame how the document is opened; default `domFrame` (needs a DOM); `fetchFrame` outside browsers.
 * @param options.idleTimeout default 25 000 ms
 * @example createClient({ url, transports: [websocket(), iframe()] });
 */
export const iframe = (frame?: FrameOpener, options: { idleTimeout?: number } = {}): TransportFactory =>
  lazyTransport(
    'iframe',
    (env) => !!env.fetch && (!!frame || !!env.document),
    (chunk) => chunk.iframe(frame, options),
  );

/** A frame opener that loads the real one (a failed load ends the frame with `error`). */
const lazyFrame =
  (pick: (chunk: Fallback) => FrameOpener): FrameOpener =>
  (...args) => {
    let close: (() => void) | undefined;
    let ended = false;
    loadFallback().then(
      (chunk) => {
        if (!ended) close = pick(chunk)(...args);
      },
      (cause: unknown) => ended || args[4]('error', { cause }),
    );
    return () => {
      ended = true;
      close?.();
    };
  };

/**
 * Frame opener for browsers (hidden iframe; `htmlfile` where it exists), loaded on first use.
 * @example iframe(domFrame) // the default
 */
export const domFrame: FrameOpener = /* @__PURE__ */ lazyFrame((chunk) => chunk.domFrame);

/**
 * Frame opener for environments without a DOM (fetch streaming), loaded on first use.
 * @example createClient({ url, transports: [longPolling(), iframe(fetchFrame)] });
 */
export const fetchFrame: FrameOpener = /* @__PURE__ */ lazyFrame((chunk) => chunk.fetchFrame);

/**
 * The background upgrader (see `upgrade.ts`): after `delay`, re-probes better transports (their
 * code loads then); on failure, a failed load included, tries again after twice the delay.
 * @example createClientFactory([websocket(), longPolling()], { upgrade });
 */
export const upgrade = (control: UpgradeControl, delay: number): void =>
  control.later(
    delay,
    () =>
      void loadFallback()
        .then(
          (chunk) => chunk.tryUpgrade(control),
          () => false,
        )
        .then((done) => done || upgrade(control, delay * 2)),
  );

/**
 * Presence handles whose code loads on the first call to one of their methods. Each handle is a
 * stand-in with the real handle's API: calls made before the code arrived run in order after it.
 * `loader` is injectable for tests.
 */
export function lazyHandles(
  make: (chunk: PresenceChunk) => Presences,
  loader: () => Promise<PresenceChunk> = loadPresence,
): Presences {
  let real: Presences | undefined;
  const load = () =>
    loader().then(
      (chunk) => (real ??= make(chunk)),
      (cause: unknown) => {
        throw new PushError('load-failed', `presence: ${cause}`, undefined, undefined, { cause });
      },
    );
  const handles = new Map<string, Presence>();
  const create = (channel: string): Presence => {
    const use = async () => (await load()).get(channel);
    return {
      channel,
      enter: async (data) => (await use()).enter(data),
      leave: async () => (await use()).leave(),
      members: async (): Promise<PresenceMember[]> => (await use()).members(),
      on(event, fn) {
        let off: (() => void) | undefined;
        let gone = false;
        use().then(
          (real) => {
            if (!gone) off = real.on(event, fn);
          },
          () => {},
        );
        return () => {
          gone = true;
          off?.();
        };
      },
      off: (event, fn) =>
        void use().then(
          (real) => real.off(event, fn),
          () => {},
        ),
      async close() {
        handles.delete(channel);
        await (await use()).close();
      },
    };
  };
  return {
    get(channel) {
      const handle = handles.get(channel) ?? create(channel);
      handles.set(channel, handle);
      return handle;
    },
    renew: (fresh) => real?.renew(fresh), // nothing was entered before the code loaded
  };
}

/**
 * Presence for a client over its publish path and subscriptions, loaded on first use (see
 * `presence.ts`). Wired into `@push/client`; pass it to `createClientFactory` for a custom preset.
 * @example createClientFactory([websocket()], { presence: createPresences });
 */
export const createPresences = (
  send: (channel: string, data: unknown) => Promise<Reply>,
  subscriptions: Subscriptions,
): Presences => lazyHandles((chunk) => chunk.createPresences(send, subscriptions));

/**
 * One presence handle per channel over `deps`, loaded on first use (see `presence.ts`).
 * @example const presences = presenceHandles({ call, subscribe, entered: new Map() });
 */
export const presenceHandles = (deps: PresenceDeps): Presences =>
  lazyHandles((chunk) => chunk.presenceHandles(deps));
