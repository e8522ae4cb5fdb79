import type { Message } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../clock.js';
import { FakeServer } from './index.js';

const call = (server: FakeServer, batch: Message[]) => {
  const out: Message[][] = [];
  server.handle(batch, (replies) => out.push(replies));
  return out;
};

describe('FakeServer', () => {
  it('handshakes, holds a connect until a publish, and numbers acks', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(clock);
    const [[hs]] = call(server, [{ channel: '/meta/handshake', id: '1' } as Message]) as [[Message]];
    const clientId = hs.clientId!;
    call(server, [{ channel: '/meta/subscribe', clientId, subscription: '/a/*', id: '2' } as Message]);
    const held = call(server, [{ channel: '/meta/connect', clientId, id: '3' } as Message]);
    expect(held).toEqual([]);
    server.publish('/a/b', 1);
    expect(held).toEqual([
      [
        expect.objectContaining({ channel: '/a/b', data: 1, ext: { push: { offset: 1, epoch: 'e1' } } }),
        expect.objectContaining({ channel: '/meta/connect', successful: true, ext: { ack: 1 } }),
      ],
    ]);
  });

  it('refuses an unknown client with handshake advice, and /forbidden publishes with 403', () => {
    const server = new FakeServer(new FakeClock());
    expect(call(server, [{ channel: '/meta/connect', clientId: 'nope', id: '1' } as Message])[0]).toEqual([
      expect.objectContaining({
        successful: false,
        error: '402::Unknown client',
        advice: { reconnect: 'handshake' },
      }),
    ]);
    const [[hs]] = call(server, [{ channel: '/meta/handshake', id: '1' } as Message]) as [[Message]];
    const reply = call(server, [
      { channel: '/forbidden/x', clientId: hs.clientId, data: 1, id: '2' } as Message,
    ]);
    expect(reply[0]).toEqual([
      expect.objectContaining({ successful: false, error: '403:/forbidden/x:Forbidden' }),
    ]);
  });

  it('resumes a subscription from an offset, or reports recovered: false past the window', () => {
    const server = new FakeServer(new FakeClock());
    for (let n = 1; n <= 5; n++) server.publish('/feed', n);
    server.window = 3;
    const [[hs]] = call(server, [{ channel: '/meta/handshake', id: '1' } as Message]) as [[Message]];
    const clientId = hs.clientId!;
    const resume = (offset: number) =>
      call(server, [
        {
          channel: '/meta/subscribe',
          clientId,
          subscription: '/feed',
          id: String(offset),
          ext: { push: { resume: { '/feed': { offset, epoch: 'e1' } } } },
        } as Message,
      ])[0]![0]!;
    expect(resume(3).ext?.push).toEqual({
      recovered: true,
      positions: { '/feed': { offset: 5, epoch: 'e1' } },
    });
    expect(server.sessions.get(clientId)!.queue.map((m) => (m as { data?: unknown }).data)).toEqual([4, 5]);
    expect(resume(1).ext?.push).toMatchObject({ recovered: false });
  });
});
