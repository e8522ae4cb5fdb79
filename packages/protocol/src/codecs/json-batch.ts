/**
 * The JSON batch framing of the websocket and long-polling transports: one JSON array of
 * messages per frame or request body. A single message object is accepted and wrapped, as Bayeux allows.
 *
 * Decoding is the first line of defence of every server ingress: a batch that passes
 * {@link decodeBatch} has bounded nesting (so serializing anything derived from it cannot overflow
 * the stack), a bounded number of messages, and Bayeux fields of the spec's types and bounded
 * length (so a reply that echoes them stays small).
 */
import { bayeuxErrors, ProtocolError } from '../errors.js';
import type { Message } from '../messages.js';

/** Serializes messages as one batch. */
export function encodeBatch(messages: readonly Message[]): string {
  return JSON.stringify(messages);
}

/** Bounds applied by {@link decodeBatch} and {@link validateBatch}, with their defaults. */
export const BATCH_LIMITS = {
  /** Largest input in UTF-16 code units. */
  maxLength: 1_048_576, // 1 MiB, a literal: `1024 * 1024` kept this table in client bundles (not provably pure)
  /** Deepest nesting of arrays and objects, the batch array itself counting as 1. */
  maxDepth: 64,
  /** Most messages in one batch. */
  maxMessages: 1_000,
  /** Longest `channel`, `clientId`, `connectionType`, `version` or `subscription` entry. */
  maxFieldLength: 1_024,
  /** Longest string `id`. */
  maxIdLength: 256,
  /** Most entries of `supportedConnectionTypes` or of a `subscription` list. */
  maxListLength: 1_000,
} as const;

export interface DecodeBatchOptions {
  /** Largest accepted input in UTF-16 code units (a cheap upper bound on bytes / 1); default 1 MiB. */
  maxLength?: number;
  /** Deepest nesting of arrays/objects (the batch array is level 1). @defaultValue 64 */
  maxDepth?: number;
  /** Most messages in one batch. @defaultValue 1000 */
  maxMessages?: number;
}

/**
 * Parses and checks a batch. Throws {@link ProtocolError} (with the Bayeux error to send back in
 * `bayeux`) on oversize or too deeply nested input, malformed JSON, a non-array body, too many
 * messages, or a message whose Bayeux fields are not of the spec's types (see {@link validateBatch}).
 * @example decodeBatch('[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"]}]')
 */
export function decodeBatch(text: string, options: DecodeBatchOptions = {}): Message[] {
  const maxLength = options.maxLength ?? BATCH_LIMITS.maxLength;
  if (text.length > maxLength) {
    throw new ProtocolError(
      'too-large',
      `Batch of ${text.length} characters exceeds ${maxLength}`,
      bayeuxErrors.tooLarge(maxLength),
    );
  }
  const maxDepth = options.maxDepth ?? BATCH_LIMITS.maxDepth;
  // Checked on the text, before JSON.parse: a deep value parses fine but overflows the stack of
  // every JSON.stringify that later touches it (a held reply echoing its `id`, a fan-out).
  if (jsonTextDepthExceeds(text, maxDepth)) throw tooDeep(maxDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProtocolError('malformed-json', 'Body is not valid JSON');
  }
  return validateBatch(parsed, options.maxMessages);
}

/**
 * Shape-checks an already parsed value as a batch (see {@link decodeBatch}): every element is an
 * object with a string `channel`, and the fields Bayeux defines have the spec's types when present
 * (`id` a bounded string or a safe integer; `clientId`, `connectionType`, `version` bounded strings;
 * `supportedConnectionTypes` a bounded list of strings; `subscription` a string or a bounded list of
 * strings; `advice` and `ext` objects).
 */
