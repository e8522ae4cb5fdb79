import fc from 'fast-check';
import type { Message } from '../messages.js';

/**
 * Strings biased towards the characters that break scripts and SSE framing, and towards
 * `__proto__`, a key a script literal would turn into a prototype.
 */
export const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc
    .array(
      fc.constantFrom(
        '</script>',
        '<script>alert(1)</script>',
        '<!--',
        '-->',
        '\u2028',
        '\u2029',
        '\n',
        '\r\n',
        '\r',
        '&',
        '"',
        "'",
        '\\',
        '\0',
        'é',
        '😀',
        ':',
        'data:',
        'id: 1',
        '__proto__',
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
);

/** Arbitrary JSON values whose strings include hostile ones. */
export const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    hostileString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Arbitrary data messages carrying arbitrary JSON. */
export const messageBatch = fc
  .array(
    fc.record({
      channel: fc.constantFrom('/a', '/chat/lobby', '/stocks/aex/x'),
      data: jsonValue,
      id: fc.option(fc.string(), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map(
    (messages) =>
      messages.map((m) => (m.id === undefined ? { channel: m.channel, data: m.data } : m)) as Message[],
  );

/** Feeds `stream` to `feed` in pieces of `sizes` (then the rest): a decoder must not care where a stream is split. */
export function feedInPieces(feed: (piece: string) => void, stream: string, sizes: readonly number[]): void {
  let offset = 0;
  for (const size of sizes) {
    feed(stream.slice(offset, offset + size));
    offset += size;
  }
  feed(stream.slice(offset));
}
