// A broker that fails: a passing failure (retriable) is a 503 with advice to retry, anything else
// a 500; the server carries on either way.

import { handshake, post } from '@push/test-kit/bayeux-client';
import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
closeAfterEach();

/** A memory broker whose publish fails with `error` while `failing` is set. */
function flakyBroker(error: () => Error) {
  const broker = createMemoryBroker();
  const state = { failing: false };
  const publish = broker.publish.bind(broker);
  broker.publish = (input) => (state.failing ? Promise.reject(error()) : publish(input));
  return { broker, state };
}

describe('broker failures', () => {
  it('answers 503 with advice retry while the broker is unreachable, then works again', async () => {
    const unreachable = () => Object.assign(new Error('redis down'), { retriable: true });
    const { broker, state } = flakyBroker(unreachable);
    server = await startServer({ broker });
    const clientId = await handshake(server.url);
    state.failing = true;
    const failed = await post(server.url, [{ channel: '/chat', clientId, data: 1, id: '2' }]);
    expect(failed.status).toBe(200);
    expect(failed.body[0]).toMatchObject({
      channel: '/chat',
      successful: false,
      error: '503::Server unavailable: try again',
      advice: { reconnect: 'retry', interval: 1000 },
    });
    state.failing = false;
    const ok = await post(server.url, [{ channel: '/chat', clientId, data: 2, id: '3' }]);
    expect(ok.body[0]).toMatchObject({ channel: '/chat', successful: true });
  });

  it('answers 500 for an unexpected failure', async () => {
    const { broker, state } = flakyBroker(() => new Error('bug'));
    server = await startServer({ broker });
    const clientId = await handshake(server.url);
    state.failing = true;
    const failed = await post(server.url, [{ channel: '/chat', clientId, data: 1, id: '2' }]);
    expect(failed.body[0]).toMatchObject({ successful: false, error: '500::Internal server error' });
  });
});
