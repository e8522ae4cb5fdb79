// Subscriptions: delivery to handles, resume and dedupe by offset, gaps, recovered: false.
import type { DataMessage, Message, Reply } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { createSubscriptions } from './subscriptions.js';
import { setup } from './testing/fakes.js';
import { TransportError } from './transports/transport.js';

const seq = (t: ReturnType<typeof setup>, channel: string, from: number, to: number) => {
  for (let i = from; i <= to; i++) t.server.publish(channel, { n: i });
};

/** Subscriptions on a connection whose server accepts every request (no timers, no events). */
const acceptingEverything = () =>
  createSubscriptions({
    connected: () => true,
    request: async (message) => ({ channel: message.channel, successful: true }) as Reply,
    emit: () => {},
    later: () => {},
  });

describe('subscriptions', () => {
  it('delivers plain and wildcard channels to every matching handle, and unsubscribes', async () => {
    const t = setup({ order: ['websocket'] });
    const one: unknown[] = [];
    const deep: unknown[] = [];
    const a = t.client.subscribe('/stocks/*', (data) => one.push(data));
    const b = t.client.subscribe('/stocks/**', (data, message: DataMessage) =>
      deep.push([message.channel, data]),
    );
    expect(a.state).toBe('pending');
    await t.clock.advance(0);
    await Promise.all([a.ready, b.ready]);
    expect(a.state).toBe('subscribed');
    t.server.publish('/stocks/aex', 1);
    t.server.publish('/stocks/aex/philips', 2);
    await t.clock.advance(0);
    expect(one).toEqual([1]);
    expect(deep).toEqual([
      ['/stocks/aex', 1],
      ['/stocks/aex/philips', 2],
    ]);
    a.unsubscribe();
    b.unsubscribe();
    await t.clock.advance(0);
    expect(t.server.received.filter((m) => m.channel === '/meta/unsubscribe')).toHaveLength(2);
    t.server.publish('/stocks/aex', 3);
    await t.clock.advance(0);
    expect(one).toEqual([1]);
  });

  it('a delivery reaches the subscriptions of the moment: one added or ended after a channel was seen counts', async () => {
    const subscriptions = acceptingEverything();
    const got: string[] = [];
    const message = (n: number): DataMessage => ({ channel: '/a/x', data: n });
    const wide = subscriptions.subscribe('/a/*', (data) => got.push(`wide ${data}`));
    subscriptions.deliver(message(1));
    const second = subscriptions.subscribe('/a/*', (data) => got.push(`second ${data}`));
    subscriptions.deliver(message(2));
    const plain = subscriptions.subscribe('/a/x', (data) => got.push(`plain ${data}`));
    subscriptions.deliver(message(3));
    wide.unsubscribe();
    subscriptions.deliver(message(4));
    second.unsubscribe();
    subscriptions.subscribe('/a/*', (data) => got.push(`wide again ${data}`));
    plain.unsubscribe();
    subscriptions.deliver(message(5));
    expect(got).toEqual([
      ...['wide 1', 'wide 2', 'second 2', 'wide 3', 'second 3', 'plain 3'],
      ...['second 4', 'plain 4', 'wide again 5'],
    ]);
  });

  it('a handler that unsubscribes another handle of the same message: that one gets nothing more', () => {
    const subscriptions = acceptingEverything();
    const got: string[] = [];
    subscriptions.subscribe('/a', (data) => {
      got.push(`first ${data}`);
      later.unsubscribe();
    });
    const later = subscriptions.subscribe('/a', (data) => got.push(`later ${data}`));
    subscriptions.deliver({ channel: '/a', data: 1 });
    subscriptions.deliver({ channel: '/a', data: 2 });
    expect(got).toEqual(['first 1', 'first 2']);
  });

  it('a handler that throws is reported as handler-failed, not rejected, and the others still get it', async () => {
    const t = setup({ order: ['websocket'] });
    const got: unknown[] = [];
    const boom = new Error('app bug');
    t.client.subscribe('/x', () => {
      throw boom;
    });
    t.client.subscribe('/x/*', (data) => got.push(data));
    t.client.subscribe('/x', (data) => got.push(data));
    await t.clock.advance(0);
    t.server.publish('/x', 1);
    await t.clock.advance(0);
    expect(got).toEqual([1]);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toMatchObject({ name: 'PushError', code: 'handler-failed', retriable: false });
    expect(t.errors[0]!.cause).toBe(boom);
    expect(t.client.state).toBe('connected');
  });

  it('undoes on the server a subscribe left while it was in flight, unless subscribed again since', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const serverSubs = () => [...t.server.sessions.values()].flatMap((session) => [...session.subs]);
    t.client.subscribe('/left', () => {}).unsubscribe();
    const again = t.client.subscribe('/back', () => {});
    again.unsubscribe();
    const kept = t.client.subscribe('/back', () => {});
    await t.clock.advance(0);
    await kept.ready;
    expect(t.server.received.filter((m) => m.channel === '/meta/unsubscribe')).toEqual([
      expect.objectContaining({ subscription: '/left' }),
    ]);
    expect(serverSubs()).toEqual(['/back']);
  });

  it('shares one server subscription between handles on the same channel', async () => {
    const t = setup({ order: ['websocket'] });
    const got: string[] = [];
    const a = t.client.subscribe('/x', () => got.push('a'));
    const b = t.client.subscribe('/x', () => got.push('b'));
    await t.clock.advance(0);
    t.server.publish('/x', 1);
    await t.clock.advance(0);
    a.unsubscribe();
    t.server.publish('/x', 2);
    await t.clock.advance(0);
    expect(got).toEqual(['a', 'b', 'b']);
    expect(t.server.received.filter((m) => m.channel === '/meta/subscribe')).toHaveLength(1);
    expect(t.server.received.filter((m) => m.channel === '/meta/unsubscribe')).toHaveLength(0);
    await b.ready;
  });

  it('rejects ready with a typed error when the server refuses, and throws on invalid names', async () => {
    const t = setup({ order: ['websocket'] });
    t.server.handle = ((original) => (batch, respond) => {
      if (batch[0]!.channel === '/meta/subscribe') {
        return respond([
          { channel: '/meta/subscribe', id: batch[0]!.id, successful: false, error: '403:/secret:Forbidden' },
        ]);
      }
      original(batch, respond);
    })(t.server.handle.bind(t.server));
    const sub = t.client.subscribe('/secret', () => {});
    await t.clock.advance(0);
    await expect(sub.ready).rejects.toMatchObject({ name: 'PushError', code: 'rejected', bayeuxCode: 403 });
    expect(sub.state).toBe('failed');
    expect(() => t.client.subscribe('not a channel', () => {})).toThrow(
      expect.objectContaining({ code: 'invalid-channel' }),
    );
  });

  it('resumes from the last offset after a re-handshake: every message once, in order', async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    seq(t, '/feed', 1, 5);
    await t.clock.advance(0);
    // the server loses the session while messages keep coming
    const old = t.client.clientId!;
    t.factories.websocket.created.at(-1)!.kill();
    t.server.forget(old);
    seq(t, '/feed', 6, 10);
    await t.clock.advance(100);
    seq(t, '/feed', 11, 12);
    await t.clock.advance(0);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const resubscribe = t.server.received.filter((m) => m.channel === '/meta/subscribe').at(-1)!;
    expect(resubscribe.ext?.push?.resume).toEqual({ '/feed': { offset: 5, epoch: 'e1' } });
    expect(t.client.clientId).not.toBe(old);
  });

  it('onReady tells where a subscription starts: the position given, else the last one delivered', async () => {
    const t = setup({ order: ['websocket'] });
    const starts: unknown[] = [];
    const onReady = (positions: unknown) => starts.push(positions);
    t.client.subscribe('/feed', () => {}, { onReady, from: { '/feed': { offset: 0, epoch: 'e1' } } });
    await t.clock.advance(0);
    seq(t, '/feed', 1, 3);
    await t.clock.advance(0);
    t.client.subscribe('/feed', () => {}, { onReady }); // joins the confirmed subscription after 3
    await t.clock.advance(0);
    expect(starts).toEqual([
      { '/feed': { offset: 0, epoch: 'e1' } },
      { '/feed': { offset: 3, epoch: 'e1' } },
    ]);
  });

  it('resumes a wildcard subscription: every channel seen under it, each message once, in order', async () => {
    const t = setup({ order: ['websocket'] });
    const got: string[] = [];
    const sub = t.client.subscribe('/stocks/*', (data) => got.push(data as string));
    await t.clock.advance(0);
    await sub.ready;
    t.server.publish('/stocks/a', 'a1');
    t.server.publish('/stocks/b', 'b1');
    await t.clock.advance(0);
    t.server.forget(t.client.clientId!); // the server lost the session (restart)
    t.factories.websocket.created.at(-1)!.kill();
    t.server.publish('/stocks/a', 'a2');
    t.server.publish('/stocks/b', 'b2');
    t.server.publish('/stocks/a', 'a3');
    await t.clock.advance(5000);
    expect(t.client.state).toBe('connected');
    const resubscribe = t.server.received.filter((m) => m.channel === '/meta/subscribe').at(-1)!;
    expect(Object.keys(resubscribe.ext?.push?.resume ?? {}).sort()).toEqual(['/stocks/a', '/stocks/b']);
    expect(got.filter((d) => d.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(got.filter((d) => d.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it('recovers messages lost on a dead stream before the first one ever arrived', async () => {
    const t = setup({ order: ['eventsource'] });
    const got: number[] = [];
    t.server.publish('/feed', 0); // history before the subscription: not for this subscriber
    const sub = t.client.subscribe('/feed', (data) => got.push(data as number));
    await t.clock.advance(0);
    await sub.ready;
    // The stream silently died: the server writes 1 and 2 into it, they never arrive.
    t.server.sessions.get(t.client.clientId!)!.stream = () => {};
    t.server.publish('/feed', 1);
    t.server.publish('/feed', 2);
    t.factories.eventsource.created.at(-1)!.kill();
    await t.clock.advance(5000);
    t.server.publish('/feed', 3);
    await t.clock.advance(0);
    expect(got).toEqual([1, 2, 3]);
  });

  it('drops duplicates by offset (a server replaying what was already seen)', async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push(data as number));
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    const m = (n: number, epoch = 'e1') => ({
      channel: '/feed',
      data: n,
      ext: { push: { offset: n, epoch } },
    });
    socket.events.message([m(1), m(2), m(2), m(1), m(3)]);
    socket.events.message([m(1, 'e2')]); // a new history epoch starts over
    expect(got).toEqual([1, 2, 3, 1]);
  });

  it('surfaces recovered: false when the history window was exceeded', async () => {
    const t = setup({ order: ['websocket'] });
    const recovered: unknown[] = [];
    t.client.on('recovered', (e) => recovered.push(e));
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n), { resume: true });
    await t.clock.advance(0);
    seq(t, '/feed', 1, 2);
    await t.clock.advance(0);
    t.server.window = 3;
    t.factories.websocket.created.at(-1)!.kill();
    t.server.forget(t.client.clientId!);
    seq(t, '/feed', 3, 10);
    await t.clock.advance(100);
    expect(recovered).toEqual([{ channel: '/feed', recovered: false }]);
    seq(t, '/feed', 11, 11);
    await t.clock.advance(0);
    expect(got).toEqual([1, 2, 11]);
  });

  it('resume: false subscribes live only', async () => {
    const t = setup({ order: ['websocket'] });
    t.client.subscribe('/feed', () => {}, { resume: false });
    await t.clock.advance(0);
    seq(t, '/feed', 1, 2);
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)!.kill();
    t.server.forget(t.client.clientId!);
    await t.clock.advance(100);
    const subs = t.server.received.filter((m) => m.channel === '/meta/subscribe');
    expect(subs).toHaveLength(2);
    expect(subs[1]!.ext).toBeUndefined();
  });
});

