// What the chaos runs fall into once a client is more than `maxQueue` messages behind (about 10 s
// at the chaos rate, e.g. after a reconnect storm on a loaded machine): its resume replays the whole
// missed range from history into the session queue at once (bayeux/subscribe.ts), the queue
// overflows, the session is cut, the client handshakes and resumes from the same position, and so
// on: it never gets a message again, and every renewal still says `recovered: true`. Here with
// nothing else running: one client resumes 1,500 messages that history holds, maxQueue 1,000.
// Promise (docs/guarantees.md): every message once, in order, or `recovered: false` — and a
// client that reads is not cut as slow.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, eventSource, longPolling, type TransportFactory } from '@push/client';
import { createMemoryBroker, createPushServer } from '@push/server';
import { expect, it } from 'vitest';

const BACKLOG = 1500;
const MAX_QUEUE = 1000;

it.each([
  ['long-polling', () => longPolling()],
  ['eventsource', () => eventSource()],
] as Array<[string, () => TransportFactory]>)(
  `a %s client resuming ${BACKLOG} messages (more than maxQueue ${MAX_QUEUE}, all in history) gets them all or recovered: false`,
  async (name, transport) => {
    const server = http.createServer();
    const push = createPushServer({
      server,
      path: '/push',
      broker: createMemoryBroker({ historySize: 2 * BACKLOG }),
      limits: { maxQueue: MAX_QUEUE },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    let epoch = '';
    for (let seq = 1; seq <= BACKLOG; seq++) ({ epoch } = await push.publish('/backlog/a', { seq }));

    const got: number[] = [];
    const recovered: boolean[] = [];
    let reconnects = 0;
    const client = createClient({
      url: `http://127.0.0.1:${port}/push`,
      transports: [transport()],
      storage: null,
      backoff: { base: 50, max: 500 },
    });
    client.on('state', (state) => state === 'reconnecting' && reconnects++);
    client.on('recovered', (event) => recovered.push(event.recovered));
    client.subscribe('/backlog/a', (data) => got.push((data as { seq: number }).seq), {
      from: { '/backlog/a': { offset: 0, epoch } },
    });
    const until = Date.now() + 10_000;
    while (Date.now() < until && got.length < BACKLOG && !recovered.includes(false))
      await new Promise((resolve) => setTimeout(resolve, 50));
    const overflows = push.metrics().queueOverflows;
    await client.close();
    await push.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));

    console.log(
      `${name}: got ${got.length} of ${BACKLOG}, recovered ${JSON.stringify(recovered.slice(0, 3))}` +
        `${recovered.length > 3 ? `… (${recovered.length})` : ''}, reconnects ${reconnects}, server overflows ${overflows}`,
    );
    if (recovered.includes(false)) {
      // The range could not be replayed: said so, and nothing wrong was delivered.
      expect(got).toEqual(got.map((_, i) => i + 1));
    } else {
      expect(got).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
      expect(overflows).toBe(0);
    }
  },
  20_000,
);
