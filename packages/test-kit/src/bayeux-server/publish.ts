/** Any other channel is a publish: acknowledged, then fanned out. Channels under `/forbidden` are refused with 403. */
import type { Message } from '@push/protocol';
import type { FakeServer } from './index.js';
import type { HandlerContext } from './session.js';

export function publish(server: FakeServer, message: Message, { base }: HandlerContext): Message[] {
  if (message.channel.startsWith('/forbidden'))
    return [{ ...base, successful: false, error: `403:${message.channel}:Forbidden` }];
  server.publish(message.channel, (message as { data: unknown }).data, message.id);
  return [{ ...base, successful: true }];
}