export function validateBatch(parsed: unknown, maxMessages: number = BATCH_LIMITS.maxMessages): Message[] {
  const list = Array.isArray(parsed) ? parsed : isPlainObject(parsed) ? [parsed] : undefined;
  if (!list) throw new ProtocolError('not-a-batch', 'Body must be a JSON array of Bayeux messages');
  if (list.length === 0) throw new ProtocolError('not-a-batch', 'Batch is empty');
  if (list.length > maxMessages) {
    throw new ProtocolError(
      'too-large',
      `Batch of ${list.length} messages exceeds ${maxMessages}`,
      bayeuxErrors.limitExceeded('batch', maxMessages),
    );
  }
  // An index loop: entries() would allocate an iterator and a pair per message on the hot path.
  for (let index = 0; index < list.length; index++) {
    const item: unknown = list[index];
    if (!isPlainObject(item)) {
      throw new ProtocolError('invalid-message', `Message ${index} is not an object`);
    }
    const problem = fieldProblem(item);
    if (problem !== undefined) throw new ProtocolError('invalid-message', `Message ${index}: ${problem}`);
  }
  return list as Message[];
}

/** The first Bayeux field of `message` that is not of the spec's type, as a sentence; else undefined. */
function fieldProblem(message: Record<string, unknown>): string | undefined {
  const { maxFieldLength, maxIdLength, maxListLength } = BATCH_LIMITS;
  const channel = message.channel;
  if (typeof channel !== 'string') return 'has no string "channel"';
  if (channel.length > maxFieldLength) return `"channel" is longer than ${maxFieldLength}`;
  const id = message.id;
  if (id !== undefined) {
    if (typeof id === 'string') {
      if (id.length > maxIdLength) return `"id" is longer than ${maxIdLength}`;
    } else if (!Number.isSafeInteger(id)) return '"id" must be a string';
  }
  for (const field of ['clientId', 'connectionType', 'version', 'minimumVersion'] as const) {
    const value = message[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') return `"${field}" must be a string`;
    if (value.length > maxFieldLength) return `"${field}" is longer than ${maxFieldLength}`;
  }
  const types = message.supportedConnectionTypes;
  if (types !== undefined && !isBoundedStringList(types, maxListLength, maxFieldLength))
    return '"supportedConnectionTypes" must be a list of strings';
  const subscription = message.subscription;
  if (
    subscription !== undefined &&
    !(typeof subscription === 'string' && subscription.length <= maxFieldLength) &&
    !isBoundedStringList(subscription, maxListLength, maxFieldLength)
  )
    return '"subscription" must be a channel or a list of channels';
  if (message.advice !== undefined && !isPlainObject(message.advice)) return '"advice" must be an object';
  if (message.ext !== undefined && message.ext !== null && !isPlainObject(message.ext))
    return '"ext" must be an object';
  return undefined;
}

function isBoundedStringList(value: unknown, maxLength: number, maxItemLength: number): boolean {
  if (!Array.isArray(value) || value.length > maxLength) return false;
  for (const item of value) if (typeof item !== 'string' || item.length > maxItemLength) return false;
  return true;
}

function tooDeep(maxDepth: number): ProtocolError {
  return new ProtocolError(
    'too-deep',
    `JSON nests deeper than ${maxDepth} levels`,
    bayeuxErrors.limitExceeded('depth', maxDepth),
  );
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when JSON `text` nests arrays/objects deeper than `maxDepth`. A linear scan that skips
 * string contents; it does not validate the JSON (JSON.parse does that next).
 * @example jsonTextDepthExceeds('[[1]]', 1) === true
 */
export function jsonTextDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      // Skip to the closing quote; escaped characters (including \") are stepped over.
      for (i++; i < length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === BACKSLASH) i++;
        else if (inner === QUOTE) break;
      }
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
  }
  return false;
}

/**
 * True when `value` nests arrays/objects deeper than `maxDepth` (the value itself, if an array
 * or object, is level 1). Iterative, so it cannot overflow the stack itself; for values that did
 * not come from JSON text (a server-side `publish`). A cycle counts as infinitely deep.
 * @example jsonValueDepthExceeds({ a: [1] }, 1) === true
 */
export function jsonValueDepthExceeds(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
