// Type tests of the typed hooks and the provider props. Nothing here runs: `tsc -p
// packages/react/tsconfig.json` (the package's `typecheck`) compiles it, and a wrong type, or an
// `@ts-expect-error` line that no longer errors, fails that build. The hooks are called inside
// components (never rendered), as the rules of hooks want.
import type { PushClient } from '@push/client';
import type { FakeClient } from '@push/test-kit/react-client';
import { expectTypeOf } from 'vitest';
import type { ChannelMessage, PresenceMember } from './context.js';
import { PushProvider } from './provider.js';
import { type Chat, type Quote, useChannel, usePresence, usePublish } from './typed-channels.test-helpers.js';
import { useChannel as untypedUseChannel } from './use-channel.js';
import { usePush } from './use-push.js';

/** Payloads are typed by channel name; unknown channels and wrong payloads are refused. */
export function TypedHooks(): null {
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
  return null;
}

declare const client: FakeClient;

/** Provider props: a client or options (createClient's), exactly one. */
export function ProviderProps(): null {
  expectTypeOf(usePush().client).toEqualTypeOf<PushClient | null>();
  void (<PushProvider client={client} />);
  void (<PushProvider options={{ url: 'https://example.com/push', autoConnect: false }} />);
  // @ts-expect-error: a client or options, not both
  void (<PushProvider client={client} options={{ url: 'https://example.com/push' }} />);
  // @ts-expect-error: one of them is required
  void (<PushProvider />);
  // @ts-expect-error: options are createClient's (url is required)
  void (<PushProvider options={{ transports: ['websocket'] }} />);
  return null;
}
