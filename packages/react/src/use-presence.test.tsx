// @vitest-environment happy-dom

import { FakeClient, nextMacrotask } from '@push/test-kit/react-client';
import { act, cleanup, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { PushProvider } from './provider.js';
import { usePresence } from './use-presence.js';

afterEach(cleanup);

interface Who {
  name: string;
}

function Lobby(props: { name?: string; enter?: boolean }) {
  const { members, status } = usePresence<Who>('/chat/lobby', props.name ? { name: props.name } : undefined, {
    enter: props.enter ?? true,
  });
  return <p data-testid="lobby">{`${status}:${members.map((m) => m.data?.name ?? m.clientId).join(',')}`}</p>;
}

const text = () => screen.getByTestId('lobby').textContent;

describe('usePresence', () => {
  it('enters on mount, loads members, follows join and leave, and leaves on unmount', async () => {
    const client = new FakeClient();
    client.members = [{ clientId: 'b', data: { name: 'Bob' } }];
    const { unmount } = render(
      <PushProvider client={client}>
        <Lobby name="Ada" />
      </PushProvider>,
    );
    expect(client.presences).toHaveLength(1);
    expect(client.presences[0]!.entered).toEqual([{ name: 'Ada' }]);
    await act(nextMacrotask);
    expect(text()).toBe('ready:Bob');
    const presence = client.presences[0]!;
    act(() => presence.emit('join', { clientId: 'a', data: { name: 'Ada' } }));
    expect(text()).toBe('ready:Bob,Ada');
    act(() => presence.emit('leave', { clientId: 'b' }));
    expect(text()).toBe('ready:Ada');
    unmount();
    expect(presence.left).toBe(0);
    await nextMacrotask();
    expect(presence.left).toBe(1);
    expect(presence.closed).toBe(1); // the presence channel is unsubscribed on the wire too
    expect(presence.listenerCount()).toBe(0);
  });

  it('enters once and never leaves across the StrictMode double mount', async () => {
    const client = new FakeClient();
    render(
      <StrictMode>
        <PushProvider client={client}>
          <Lobby name="Ada" />
        </PushProvider>
      </StrictMode>,
    );
    await act(nextMacrotask);
    expect(client.presences).toHaveLength(1);
    expect(client.presences[0]!.entered).toEqual([{ name: 'Ada' }]);
    expect(client.presences[0]!.left).toBe(0);
  });

  it('only watches when enter is false', async () => {
    const client = new FakeClient();
    client.members = [{ clientId: 'b', data: { name: 'Bob' } }];
    const { unmount } = render(
      <PushProvider client={client}>
        <Lobby enter={false} />
      </PushProvider>,
    );
    await act(nextMacrotask);
    expect(text()).toBe('ready:Bob');
    unmount();
    await nextMacrotask();
    expect(client.presences[0]!.entered).toEqual([]);
    expect(client.presences[0]!.left).toBe(0);
  });

  it('re-enters with new data without leaving when the data changes', async () => {
    const client = new FakeClient();
    const { rerender } = render(
      <PushProvider client={client}>
        <Lobby name="Ada" />
      </PushProvider>,
    );
    rerender(
      <PushProvider client={client}>
        <Lobby name="Ada" />
      </PushProvider>,
    );
    rerender(
      <PushProvider client={client}>
        <Lobby name="Ada L." />
      </PushProvider>,
    );
    await act(nextMacrotask);
    const presence = client.presences[0]!;
    expect(presence.entered).toEqual([{ name: 'Ada' }, { name: 'Ada L.' }]);
    expect(presence.left).toBe(0);
  });

  it('keeps a member that joined while the member list was loading', async () => {
    const client = new FakeClient();
    client.members = [{ clientId: 'b', data: { name: 'Bob' } }];
    render(
      <PushProvider client={client}>
        <Lobby enter={false} />
      </PushProvider>,
    );
    act(() => client.presences[0]!.emit('join', { clientId: 'c', data: { name: 'Cy' } }));
    expect(text()).toBe('loading:Cy');
    await act(nextMacrotask);
    expect(text()).toBe('ready:Cy,Bob');
  });
});
