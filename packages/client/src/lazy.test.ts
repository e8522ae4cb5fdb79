// The stand-ins of what @push/client loads on demand: they agree with the real code before it
// loads, run calls made meanwhile in order, and turn a failed load into a typed error, not a hang.
import { FakeServer } from '@push/test-kit/bayeux-server';
import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { createClientFactory } from './client.js';
import { PushError } from './errors.js';
import * as chunk from './fallback.js';
import * as lazy from './lazy.js';
import { type Presences, createPresences as realPresences } from './presence.js';
import { fakeFactory, fakeOnline } from './testing/fakes.js';
import { type Platform, TransportError, type TransportEvents } from './transports/transport.js';

type Chunk = typeof chunk;
const failing = () => Promise.reject(new TypeError('Failed to fetch dynamically imported module'));
const env = (over: Partial<Platform>): Platform => ({
  clock: new FakeClock(),
  online: fakeOnline(),
  random: Math.random,
  log: () => {},
  ...over,
});
const recorder = () => {
  const seen: unknown[] = [];
  const events: TransportEvents = {
    open: () => seen.push('open'),
    message: (batch) => seen.push(batch),
    close: (error) => seen.push(error),
  };
  return { seen, events };
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('lazy transport factories', () => {
  it('say what the real factories say before their code is loaded', () => {
    const fetch = async () => ({ ok: true, status: 200, body: null, text: async () => '[]' });
    const envs = [env({}), env({ fetch }), env({ fetch, document: {} as Document })];
    const frame = chunk.fetchFrame;
    const pairs = [
      [lazy.eventSource(), chunk.eventSource()],
      [lazy.longPolling(), chunk.longPolling()],
      [lazy.iframe(), chunk.iframe()],
      [lazy.iframe(frame), chunk.iframe(frame)],
    ] as const;
    const failures = [
      new TransportError('network', 'long-polling'),
      new TransportError('http-status', 'long-polling', { status: 502 }),
      new TransportError('http-status', 'long-polling', { status: 403 }),
      new TransportError('timeout', 'long-polling'),
    ];
    for (const [stand, real] of pairs) {
      expect([stand.type, stand.duplex]).toEqual([real.type, real.duplex]);
      expect(envs.map((e) => stand.isSupported(e))).toEqual(envs.map((e) => real.isSupported(e)));
      expect(failures.map((f) => stand.outage?.(f))).toEqual(failures.map((f) => real.outage?.(f)));
    }
  });

  it('pass calls made while the code loads to the real transport, in order', async () => {
    const calls: string[] = [];
    let loaded!: (value: Chunk) => void;
    const loading = new Promise<Chunk>((resolve) => {
      loaded = resolve;
    });
    const fake = {
      ...chunk,
      longPolling: () => ({
        ...chunk.longPolling(),
        create: () => ({
          type: 'long-polling' as const,
          open: (id?: string) => void calls.push(`open ${id}`),
          send: async () => void calls.push('send'),
          pause: async () => void calls.push('pause'),
          close: () => void calls.push('close'),
        }),
      }),
    };
    const factory = lazy.lazyTransport(
      'long-polling',
      () => true,
      (c) => c.longPolling(),
      () => loading,
    );
    const { events } = recorder();
    const transport = factory.create(new URL('http://x/push'), events, env({}));
    const sent = transport.send([]);
    transport.open('c1');
    const paused = transport.pause();
    expect(calls).toEqual([]);
    loaded(fake);
    await Promise.all([sent, paused]);
    transport.close();
    expect(calls).toEqual(['send', 'open c1', 'pause', 'close']);
  });

  it('close with open-failed when the code cannot be loaded; the next transport loads again', async () => {
    let attempts = 0;
    const load = lazy.once(() => (++attempts === 1 ? failing() : Promise.resolve(chunk)));
    const factory = lazy.lazyTransport(
      'long-polling',
      () => true,
      (c) => c.longPolling(),
      load,
    );
    const { seen, events } = recorder();
    const transport = factory.create(new URL('http://x/push'), events, env({}));
    const error = await transport.send([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'open-failed', transport: 'long-polling' });
    expect((error as TransportError).cause).toBeInstanceOf(TypeError);
    expect(seen).toEqual([]); // a failed send is the caller's to handle, as a failed POST
    transport.open('c1');
    await tick();
    expect(seen).toEqual([error]); // an open that cannot happen closes the transport, once
    transport.open('c1');
    await tick();
    expect(seen).toHaveLength(1);
    factory.create(new URL('http://x/push'), recorder().events, env({})).close();
    await tick();
    expect(attempts).toBe(2);
  });

  it('a client whose fallback chunk fails reports negotiation-failed with the cause and retries', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(clock);
    const ws = fakeFactory(server, 'websocket', { behavior: 'fail-open' });
    const stand = lazy.lazyTransport(
      'long-polling',
      () => true,
      (c) => c.longPolling(),
      failing,
    );
    const create = createClientFactory([ws, stand]);
    const client = create({
      url: 'http://push.test/push',
      clock,
      online: fakeOnline(),
      fetch: async () => {
        throw new Error('no network in this test');
      },
      random: () => 1,
      backoff: { base: 100, max: 100 },
    });
    const errors: PushError[] = [];
    client.on('error', (e) => errors.push(e));
    for (let i = 0; i < 20 && !errors.length; i++) {
      await clock.advance(10);
      await tick();
    }
    expect(errors[0]).toBeInstanceOf(PushError);
    expect(errors[0]).toMatchObject({ code: 'negotiation-failed', retriable: true });
    expect(errors[0]!.cause).toMatchObject({ code: 'open-failed', transport: 'long-polling' });
    expect(client.state).toBe('reconnecting');
    await client.close();
  });
});

