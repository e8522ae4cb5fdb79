/** `/meta/disconnect`: ends the session (its held connect is answered, presence left). */
import type { DisconnectRequest } from '@push/protocol';
import { type BatchContext, type BatchResult, replyTo, sessionFor } from './context.js';

export function handleDisconnect(ctx: BatchContext, message: DisconnectRequest, result: BatchResult): void {
  const session = sessionFor(ctx, message, result);
  if (!session) return;
  result.replies.push(replyTo(message, true));
  // After the reply is on its way: ending the session closes its WebSocket.
  result.after.push(() => ctx.engine.endSession(session, 'disconnect'));
}
