/** Presence on /service/presence: enter/leave/members, join and leave events, leave on session end. */
import { type PresenceEvent, type PresenceReply, presenceChannel, type Reply } from '@push/protocol';
import { eventually, WsClient } from '@push/test-kit/bayeux-client';
import { beforeEach, expect, it } from 'vitest';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running;
const clients = closeAfterEach<WsClient>();
beforeEach(async () => {
  server = await startServer();
});

async function open(): Promise<WsClient> {
  const client = await WsClient.open(server.wsUrl);
  clients.push(client);
  await client.start();
  return client;
}

it('tracks members with their data and publishes join/leave events', async () => {
  const watcher = await open();
  await watcher.subscribe(presenceChannel('/chat/lobby'));
  const alice = await open();
  const bob = await open();
  const entered = (await alice.publish('/service/presence', {
    action: 'enter',
    channel: '/chat/lobby',
    data: { name: 'alice' },
  })) as Reply;
  expect(entered.successful).toBe(true);
  expect((entered.data as PresenceReply).members).toEqual([
    { clientId: alice.clientId, data: { name: 'alice' } },
  ]);
  await bob.publish('/service/presence', { action: 'enter', channel: '/chat/lobby', data: { name: 'bob' } });
  const members = (await watcher.publish('/service/presence', {
    action: 'members',
    channel: '/chat/lobby',
  })) as Reply;
  expect(
    (members.data as PresenceReply).members.map((m) => (m.data as { name: string }).name).sort(),
  ).toEqual(['alice', 'bob']);

  await eventually(() => watcher.data('/presence/chat/lobby').length === 2);
  const joins = watcher.data('/presence/chat/lobby') as PresenceEvent[];
  expect(joins.map((e) => [e.type, e.member.clientId])).toEqual([
    ['join', alice.clientId],
    ['join', bob.clientId],
  ]);

  const left = (await bob.publish('/service/presence', { action: 'leave', channel: '/chat/lobby' })) as Reply;
  expect((left.data as PresenceReply).members.map((m) => m.clientId)).toEqual([alice.clientId]);
  // Alice's session ends (disconnect): she leaves too.
  alice.send([{ channel: '/meta/disconnect', clientId: alice.clientId }]);
  await eventually(() => watcher.data('/presence/chat/lobby').length === 4);
  const events = watcher.data('/presence/chat/lobby') as PresenceEvent[];
  expect(events.slice(2).map((e) => [e.type, e.member.clientId])).toEqual([
    ['leave', bob.clientId],
    ['leave', alice.clientId],
  ]);
  // Presence events are never broadcast by the /service/** request itself.
  expect(watcher.received.some((m) => m.channel === '/service/presence' && !('successful' in m))).toBe(false);
});

it('refuses bad presence requests and client-forged presence events', async () => {
  const client = await open();
  const bad = (await client.publish('/service/presence', { action: 'dance', channel: '/x' })) as Reply;
  expect(bad.error).toBe('400::Bad request: presence needs "action": "enter" | "leave" | "members"');
  const wildcard = (await client.publish('/service/presence', { action: 'enter', channel: '/x/*' })) as Reply;
  expect(wildcard.error).toBe('407:/x/*:Invalid channel');
  const forged = (await client.publish('/presence/chat', { type: 'join' })) as Reply;
  expect(forged.error).toBe('405:/presence/chat:Presence channels are written by the server only');
});
