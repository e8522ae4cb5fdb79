// @vitest-environment happy-dom

import { FakeClient } from '@push/test-kit/react-client';
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { PushProvider } from './provider.js';
import { type PushHandle, useConnectionState, usePush } from './use-push.js';

afterEach(cleanup);

function State() {
  return <p data-testid="state">{useConnectionState()}</p>;
}

describe('useConnectionState', () => {
  it('follows client state changes and stops listening on unmount', () => {
    const client = new FakeClient();
    const { unmount } = render(
      <PushProvider client={client}>
        <State />
      </PushProvider>,
    );
    expect(screen.getByTestId('state').textContent).toBe('connecting');
    act(() => client.setState('connected'));
    expect(screen.getByTestId('state').textContent).toBe('connected');
    act(() => client.setState('reconnecting'));
    expect(screen.getByTestId('state').textContent).toBe('reconnecting');
    expect(client.listenerCount('state')).toBe(1);
    unmount();
    expect(client.listenerCount('state')).toBe(0);
  });
});

describe('usePush', () => {
  it('returns the client, state and transport, as a stable object until one changes', () => {
    const client = new FakeClient();
    const seen: PushHandle[] = [];
    function Probe(_: { n: number }) {
      seen.push(usePush());
      return null;
    }
    const { rerender } = render(
      <PushProvider client={client}>
        <Probe n={1} />
      </PushProvider>,
    );
    rerender(
      <PushProvider client={client}>
        <Probe n={2} />
      </PushProvider>,
    );
    expect(seen.at(-1)).toBe(seen.at(-2));
    expect(seen.at(-1)).toEqual({ client, state: 'connecting', transport: undefined });
    act(() => client.setState('connected', 'eventsource'));
    expect(seen.at(-1)).toEqual({ client, state: 'connected', transport: 'eventsource' });
    expect(seen.at(-1)).not.toBe(seen.at(-3));
  });
});
