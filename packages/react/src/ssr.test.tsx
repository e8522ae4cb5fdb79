// Server rendering: no DOM here (vitest's node environment), like a real SSR process.

import { FakeClient } from '@push/test-kit/react-client';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { PushProvider } from './provider.js';
import { useChannel } from './use-channel.js';
import { usePresence } from './use-presence.js';
import { useConnectionState, usePush } from './use-push.js';

const createClient = vi.hoisted(() => vi.fn());
vi.mock('@push/client/share', () => ({ createClient }));

function Page() {
  const { client, transport } = usePush();
  const state = useConnectionState();
  const { status, data } = useChannel<number>('/ticks', () => {});
  const { members } = usePresence('/lobby', { name: 'Ada' });
  return (
    <main>
      {`${client ? 'client' : 'none'}|${state}|${transport ?? '-'}|${status}|${data ?? '-'}|${members.length}`}
    </main>
  );
}

describe('server rendering', () => {
  it('runs without window or document', () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
  });

  it('renders with options without creating (or connecting) a client', () => {
    const html = renderToString(
      <PushProvider options={{ url: 'http://127.0.0.1:1/push' }}>
        <Page />
      </PushProvider>,
    );
    expect(html).toBe('<main>none|idle|-|idle|-|0</main>');
    expect(createClient).not.toHaveBeenCalled();
  });

  it('renders with a given client without subscribing, entering presence or listening', () => {
    const client = new FakeClient();
    const html = renderToString(
      <PushProvider client={client}>
        <Page />
      </PushProvider>,
    );
    expect(html).toBe('<main>client|idle|-|idle|-|0</main>');
    expect(client.subscriptions).toHaveLength(0);
    expect(client.presences).toHaveLength(0);
    expect(client.listenerCount('state')).toBe(0);
    expect(client.listenerCount('transport')).toBe(0);
  });
});
