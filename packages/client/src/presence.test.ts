// Presence: enter, members, join/leave events, re-entry after a new session, close.
import { describe, expect, it } from 'vitest';
import { setup } from './testing/fakes.js';

describe('presence', () => {
  it('enters, lists members, sees joins and leaves, and re-enters after a new session', async () => {
    const a = setup({ order: ['websocket'] });
    const presence = a.client.presence('/chat/lobby');
    expect(a.client.presence('/chat/lobby')).toBe(presence);
    const joins: unknown[] = [];
    const leaves: unknown[] = [];
    presence.on('join', (m) => joins.push(m.data));
    const off = presence.on('leave', (m) => leaves.push(m.data));
    const members = presence.enter({ name: 'ann' });
    await a.clock.advance(0);
    expect(await members).toEqual([{ clientId: a.client.clientId, data: { name: 'ann' } }]);
    await a.clock.advance(0);
    expect(joins).toEqual([{ name: 'ann' }]);
    expect(await presence.members()).toHaveLength(1);
    await presence.leave();
    await a.clock.advance(0);
    expect(leaves).toEqual([{ name: 'ann' }]);
    expect(await presence.members()).toEqual([]);
    off();
    await presence.enter({ name: 'ann' });
    a.server.members.set('/chat/lobby', []);
    a.server.forget(a.client.clientId!);
    a.factories.websocket.created.at(-1)!.kill();
    await a.clock.advance(100);
    expect(a.server.members.get('/chat/lobby')).toEqual([
      { clientId: a.client.clientId, data: { name: 'ann' } },
    ]);
    expect(leaves).toHaveLength(1);
  });
  it('close() leaves, unsubscribes the presence channel and forgets the handle', async () => {
    const a = setup({ order: ['websocket'] });
    const presence = a.client.presence('/chat/room');
    const joins: unknown[] = [];
    presence.on('join', (m) => joins.push(m.data));
    const entering = presence.enter({ name: 'bob' });
    await a.clock.advance(0);
    await entering;
    await presence.close();
    await a.clock.advance(0);
    expect(a.server.members.get('/chat/room')).toEqual([]);
    const unsubscribes = a.server.received.filter((m) => m.channel === '/meta/unsubscribe');
    expect(unsubscribes.map((m) => (m as { subscription?: string }).subscription)).toEqual([
      '/presence/chat/room',
    ]);
    expect(a.client.presence('/chat/room')).not.toBe(presence);
    a.server.publish('/presence/chat/room', {
      type: 'join',
      channel: '/chat/room',
      member: { clientId: 'x' },
    });
    await a.clock.advance(0);
    expect(joins).toEqual([{ name: 'bob' }]); // closed handles hear nothing more
  });
});
