/**
 * The broker's optional `sessions` seam: two servers in one process share a broker and an
 * in-memory SessionStore, and a client's requests may land on either (no sticky sessions).
 */
import type { Message } from '@push/protocol';
import { eventually, handshake, post } from '@push/test-kit/bayeux-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, createMemoryBroker, type SessionStore } from '../src/index.js';
import { openEventStream, type Running, startServer } from './helpers.js';

/** Nodes and session owners, as Redis would hold them. */
class Directory {
  readonly owners = new Map<string, string>();
  readonly nodes = new Map<string, Set<(payload: string) => void>>();

  store(nodeId: string): SessionStore {
    const listeners = new Set<(payload: string) => void>();
    this.nodes.set(nodeId, listeners);
    return {
      nodeId,
      claim: async (clientId) => {
        this.owners.set(clientId, nodeId);
      },
      release: async (clientId) => {
        if (this.owners.get(clientId) === nodeId) this.owners.delete(clientId);
      },
      owner: async (clientId) => {
        const owner = this.owners.get(clientId);
        return owner !== undefined && this.nodes.has(owner) ? owner : undefined;
      },
      send: async (node, payload) => {
        const receivers = this.nodes.get(node);
        setImmediate(() => {
          for (const listener of receivers ?? []) listener(payload);
        });
      },
      onRelay: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
  }
}

let running: Running[] = [];

/** Two servers on one shared memory broker, each with its own node in `directory`. */
async function pair(directory = new Directory()): Promise<[Running, Running]> {
  const shared = createMemoryBroker();
  const node = (id: string): Broker => ({ ...shared, sessions: directory.store(id), close: async () => {} });
  const servers = await Promise.all([
    startServer({
      broker: node('a'),
      timeout: 2_000,
      transports: ['long-polling', 'callback-polling', 'eventsource', 'iframe'],
    }),
    startServer({
      broker: node('b'),
      timeout: 2_000,
      transports: ['long-polling', 'callback-polling', 'eventsource', 'iframe'],
    }),
  ]);
  running.push(...servers);
  return servers as [Running, Running];
}

afterEach(async () => {
  await Promise.all(running.map((server) => server.close()));
  running = [];
});

const dataOf = (messages: Message[]) =>
  messages
    .filter((m) => !m.channel.startsWith('/meta/') && !('successful' in m))
    .map((m) => (m as { data?: unknown }).data);

/** Reads a streaming response into text until it ends or is aborted. */
function readText(response: Response): { text: () => string; reading: Promise<void> } {
  let text = '';
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // aborted
    }
  })();
  return { text: () => text, reading };
}

describe('shared sessions through broker.sessions', () => {
  it('serves a long-polling client whose requests alternate between servers: every message once, in order', async () => {
    const [a, b] = await pair();
    const clientId = await handshake(a.url);
    const subscribed = await post(b.url, [{ channel: '/meta/subscribe', clientId, subscription: '/feed' }]);
    expect(subscribed.body[0]).toMatchObject({ successful: true });
    const total = 100;
    const publishing = (async () => {
      for (let i = 0; i < total; i++) await (i % 2 ? a : b).push.publish('/feed', i);
    })();
    const received: Message[] = [];
    for (let turn = 0; dataOf(received).length < total && turn < 1_000; turn++) {
      const { body } = await post(turn % 2 ? a.url : b.url, [
        { channel: '/meta/connect', clientId, connectionType: 'long-polling' },
      ]);
      expect(body[0]).toMatchObject({ channel: '/meta/connect', successful: true });
      received.push(...body);
    }
    await publishing;
    expect(dataOf(received)).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('relays callback-polling, a disconnect, and answers 402 once the session ended', async () => {
    const [a, b] = await pair();
    const clientId = await handshake(b.url);
    const message = JSON.stringify([{ channel: '/meta/subscribe', clientId, subscription: '/j' }]);
    const jsonp = await fetch(`${a.url}?jsonp=cb&message=${encodeURIComponent(message)}`);
    expect(await jsonp.text()).toContain('"successful":true');
    const { body: bye } = await post(a.url, [{ channel: '/meta/disconnect', clientId }]);
    expect(bye[0]).toMatchObject({ successful: true });
    for (const server of [a, b]) {
      const { body } = await post(server.url, [
        { channel: '/meta/connect', clientId, connectionType: 'long-polling' },
      ]);
      expect(body[0]).toMatchObject({ successful: false, advice: { reconnect: 'handshake' } });
      expect(body[0]?.error).toMatch(/^402:/);
    }
  });

  it('attaches an SSE stream opened on the other server to the session', async () => {
    const [a, b] = await pair();
    const clientId = await handshake(a.url, ['eventsource']);
    await post(a.url, [{ channel: '/meta/subscribe', clientId, subscription: '/s' }]);
    const { response: stream, abort } = await openEventStream(b.url, clientId);
    const { text, reading } = readText(stream);
    // Published before or after the stream is attached on A, both go out on it, in order.
    await a.push.publish('/s', 'one');
    await b.push.publish('/s', 'two');
    await eventually(() => text().includes('"two"'));
    expect(text().indexOf('"one"')).toBeLessThan(text().indexOf('"two"'));
    abort();
    await reading;
  });

  it('attaches a forever-iframe opened on the other server; a stream for an unknown session ends with 402', async () => {
    const [a, b] = await pair();
    const clientId = await handshake(b.url, ['iframe']);
    await post(b.url, [{ channel: '/meta/subscribe', clientId, subscription: '/i' }]);
    const abort = new AbortController();
    const stream = await fetch(`${a.url}/iframe?clientId=${clientId}&callback=cb`, { signal: abort.signal });
    const { text, reading } = readText(stream);
    await b.push.publish('/i', 'hello');
    await eventually(() => text().includes('hello'));
    abort.abort();
    await reading;
    const unknown = await fetch(`${a.url}/nobody`, { headers: { accept: 'text/event-stream' } });
    expect(await unknown.text()).toContain('402:');
  });
});