describe('gaps', () => {
  const m = (n: number) => ({ channel: '/feed', data: n, ext: { push: { offset: n, epoch: 'e1' } } });

  it('holds messages behind a gap, resumes from the last offset, and delivers in order', async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push(data as number));
    await t.clock.advance(0);
    for (let n = 1; n <= 6; n++) t.server.publish('/feed', n);
    await t.clock.advance(0);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    // 7 and 8 were lost on the wire; 9 arrives
    t.server.history.get('/feed')!.push(m(7), m(8), m(9));
    t.factories.websocket.created.at(-1)!.events.message([m(9)]);
    await t.clock.advance(0);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const resume = t.server.received.filter((x) => x.channel === '/meta/subscribe').at(-1)!;
    expect(resume.ext?.push?.resume).toEqual({ '/feed': { offset: 6, epoch: 'e1' } });
  });

  /** A client subscribed to `channels` that delivered message 1 of each; what it delivers and reports. */
  async function deliveredOne(channels: string[]) {
    const t = setup({ order: ['websocket'] });
    const got: string[] = [];
    const recovered: Array<{ channel: string; recovered: boolean }> = [];
    t.client.on('recovered', (e) => recovered.push(e));
    for (const channel of channels) t.client.subscribe(channel, (data) => got.push(`${channel} ${data}`));
    await t.clock.advance(0);
    for (const channel of channels) t.server.publish(channel, 1);
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    const on = (channel: string, n: number) => ({
      channel,
      data: n,
      ext: { push: { offset: n, epoch: 'e1' } },
    });
    return { t, got, recovered, socket, on };
  }

  it('stops waiting for a gap the server never fills and reports recovered: false', async () => {
    const { t, got, recovered, socket } = await deliveredOne(['/feed']);
    socket.events.message([m(3)]);
    await t.clock.advance(0);
    expect(got).toEqual(['/feed 1']);
    await t.clock.advance(1000);
    expect(got).toEqual(['/feed 1', '/feed 3']);
    expect(recovered).toEqual([
      { channel: '/feed', recovered: true },
      { channel: '/feed', recovered: false },
    ]);
  });

  it('keeps waiting for a gap while its replay is arriving, however long it takes (the server paces a long replay)', async () => {
    const { t, got, recovered, socket } = await deliveredOne(['/feed']);
    socket.events.message([m(5)]); // 2..4 are missing: the client resumes from 1
    await t.clock.advance(0);
    // The replay comes in slowly, one message per 900 ms: 2.7 s in all, attemptTimeout is 1 s.
    for (const n of [2, 3, 4]) {
      await t.clock.advance(900);
      socket.events.message([m(n)]);
    }
    await t.clock.advance(3000);
    expect(got).toEqual(['/feed 1', '/feed 2', '/feed 3', '/feed 4', '/feed 5']);
    expect(recovered).toEqual([{ channel: '/feed', recovered: true }]);
  });

  /**
   * /a and /b delivered 1, then `first` arrives; the replay then carries /a 2..4 over 2.7 s (one
   * message per 900 ms, attemptTimeout is 1 s) and /b 2 after it.
   */
  async function replayOfAThenB(first: (on: (channel: string, n: number) => Message) => Message[]) {
    const { t, got, recovered, socket, on } = await deliveredOne(['/a', '/b']);
    socket.events.message(first(on));
    await t.clock.advance(0);
    for (const n of [2, 3, 4]) {
      await t.clock.advance(900);
      socket.events.message([on('/a', n)]);
    }
    await t.clock.advance(500);
    socket.events.message([on('/b', 2)]);
    await t.clock.advance(3000);
    return { got, recovered };
  }

  it("keeps waiting for a gap while another channel's replay is arriving (the server replays one channel after another)", async () => {
    const { got, recovered } = await replayOfAThenB((on) => [on('/a', 5), on('/b', 3)]); // both resume from 1
    expect(got).toEqual(['/a 1', '/b 1', '/a 2', '/a 3', '/a 4', '/a 5', '/b 2', '/b 3']);
    expect(recovered.filter((e) => !e.recovered)).toEqual([]);
  });

  it('keeps waiting for a gap while the replay of channels with no known gap goes by first', async () => {
    // /b resumes from 1; /a missed 2..4 too, unseen yet: its replay fills no gap the client holds.
    const { got, recovered } = await replayOfAThenB((on) => [on('/b', 3)]);
    expect(got).toEqual(['/a 1', '/b 1', '/a 2', '/a 3', '/a 4', '/b 2', '/b 3']);
    expect(recovered.filter((e) => !e.recovered)).toEqual([]);
  });

  it('keeps waiting for a gap while the client is reconnecting: the renewal after it resumes again', async () => {
    const { t, got, recovered, socket } = await deliveredOne(['/feed']);
    await t.clock.advance(500);
    socket.events.message([m(3)]); // 2 is missing: the client resumes from 1
    await t.clock.advance(0);
    // The link dies before the replay comes, and the server stays out of reach for 3 s.
    t.factories.websocket.behavior = 'down';
    socket.kill();
    await t.clock.advance(3000);
    expect(t.client.state).toBe('reconnecting');
    expect(recovered.filter((e) => !e.recovered)).toEqual([]);
    t.server.history.get('/feed')!.push(m(2), m(3));
    t.factories.websocket.behavior = 'ok';
    await t.clock.advance(2000);
    expect(got).toEqual(['/feed 1', '/feed 2', '/feed 3']);
    expect(recovered.filter((e) => !e.recovered)).toEqual([]);
  });

  it('gives up on a gap whose replay stopped arriving for attemptTimeout', async () => {
    const { t, got, recovered, socket } = await deliveredOne(['/feed']);
    socket.events.message([m(5)]);
    await t.clock.advance(900);
    socket.events.message([m(2)]); // progress, then nothing
    await t.clock.advance(2100);
    expect(got).toEqual(['/feed 1', '/feed 2', '/feed 5']);
    expect(recovered).toEqual([
      { channel: '/feed', recovered: true },
      { channel: '/feed', recovered: false },
    ]);
  });

  it('resumes after a reconnect on the same session, catching a tail lost with a dead stream', async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push(data as number));
    await t.clock.advance(0);
    t.server.publish('/feed', 1);
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    const clientId = t.client.clientId;
    socket.closed = true; // the connection is dead, the server does not know yet: 2 is lost
    t.server.publish('/feed', 2);
    socket.events.close(new TransportError('closed', 'websocket'));
    await t.clock.advance(100);
    expect(t.client.state).toBe('connected');
    expect(t.client.clientId).toBe(clientId); // same session, no re-handshake
    expect(got).toEqual([1, 2]);
  });
});

