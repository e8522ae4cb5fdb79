import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataMessage, Message } from '../messages.js';
import { feedInPieces, messageBatch } from './arbitraries.test-helpers.js';
import {
  createIframeDecoder,
  encodeIframeChunk,
  encodeIframeEnd,
  encodeIframeHeartbeat,
  encodeIframeStart,
} from './iframe.js';

/** Runs the body of every <script> element like a browser would, with `parent` as a stub window. */
function executeScripts(html: string, callback: string): Array<Message[] | null> {
  const delivered: Array<Message[] | null> = [];
  const parent = { [callback]: (batch: Message[] | null) => delivered.push(batch) };
  for (const match of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) {
    new Function('parent', match[1]!)(parent);
  }
  return delivered;
}

function scriptBodies(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/gi)].map((match) => match[1]!);
}

describe('forever-iframe codec', () => {
  it('round-trips arbitrary batches through the stream decoder, split at any points', () => {
    fc.assert(
      fc.property(
        fc.array(messageBatch, { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 40 })),
        (batches, splits) => {
          const stream =
            encodeIframeStart('cb', 32) +
            batches.map((b) => encodeIframeChunk('cb', b) + encodeIframeHeartbeat('cb')).join('') +
            encodeIframeEnd();
          const received: Array<Message[] | null> = [];
          const decoder = createIframeDecoder({ onBatch: (batch) => received.push(batch) });
          feedInPieces((piece) => decoder.feed(piece), stream, splits);
          // every chunk is followed by a heartbeat: an empty batch
          expect(received).toEqual([null, ...batches.flatMap((b) => [JSON.parse(JSON.stringify(b)), []])]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never lets a payload close the script, open a comment or carry a raw line separator', () => {
    fc.assert(
      fc.property(messageBatch, (batch) => {
        const chunk = encodeIframeChunk('cb', batch);
        const bodies = scriptBodies(chunk);
        // Exactly one script element, whose body holds no markup an HTML parser would act on.
        expect(bodies).toHaveLength(1);
        const body = bodies[0]!;
        expect(body.toLowerCase()).not.toContain('</script');
        expect(body).not.toContain('<!--');
        expect(body).not.toMatch(/[<>\u2028\u2029]/);
        // And executing it delivers the payload intact.
        expect(executeScripts(chunk, 'cb')).toEqual([JSON.parse(JSON.stringify(batch))]);
      }),
      { numRuns: 300 },
    );
  });

  it('delivers the classic injection payloads as inert text', () => {
    const hostile = ['</script><script>alert(1)</script>', '<!--', '\u2028', '\u2029', '</script>'];
    const batch: Message[] = hostile.map((text) => ({ channel: '/a', data: { text } }));
    const chunk = encodeIframeChunk('cb', batch);
    expect(chunk.match(/<\/script>/g)).toHaveLength(1);
    expect(executeScripts(chunk, 'cb')).toEqual([batch]);
  });

  it('delivers a __proto__ key as an own property to the page and to the stream decoder', () => {
    const batch = JSON.parse('[{"channel":"/a","data":{"__proto__":[],"x":"</script>"}}]') as Message[];
    const chunk = encodeIframeChunk('cb', batch);
    expect(scriptBodies(chunk)).toHaveLength(1);
    const [executed] = executeScripts(chunk, 'cb') as [Message[]];
    expect(Object.hasOwn((executed[0] as DataMessage).data as object, '__proto__')).toBe(true);
    expect(executed).toEqual(batch);
    const decoded: Array<Message[] | null> = [];
    createIframeDecoder({ onBatch: (b) => decoded.push(b) }).feed(chunk);
    expect(decoded).toEqual([batch]);
  });

  it('starts with padding and an open signal, and validates the callback name', () => {
    const start = encodeIframeStart('push_cb1', 1024);
    expect(start.length).toBeGreaterThan(1024);
    expect(executeScripts(start, 'push_cb1')).toEqual([null]);
    expect(() => encodeIframeStart('alert(1)//')).toThrow(/Invalid iframe callback/);
    expect(() => encodeIframeChunk('a;b', [])).toThrow(/Invalid iframe callback/);
  });

  it('reports an overlong incomplete chunk instead of buffering forever', () => {
    const errors: string[] = [];
    const decoder = createIframeDecoder({
      onBatch: () => {},
      onError: (error) => errors.push(error.code),
      maxBufferSize: 50,
    });
    decoder.feed(`<script>parent.cb(["${'x'.repeat(100)}`);
    expect(errors).toEqual(['buffer-overflow']);
  });
});
