/**
 * Server-Sent Events framing of the eventsource transport: `id:` per message, `data:` lines,
 * comments for padding and heartbeats, `retry:` for the browser's reconnect delay.
 */

export interface SseEvent {
  /** The event's id (the browser sends it back as Last-Event-ID). No line breaks. */
  id?: string;
  /** Event type; omitted means `message`. */
  event?: string;
  /** The payload; line breaks are split across several `data:` lines. */
  data: string;
  /** Reconnection delay in milliseconds. */
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

function assertSingleLine(field: string, value: string): void {
  if (LINE_BREAK.test(value) || value.includes('\0')) {
    throw new TypeError(`SSE ${field} must not contain line breaks or NUL`);
  }
}

/** Encodes one event, ending with the blank line that dispatches it. */
export function encodeSseEvent(event: SseEvent): string {
  let out = '';
  if (event.id !== undefined) {
    assertSingleLine('id', event.id);
    out += `id: ${event.id}\n`;
  }
  if (event.event !== undefined) {
    assertSingleLine('event', event.event);
    out += `event: ${event.event}\n`;
  }
  if (event.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(event.retry))}\n`;
  for (const line of event.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** Encodes a comment line (ignored by parsers; used for heartbeats). */
export function encodeSseComment(text = ''): string {
  return `:${text.replace(/\r\n|\r|\n/g, ' ')}\n\n`;
}

/**
 * A padding comment of at least `bytes` bytes, sent first so the client sees bytes at once and
 * can tell a buffering proxy (no first bytes) from a live stream. 2 KiB also defeats the old
 * browsers and proxies that wait for a minimum before rendering anything.
 */
export function encodeSsePadding(bytes = 2048): string {
  return `:${' '.repeat(Math.max(0, bytes - 3))}\n\n`;
}