// Issue 14: a renewal refused because the session failed keeps the subscription; a real refusal
// ends it, and the handle says so.
describe('renewal refusals', () => {
  /** Answers the next resuming (renewal) subscribe with `reply`, then lets the rest through. */
  const refuseRenewal = (t: ReturnType<typeof setup>, reply: Partial<Message>, then?: () => void) => {
    let done = false;
    t.server.handle = ((original) => (batch, respond) => {
      const m = batch[0]!;
      if (!done && m.channel === '/meta/subscribe' && m.ext?.push?.resume) {
        done = true;
        respond([{ channel: '/meta/subscribe', id: m.id, successful: false, ...reply } as Message]);
        then?.();
        return;
      }
      original(batch, respond);
    })(t.server.handle.bind(t.server));
  };

  const stream = async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    const sub = t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    seq(t, '/feed', 1, 5);
    await t.clock.advance(0);
    return { t, got, sub };
  };

  for (const [name, reply, forget] of [
    ['429 with handshake advice', { error: '429::Queue overflow', advice: { reconnect: 'handshake' } }, true],
    ['402 unknown client', { error: '402::Unknown client', advice: { reconnect: 'handshake' } }, true],
    ['503 server unavailable', { error: '503::Server unavailable', advice: { reconnect: 'retry' } }, false],
  ] as const) {
    it(`keeps and renews the subscription when a renewal gets ${name}`, async () => {
      const { t, got, sub } = await stream();
      const old = t.client.clientId!;
      refuseRenewal(t, reply, () => forget && t.server.forget(old));
      // the stream dies; the client reattaches to its session and renews with a resume
      t.factories.websocket.created.at(-1)!.kill();
      seq(t, '/feed', 6, 8);
      await t.clock.advance(100);
      await t.clock.advance(2000); // the server cut the session (new handshake) or asked to retry
      seq(t, '/feed', 9, 12);
      await t.clock.advance(0);
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(t.errors.filter((e) => e.code === 'rejected')).toEqual([]);
      expect(sub.state).toBe('subscribed');
      if (forget) expect(t.client.clientId).not.toBe(old);
      const renewals = t.server.received.filter(
        (m) => m.channel === '/meta/subscribe' && m.ext?.push?.resume,
      );
      expect(renewals.length).toBeGreaterThanOrEqual(1); // the one after the refusal
    });
  }

  for (const code of [403, 405, 407, 400]) {
    it(`a renewal refused with ${code} ends the subscription: rejected, and the handle reads failed`, async () => {
      const { t, got, sub } = await stream();
      await sub.ready;
      refuseRenewal(t, { error: `${code}:/feed:Refused` });
      t.factories.websocket.created.at(-1)!.kill();
      await t.clock.advance(100);
      seq(t, '/feed', 6, 7);
      await t.clock.advance(0);
      expect(t.errors.filter((e) => e.code === 'rejected').map((e) => e.bayeuxCode)).toEqual([code]);
      expect(sub.state).toBe('failed');
      expect(got).toEqual([1, 2, 3, 4, 5]);
    });
  }
});

