// @vitest-environment happy-dom
import { act, cleanup, render } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { PushProvider } from './provider.js';
import { usePush } from './use-push.js';

afterEach(cleanup);

it('options.share gives the provider a client from @push/client/share (one connection for all tabs)', async () => {
  let seen: unknown;
  function Probe() {
    seen = usePush().client;
    return null;
  }
  render(
    <PushProvider
      options={{ url: 'http://127.0.0.1:9/push', autoConnect: false, share: { key: 'react-test' } }}
    >
      <Probe />
    </PushProvider>,
  );
  await act(async () => {});
  // A shared client carries `sharing` (undefined until a leader has spoken); the core one has none.
  expect(seen).toBeTruthy();
  expect('sharing' in (seen as object)).toBe(true);
  await act(async () => {
    await (seen as { close(): Promise<void> }).close();
  });
});
