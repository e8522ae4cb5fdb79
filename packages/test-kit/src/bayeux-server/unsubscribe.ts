/** `/meta/unsubscribe`: drops the pattern. */
import type { Message } from '@push/protocol';
import type { FakeServer } from './index.js';
import type { HandlerContext } from './session.js';

export function unsubscribe(
  _server: FakeServer,
  message: Message,
  { base, session }: HandlerContext,
): Message[] {
  session.subs.delete(String((message as { subscription: string }).subscription));
  return [{ ...base, successful: true }];
}
