// Issue 14, end to end with @push/client against @push/server on 127.0.0.1: what another client
// sees when a member drops without saying goodbye, and what the app sees when a reconnect finds the
// history window exceeded (recovered: false, never a silent gap).
import { createClient, type PushClient, websocket } from '@push/client';
import { eventually, WsClient } from '@push/test-kit/bayeux-client';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAfterEach, startServer } from './harness.js';

const closeLater = closeAfterEach();

function client(url: string): PushClient {
  const c = createClient({
    url,
    transports: [websocket()],
    WebSocket: WebSocket as never,
    storage: null,
    backoff: { base: 20, max: 200 },
  });
  closeLater(() => c.close());
  return c;
}

it('a presence member whose connection drops abruptly leaves for the others within sessionTimeout', async () => {
  const sessionTimeout = 600;
  const h = await startServer({ sessionTimeout, timeout: 300 });
  const watcher = client(h.url);
  const room = watcher.presence('/room/lobby');
  const left: unknown[] = [];
  room.on('leave', (member) => left.push(member));
  await room.enter({ name: 'watcher' });
  // The member: a raw Bayeux client that enters and then vanishes (no /meta/disconnect).
  const member = await WsClient.open(h.wsUrl);
  await member.start();
  member.send([
    {
      channel: '/service/presence',
      clientId: member.clientId,
      id: 'enter',
      data: { action: 'enter', channel: '/room/lobby', data: { name: 'gone' } },
    },
  ]);
  await member.waitFor((m) => m.id === 'enter');
  await eventually(async () => (await room.members()).length === 2, 3_000);
  const dropped = Date.now();
  member.ws.terminate();
  await eventually(() => left.length === 1, 5_000);
  // Held connect answered at most `timeout` later, then the session dies `sessionTimeout` after it,
  // found by a sweep every sessionTimeout / 4.
  expect(Date.now() - dropped).toBeLessThan(300 + sessionTimeout * 1.25 + 1_000);
  expect(left[0]).toMatchObject({ data: { name: 'gone' } });
  expect((await room.members()).map((m) => (m.data as { name: string }).name)).toEqual(['watcher']);
});

it('a reconnect past the history window reports recovered: false and delivers what is new', async () => {
  // A small queue: messages published while the client is away overflow it, so the server ends the
  // session and the client must resume from history, which keeps only the last 5.
  const h = await startServer({ history: { maxCount: 5 }, limits: { maxQueue: 3 } });
  const c = client(h.url);
  const got: number[] = [];
  const recoveries: Array<{ channel: string; recovered: boolean }> = [];
  c.on('recovered', (event) => recoveries.push(event));
  await c.subscribe('/window', (data) => got.push(data as number)).ready;
  for (let n = 1; n <= 3; n++) await h.push.publish('/window', n);
  await eventually(() => got.length === 3, 3_000);
  // Cut every socket and publish 20 before the client is back.
  for (const socket of h.sockets) socket.destroy();
  for (let n = 4; n <= 23; n++) await h.push.publish('/window', n);
  await eventually(() => recoveries.length > 0, 10_000);
  // The first resume after the cut says what was lost. A later one (the renewal after the
  // reconnect, resuming from the new position) may follow and report true: nothing lost since.
  expect(recoveries[0]).toEqual({ channel: '/window', recovered: false });
  expect(recoveries.filter((event) => !event.recovered)).toHaveLength(1);
  await h.push.publish('/window', 24);
  await eventually(() => got.includes(24), 5_000);
  // Nothing is delivered twice or out of order, and the gap is exactly what the app was told of.
  expect([...got].sort((a, b) => a - b)).toEqual(got);
  expect(new Set(got).size).toBe(got.length);
  expect(got.slice(0, 3)).toEqual([1, 2, 3]);
});
