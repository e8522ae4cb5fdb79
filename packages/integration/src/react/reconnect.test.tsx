// @vitest-environment happy-dom
// The server drops every connection; the hook must keep receiving, each message once, in order.

import { type ConnectionState, PushProvider, useChannel, usePush } from '@push/react';
import { render, screen, waitFor } from '@testing-library/react';
import { useEffect, useState } from 'react';
import { describe, expect, it } from 'vitest';
import { serverPerTest } from './push-server.js';

const server = serverPerTest();

const received: number[] = [];
const states: ConnectionState[] = [];

function Feed() {
  const { state, transport } = usePush();
  const [count, setCount] = useState(0);
  const { data, status } = useChannel<{ n: number }>('/feed', (msg) => {
    received.push(msg.n);
    setCount((c) => c + 1);
  });
  useEffect(() => {
    states.push(state);
  }, [state]);
  return <p data-testid="feed">{`${state}|${transport ?? '-'}|${status}|${data?.n ?? '-'}|${count}`}</p>;
}

const text = () => screen.getByTestId('feed').textContent ?? '';

describe('reconnect against a real server', () => {
  for (const transport of ['websocket', 'long-polling'] as const) {
    it(`keeps receiving over ${transport} after the server drops the connection`, async () => {
      received.length = 0;
      states.length = 0;
      render(
        <PushProvider
          options={{ url: server().url, transports: [transport], backoff: { base: 20, max: 200 } }}
        >
          <Feed />
        </PushProvider>,
      );
      await waitFor(() => expect(text()).toBe(`connected|${transport}|subscribed|-|0`), { timeout: 10_000 });
      await server().push.publish('/feed', { n: 1 });
      await waitFor(() => expect(text()).toBe(`connected|${transport}|subscribed|1|1`));

      server().dropConnections();
      if (transport === 'websocket') {
        // A dropped socket is a lost connection; a dropped long-poll is just a failed request.
        await waitFor(() => expect(states).toContain('reconnecting'), { timeout: 10_000 });
      }
      await waitFor(() => expect(text()).toMatch(/^connected\|/), { timeout: 10_000 });
      await server().push.publish('/feed', { n: 2 });
      await server().push.publish('/feed', { n: 3 });
      await waitFor(() => expect(text()).toBe(`connected|${transport}|subscribed|3|3`), { timeout: 10_000 });
      expect(received).toEqual([1, 2, 3]);
      expect(states.slice(0, 3)).toEqual(['idle', 'connecting', 'connected']);
      expect(states.at(-1)).toBe('connected');
    });
  }
});
