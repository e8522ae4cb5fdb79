/** The callback-polling (JSONP) framing: `/**\/name(batch);`. */
import { ProtocolError } from '../errors.js';
import type { Message } from '../messages.js';
import { isValidCallbackName } from './callback-name.js';
import { parseScriptExpression, toScriptExpression } from './script-safe-json.js';

/**
 * Encodes a JSONP response body. The leading comment defeats content sniffing tricks that rely
 * on the body starting with attacker-chosen bytes. Throws on an invalid callback name.
 * @example encodeJsonp('cb', messages) // '/**\/cb([...]);'
 */
export function encodeJsonp(callback: string, messages: readonly Message[]): string {
  if (!isValidCallbackName(callback)) {
    throw new ProtocolError(
      'invalid-callback',
      `Invalid JSONP callback name: ${String(callback).slice(0, 40)}`,
    );
  }
  return `/**/${callback}(${toScriptExpression(messages)});`;
}

/** Extracts the batch from a JSONP body produced by {@link encodeJsonp} (for tests and tools). */
export function decodeJsonp(body: string): { callback: string; messages: Message[] } {
  const match = /^\/\*\*\/([\w$.]+)\(([\s\S]*)\);$/.exec(body);
  if (!match) throw new ProtocolError('invalid-message', 'Not a JSONP body');
  return { callback: match[1]!, messages: parseScriptExpression(match[2]!) as Message[] };
}
