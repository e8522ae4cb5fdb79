import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feedInPieces, hostileString, messageBatch } from './arbitraries.test-helpers.js';
import { encodeBatch } from './json-batch.js';
import { encodeSseComment, encodeSseEvent, encodeSsePadding } from './sse.js';

function parseAll(stream: string, chunkSizes: number[] = []): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  feedInPieces((piece) => parser.feed(piece), stream, chunkSizes);
  return events;
}

describe('SSE codec', () => {
  it('round-trips arbitrary JSON batches through a real SSE parser, split at any points', () => {
    fc.assert(
      fc.property(
        messageBatch,
        fc.nat({ max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 7 })),
        (batch, id, splits) => {
          const stream =
            encodeSsePadding(64) +
            encodeSseEvent({ id: String(id), data: encodeBatch(batch) }) +
            encodeSseComment('hb');
          const events = parseAll(stream, splits);
          expect(events).toHaveLength(1);
          expect(events[0]!.id).toBe(String(id));
          expect(JSON.parse(events[0]!.data)).toEqual(JSON.parse(encodeBatch(batch)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips arbitrary strings with line breaks as multi-line data', () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const normalised = text.replace(/\r\n|\r/g, '\n');
        const events = parseAll(encodeSseEvent({ data: text }));
        expect(events[0]!.data).toBe(normalised);
      }),
      { numRuns: 300 },
    );
  });

  it('writes event, retry and padding fields', () => {
    expect(encodeSseEvent({ id: '7', event: 'batch', retry: 1500.7, data: 'x' })).toBe(
      'id: 7\nevent: batch\nretry: 1500\ndata: x\n\n',
    );
    expect(encodeSsePadding(2048).length).toBeGreaterThanOrEqual(2048 - 1);
    expect(parseAll(encodeSsePadding() + encodeSseComment('a\nb'))).toEqual([]);
  });

  it('refuses ids that would break framing', () => {
    expect(() => encodeSseEvent({ id: '1\n2', data: 'x' })).toThrow(TypeError);
  });
});
