/** `/meta/disconnect`: ends the session. */
import type { Message } from '@push/protocol';
import type { FakeServer } from './index.js';
import type { HandlerContext } from './session.js';

export function disconnect(
  server: FakeServer,
  _message: Message,
  { base, session }: HandlerContext,
): Message[] {
  server.forget(session.id);
  return [{ ...base, successful: true }];
}
