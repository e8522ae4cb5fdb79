/**
 * The JSON batch framing of the websocket and long-polling transports: one JSON array of
 * messages per frame or request body. A single message object is accepted and wrapped, as Bayeux allows.
 */
import { bayeuxErrors, ProtocolError } from '../errors.js';
import type { Message } from '../messages.js';

/** Serializes messages as one batch. */
export function encodeBatch(messages: readonly Message[]): string {
  return JSON.stringify(messages);
}

export interface DecodeBatchOptions {
  /** Largest accepted input in UTF-16 code units (a cheap upper bound on bytes / 1); default 1 MiB. */
  maxLength?: number;
}

/**
 * Parses and shape-checks a batch. Throws {@link ProtocolError} (with the Bayeux error to send
 * back in `bayeux`) on malformed JSON, a non-array body, or an element without a string `channel`.
 * @example decodeBatch('[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"]}]')
 */
export function decodeBatch(text: string, options: DecodeBatchOptions = {}): Message[] {
  const maxLength = options.maxLength ?? 1024 * 1024;
  if (text.length > maxLength) {
    throw new ProtocolError(
      'too-large',
      `Batch of ${text.length} characters exceeds ${maxLength}`,
      bayeuxErrors.tooLarge(maxLength),
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProtocolError('malformed-json', 'Body is not valid JSON');
  }
  return validateBatch(parsed);
}

/** Shape-checks an already parsed value as a batch (see {@link decodeBatch}). */
export function validateBatch(parsed: unknown): Message[] {
  const list = Array.isArray(parsed) ? parsed : isPlainObject(parsed) ? [parsed] : undefined;
  if (!list) throw new ProtocolError('not-a-batch', 'Body must be a JSON array of Bayeux messages');
  if (list.length === 0) throw new ProtocolError('not-a-batch', 'Batch is empty');
  // An index loop: entries() would allocate an iterator and a pair per message on the hot path.
  for (let index = 0; index < list.length; index++) {
    const item: unknown = list[index];
    if (!isPlainObject(item)) {
      throw new ProtocolError('invalid-message', `Message ${index} is not an object`);
    }
    if (typeof item.channel !== 'string') {
      throw new ProtocolError('invalid-message', `Message ${index} has no string "channel"`);
    }
  }
  return list as Message[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
