// @vitest-environment happy-dom

import { FakeClient, nextMacrotask } from '@push/test-kit/react-client';
import { act, cleanup, render, screen } from '@testing-library/react';
import { type ReactNode, StrictMode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ChannelSnapshot, channelRegistry } from './channel-store.js';
import { PushProvider } from './provider.js';
import { type ChannelHandler, useChannel } from './use-channel.js';

afterEach(cleanup);

function Price(props: { channel: string; onMessage?: ChannelHandler<{ price: number }> }) {
  const { data, status } = useChannel<{ price: number }>(props.channel, props.onMessage);
  return <p data-testid="price">{`${status}:${data?.price ?? '-'}`}</p>;
}

function renderWith(client: FakeClient, ui: ReactNode, strict = false) {
  const tree = <PushProvider client={client}>{ui}</PushProvider>;
  return render(strict ? <StrictMode>{tree}</StrictMode> : tree);
}

const text = () => screen.getByTestId('price').textContent;

describe('useChannel', () => {
  it('subscribes on mount and shows status, then the latest message', async () => {
    const client = new FakeClient();
    renderWith(client, <Price channel="/stocks/aex" />);
    expect(client.active('/stocks/aex')).toHaveLength(1);
    expect(text()).toBe('subscribing:-');
    await act(async () => client.subscriptions[0]!.confirm());
    expect(text()).toBe('subscribed:-');
    act(() => client.deliver('/stocks/aex', { price: 12.5 }));
    expect(text()).toBe('subscribed:12.5');
    act(() => client.deliver('/stocks/aex', { price: 13 }));
    expect(text()).toBe('subscribed:13');
  });

  it('exposes recovered: false when a resume could not recover missed messages, true after one that could', async () => {
    const client = new FakeClient();
    function Feed() {
      const { recovered } = useChannel('/feed');
      return <p data-testid="price">{recovered ? 'complete' : 'gap: reload'}</p>;
    }
    renderWith(client, <Feed />);
    await act(async () => client.subscriptions[0]!.confirm());
    expect(text()).toBe('complete');
    act(() => client.recover('/other', false));
    expect(text()).toBe('complete'); // another channel's gap is not ours
    act(() => client.recover('/feed', false));
    expect(text()).toBe('gap: reload');
    act(() => client.recover('/feed', true));
    expect(text()).toBe('complete');
  });

  it('reports a refused subscription as status error with the reason', async () => {
    const client = new FakeClient();
    let last: ChannelSnapshot | undefined;
    function Probe() {
      last = useChannel('/secret');
      return null;
    }
    renderWith(client, <Probe />);
    await act(async () => client.subscriptions[0]!.fail(new Error('403::Forbidden')));
    expect(last?.status).toBe('error');
    expect(last?.error?.message).toBe('403::Forbidden');
  });

  it('reports an invalid channel name as status error instead of throwing', () => {
    const client = new FakeClient();
    client.subscribe = () => {
      throw new Error('Invalid channel: no-slash');
    };
    let last: ChannelSnapshot | undefined;
    function Probe() {
      last = useChannel('no-slash');
      return null;
    }
    renderWith(client, <Probe />);
    expect(last?.status).toBe('error');
    expect(last?.error?.message).toBe('Invalid channel: no-slash');
  });

  it('does not resubscribe when an inline handler changes, and calls the newest one', () => {
    const client = new FakeClient();
    const calls: string[] = [];
    // Not even a listener churn inside the shared registry: the hook listens exactly once.
    const listen = vi.spyOn(channelRegistry(client), 'listen');
    const view = (n: number) => (
      <Price channel="/stocks/aex" onMessage={(d) => calls.push(`v${n}:${d.price}`)} />
    );
    const { rerender } = renderWith(client, view(1));
    for (let n = 2; n <= 5; n++) rerender(<PushProvider client={client}>{view(n)}</PushProvider>);
    act(() => client.deliver('/stocks/aex', { price: 7 }));
    expect(client.subscriptions).toHaveLength(1);
    expect(client.subscriptions[0]!.unsubscribed).toBe(0);
    expect(calls).toEqual(['v5:7']);
    expect(listen).toHaveBeenCalledTimes(1);
  });

  it('passes the whole message to the handler', () => {
    const client = new FakeClient();
    const handler = vi.fn();
    renderWith(client, <Price channel="/stocks/aex" onMessage={handler} />);
    act(() => client.deliver('/stocks/aex', { price: 1 }));
    expect(handler).toHaveBeenCalledExactlyOnceWith(
      { price: 1 },
      { channel: '/stocks/aex', data: { price: 1 } },
    );
  });

  it('resubscribes exactly once when the channel changes', async () => {
    const client = new FakeClient();
    const { rerender } = renderWith(client, <Price channel="/stocks/aex" />);
    rerender(
      <PushProvider client={client}>
        <Price channel="/stocks/dax" />
      </PushProvider>,
    );
    await act(nextMacrotask);
    expect(client.subscriptions.map((s) => [s.channel, s.unsubscribed])).toEqual([
      ['/stocks/aex', 1],
      ['/stocks/dax', 0],
    ]);
    act(() => client.deliver('/stocks/dax', { price: 3 }));
    expect(text()).toBe('subscribing:3');
  });

  it('makes one subscription under StrictMode and keeps it after the double mount', async () => {
    const client = new FakeClient();
    renderWith(client, <Price channel="/stocks/aex" />, true);
    await act(nextMacrotask);
    expect(client.subscriptions).toHaveLength(1);
    expect(client.subscriptions[0]!.unsubscribed).toBe(0);
    act(() => client.deliver('/stocks/aex', { price: 9 }));
    expect(text()).toBe('subscribing:9');
  });

  it('shares one subscription between components and releases it after the last unmounts', async () => {
    const client = new FakeClient();
    const Two = (p: { second: boolean }) => (
      <PushProvider client={client}>
        <Price channel="/chat" />
        {p.second ? <Price channel="/chat" /> : null}
      </PushProvider>
    );
    const { rerender, unmount } = render(<Two second />);
    expect(client.subscriptions).toHaveLength(1);
    rerender(<Two second={false} />);
    await act(nextMacrotask);
    expect(client.subscriptions[0]!.unsubscribed).toBe(0);
    unmount();
    expect(client.subscriptions[0]!.unsubscribed).toBe(0); // deferred to a later macrotask
    await nextMacrotask();
    expect(client.subscriptions[0]!.unsubscribed).toBe(1);
    expect(client.subscriptions).toHaveLength(1);
  });

  it('returns the same snapshot object until something changes', () => {
    const client = new FakeClient();
    const seen: ChannelSnapshot[] = [];
    function Probe(_: { n: number }) {
      seen.push(useChannel('/news'));
      return null;
    }
    const { rerender } = renderWith(client, <Probe n={1} />);
    rerender(
      <PushProvider client={client}>
        <Probe n={2} />
      </PushProvider>,
    );
    const before = seen.length;
    expect(seen.at(-1)).toBe(seen.at(-2));
    act(() => client.deliver('/news', 'x'));
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)).not.toBe(seen.at(-2));
    expect(seen.at(-1)?.data).toBe('x');
  });
});
