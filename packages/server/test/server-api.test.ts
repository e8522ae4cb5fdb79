/** Server API: events, service listeners, metrics (object and Prometheus endpoint), HTTP publish, expiry, close. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Reply } from '@push/protocol';
import { handshake, post, WsClient } from '@push/test-kit/bayeux-client';
import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { createPushServer, ServiceError } from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

describe('events and services', () => {
  it('emits handshake/subscribe/unsubscribe/publish/disconnect and routes /service/** to listeners only', async () => {
    server = await startServer();
    const events: string[] = [];
    for (const name of ['handshake', 'subscribe', 'unsubscribe', 'publish', 'disconnect'] as const) {
      server.push.on(name, () => events.push(name));
    }
    server.push.service('/service/echo', ({ data, clientId }) => {
      if (data === 'fail') throw new ServiceError('400::Bad request: no');
      return { echo: data, from: clientId };
    });
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start();
    await client.subscribe('/e');
    await client.publish('/e', 1);
    const echo = (await client.publish('/service/echo', 'hi')) as Reply;
    expect(echo.data).toEqual({ echo: 'hi', from: client.clientId });
    expect(((await client.publish('/service/echo', 'fail')) as Reply).error).toBe('400::Bad request: no');
    client.send([{ channel: '/meta/unsubscribe', clientId: client.clientId, subscription: '/e', id: 'u' }]);
    await client.waitFor((m) => m.id === 'u');
    client.send([{ channel: '/meta/disconnect', clientId: client.clientId, id: 'd' }]);
    await client.waitFor((m) => m.id === 'd');
    expect(events).toEqual(['handshake', 'subscribe', 'publish', 'unsubscribe', 'disconnect']);
  });
});

describe('metrics', () => {
  it('serves Prometheus text at {path}/metrics with connections, subscriptions, messages, overflows, fallbacks', async () => {
    server = await startServer();
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start(['/m']);
    await handshake(server.url, ['long-polling'], {
      push: { fallbacks: [{ from: 'websocket', to: 'long-polling', reason: 'timeout' }] },
    });
    await server.push.publish('/m', 1);
    await client.waitFor((m) => m.channel === '/m' && 'data' in m);
    const snapshot = server.push.metrics();
    expect(snapshot).toMatchObject({
      sessions: 2,
      subscriptions: 1,
      messagesOut: 1,
      queueOverflows: 0,
      fallbacks: { 'websocket->long-polling': 1 },
    });
    expect(snapshot.connections).toEqual({ websocket: 1, 'long-polling': 1 });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('push_connections{transport="websocket"} 1');
    expect(text).toContain('push_subscriptions 1');
    expect(text).toContain('push_messages_out_total 1');
    expect(text).toMatch(/push_messages_in_total \d+/);
    expect(text).toContain('push_queue_overflows_total 0');
    expect(text).toContain('push_fallbacks_total{from="websocket",to="long-polling"} 1');
  });

  it('uses its own registry per server instance', async () => {
    server = await startServer();
    const second = await startServer();
    try {
      await handshake(second.url);
      expect(server.push.metrics().sessions).toBe(0);
      expect(await server.push.metricsText()).toContain('push_sessions 0');
      expect(await second.push.metricsText()).toContain('push_sessions 1');
    } finally {
      await second.close();
    }
  });
});

describe('HTTP publish', () => {
  it("publishes {channel, data} without credentials when publishEndpoint is 'open'", async () => {
    server = await startServer({ publishEndpoint: 'open' });
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start(['/stocks/aex/philips']);
    const response = await fetch(`${server.url}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: '/stocks/aex/philips', data: { price: 123.45 } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      successful: true,
      channel: '/stocks/aex/philips',
      offset: 1,
    });
    await client.waitFor((m) => m.channel === '/stocks/aex/philips' && 'data' in m);
  });

  it('requires the publish key (Bearer or x-push-key) when one is set', async () => {
    server = await startServer({ publishKey: 'sekret' });
    const body = { channel: '/k', data: 1 };
    const none = await post(`${server.url}/publish`, body);
    expect(none.status).toBe(401);
    expect((none.body as unknown as Reply).error).toMatch(/^401::Publish key required/);
    expect((await post(`${server.url}/publish`, body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${server.url}/publish`, body, { authorization: 'Bearer sekret' })).status).toBe(200);
    expect((await post(`${server.url}/publish`, body, { 'x-push-key': 'sekret' })).status).toBe(200);
    const bad = await post(`${server.url}/publish`, '{"channel":', { 'x-push-key': 'sekret' });
    expect(bad.status).toBe(400);
  });
});

describe('session expiry (injected clock)', () => {
  it('ends sessions whose client stopped connecting, never one with a held connect', async () => {
    const clock = new FakeClock(1_000_000);
    server = await startServer({ clock, sessionTimeout: 10_000, timeout: 60_000 });
    const reasons: string[] = [];
    server.push.on('disconnect', ({ reason }) => reasons.push(reason));
    const idle = await handshake(server.url);
    // It connects once (answered at once), then its client goes away.
    await post(server.url, [
      { channel: '/meta/connect', clientId: idle, connectionType: 'long-polling', advice: { timeout: 0 } },
    ]);
    const active = await handshake(server.url);
    const held = post(server.url, [
      { channel: '/meta/connect', clientId: active, connectionType: 'long-polling' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advanceSync(9_000);
    expect(server.push.metrics().sessions).toBe(2);
    clock.advanceSync(6_000);
    expect(server.push.metrics().sessions).toBe(1);
    expect(reasons).toEqual(['expired']);
    const { body } = await post(server.url, [
      { channel: '/meta/connect', clientId: idle, connectionType: 'long-polling' },
    ]);
    expect(body[0]).toMatchObject({ error: '402::Unknown client', advice: { reconnect: 'handshake' } });
    clock.advanceSync(60_000); // the held connect times out and is answered
    expect((await held).body[0]).toMatchObject({ successful: true, channel: '/meta/connect' });
  });
});

describe('embedding', () => {
  it('handler() works as middleware and passes other paths to next(); close() leaves no sessions', async () => {
    const push = createPushServer({ path: '/rt' });
    const http = createServer((req, res) =>
      push.handler(req, res, () => {
        res.writeHead(200);
        res.end('app');
      }),
    );
    http.on('upgrade', (req, socket, head) => push.handleUpgrade(req, socket, head) || socket.destroy());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/other`)).text()).toBe('app');
      const clientId = await handshake(`${base}/rt`);
      expect(clientId).toMatch(/^[0-9a-f]{32}$/);
      const client = await WsClient.open(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/rt`);
      clients.push(client);
      await client.start(['/x']);
      await push.close();
      expect(push.metrics().sessions).toBe(0);
      await expect(push.publish('/x', 1)).rejects.toMatchObject({ code: 'closed' });
    } finally {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
