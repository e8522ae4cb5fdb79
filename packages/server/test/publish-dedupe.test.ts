/**
 * Publish de-duplication over real sockets: a publish repeated with its idempotency key
 * (`ext.push.key`) within the window is answered with the first reply and reaches subscribers
 * once; after the window, or once evicted by `maxKeys`, it is published again; keys are scoped to
 * the identity (a new session of the same user still matches, another user does not).
 */
import type { Message, Reply } from '@push/protocol';
import { WsClient } from '@push/test-kit/bayeux-client';
import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { PushServerError, type PushServerOptions } from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

async function start(options: PushServerOptions = {}) {
  const clock = new FakeClock(Date.now());
  server = await startServer({ clock, ...options });
  return clock;
}

async function client(channels: string[] = [], token?: string): Promise<WsClient> {
  const c = await WsClient.open(server!.wsUrl);
  clients.push(c);
  await c.start(channels, token ? { auth: { token } } : undefined);
  return c;
}

/** Publishes with `key` as `ext.push.key` and waits for the reply. */
async function publishKeyed(c: WsClient, channel: string, data: unknown, key: unknown): Promise<Reply> {
  const id = c.nextId();
  c.send([{ channel, clientId: c.clientId, data, id, ext: { push: { key } } }]);
  return (await c.waitFor((m) => m.channel === channel && m.id === id && 'successful' in m)) as Reply;
}

/** What `watcher` got on `channel`, after a marker published behind everything else arrived. */
async function seen(watcher: WsClient, publisher: WsClient, channel: string): Promise<unknown[]> {
  const marker = `m${Math.random()}`;
  await publisher.publish('/marker', marker);
  await watcher.waitFor((m: Message) => m.channel === '/marker' && 'data' in m && m.data === marker);
  return watcher.data(channel);
}

describe('publish de-duplication by key', () => {
  it('answers a repeated key with the first reply and publishes it once', async () => {
    await start();
    const watcher = await client(['/chat', '/marker']);
    const publisher = await client();
    const first = await publishKeyed(publisher, '/chat', 'hi', 'key-1');
    const repeat = await publishKeyed(publisher, '/chat', 'hi', 'key-1');
    expect(first.successful).toBe(true);
    expect(repeat).toMatchObject({ successful: true, ext: first.ext });
    expect(first.ext?.push?.offset).toBe(1);
    await publishKeyed(publisher, '/chat', 'again', 'key-2');
    expect(await seen(watcher, publisher, '/chat')).toEqual(['hi', 'again']);
  });

  it('publishes a repeat again once the window has passed', async () => {
    const clock = await start({ publishDedupe: { window: 1000 } });
    const watcher = await client(['/chat', '/marker']);
    const publisher = await client();
    await publishKeyed(publisher, '/chat', 'hi', 'k');
    clock.advanceSync(999);
    await publishKeyed(publisher, '/chat', 'hi', 'k');
    clock.advanceSync(1);
    const late = await publishKeyed(publisher, '/chat', 'hi', 'k');
    expect(late.ext?.push?.offset).toBe(2);
    expect(await seen(watcher, publisher, '/chat')).toEqual(['hi', 'hi']);
  });

  it('evicts the oldest key past maxKeys: its repeat is published again, the newer key is not', async () => {
    await start({ publishDedupe: { maxKeys: 2 } });
    const watcher = await client(['/chat', '/marker']);
    const publisher = await client();
    for (const key of ['a', 'b', 'c']) await publishKeyed(publisher, '/chat', key, key);
    await publishKeyed(publisher, '/chat', 'c', 'c');
    await publishKeyed(publisher, '/chat', 'a', 'a');
    expect(await seen(watcher, publisher, '/chat')).toEqual(['a', 'b', 'c', 'a']);
  });

  it('scopes keys to the identity: a new session of the same user matches, another user does not', async () => {
    await start({ authenticate: (handshake) => ({ id: String(handshake.ext?.auth?.token) }) });
    const watcher = await client(['/chat', '/marker'], 'watcher');
    const ann = await client([], 'ann');
    await publishKeyed(ann, '/chat', 'from ann', 'shared-key');
    await ann.close();
    const annReloaded = await client([], 'ann'); // a reloaded page: new session, same user
    const bob = await client([], 'bob');
    const repeat = await publishKeyed(annReloaded, '/chat', 'from ann', 'shared-key');
    const bobs = await publishKeyed(bob, '/chat', 'from bob', 'shared-key');
    expect(repeat.ext?.push?.offset).toBe(1);
    expect(bobs.ext?.push?.offset).toBe(2);
    expect(await seen(watcher, bob, '/chat')).toEqual(['from ann', 'from bob']);
  });

  it('refuses a key that is not a string of 1 to 128 characters with 400, publishing nothing', async () => {
    await start();
    const watcher = await client(['/chat', '/marker']);
    const publisher = await client();
    for (const key of ['', 'x'.repeat(129), 42]) {
      const reply = await publishKeyed(publisher, '/chat', 'bad', key);
      expect(reply).toMatchObject({ successful: false, error: expect.stringMatching(/^400::/) });
    }
    expect(await seen(watcher, publisher, '/chat')).toEqual([]);
  });

  it('refuses bounds that are not positive numbers', async () => {
    await expect(startServer({ publishDedupe: { window: 0 } })).rejects.toThrow(PushServerError);
    await expect(startServer({ publishDedupe: { maxKeys: -1 } })).rejects.toThrow(/publishDedupe.maxKeys/);
  });
});
