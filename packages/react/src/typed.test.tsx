// @vitest-environment happy-dom
// Type tests run under `tsc --noEmit` (expectTypeOf and @ts-expect-error lines); the runtime part
// checks that the typed hooks are the real ones.

import type { PushClient } from '@push/client';
import { act, cleanup, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { ChannelMessage, PresenceMember } from './context.js';
import { PushProvider } from './provider.js';
import { FakeClient } from './testing/fake-client.js';
import { createPushHooks } from './typed.js';
import { useChannel as untypedUseChannel } from './use-channel.js';
import { usePush } from './use-push.js';

afterEach(cleanup);

interface Quote {
  symbol: string;
  price: number;
}
interface Chat {
  user: string;
  text: string;
}
interface Channels {
  '/chat/lobby': Chat;
  [channel: `/stocks/${string}`]: Quote;
}

const { useChannel, usePresence, usePublish } = createPushHooks<Channels>();

function typeOnly(run: () => void): void {
  // Only for the type checker: the body is never called.
  void run;
}

describe('createPushHooks', () => {
  it('types payloads by channel name and rejects unknown channels and wrong payloads', () => {
    typeOnly(() => {
      const aex = useChannel('/stocks/aex', (data, message) => {
        expectTypeOf(data).toEqualTypeOf<Quote>();
        expectTypeOf(message).toEqualTypeOf<ChannelMessage<Quote>>();
      });
      expectTypeOf(aex.data).toEqualTypeOf<Quote | undefined>();
      expectTypeOf(useChannel('/chat/lobby').data).toEqualTypeOf<Chat | undefined>();
      // @ts-expect-error: '/weather' is not in the channel map
      useChannel('/weather');
      // @ts-expect-error: a chat handler cannot take a quote
      useChannel('/chat/lobby', (data: Quote) => data);
      const publish = usePublish();
      void publish('/chat/lobby', { user: 'ada', text: 'hi' });
      // @ts-expect-error: a quote is not a chat message
      void publish('/chat/lobby', { symbol: 'AEX', price: 1 });
      const { members } = usePresence<{ name: string }>('/chat/lobby', { name: 'Ada' });
      expectTypeOf(members).toEqualTypeOf<readonly PresenceMember<{ name: string }>[]>();
      // @ts-expect-error: presence data must match the declared member type
      usePresence<{ name: string }>('/chat/lobby', { name: 1 });
      // The untyped hook takes any channel, with an `unknown` payload unless told otherwise.
      expectTypeOf(untypedUseChannel('/anything').data).toEqualTypeOf<unknown>();
      expectTypeOf(untypedUseChannel<number>('/n').data).toEqualTypeOf<number | undefined>();
    });
  });

  it('types the provider props and usePush', () => {
    typeOnly(() => {
      const client = new FakeClient();
      expectTypeOf(usePush().client).toEqualTypeOf<PushClient | null>();
      void (<PushProvider client={client} />);
      void (<PushProvider options={{ url: 'https://example.com/push', autoConnect: false }} />);
      // @ts-expect-error: a client or options, not both
      void (<PushProvider client={client} options={{ url: 'https://example.com/push' }} />);
      // @ts-expect-error: one of them is required
      void (<PushProvider />);
      // @ts-expect-error: options are createClient's (url is required)
      void (<PushProvider options={{ transports: ['websocket'] }} />);
    });
  });

  it('returns the same hooks at run time, delivering typed payloads', () => {
    const client = new FakeClient();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <PushProvider client={client}>{children}</PushProvider>
    );
    const { result } = renderHook(() => useChannel('/stocks/aex'), { wrapper });
    act(() => client.deliver('/stocks/aex', { symbol: 'AEX', price: 901.5 }));
    expect(result.current.data).toEqual({ symbol: 'AEX', price: 901.5 });
    expect(createPushHooks<Channels>().useChannel).toBe(untypedUseChannel);
  });
});
