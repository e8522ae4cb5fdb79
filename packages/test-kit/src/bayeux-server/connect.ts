/**
 * `/meta/connect`: answered at once when messages wait (or the client asks for no hold), else held
 * until messages arrive or the hold times out on the server's clock. A new connect answers the
 * held one first. Every answer carries the `ack` extension's batch number.
 */
import type { Message, Reply } from '@push/protocol';
import type { FakeServer } from './index.js';
import type { HandlerContext } from './session.js';

export function connect(
  server: FakeServer,
  message: Message,
  { base, session, respond }: HandlerContext,
): Message[] {
  const override = server.connectOverride?.(message);
  if (override) return [override];
  const reply: Reply = { ...base, successful: true, advice: server.advice };
  if (session.held) {
    const old = session.held;
    session.held = undefined;
    server.clock.clearTimeout(old.timer);
    old.respond([server.ackReply(session, old.reply)]);
  }
  const hold = message.advice?.timeout ?? server.advice.timeout;
  if (session.queue.length || hold === 0)
    return [...session.queue.splice(0), server.ackReply(session, reply)];
  const timer = server.clock.setTimeout(() => {
    if (session.held?.reply !== reply) return;
    session.held = undefined;
    respond([server.ackReply(session, reply)]);
  }, hold);
  session.held = { reply, respond, timer };
  return [];
}
