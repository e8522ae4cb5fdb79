/** The one decode path of every transport: text in, a checked Bayeux batch (or the refusal) out. */
import { bayeuxErrors, decodeBatch, type Message, ProtocolError } from '@push/protocol';
import type { Engine } from '../engine.js';

/**
 * Decodes an inbound batch under the server's limits (bytes, nesting depth, messages per batch,
 * Bayeux field types). Bad input is counted as one inbound message and returned as the
 * {@link ProtocolError} whose `bayeux` string the transport sends back; anything else throws.
 * @example
 * const batch = readBatch(engine, text);
 * if (batch instanceof ProtocolError) return connection.sendError(batch.bayeux);
 */
export function readBatch(engine: Engine, text: string): Message[] | ProtocolError {
  const { maxMessageBytes, maxDepth, maxBatchMessages } = engine.options.limits;
  try {
    if (text.length > maxMessageBytes || Buffer.byteLength(text) > maxMessageBytes) {
      throw new ProtocolError('too-large', 'batch too large', bayeuxErrors.tooLarge(maxMessageBytes));
    }
    return decodeBatch(text, { maxLength: maxMessageBytes, maxDepth, maxMessages: maxBatchMessages });
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    countUnreadable(engine, error);
    return error;
  }
}

/**
 * Counts input that never became a batch (here, or a body refused before it was read whole): one
 * inbound message, refused for the error's code.
 */
export function countUnreadable(engine: Engine, error: ProtocolError): void {
  engine.metrics.messagesIn++;
  engine.metrics.refused(error.code);
}
