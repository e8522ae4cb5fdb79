/**
 * `/meta/subscribe`: adds the pattern. With `ext.push.resume` it replays what each channel missed
 * (or reports `recovered: false` when the window or the epoch was lost); a plain subscribe to a
 * concrete channel reports the channel's current position, as `@push/server` does.
 */
import type { Message, Reply } from '@push/protocol';
import type { FakeServer } from './index.js';
import type { HandlerContext } from './session.js';

export function subscribe(
  server: FakeServer,
  message: Message,
  { base, session }: HandlerContext,
): Message[] {
  const pattern = String((message as { subscription: string }).subscription);
  session.subs.add(pattern);
  const reply: Reply = { ...base, successful: true, subscription: pattern };
  const resume = message.ext?.push?.resume;
  if (resume) {
    let recovered = true;
    const missed: Message[] = [];
    const positions: Record<string, { offset: number; epoch: string }> = {};
    for (const [channel, position] of Object.entries(resume)) {
      const list = server.history.get(channel) ?? [];
      positions[channel] = { offset: list.length, epoch: server.epoch };
      const first = Math.max(0, list.length - server.window);
      if (position.epoch !== server.epoch || position.offset < first) recovered = false;
      else missed.push(...list.slice(position.offset));
    }
    reply.ext = { push: { recovered, positions } };
    if (recovered) server.enqueue(session, missed);
    return [reply];
  }
  if (!pattern.includes('*')) {
    const offset = server.history.get(pattern)?.length ?? 0;
    reply.ext = { push: { positions: { [pattern]: { offset, epoch: server.epoch } } } };
  }
  return [reply];
}
