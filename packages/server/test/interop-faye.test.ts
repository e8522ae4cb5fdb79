/** Interop: the unmodified Faye 1.4 Node client against our server, over websocket and long-polling. */

import { eventually } from '@push/test-kit/bayeux-client';
import Faye from 'faye';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Running, startServer } from './helpers.js';

interface FayeClient {
  disable(feature: string): void;
  subscribe(channel: string, callback: (message: unknown) => void): PromiseLike<unknown> & { cancel(): void };
  publish(channel: string, data: unknown): PromiseLike<unknown>;
  disconnect(): void;
  getClientId?(): string;
}

const FayeClientCtor = (Faye as unknown as { Client: new (url: string, options?: object) => FayeClient })
  .Client;

let server: Running;
let clients: FayeClient[] = [];

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const client of clients) client.disconnect();
  clients = [];
  await server.close();
});

function next<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

for (const mode of ['websocket', 'long-polling'] as const) {
  describe(`Faye client over ${mode}`, () => {
    const create = () => {
      const client = new FayeClientCtor(server.url, { timeout: 5 });
      if (mode === 'long-polling') client.disable('websocket');
      clients.push(client);
      return client;
    };

    it('handshakes, subscribes (plain and wildcard), publishes and receives', async () => {
      const a = create();
      const b = create();
      const plain = next<unknown>();
      const wild = next<unknown>();
      const deep = next<unknown>();
      await a.subscribe('/faye/room', (message) => plain.resolve(message));
      await a.subscribe('/faye/*', (message) => wild.resolve(message));
      await b.subscribe('/faye/**', (message) => deep.resolve(message));
      await b.publish('/faye/room', { text: 'hello from faye' });
      expect(await plain.promise).toEqual({ text: 'hello from faye' });
      expect(await wild.promise).toEqual({ text: 'hello from faye' });
      expect(await deep.promise).toEqual({ text: 'hello from faye' });
      await eventually(() => (server.push.metrics().connections[mode] ?? 0) === 2);

      const fromServer = next<unknown>();
      await a.subscribe('/faye/deep/er', (message) => fromServer.resolve(message));
      await server.push.publish('/faye/deep/er', { n: 42 });
      expect(await fromServer.promise).toEqual({ n: 42 });
    });
  });
}