// Issue 14: client memory stays bounded. Positions go with the last subscription covering their
// channel (seen from outside: a later subscribe resumes from nothing); the gap buffer is capped.
describe('bounded memory', () => {
  const m = (n: number, channel = '/feed') => ({
    channel,
    data: n,
    ext: { push: { offset: n, epoch: 'e1' } },
  });
  const subscribes = (t: ReturnType<typeof setup>) =>
    t.server.received.filter((x) => x.channel === '/meta/subscribe');

  it('forgets a channel position with its last subscription: subscribing again resumes nothing', async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    const a = t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    seq(t, '/feed', 1, 3);
    await t.clock.advance(0);
    a.unsubscribe();
    await t.clock.advance(0);
    seq(t, '/feed', 4, 5); // published while nobody here subscribes: not for this app
    await t.clock.advance(0);
    const b = t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    await b.ready;
    seq(t, '/feed', 6, 6);
    await t.clock.advance(0);
    expect(subscribes(t).at(-1)!.ext).toBeUndefined();
    expect(got).toEqual([1, 2, 3, 6]);
  });

  it('a wildcard leaving drops only the positions no other subscription covers', async () => {
    const t = setup({ order: ['websocket'] });
    const all = t.client.subscribe('/stocks/*', () => {});
    t.client.subscribe('/stocks/a', () => {});
    await t.clock.advance(0);
    t.server.publish('/stocks/a', 'a1');
    t.server.publish('/stocks/b', 'b1');
    await t.clock.advance(0);
    all.unsubscribe();
    await t.clock.advance(0);
    t.client.subscribe('/stocks/*', () => {});
    await t.clock.advance(0);
    // /stocks/a is still covered by its own subscription, /stocks/b was forgotten
    expect(subscribes(t).at(-1)!.ext?.push?.resume).toEqual({ '/stocks/a': { offset: 1, epoch: 'e1' } });
  });

  it('a message still in flight after the last unsubscribe leaves no position behind', async () => {
    const t = setup({ order: ['websocket'] });
    t.client.subscribe('/feed', () => {}).unsubscribe();
    await t.clock.advance(0);
    const got: unknown[] = [];
    t.factories.websocket.created.at(-1)!.events.message([m(7)]);
    t.client.subscribe('/feed', (data) => got.push(data));
    await t.clock.advance(0);
    expect(subscribes(t).at(-1)!.ext).toBeUndefined();
    expect(got).toEqual([]);
  });

  it('past maxGapBuffer it delivers what it holds, in order, and reports recovered: false', async () => {
    const t = setup({ order: ['websocket'], client: { maxGapBuffer: 3 } });
    // the server never answers the resume: the gap can only end at the cap
    let held: ((batch: Message[]) => void) | undefined;
    let resume: Message | undefined;
    t.server.handle = ((original) => (batch, respond) => {
      if (batch[0]!.ext?.push?.resume) {
        resume = batch[0];
        held = respond;
        return;
      }
      original(batch, respond);
    })(t.server.handle.bind(t.server));
    const got: number[] = [];
    const recovered: unknown[] = [];
    t.client.on('recovered', (e) => recovered.push(e));
    t.client.subscribe('/feed', (data) => got.push(data as number));
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    socket.events.message([m(1), m(5), m(3), m(4)]); // 2 lost: 5, 3, 4 held
    expect(got).toEqual([1]);
    expect(resume?.ext?.push?.resume).toEqual({ '/feed': { offset: 1, epoch: 'e1' } });
    socket.events.message([m(6)]); // a 4th held message: over the cap
    expect(got).toEqual([1, 3, 4, 5, 6]);
    expect(recovered).toEqual([{ channel: '/feed', recovered: false }]);
    socket.events.message([m(7)]);
    // the late resume reply and its replay deliver nothing twice
    held!([
      { channel: '/meta/subscribe', id: resume!.id, successful: true, ext: { push: { recovered: true } } },
    ]);
    socket.events.message([m(2), m(3), m(7)]);
    await t.clock.advance(5000);
    expect(got).toEqual([1, 3, 4, 5, 6, 7]);
  });

  it('a handler that unsubscribes while a gap is being filled ends delivery cleanly', async () => {
    const t = setup({ order: ['websocket'] });
    const got: number[] = [];
    const sub = t.client.subscribe('/feed', (data) => {
      got.push(data as number);
      if (data === 3) sub.unsubscribe();
    });
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    socket.events.message([m(1), m(3), m(4), m(2)]); // 2 fills the gap; 3 unsubscribes
    await t.clock.advance(0);
    expect(got).toEqual([1, 2, 3]);
    expect(t.errors).toEqual([]);
  });
});

