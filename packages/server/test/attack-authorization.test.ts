/**
 * Attack suite, issue 12 row 4: authorization holds on every delivered channel (wildcards,
 * presence events, resume from history), not only on the pattern typed.
 */
import type { Message, Reply } from '@push/protocol';
import { eventually, WsClient } from '@push/test-kit/bayeux-client';
import { describe, expect, it } from 'vitest';
import { AUTHORIZATION_CACHE_SIZE, ChannelGate } from '../src/authorization.js';
import type { Delivery } from '../src/delivery.js';
import type { Authorize, PushServerOptions } from '../src/index.js';
import type { Session } from '../src/session.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

/** The README's Security example: only `root` may touch `/admin/**`. */
const readmeAuthorize: Authorize = (identity, _action, channel) =>
  !channel.startsWith('/admin') || identity.id === 'root';

/** Identities come from `ext.user` on the handshake. */
const byUser: PushServerOptions['authenticate'] = (handshake) => ({
  id: String((handshake.ext as { user?: string } | undefined)?.user ?? 'anon'),
});

async function open(user: string, channels: string[] = []): Promise<WsClient> {
  const client = await WsClient.open(server!.wsUrl);
  clients.push(client);
  await client.start([], { user });
  for (const channel of channels) expect((await client.subscribe(channel)).successful).toBe(true);
  return client;
}

/** Data messages `client` received, in order, as [channel, data]. */
const deliveries = (client: WsClient): Array<[string, unknown]> =>
  client.received
    .filter((m) => 'data' in m && !('successful' in m))
    .map((m) => [m.channel, (m as { data: unknown }).data]);

const enter = (client: WsClient, channel: string): Promise<Reply> =>
  client.publish('/service/presence', { action: 'enter', channel });