describe('lazy presence handles', () => {
  const fakePresences = (log: string[]): Presences => ({
    get: (channel) => ({
      channel,
      enter: async (data) => {
        log.push(`enter ${channel} ${JSON.stringify(data)}`);
        return [];
      },
      leave: async () => void log.push('leave'),
      members: async () => [{ clientId: 'a', data: 1 }],
      on: (event) => {
        log.push(`on ${event}`);
        return () => log.push(`off ${event}`);
      },
      off: (event) => void log.push(`off() ${event}`),
      close: async () => void log.push('close'),
    }),
    renew: (fresh) => void log.push(`renew ${fresh}`),
  });

  it('keep one handle per channel and run calls made while the code loads in order', async () => {
    const log: string[] = [];
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    const presences = lazy.lazyHandles(
      () => fakePresences(log),
      () => loading.then(() => ({ createPresences: realPresences }) as never),
    );
    presences.renew(true); // nothing entered before the code loaded: nothing to renew
    const lobby = presences.get('/lobby');
    expect(presences.get('/lobby')).toBe(lobby);
    const stop = lobby.on('join', () => {});
    const entered = lobby.enter({ n: 1 });
    const members = lobby.members();
    lobby.off('leave', () => {});
    expect(log).toEqual([]);
    loaded();
    await entered;
    expect(await members).toEqual([{ clientId: 'a', data: 1 }]);
    await tick();
    stop();
    presences.renew(true);
    await lobby.close();
    expect(presences.get('/lobby')).not.toBe(lobby);
    expect(log).toEqual([
      'on join',
      'enter /lobby {"n":1}',
      'off() leave',
      'off join',
      'renew true',
      'close',
    ]);
  });

  it('reject with load-failed when the code cannot be loaded, and load again on the next call', async () => {
    let attempts = 0;
    const log: string[] = [];
    const loader = lazy.once(() => (++attempts === 1 ? failing() : Promise.resolve({} as never)));
    const presences = lazy.lazyHandles(() => fakePresences(log), loader);
    const error = await presences
      .get('/lobby')
      .enter({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushError);
    expect(error).toMatchObject({ code: 'load-failed', retriable: true });
    expect((error as PushError).cause).toBeInstanceOf(TypeError);
    expect(await presences.get('/lobby').members()).toEqual([{ clientId: 'a', data: 1 }]);
    expect(attempts).toBe(2);
  });
});

describe('lazy frame openers and upgrader', () => {
  it('a frame opener closed before its code arrived never opens the frame', async () => {
    const ends: string[] = [];
    const close = lazy.fetchFrame(
      'http://x/push/iframe',
      'cb',
      env({}),
      () => {},
      (code) => ends.push(code),
    );
    close();
    await tick();
    expect(ends).toEqual([]);
  });

  it('the upgrader waits its delay on the connection timer before loading anything', () => {
    const later: number[] = [];
    lazy.upgrade(
      {
        current: () => undefined,
        options: () => {
          throw new Error('not before the delay');
        },
        later: (ms) => void later.push(ms),
        hold: () => {},
        adopt: () => {},
        resume: () => {},
        lost: () => {},
      },
      5000,
    );
    expect(later).toEqual([5000]);
  });
});
