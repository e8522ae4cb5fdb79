/**
 * Shared by long-polling and callback-polling: run a batch, then answer at once (with piggybacked
 * messages) or hold the response for a `/meta/connect`. A batch for a session that lives on
 * another server process is relayed there (shared sessions, see relay.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors, type ConnectionType, type Message } from '@push/protocol';
import type { BatchContext } from '../bayeux/context.js';
import { processBatch } from '../bayeux/dispatch.js';
import { refusalJson } from '../bayeux/refusals.js';
import type { Delivery } from '../delivery.js';
import type { Engine } from '../engine.js';
import { sendJson } from '../http/body.js';
import type { ConnectResponder } from '../session.js';

/** Writes the final response of a request from replies and deliveries. */
export type HttpAnswer = (replies: readonly Message[], deliveries: readonly Delivery[]) => void;

/**
 * Processes `messages`, which arrived on `req` over `transport`, and answers through `answer`,
 * holding a connect when the batch asks for it.
 */
export async function answerBatch(
  engine: Engine,
  req: IncomingMessage,
  transport: ConnectionType,
  messages: Message[],
  res: ServerResponse,
  unguarded: HttpAnswer,
): Promise<void> {
  const request = { headers: req.headers, remoteAddress: req.socket.remoteAddress, transport };
  const ctx: BatchContext = { engine, transport, request, source: engine.options.sourceOf(request) };
  const answer = guardAnswer(res, unguarded);
  const relay = ctx.engine.relay;
  const owner = relay ? await relay.ownerOfBatch(messages) : undefined;
  if (relay && owner !== undefined) {
    relay.forwardBatch(owner, ctx.transport, messages, res, answer);
    return;
  }
  // A client gone before its connect is held must not have messages answered into the void.
  let gone = false;
  let held: HeldBatch | undefined;
  res.on('close', () => {
    if (res.writableEnded) return;
    gone = true;
    held?.cancel();
  });
  held = await runBatch(ctx, messages, answer);
  if (gone) held?.cancel();
}

/**
 * An answer that cannot leave its request hanging: when writing it throws, the client gets a
 * `500` (or its connection is cut if the head went out), and the error goes on to the caller,
 * which ends that client's session (see Engine.fault).
 */
function guardAnswer(res: ServerResponse, answer: HttpAnswer): HttpAnswer {
  return (replies, deliveries) => {
    try {
      answer(replies, deliveries);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, refusalJson(bayeuxErrors.serverError()));
      throw error;
    }
  };
}

/** A connect held by {@link runBatch}: how long at most, and how to forget it. */
export interface HeldBatch {
  timeout: number;
  /** Forgets the held connect (its request went away). */
  cancel(): void;
}

/**
 * Processes `messages` on this node and answers through `answer`, at once or when the held connect
 * is released (then it returns the {@link HeldBatch}).
 */
export async function runBatch(
  ctx: BatchContext,
  messages: readonly Message[],
  answer: HttpAnswer,
): Promise<HeldBatch | undefined> {
  const result = await processBatch(ctx, messages);
  for (const task of result.after) task();
  const hold = result.hold;
  if (!hold || hold.session.closed) {
    const piggyback = result.session && !result.session.closed ? result.session.takePiggyback() : [];
    answer(result.replies, [...result.deliveries, ...piggyback]);
    return undefined;
  }
  const respond: ConnectResponder = {
    answerConnect: (replies, deliveries) =>
      answer([...result.replies, ...replies], [...result.deliveries, ...deliveries]),
  };
  hold.session.hold(hold.reply, respond, hold.timeout);
  return { timeout: hold.timeout, cancel: () => hold.session.dropHeld(respond) };
}
