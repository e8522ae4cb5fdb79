// @vitest-environment happy-dom
// The typed hooks at run time: they are the real hooks. Their types are tested in
// typed.test-d.tsx, which the package's `typecheck` compiles.

import { FakeClient } from '@push/test-kit/react-client';
import { act, cleanup, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { PushProvider } from './provider.js';
import { createPushHooks } from './typed.js';
import { type Channels, useChannel, usePresence, usePublish } from './typed-channels.test-helpers.js';
import { useChannel as untypedUseChannel } from './use-channel.js';
import { usePresence as untypedUsePresence } from './use-presence.js';

afterEach(cleanup);

describe('createPushHooks', () => {
  it('returns the same hooks at run time, delivering typed payloads', () => {
    const client = new FakeClient();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <PushProvider client={client}>{children}</PushProvider>
    );
    const { result } = renderHook(() => useChannel('/stocks/aex'), { wrapper });
    act(() => client.deliver('/stocks/aex', { symbol: 'AEX', price: 901.5 }));
    expect(result.current.data).toEqual({ symbol: 'AEX', price: 901.5 });
    expect(createPushHooks<Channels>().useChannel).toBe(untypedUseChannel);
    expect(usePresence).toBe(untypedUsePresence);
    const publish = renderHook(() => usePublish(), { wrapper }).result.current;
    void publish('/chat/lobby', { user: 'ada', text: 'hi' });
    expect(client.published).toEqual([{ channel: '/chat/lobby', data: { user: 'ada', text: 'hi' } }]);
  });
});
