/**
 * The connection: the state table (`state.ts`) wired to negotiation (`negotiate.ts`), the
 * `/meta/connect` cycle with advice and heartbeats (`cycle.ts`), backoff and the online signal
 * (`reconnect.ts`) and background upgrades (`upgrade.ts` decides, the connection carries out
 * through its `UpgradeControl`). What a state allows is read from its row; each move records its
 * reason. It owns the current link; requests from subscriptions/outbox/presence go through `request()`.
 */
import type { ConnectionType, Message, ReconnectAdvice, Reply } from '@push/protocol';
import type { Connection, ConnectionConfig } from './connection-config.js';
import { createConnectCycle } from './cycle.js';
import { isRetriable, PushError } from './errors.js';
import type { Link } from './link.js';
import { type Negotiated, type NegotiateOptions, negotiate } from './negotiate.js';
import { createTimer } from './platform.js';
import { createReconnect } from './reconnect.js';
import { createStates } from './state.js';
import { step } from './step.js';
import type { TransportError } from './transports/transport.js';
import type { Fallback, StateReason, TransportChange } from './types.js';
import type { UpgradeControl } from './upgrade.js';

type Change = TransportChange['reason'];
type Failure = TransportChange['error'];

export function createConnection(c: ConnectionConfig): Connection {
  const { env } = c;
  const states = createStates(c.emit, env.log);
  const upgradeTimer = createTimer(env.clock);
  let link: Link | undefined;
  let index = c.memory?.recall(c.url, env, c.factories) ?? 0;
  let clientId: string | undefined;
  /** Negotiation rounds; a result of an older round (cancelled: offline, close) is dropped. */
  let round = 0;
  let fallbacks: Fallback[] = [];
  /** What ended the last transport; reported with the next `transport` event. */
  let failure: TransportError | undefined;
  let swapping: Promise<void> | undefined;
  let ids = 0;
  const nextId = () => (++ids).toString(36);
  const reconnect = createReconnect({
    env,
    states,
    backoff: c.backoff,
    run: (why) => void run('reconnect', why),
    cancelRound: () => round++,
  });

  const cycle = createConnectCycle({
    clock: env.clock,
    policy: c.holdPolicy?.(env),
    heartbeatGrace: c.heartbeatGrace,
    nextId,
    link: () => link,
    clientId: () => (states.row.sends ? clientId : undefined),
    lost,
    refused(action: ReconnectAdvice, reply: Reply) {
      if (action === 'none')
        return stop(new PushError('server-refused', 'Server said: do not reconnect', reply.error));
      if (action === 'handshake') clientId = undefined;
      dropLink();
      const error = new PushError('rejected', 'Connect refused', reply.error, reply.advice);
      reconnect.schedule(
        { code: 'advice', error },
        Math.max(cycle.advice.interval ?? 0, reconnect.backoff()),
      );
    },
  });

  const options = (): NegotiateOptions => ({
    url: c.url,
    env,
    factories: c.factories,
    start: index,
    timeout: c.attemptTimeout,
    clientId,
    nextId,
    onMessage: c.onMessage,
    auth: c.auth,
    connect: cycle.message,
  });

  function dropLink(): void {
    cycle.stop();
    upgradeTimer.clear();
    const old = link;
    link = undefined;
    old?.close();
  }

  async function run(change: Change, why: StateReason): Promise<void> {
    reconnect.cancel();
    const my = ++round;
    if (!env.online.online()) return void states.move('disconnected', { code: 'offline' });
    const previous = link?.factory.type;
    dropLink();
    const next = states.row.round;
    if (next) states.move(next, why);
    try {
      const result = await negotiate(options());
      if (my !== round) return result.link.close();
      adopt(result, previous, change);
    } catch (error) {
      if (my !== round) return;
      const err = error instanceof PushError ? error : new PushError('negotiation-failed', String(error));
      // A refusal the server said not to retry (bad credentials, `reconnect: none`): stop.
      if (!isRetriable(err)) return stop(err);
      c.emit('error', err);
      reconnect.schedule({ code: 'negotiation-failed', error: err });
    }
  }

  function adopt(result: Negotiated, previous: ConnectionType | undefined, change: Change) {
    if (result.handshake) cycle.session(result.handshake);
    const fell = result.fallbacks.length > 0;
    if (fell) fallbacks = [...fallbacks, ...result.fallbacks].slice(-20);
    clientId = result.clientId;
    reconnect.reset();
    link = result.link;
    states.move('connected', { code: 'negotiated' });
    const error = result.error ?? failure;
    failure = undefined;
    use(result.link, result.index, previous, fell ? 'fallback' : previous ? change : 'connect', error);
    cycle.reply(result.connect, result.link);
    for (const message of result.early) c.onMessage(message);
    c.onConnected(result.handshake !== undefined);
    if (c.upgrade && index > 0 && c.upgradeDelay > 0) c.upgrade(control, c.upgradeDelay);
  }

  /** Makes `next` the current link and reports the switch. */
  function use(next: Link, i: number, previous: ConnectionType | undefined, reason: Change, error?: Failure) {
    link = next;
    index = i;
    next.onMessage = c.onMessage;
    next.onClose = (why) => lost(next, why);
    c.memory?.remember(c.url, env, next.factory.type);
    const transport = next.factory.type;
    if (transport !== previous)
      c.emit('transport', error ? { transport, previous, reason, error } : { transport, previous, reason });
  }

  function lost(from: Link, error: TransportError): void {
    if (from !== link || !states.row.retries) return;
    cycle.died(from);
    failure = error;
    dropLink();
    reconnect.schedule({ code: 'transport-failed', error });
  }

  /** The server said not to reconnect: stay `disconnected` (reason `refused`) until `connect()`. */
  function stop(error: PushError): void {
    dropLink();
    states.move('disconnected', { code: 'refused', error });
    c.emit('error', error);
  }

  /** What the background upgrader (`upgrade.ts`) may see and do. */
  const control: UpgradeControl = {
    current: () => (link && clientId && states.row.upgrades ? { link, index, clientId } : undefined),
    options,
    later: upgradeTimer.set,
    hold(waiting) {
      swapping = waiting;
      if (waiting) cycle.stop();
    },
    adopt(from, next, i, confirmed) {
      // The old link's held connect may still bring messages: it closes once that hold is over.
      env.clock.setTimeout(() => from.close(), (cycle.advice.timeout ?? 30_000) + c.heartbeatGrace);
      use(next, i, from.factory.type, 'upgrade');
      cycle.reply(confirmed, next);
    },
    resume: () => link && cycle.send(link),
    lost,
  };

  return {
    get state() {
      return states.state;
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
    get heard() {
      return link?.seen ?? 0;
    },
    start() {
      if (states.row.starts) void run('connect', { code: 'connect' });
    },
    async request(message) {
      if (swapping) await swapping;
      if (!link || !states.row.sends) throw new PushError('connection-lost', 'Transport closed');
      return link.request({ ...message, clientId, id: nextId() } as Message).catch((cause: unknown) => {
        throw new PushError('connection-lost', 'Transport closed', undefined, undefined, { cause });
      });
    },
    async close() {
      const last = link;
      const id = clientId;
      round++;
      reconnect.cancel();
      if (!states.move('closed', { code: 'close' })) return;
      reconnect.dispose();
      if (last && id) {
        const bye = last.request({ channel: '/meta/disconnect', clientId: id, id: nextId() });
        await step(bye, 1000, env, 'connect', last.factory.type).catch(() => {});
      }
      dropLink();
    },
  };
}