describe('row 4: wildcard subscriptions are authorized per delivered channel', () => {
  it('a non-admin on /** or /* never receives /admin channels; root on /** does', async () => {
    server = await startServer({ authenticate: byUser, authorize: readmeAuthorize });
    const deep = await open('bob', ['/**']);
    const one = await open('bob', ['/*']);
    const root = await open('root', ['/**']);
    await server.push.publish('/admin/secrets', { password: 'hunter2' });
    await server.push.publish('/admin', { password: 'hunter2' });
    await server.push.publish('/news', 'marker');
    await server.push.publish('/news/today', 'marker');
    await deep.waitFor((m) => m.channel === '/news/today');
    await one.waitFor((m) => m.channel === '/news');
    await root.waitFor((m) => m.channel === '/news/today');
    // Deliveries of one session keep publish order: the markers came after the secrets.
    expect(deliveries(deep)).toEqual([
      ['/news', 'marker'],
      ['/news/today', 'marker'],
    ]);
    expect(deliveries(one)).toEqual([['/news', 'marker']]);
    expect(deliveries(root).map(([channel]) => channel)).toEqual([
      '/admin/secrets',
      '/admin',
      '/news',
      '/news/today',
    ]);
  });

  it('presence events need the presence right: /presence/admin/** and /presence/** get no admin joins, a concrete one is refused', async () => {
    server = await startServer({ authenticate: byUser, authorize: readmeAuthorize });
    const bob = await open('bob', ['/presence/admin/**', '/presence/**']);
    const watcher = await open('root', ['/presence/admin/room']);
    // The subscribe right on '/presence/admin/room' is not enough: it reports '/admin/room'.
    const concrete = await bob.subscribe('/presence/admin/room');
    expect(concrete).toMatchObject({
      successful: false,
      error: '403:/presence/admin/room:Forbidden: presence denied',
    });
    const admin = await open('root');
    expect((await enter(admin, '/admin/room')).successful).toBe(true);
    expect((await enter(admin, '/lobby')).successful).toBe(true);
    await bob.waitFor((m) => m.channel === '/presence/lobby');
    await watcher.waitFor((m) => m.channel === '/presence/admin/room');
    expect(deliveries(bob).map(([channel]) => channel)).toEqual(['/presence/lobby']);
  });

  it('resume through a wildcard replays only channels the identity may receive', async () => {
    server = await startServer({ authenticate: byUser, authorize: readmeAuthorize });
    const secret = await server.push.publish('/admin/secrets', 's1');
    await server.push.publish('/admin/secrets', 's2');
    const news = await server.push.publish('/news/today', 'n1');
    await server.push.publish('/news/today', 'n2');
    const bob = await open('bob');
    const from = (offset: number, epoch: string) => ({ offset: offset - 1, epoch });
    const reply = await bob.subscribe('/**', {
      push: {
        resume: {
          '/admin/secrets': from(secret.offset, secret.epoch),
          '/news/today': from(news.offset, news.epoch),
        },
      },
    });
    expect(reply.successful).toBe(true);
    const positions = (reply.ext as { push: { positions: Record<string, unknown> } }).push.positions;
    expect(Object.keys(positions)).toEqual(['/news/today']);
    await eventually(() => bob.data('/news/today').length === 2);
    await server.push.publish('/news', 'marker');
    await bob.waitFor((m) => m.channel === '/news');
    expect(bob.data('/admin/secrets')).toEqual([]);
    expect(bob.data('/news/today')).toEqual(['n1', 'n2']);
  });

  it('an async authorize holds deliveries in order until it allows, and drops them when it refuses', async () => {
    const pending = new Map<string, (allowed: boolean) => void>();
    const asked: string[] = [];
    server = await startServer({
      authenticate: byUser,
      authorize: (_identity, action, channel) => {
        if (action !== 'subscribe' || !channel.startsWith('/slow/') || channel.endsWith('*'))
          return Promise.resolve(true);
        asked.push(channel);
        return new Promise<boolean>((resolve) => pending.set(channel, resolve));
      },
    });
    const bob = await open('bob', ['/slow/**', '/marker']);
    for (let i = 1; i <= 5; i++) {
      await server.push.publish('/slow/a', i);
      await server.push.publish('/slow/b', -i);
    }
    await server.push.publish('/marker', 1);
    await bob.waitFor((m) => m.channel === '/marker');
    // Asked once per channel, however many messages wait; nothing delivered before the answer.
    expect(asked).toEqual(['/slow/a', '/slow/b']);
    expect(bob.data('/slow/a')).toEqual([]);
    pending.get('/slow/b')!(false);
    pending.get('/slow/a')!(true);
    await eventually(() => bob.data('/slow/a').length === 5);
    await server.push.publish('/slow/a', 6);
    await server.push.publish('/slow/b', -6);
    await server.push.publish('/marker', 2);
    await eventually(() => bob.data('/marker').length === 2);
    expect(bob.data('/slow/a')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bob.data('/slow/b')).toEqual([]);
    expect(asked).toEqual(['/slow/a', '/slow/b']);
  });

  it('deliveries waiting for a decision are bounded by maxQueue: past it the session is cut off', async () => {
    server = await startServer({
      authenticate: byUser,
      limits: { maxQueue: 5 },
      authorize: (_identity, _action, channel) =>
        channel === '/slow/a' ? new Promise<boolean>(() => {}) : true,
    });
    const bob = await open('bob', ['/slow/*']);
    for (let i = 0; i < 10; i++) await server.push.publish('/slow/a', i);
    const cut = (await bob.waitFor((m) => (m as Reply).error !== undefined)) as Reply;
    expect(cut).toMatchObject({
      channel: '/meta/connect',
      error: '429:queue,5:Limit exceeded: queue',
      advice: { reconnect: 'handshake' },
    });
    expect(server.push.metrics().sessions).toBe(0);
  });

  it('the per-session decision cache is bounded (oldest first) and asks again after eviction', () => {
    const calls: string[] = [];
    const delivered: string[] = [];
    const session = {
      identity: {},
      closed: false,
      isSubscribed: () => false,
      deliver: (delivery: Delivery) => delivered.push(delivery.channel),
    } as unknown as Session;
    const gate = new ChannelGate(
      (_identity, _action, channel) => {
        calls.push(channel);
        return !channel.endsWith('/odd');
      },
      { overflow: () => expect.unreachable('no overflow') },
      100,
    );
    const delivery = (channel: string) => ({ channel }) as unknown as Delivery;
    const total = AUTHORIZATION_CACHE_SIZE * 4;
    for (let i = 0; i < total; i++) gate.deliver(session, delivery(`/c/${i}`));
    expect(gate.cachedFor(session)).toBe(AUTHORIZATION_CACHE_SIZE);
    expect(calls).toHaveLength(total);
    // The newest decisions are cached; the oldest were forgotten and are asked again.
    gate.deliver(session, delivery(`/c/${total - 1}`));
    expect(calls).toHaveLength(total);
    gate.deliver(session, delivery('/c/0'));
    expect(calls).toHaveLength(total + 1);
    expect(gate.cachedFor(session)).toBe(AUTHORIZATION_CACHE_SIZE);
    // Refusals are cached too, and a throwing hook refuses.
    gate.deliver(session, delivery('/x/odd'));
    gate.deliver(session, delivery('/x/odd'));
    expect(calls.filter((c) => c === '/x/odd')).toHaveLength(1);
    expect(delivered).not.toContain('/x/odd');
    const throwing = new ChannelGate(
      () => {
        throw new Error('hook failed');
      },
      { overflow: () => {} },
      100,
    );
    throwing.deliver(session, delivery('/y'));
    expect(delivered).not.toContain('/y');
  });

  it('a concrete subscription is not rechecked per delivery', async () => {
    const asked: Array<[string, string]> = [];
    server = await startServer({
      authenticate: byUser,
      authorize: (_identity, action, channel) => {
        asked.push([action, channel]);
        return true;
      },
    });
    const bob = await open('bob', ['/room/a']);
    for (let i = 0; i < 3; i++) await server.push.publish('/room/a', i);
    await eventually(() => bob.data('/room/a').length === 3);
    expect(asked).toEqual([['subscribe', '/room/a']]);
    const messages: Message[] = bob.received.filter((m) => m.channel === '/room/a');
    expect(messages).toHaveLength(3);
  });
});
