// @vitest-environment happy-dom
// StrictMode against a real @push/server: the server must see one session and one subscribe.

import { PushProvider, useChannel, usePush } from '@push/react';
import { act, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { describe, expect, it } from 'vitest';
import { serverPerTest } from './push-server.js';

const server = serverPerTest();

function Ticker() {
  const { state } = usePush();
  const { data, status } = useChannel<{ price: number }>('/stocks/aex');
  return <p data-testid="ticker">{`${state}|${status}|${data?.price ?? '-'}`}</p>;
}

const text = () => screen.getByTestId('ticker').textContent;

describe('StrictMode against a real server', () => {
  it('opens one connection and sends exactly one /meta/subscribe for the channel', async () => {
    const { unmount } = render(
      <StrictMode>
        <PushProvider options={{ url: server().url }}>
          <Ticker />
        </PushProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(text()).toBe('connected|subscribed|-'), { timeout: 10_000 });
    await server().push.publish('/stocks/aex', { price: 101 });
    await waitFor(() => expect(text()).toBe('connected|subscribed|101'));
    // A full round trip later, anything a second mount could have sent has reached the server().
    await server().push.publish('/stocks/aex', { price: 102 });
    await waitFor(() => expect(text()).toBe('connected|subscribed|102'));
    expect(server().seen.handshake).toHaveLength(1);
    expect(server().seen.subscribe.filter((s) => s.channel === '/stocks/aex')).toHaveLength(1);
    expect(server().seen.unsubscribe).toHaveLength(0);
    expect(server().push.metrics().sessions).toBe(1);

    act(() => unmount());
    await waitFor(() => expect(server().seen.disconnect).toHaveLength(1));
    expect(server().push.metrics().sessions).toBe(0);
  });
});
