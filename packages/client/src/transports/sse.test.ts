// sseReader against eventsource-parser (what the eventsource transport used before): the same
// event data for the same stream, however it is cut into chunks and whatever its line endings.

import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { sseReader } from './sse.js';

/** A small seeded generator, so a failure names a stream that can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const LINES = [
  'data: [{"channel":"/a","data":1}]',
  'data:{"x":2}',
  'data:  two spaces',
  'data',
  'data:',
  'data: a: b',
  'datax: not data',
  'Data: wrong case',
  ': padding comment',
  ':',
  'event: custom',
  'id: 7',
  'retry: 1000',
  'retry: soon',
  'unknown field',
  '',
  '',
];
const ENDINGS = ['\n', '\r\n', '\r'];

/** A random stream of `n` lines (blank lines dispatch) with line endings mixed. */
function stream(next: (n: number) => number, n: number): string {
  let text = '';
  for (let i = 0; i < n; i++) text += LINES[next(LINES.length)]! + ENDINGS[next(ENDINGS.length)]!;
  return text;
}

/** `text` cut at random places into chunks (empty ones included). */
function chunks(next: (n: number) => number, text: string): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length; ) {
    const size = next(12);
    out.push(text.slice(at, at + size));
    at += size;
  }
  return out;
}

function both(parts: string[]): [string[], string[]] {
  const ours: string[] = [];
  const theirs: string[] = [];
  const feed = sseReader((data) => ours.push(data));
  const parser = createParser({ onEvent: (event) => theirs.push(event.data) });
  for (const part of parts) {
    feed(part);
    parser.feed(part);
  }
  return [ours, theirs];
}

describe('sseReader', () => {
  it('dispatches the data of each event at its blank line, data lines joined with \\n', () => {
    const got: string[] = [];
    const feed = sseReader((data) => got.push(data));
    feed(':padding\n\ndata: [1]\n\ndata: a\ndata:b\r\n\r\nevent: x\nid: 1\n\n');
    feed('data: [2');
    expect(got).toEqual(['[1]', 'a\nb']);
    feed(']\r');
    expect(got).toEqual(['[1]', 'a\nb']); // a CR that ends a chunk may be half of a CRLF
    feed('\n\r\n');
    expect(got).toEqual(['[1]', 'a\nb', '[2]']);
  });

  it('agrees with eventsource-parser on 2,000 random streams, cut at random', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const next = rng(seed);
      const text = stream(next, 1 + next(40));
      const [ours, theirs] = both(chunks(next, text));
      expect({ seed, events: ours }).toEqual({ seed, events: theirs });
      // the same stream in one piece
      expect(both([text])[0]).toEqual(theirs);
    }
  });
});
