/**
 * The connection: drives negotiation, the `/meta/connect` cycle, server advice, backoff, the
 * online signal, heartbeats and background upgrades. States move only along the table in
 * `state.ts`. Requests from subscriptions/outbox/presence go through `request()`.
 *
 * Dead connections: every held `/meta/connect` must be answered within `advice.timeout +
 * heartbeatGrace`; otherwise the link is declared dead (half-open) and closed, so a silent
 * connection is found within that bound (30 s + 10 s with the defaults).
 */
import type {
  Advice,
  ConnectionType,
  ConnectRequest,
  HandshakeRequest,
  Message,
  Reply,
} from '@push/protocol';
import { backoffDelay } from './backoff.js';
import { PushError } from './errors.js';
import type { HoldPolicy } from './hold.js';
import type { Link } from './link.js';
import type { TransportMemory } from './memory.js';
import { handshakeMessage, type Negotiated, type NegotiateOptions, negotiate, step } from './negotiate.js';
import { canTransition } from './state.js';
import type {
  AuthToken,
  ClientEvents,
  ConnectionState,
  Fallback,
  Platform,
  TransportChange,
  TransportFactory,
} from './types.js';
import type { UpgradeControl } from './upgrade.js';

export interface ConnectionConfig {
  url: URL;
  env: Platform;
  factories: readonly TransportFactory[];
  auth?: AuthToken | (() => Promise<AuthToken>);
  attemptTimeout: number;
  heartbeatGrace: number;
  backoff: { base: number; max: number };
  upgradeDelay: number;
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void;
  /** Data and other non-reply messages, from the current link or one being drained. */
  onMessage(message: Message): void;
  /** Connected; `fresh` when the session is new (subscriptions must be renewed). */
  onConnected(fresh: boolean): void;
  /** Transport memory per origin (`memory.ts`); absent in the WebSocket-only entry. */
  memory?: TransportMemory;
  /** Held-request adaptation (`hold.ts`); absent in the WebSocket-only entry. */
  holdPolicy?: (env: Platform) => HoldPolicy;
  /** Background upgrader (`upgrade.ts`); absent in single-transport entries. */
  upgrade?: (control: UpgradeControl, delay: number) => void;
}

export interface Connection {
  readonly state: ConnectionState;
  readonly transport: ConnectionType | undefined;
  readonly clientId: string | undefined;
  readonly fallbacks: readonly Fallback[];
  start(): void;
  /** Sends a request on the current link; rejects with `connection-lost` when there is none. */
  request(message: Message): Promise<Reply>;
  close(): Promise<void>;
}