describe('a renewal whose link went away', () => {
  it('is sent again while the client stays connected: an upgrade swapped the link and no renew follows', async () => {
    const sent: Message[] = [];
    const timers: Array<() => void> = [];
    let linkGone = false;
    const subscriptions = createSubscriptions({
      connected: () => true,
      async request(message) {
        sent.push(message);
        if (linkGone) throw new Error('Transport closed');
        return { channel: '/meta/subscribe', successful: true, ext: { push: { recovered: true } } } as Reply;
      },
      emit: () => {},
      later: (fn) => void timers.push(fn),
    });
    const got: unknown[] = [];
    subscriptions.subscribe('/feed', (data) => got.push(data));
    await Promise.resolve();
    const on = (n: number) =>
      ({ channel: '/feed', data: n, ext: { push: { offset: n, epoch: 'e1' } } }) as DataMessage;
    for (let n = 1; n <= 3; n++) subscriptions.deliver(on(n));
    // A new session: the renewal (with its resume) goes out on the old link, which the upgrade
    // then closes; the client is connected throughout, so no other renew comes.
    linkGone = true;
    subscriptions.renew(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(2);
    linkGone = false;
    for (const fn of timers.splice(0)) fn();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(3);
    expect(sent[2]!.ext?.push?.resume).toEqual({ '/feed': { offset: 3, epoch: 'e1' } });
  });
});

/**
 * Subscriptions on '/feed' without a client around them: `request` answers the subscribes, timers
 * (`later`) run when the test says, and `link.heard` is when the link last carried something.
 */
function bareFeed(request: (message: Message) => Promise<Reply>) {
  const timers: Array<() => void> = [];
  const events: unknown[] = [];
  const got: unknown[] = [];
  const link = { heard: 100 };
  const subscriptions = createSubscriptions({
    connected: () => true,
    request,
    emit: (event, ...args) => events.push([event, ...args]),
    later: (fn) => timers.push(fn),
    heard: () => link.heard,
  });
  subscriptions.subscribe('/feed', (data) => got.push(data));
  const m = (n: number): DataMessage => ({
    channel: '/feed',
    data: n,
    ext: { push: { offset: n, epoch: 'e1' } },
  });
  return { subscriptions, timers, events, got, link, m };
}

// Issue 14: a gap is not given up while the link carries nothing at all (stalled behind a proxy):
// the heartbeat replaces such a link and the renewal resumes again.
describe('a gap on a stalled link', () => {
  it('is waited for while the link carries nothing, and given up once it carries something but no fill', async () => {
    const { subscriptions, timers, events, got, link, m } = bareFeed(
      async (message) =>
        ({
          channel: message.channel,
          successful: true,
          ext: { push: { positions: { '/feed': { offset: 0, epoch: 'e1' } }, recovered: true } },
        }) as Reply,
    );
    await Promise.resolve();
    subscriptions.deliver(m(1));
    subscriptions.deliver(m(3)); // 2 is missing: resume from 1, answered recovered: true
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(timers).toHaveLength(1);
    for (let stalled = 0; stalled < 5; stalled++) timers.shift()!(); // attemptTimeouts of silence
    expect(got).toEqual([1]);
    expect(events).toEqual([['recovered', { channel: '/feed', recovered: true }]]);
    link.heard = 200; // the link carried something (a connect reply), and still no 2
    timers.shift()!();
    expect(got).toEqual([1, 3]);
    expect(events.at(-1)).toEqual(['recovered', { channel: '/feed', recovered: false }]);
  });
});

describe('a gap across a new session', () => {
  it("is not given up by the old resume's wait while the new session's resume fills it", async () => {
    let answer: (reply: Reply) => void = () => {};
    const replies: Array<Promise<Reply>> = [];
    const { subscriptions, timers, events, got, link, m } = bareFeed((message) => {
      if (!message.ext?.push?.resume)
        return Promise.resolve({
          channel: message.channel,
          successful: true,
          ext: { push: { positions: { '/feed': { offset: 0, epoch: 'e1' } } } },
        } as Reply);
      const reply = new Promise<Reply>((resolve) => {
        answer = resolve;
      });
      replies.push(reply);
      return reply;
    });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    const recovered = { channel: '/feed', successful: true, ext: { push: { recovered: true } } } as Reply;
    await settle();
    subscriptions.deliver(m(1));
    subscriptions.deliver(m(3)); // 2 is missing: resume from 1
    answer(recovered);
    await settle();
    expect(timers).toHaveLength(1);
    // The session is cut before the replay comes; the client handshakes and renews with resume.
    subscriptions.renew(true);
    await settle();
    link.heard = 200; // the new session's replies arrived: the link carries things
    timers.shift()!(); // the old resume's wait: superseded, it gives nothing up
    expect(events.filter((e) => (e as [string, { recovered: boolean }])[1].recovered === false)).toEqual([]);
    answer(recovered);
    await settle();
    subscriptions.deliver(m(2));
    expect(got).toEqual([1, 2, 3]);
    expect(replies).toHaveLength(2);
  });
});
