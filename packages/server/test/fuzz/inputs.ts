/**
 * What the fuzzer throws at the server: arbitrary and mutated Bayeux batches, deep and wide JSON,
 * odd Unicode, and random bytes, as the text an attacker controls on each ingress.
 */
import fc from 'fast-check';

/** Replaced at send time by a live clientId (so inputs reach the handlers behind a session). */
export const LIVE_CLIENT = '$LIVE_CLIENT$';

/** Strings that break naive code: lone surrogates, separators, NUL, markup, Bayeux-looking names. */
export const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(
    '',
    '\u2028',
    '\u2029',
    '\0',
    '\ud800',
    '\udfff',
    '\u202e',
    '</script><script>alert(1)</script>',
    '"\\',
    '\r\ndata: x\r\n\r\n',
    '/meta/connect',
    '/**',
    '/*',
    '/admin/**',
    '/service/presence',
    '/presence/room',
    '__proto__',
    'constructor',
    'a'.repeat(2_000),
  ),
);

const CHANNELS = [
  '/meta/handshake',
  '/meta/connect',
  '/meta/subscribe',
  '/meta/unsubscribe',
  '/meta/disconnect',
  '/meta/unknown',
  '/chat/lobby',
  '/fuzz/a',
  '/fuzz/*',
  '/fuzz/**',
  '/service/presence',
  '/service/none',
  '/presence/fuzz/a',
] as const;

/** Arbitrary JSON values, some of them deep or wide. */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    oddString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(oddString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A value that is anything at all where a Bayeux field has a type. */
const anyField = fc.oneof(jsonValue, oddString, fc.constant(LIVE_CLIENT));

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 2 });

/** A message with Bayeux's fields, each either well-typed or anything. */
const message = fc
  .record(
    {
      channel: fc.oneof(fc.constantFrom(...CHANNELS), oddString, jsonValue),
      id: optional(fc.oneof(fc.string({ maxLength: 8 }), anyField)),
      clientId: optional(fc.oneof(fc.constant(LIVE_CLIENT), anyField)),
      version: optional(fc.oneof(fc.constant('1.0'), anyField)),
      supportedConnectionTypes: optional(
        fc.oneof(fc.constant(['long-polling', 'websocket', 'eventsource', 'iframe']), anyField),
      ),
      connectionType: optional(
        fc.oneof(
          fc.constantFrom('long-polling', 'websocket', 'eventsource', 'iframe', 'callback-polling'),
          anyField,
        ),
      ),
      subscription: optional(
        fc.oneof(fc.constantFrom(...CHANNELS), fc.array(oddString, { maxLength: 3 }), anyField),
      ),
      data: optional(jsonValue),
      advice: optional(
        fc.oneof(fc.record({ timeout: fc.integer({ min: -5, max: 200 }), interval: fc.integer() }), anyField),
      ),
      ext: optional(
        fc.oneof(
          fc.record({
            ack: fc.oneof(fc.boolean(), fc.integer()),
            push: fc.oneof(
              fc.record({
                resume: fc.dictionary(oddString, fc.record({ offset: fc.integer(), epoch: oddString })),
              }),
              anyField,
            ),
            auth: anyField,
          }),
          anyField,
        ),
      ),
    },
    { requiredKeys: [] },
  )
  .map((fields) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
    return out;
  });

const deep = fc
  .tuple(fc.integer({ min: 60, max: 20_000 }), fc.constantFrom('[', '{"a":'))
  .map(([levels, open]) => {
    const close = open === '[' ? ']' : '}';
    const inner = `${open.repeat(levels)}1${close.repeat(levels)}`;
    return `[{"channel":"/meta/connect","clientId":"${LIVE_CLIENT}","connectionType":"long-polling","advice":{"timeout":50},"id":${inner}}]`;
  });

const wide = fc
  .tuple(
    fc.integer({ min: 1, max: 3_000 }),
    fc.constantFrom(
      '{"channel":"/x"}',
      '{}',
      '1',
      '{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}',
    ),
  )
  .map(([count, item]) => `[${Array.from({ length: count }, () => item).join(',')}]`);

/** A JSON text, then cut, spliced or corrupted at random places. */
const mutated = fc
  .tuple(
    fc.array(message, { minLength: 1, maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('cut', 'dup', 'flip', 'insert')), { maxLength: 3 }),
    oddString,
  )
  .map(([messages, edits, noise]) => {
    let text = JSON.stringify(messages);
    for (const [at, edit] of edits) {
      const i = at % (text.length + 1);
      if (edit === 'cut') text = text.slice(0, i);
      else if (edit === 'dup') text = text.slice(0, i) + text.slice(Math.max(0, i - 8));
      else if (edit === 'flip')
        text = `${text.slice(0, i)}${String.fromCharCode((text.charCodeAt(i) || 65) ^ 0x20)}${text.slice(i + 1)}`;
      else text = text.slice(0, i) + noise + text.slice(i);
    }
    return text;
  });

/** The text of one inbound batch. */
export const batchText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(message, { minLength: 1, maxLength: 5 }).map((batch) => JSON.stringify(batch)),
  },
  { weight: 1, arbitrary: message.map((single) => JSON.stringify(single)) },
  { weight: 3, arbitrary: mutated },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: wide },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
);

/** Where an input goes in. */
export type Ingress =
  | 'websocket'
  | 'long-polling'
  | 'form-post'
  | 'jsonp'
  | 'publish'
  | 'iframe-url'
  | 'sse-url';

export const INGRESSES: readonly Ingress[] = [
  'websocket',
  'long-polling',
  'form-post',
  'jsonp',
  'publish',
  'iframe-url',
  'sse-url',
];

/** One fuzz case: an ingress, the batch text, and odd strings for the URL-shaped ingresses. */
export const fuzzCase = fc.record({
  ingress: fc.constantFrom(...INGRESSES),
  text: batchText,
  name: fc.oneof(fc.constantFrom('cb', 'parent.cb', 'a.b.c', LIVE_CLIENT), oddString),
  publishBody: fc.oneof(
    fc
      .record({ channel: fc.oneof(fc.constantFrom(...CHANNELS), oddString, jsonValue), data: jsonValue })
      .map((body) => JSON.stringify(body)),
    batchText,
  ),
});

export type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;
