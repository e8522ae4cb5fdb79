// @vitest-environment happy-dom

import { FakeClient, nextMacrotask } from '@push/test-kit/react-client';
import { act, cleanup, render, renderHook, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PushProvider } from './provider.js';
import { useChannel } from './use-channel.js';
import { usePresence } from './use-presence.js';
import { useConnectionState, usePublish, usePush } from './use-push.js';

const created = vi.hoisted(() => [] as { options: unknown; client: unknown }[]);
vi.mock('@push/client/share', async () => {
  const { FakeClient } = await import('@push/test-kit/react-client');
  return {
    createClient: (options: unknown) => {
      const client = new FakeClient();
      created.push({ options, client });
      return client;
    },
  };
});

beforeEach(() => {
  created.length = 0;
});
afterEach(cleanup);

const ownedClient = (i = 0) => created[i]!.client as FakeClient;

function Ticker() {
  const { client } = usePush();
  const { data } = useChannel<number>('/ticks');
  return <p data-testid="ticker">{`${client ? 'client' : 'none'}:${data ?? '-'}`}</p>;
}

describe('PushProvider with options (provider-owned client)', () => {
  it('creates one client after mount under StrictMode and subscribes once', async () => {
    render(
      <StrictMode>
        <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
          <Ticker />
        </PushProvider>
      </StrictMode>,
    );
    await act(nextMacrotask);
    expect(created).toHaveLength(1);
    expect(created[0]!.options).toEqual({ url: 'http://127.0.0.1:1/push' });
    expect(ownedClient().closed).toBe(0);
    expect(ownedClient().subscriptions).toHaveLength(1);
    act(() => ownedClient().deliver('/ticks', 42));
    expect(screen.getByTestId('ticker').textContent).toBe('client:42');
  });

  it('closes the client it created once, after unmount', async () => {
    const { unmount } = render(
      <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
        <Ticker />
      </PushProvider>,
    );
    unmount();
    expect(ownedClient().closed).toBe(0);
    await nextMacrotask();
    expect(ownedClient().closed).toBe(1);
    expect(ownedClient().subscriptions[0]!.unsubscribed).toBe(1);
  });

  it('keeps the same client when re-rendered with new inline options', async () => {
    const { rerender } = render(
      <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
        <Ticker />
      </PushProvider>,
    );
    rerender(
      <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
        <Ticker />
      </PushProvider>,
    );
    await act(nextMacrotask);
    expect(created).toHaveLength(1);
    expect(ownedClient().closed).toBe(0);
  });
});

describe('usePublish before a provider-owned client exists', () => {
  it('rejects with an error that says why', async () => {
    const publishers: ((channel: string, data: unknown) => Promise<unknown>)[] = [];
    function Probe() {
      publishers.push(usePublish());
      return null;
    }
    render(
      <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
        <Probe />
      </PushProvider>,
    );
    expect(publishers.length).toBeGreaterThanOrEqual(2);
    await expect(publishers[0]!('/chat', 'hi')).rejects.toThrow(/has not created its client/);
    await publishers.at(-1)!('/chat', 'hi');
    expect(ownedClient().published).toEqual([{ channel: '/chat', data: 'hi' }]);
  });
});

describe('PushProvider with a client', () => {
  it('never closes a client it was given', async () => {
    const client = new FakeClient();
    const { unmount } = render(
      <PushProvider client={client}>
        <Ticker />
      </PushProvider>,
    );
    expect(screen.getByTestId('ticker').textContent).toBe('client:-');
    unmount();
    await nextMacrotask();
    expect(client.closed).toBe(0);
    expect(created).toHaveLength(0);
  });

  it('publishes through the client with usePublish', async () => {
    const client = new FakeClient();
    const { result } = renderHook(() => usePublish<{ text: string }>(), {
      wrapper: ({ children }) => <PushProvider client={client}>{children}</PushProvider>,
    });
    await result.current('/chat/lobby', { text: 'hi' });
    expect(client.published).toEqual([{ channel: '/chat/lobby', data: { text: 'hi' } }]);
  });
});

describe('a hook without a provider', () => {
  const hooks = {
    usePush: () => usePush(),
    useChannel: () => useChannel('/x'),
    usePresence: () => usePresence('/x'),
    useConnectionState: () => useConnectionState(),
    usePublish: () => usePublish(),
  };
  for (const [name, hook] of Object.entries(hooks)) {
    it(`${name} throws an error that names the fix`, () => {
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
      expect(() => renderHook(hook as () => unknown)).toThrow(
        new RegExp(`${name}\\(\\) must be used inside <PushProvider>\\. Wrap your app`),
      );
      quiet.mockRestore();
    });
  }
});

describe('sharing', () => {
  it('passes share through to the share entry, which decides per option', () => {
    render(
      <PushProvider options={{ url: 'http://localhost/push', share: true }}>
        <span>shared</span>
      </PushProvider>,
    );
    expect(created.at(-1)?.options).toMatchObject({ share: true });
  });
});
