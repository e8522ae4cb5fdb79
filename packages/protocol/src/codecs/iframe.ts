/**
 * Forever-iframe / htmlfile framing: an HTML document streamed in `<script>` chunks, each calling
 * a callback in the parent window with a batch of messages. Payloads are script-safe JSON, so a
 * message holding `</script>`, `<!--`, U+2028 or U+2029 arrives intact and never executes.
 */
import { ProtocolError } from '../errors.js';
import type { Message } from '../messages.js';
import { isValidCallbackName } from './callback-name.js';
import { parseScriptExpression, toScriptExpression } from './script-safe-json.js';

function assertCallback(callback: string): void {
  if (!isValidCallbackName(callback)) {
    throw new ProtocolError(
      'invalid-callback',
      `Invalid iframe callback name: ${String(callback).slice(0, 40)}`,
    );
  }
}

/**
 * The document's opening: doctype, a padding comment of at least `paddingBytes` (browsers and
 * proxies buffer the first kilobyte or so before rendering), and a script that calls
 * `parent[callback]` with `null` as a first "open" signal.
 */
export function encodeIframeStart(callback: string, paddingBytes = 1024): string {
  assertCallback(callback);
  const padding = `<!--${' '.repeat(Math.max(0, paddingBytes))}-->`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>push</title></head><body>${padding}\n${scriptCall(callback, 'null')}`;
}

/** One chunk delivering `messages` to the parent's callback. */
export function encodeIframeChunk(callback: string, messages: readonly Message[]): string {
  assertCallback(callback);
  return scriptCall(callback, toScriptExpression(messages));
}

/**
 * A heartbeat: an empty batch for the parent's callback. It keeps proxies from timing the stream
 * out and, unlike a comment, lets the page see that the stream is alive (Chromium fires no event
 * when a streaming document's connection is reset, so silence is the only sign of a dead stream).
 */
export function encodeIframeHeartbeat(callback: string): string {
  assertCallback(callback);
  return scriptCall(callback, '[]');
}

/** Closing tags sent when the server ends the stream on purpose. */
export function encodeIframeEnd(): string {
  return '</body></html>';
}

function scriptCall(callback: string, argument: string): string {
  // `parent` for an iframe; the htmlfile ActiveX document sets `parent` to the owner window too.
  return `<script>parent.${callback}(${argument});</script>\n`;
}

export interface IframeDecoderOptions {
  /** Called with each batch in stream order; `null` is the stream's open signal. */
  onBatch: (messages: Message[] | null) => void;
  onError?: (error: ProtocolError) => void;
  /** Largest pending (incomplete) chunk kept, in characters; default 4 MiB. */
  maxBufferSize?: number;
}

/**
 * Parses a forever-iframe stream outside a browser (Node clients and tests): feed it text as it
 * arrives, it calls `onBatch` for each complete `<script>` chunk.
 */
export function createIframeDecoder(options: IframeDecoderOptions): {
  feed(text: string): void;
  reset(): void;
} {
  const maxBufferSize = options.maxBufferSize ?? 4 * 1024 * 1024;
  const open = '<script>parent.';
  const close = ');</script>';
  let buffer = '';
  return {
    feed(text: string) {
      buffer += text;
      for (;;) {
        const start = buffer.indexOf(open);
        if (start < 0) {
          // Keep a tail in case the opening tag is split across chunks.
          buffer = buffer.slice(-open.length);
          return;
        }
        const end = buffer.indexOf(close, start);
        if (end < 0) {
          buffer = buffer.slice(start);
          if (buffer.length > maxBufferSize) {
            buffer = '';
            options.onError?.(
              new ProtocolError('buffer-overflow', `Iframe chunk larger than ${maxBufferSize} characters`),
            );
          }
          return;
        }
        const call = buffer.slice(start + open.length, end);
        buffer = buffer.slice(end + close.length);
        const paren = call.indexOf('(');
        try {
          options.onBatch(parseScriptExpression(call.slice(paren + 1)) as Message[] | null);
        } catch {
          options.onError?.(new ProtocolError('malformed-json', 'Iframe chunk holds invalid JSON'));
        }
      }
    },
    reset() {
      buffer = '';
    },
  };
}
