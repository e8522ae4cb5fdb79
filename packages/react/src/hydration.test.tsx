// @vitest-environment happy-dom

import type { FakeClient } from '@push/test-kit/react-client';
import { act } from '@testing-library/react';
import type { ReactNode } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PushProvider } from './provider.js';
import { useChannel } from './use-channel.js';
import { useConnectionState } from './use-push.js';

const created = vi.hoisted(() => [] as FakeClient[]);
vi.mock('@push/client/share', async () => {
  const { FakeClient } = await import('@push/test-kit/react-client');
  return {
    createClient: () => {
      const client = new FakeClient();
      created.push(client);
      return client;
    },
  };
});

function App() {
  const state = useConnectionState();
  const { data } = useChannel<string>('/news');
  return (
    <PushStatus>
      {state}:{data ?? '-'}
    </PushStatus>
  );
}

function PushStatus(props: { children: ReactNode }) {
  return <p id="status">{props.children}</p>;
}

const tree = (
  <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
    <App />
  </PushProvider>
);

afterEach(() => {
  document.body.innerHTML = '';
});

describe('hydration', () => {
  it('hydrates the server HTML without a mismatch, then creates the client and subscribes', async () => {
    const html = renderToString(tree);
    expect(created).toHaveLength(0);
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.append(container);
    const errors: unknown[] = [];
    const root = await act(async () =>
      hydrateRoot(container, tree, { onRecoverableError: (e) => errors.push(e) }),
    );
    expect(errors).toEqual([]);
    expect(created).toHaveLength(1);
    const client = created[0]!;
    expect(client.subscriptions.map((s) => s.channel)).toEqual(['/news']);
    expect(container.textContent).toBe('connecting:-');
    act(() => client.deliver('/news', 'hello'));
    expect(container.textContent).toBe('connecting:hello');
    act(() => root.unmount());
  });
});