export function createConnection(c: ConnectionConfig): Connection {
  const { env } = c;
  const clock = env.clock;
  let state: ConnectionState = 'idle';
  let link: Link | undefined;
  let index = c.memory?.recall(c.url, env, c.factories) ?? 0;
  let clientId: string | undefined;
  let advice: Advice = {};
  let ackEnabled = false;
  let ack: number | undefined;
  let round = 0;
  let cycleGen = 0;
  let attempts = 0;
  let stopped = false;
  let fallbacks: Fallback[] = [];
  // Without a policy (the WebSocket-only entry) connects are held as the server advises.
  const policy = c.holdPolicy?.(env);
  /** The `/meta/connect` in flight: when it was sent and how long the server may hold it. */
  let held: { sentAt: number; hold: number } | undefined;
  let swapping: Promise<void> | undefined;
  let ids = 0;
  const timers: Record<'retry' | 'cycle' | 'upgrade' | 'heartbeat', unknown> = {
    retry: 0,
    cycle: 0,
    upgrade: 0,
    heartbeat: 0,
  };
  const nextId = () => (++ids).toString(36);

  const clear = (name: keyof typeof timers) => {
    clock.clearTimeout(timers[name]);
    timers[name] = 0;
  };
  const later = (name: keyof typeof timers, ms: number, fn: () => void) => {
    clear(name);
    timers[name] = clock.setTimeout(fn, ms);
  };

  function setState(next: ConnectionState): void {
    if (next === state) return;
    if (!canTransition(state, next)) return;
    const previous = state;
    state = next;
    c.emit('state', next, previous);
  }

  const connectMessage = (id: string, type: ConnectionType, holdOverride?: number): ConnectRequest => {
    const message: ConnectRequest = { channel: '/meta/connect', clientId: id, connectionType: type };
    const timeout = holdOverride ?? (policy?.polling ? 0 : policy?.hold);
    if (timeout !== undefined) message.advice = { timeout };
    if (ackEnabled && ack !== undefined) message.ext = { ack };
    return message;
  };

  const options = (): NegotiateOptions => ({
    url: c.url,
    env,
    factories: c.factories,
    start: index,
    timeout: c.attemptTimeout,
    clientId,
    nextId,
    onMessage: c.onMessage,
    async handshake(reports) {
      const message: HandshakeRequest = handshakeMessage(c.factories.map((f) => f.type));
      message.ext = { ack: true };
      if (reports.length) message.ext.push = { fallbacks: [...reports] };
      if (c.auth) message.ext.auth = typeof c.auth === 'function' ? await c.auth() : c.auth;
      return message;
    },
    connect: connectMessage,
  });

  function dropLink(): void {
    cycleGen++;
    held = undefined;
    clear('cycle');
    clear('upgrade');
    clear('heartbeat');
    const old = link;
    link = undefined;
    old?.close();
  }

  async function run(reason: TransportChange['reason']): Promise<void> {
    clear('retry');
    const my = ++round;
    if (!env.online.online()) return setState('disconnected');
    const previous = link?.factory.type;
    dropLink();
    setState(state === 'idle' || state === 'connecting' ? 'connecting' : 'reconnecting');
    try {
      const result = await negotiate(options());
      if (my !== round || state === 'closed') return result.link.close();
      adopt(result, previous, reason);
    } catch (error) {
      if (my !== round || state === 'closed') return;
      const err = error as PushError;
      // A refused handshake (bad credentials) with `reconnect: none`: retrying cannot help.
      if (err.advice?.reconnect === 'none') return stop(err);
      c.emit('error', err);
      retry();
    }
  }

  function adopt(
    result: Negotiated,
    previous: ConnectionType | undefined,
    reason: TransportChange['reason'],
  ) {
    const fresh = result.handshake !== undefined;
    link = result.link;
    index = result.index;
    clientId = result.clientId;
    if (fresh) {
      ackEnabled = result.handshake!.ext?.ack === true;
      ack = undefined;
      if (result.handshake!.advice) advice = { ...advice, ...result.handshake!.advice };
    }
    if (result.fallbacks.length) fallbacks = [...fallbacks, ...result.fallbacks].slice(-20);
    const current = link;
    attempts = 0;
    setState('connected');
    use(current, index, previous, result.fallbacks.length ? 'fallback' : previous ? reason : 'connect');
    onConnectReply(result.connect, current);
    for (const message of result.early) c.onMessage(message);
    c.onConnected(fresh);
    tryUpgrade();
  }

  /** Makes `next` the current link and reports the switch. */
  function use(
    next: Link,
    i: number,
    previous: ConnectionType | undefined,
    reason: TransportChange['reason'],
  ) {
    link = next;
    index = i;
    next.onMessage = c.onMessage;
    next.onClose = (why) => lost(next, why);
    c.memory?.remember(c.url, env, next.factory.type);
    if (next.factory.type !== previous)
      c.emit('transport', { transport: next.factory.type, previous, reason });
  }

  function lost(from: Link, _reason: string): void {
    if (from !== link || state === 'closed') return;
    if (held && !from.factory.duplex) policy?.died(clock.now() - held.sentAt, held.hold);
    dropLink();
    retry();
  }

  /** The server said not to reconnect: stay disconnected until the app calls `connect()`. */
  function stop(error: PushError): void {
    stopped = true;
    dropLink();
    setState('disconnected');
    c.emit('error', error);
  }

  function retry(delay?: number) {
    if (state === 'closed' || stopped) return;
    if (!env.online.online()) {
      clear('retry');
      return setState('disconnected');
    }
    setState('reconnecting');
    later('retry', delay ?? backoffDelay(attempts++, { ...c.backoff, random: env.random }), () =>
      run('reconnect'),
    );
  }

  function onConnectReply(reply: Reply, from: Link) {
    if (reply.advice) advice = { ...advice, ...reply.advice };
    if (reply.successful) {
      if (typeof reply.ext?.ack === 'number') ack = reply.ext.ack;
      const interval = policy?.interval(advice.interval) ?? advice.interval ?? 0;
      return later('cycle', interval, () => cycle(from));
    }
    const code = new PushError('rejected', '', reply.error).bayeuxCode;
    const action = reply.advice?.reconnect ?? (code === 402 ? 'handshake' : 'retry');
    if (action === 'none')
      return stop(new PushError('server-refused', 'Server said: do not reconnect', reply.error));
    if (action === 'handshake') clientId = undefined;
    dropLink();
    retry(Math.max(advice.interval ?? 0, backoffDelay(attempts++, { ...c.backoff, random: env.random })));
  }

  function cycle(from: Link): void {
    if (from !== link || state !== 'connected' || !clientId) return;
    const my = ++cycleGen;
    const request = {
      hold: policy?.polling ? 0 : (policy?.hold ?? advice.timeout ?? 30_000),
      sentAt: clock.now(),
    };
    held = request;
    from.request({ ...connectMessage(clientId, from.factory.type), id: nextId() }).then(
      (reply) => {
        if (my !== cycleGen || from !== link) {
          if (from !== link) from.close(); // a drained link's last held connect came back
          return;
        }
        clear('heartbeat');
        held = undefined;
        policy?.answered(clock.now() - request.sentAt, request.hold);
        onConnectReply(reply, from);
      },
      () => my === cycleGen && lost(from, 'connect-failed'),
    );
    later('heartbeat', request.hold + c.heartbeatGrace, () => {
      if (my !== cycleGen || from !== link) return;
      lost(from, 'heartbeat-timeout');
    });
  }

  function tryUpgrade(): void {
    if (c.upgrade && index > 0 && c.upgradeDelay > 0) c.upgrade(control, c.upgradeDelay);
  }

  /** What the background upgrader (upgrade.ts) may see and do. */
  const control: UpgradeControl = {
    current: () => (link && clientId && state === 'connected' ? { link, index, clientId } : undefined),
    options,
    later: (ms, fn) => later('upgrade', ms, fn),
    hold(waiting) {
      swapping = waiting;
      cycleGen++;
      clear('cycle');
      clear('heartbeat');
    },
    replace(from, next, i) {
      const ok = from === link && state === 'connected' && !next.closed;
      if (ok) {
        from.onClose = () => {};
        clock.setTimeout(() => from.close(), (advice.timeout ?? 30_000) + c.heartbeatGrace);
        use(next, i, from.factory.type, 'upgrade');
      } else next.close();
      swapping = undefined;
      if (link) cycle(link);
      return ok;
    },
  };

  const unsubscribeOnline = env.online.subscribe((online) => {
    if (state === 'closed' || state === 'idle') return;
    if (online && (state === 'reconnecting' || state === 'disconnected') && !stopped) {
      attempts = 0;
      void run('reconnect');
    } else if (!online && state === 'reconnecting') {
      clear('retry');
      setState('disconnected');
    }
  });

  return {
    get state() {
      return state;
    },
    get transport() {
      return link?.factory.type;
    },
    get clientId() {
      return clientId;
    },
    get fallbacks() {
      return fallbacks;
    },
    start() {
      if (state === 'closed' || state === 'connected' || state === 'connecting') return;
      if (state === 'reconnecting' && !stopped) return;
      stopped = false;
      void run('connect');
    },
    async request(message) {
      if (swapping) await swapping;
      if (!link || state !== 'connected') throw new PushError('connection-lost', 'Transport closed');
      return link.request({ ...message, clientId, id: nextId() } as Message);
    },
    async close() {
      if (state === 'closed') return;
      const last = link;
      const id = clientId;
      round++;
      clear('retry');
      setState('closed');
      unsubscribeOnline();
      if (last && id) {
        const bye = last.request({ channel: '/meta/disconnect', clientId: id, id: nextId() });
        await step(bye, 1000, env, 'connect').catch(() => {});
      }
      dropLink();
      last?.close();
    },
  };
}
