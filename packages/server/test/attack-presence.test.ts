/** Attack suite, issue 12 (weaker item): presence enters per session are bounded. */
import type { Reply } from '@push/protocol';
import { WsClient } from '@push/test-kit/bayeux-client';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

async function open(): Promise<WsClient> {
  const client = await WsClient.open(server!.wsUrl);
  clients.push(client);
  await client.start();
  return client;
}

const presence = (client: WsClient, action: 'enter' | 'leave', channel: string): Promise<Reply> =>
  client.publish('/service/presence', { action, channel });

describe('presence enters per session', () => {
  it('past limits.maxPresence an enter gets 429; re-entering or leaving first is fine; other sessions are not affected', async () => {
    server = await startServer({ limits: { maxPresence: 3 } });
    const client = await open();
    for (const room of ['/r/1', '/r/2', '/r/3'])
      expect((await presence(client, 'enter', room)).successful).toBe(true);
    expect(await presence(client, 'enter', '/r/4')).toMatchObject({
      successful: false,
      error: '429:presence,3:Limit exceeded: presence',
    });
    expect((await presence(client, 'enter', '/r/2')).successful).toBe(true);
    expect((await presence(client, 'leave', '/r/1')).successful).toBe(true);
    expect((await presence(client, 'enter', '/r/4')).successful).toBe(true);
    const other = await open();
    expect((await presence(other, 'enter', '/r/5')).successful).toBe(true);
  });

  it('defaults to 100', async () => {
    server = await startServer();
    const client = await open();
    const id = client.nextId();
    client.send(
      Array.from({ length: 101 }, (_, i) => ({
        channel: '/service/presence',
        clientId: client.clientId,
        id: `${id}-${i}`,
        data: { action: 'enter', channel: `/room/${i}` },
      })),
    );
    const last = (await client.waitFor((m) => m.id === `${id}-100`)) as Reply;
    expect(last).toMatchObject({ successful: false, error: '429:presence,100:Limit exceeded: presence' });
    const before = (await client.waitFor((m) => m.id === `${id}-99`)) as Reply;
    expect(before.successful).toBe(true);
  });
});
