import { describe, expect, it } from 'vitest';
import {
  createDelivery,
  encodeMixedBatch,
  sseEventOf,
  sseRunOf,
  wsFrameOf,
  wsRunFrameOf,
} from './delivery.js';
import { DeliveryQueue } from './queue.js';

/** The text a frame of `encodeTextFrame` carries (its header: 2 bytes, 4 from 126 bytes on). */
const payloadOf = (frame: Buffer) => frame.subarray(frame[1] === 126 ? 4 : 2).toString();

const delivery = (offset: number) =>
  createDelivery({ channel: '/q', data: { offset }, offset, epoch: 'e', time: 0 });

describe('DeliveryQueue', () => {
  it('never grows past its limit and reports overflow', () => {
    const queue = new DeliveryQueue(2);
    expect(queue.push(delivery(1))).toBe(true);
    expect(queue.push(delivery(2))).toBe(true);
    expect(queue.push(delivery(3))).toBe(false);
    expect(queue.length).toBe(2);
    expect(queue.unshift([delivery(0)])).toBe(false);
    expect(queue.drain().map((d) => d.offset)).toEqual([1, 2]);
    expect(queue.unshift([delivery(0)])).toBe(true);
    expect(queue.drain().map((d) => d.offset)).toEqual([0]);
  });
});

describe('Delivery', () => {
  it('serializes once and shares the frames it builds', () => {
    const d = delivery(7);
    expect(JSON.parse(d.json)).toEqual({
      channel: '/q',
      data: { offset: 7 },
      ext: { push: { offset: 7, epoch: 'e' } },
    });
    expect(wsFrameOf(d)).toBe(wsFrameOf(d));
    expect(payloadOf(wsFrameOf(d))).toBe(`[${d.json}]`);
    expect(sseEventOf(d)).toBe(sseEventOf(d));
    expect(sseEventOf(d).toString()).toBe(`id: 7\ndata: [${d.json}]\n\n`);
    expect(
      JSON.parse(encodeMixedBatch([{ channel: '/meta/connect', successful: true }], [d, delivery(8)])),
    ).toHaveLength(3);
  });
});

describe('runs of deliveries', () => {
  it('share one frame between subscribers that get the same deliveries, and only them', () => {
    const [a, b, c] = [delivery(1), delivery(2), delivery(3)];
    const frame = wsRunFrameOf([a, b, c]);
    expect(wsRunFrameOf([a, b, c])).toBe(frame);
    expect(JSON.parse(payloadOf(frame)).map((m: { data: unknown }) => m.data)).toEqual([
      { offset: 1 },
      { offset: 2 },
      { offset: 3 },
    ]);
    // Same first and last, different middle: a different run.
    const other = wsRunFrameOf([a, delivery(9), c]);
    expect(JSON.parse(payloadOf(other))[1].data).toEqual({ offset: 9 });
    expect(wsRunFrameOf([a])).toBe(wsFrameOf(a));
    expect(sseRunOf([a, b])).toBe(sseRunOf([a, b]));
    expect(sseRunOf([a, b]).toString()).toBe(`${sseEventOf(a)}${sseEventOf(b)}`);
    expect(sseRunOf([b])).toBe(sseEventOf(b));
  });
});
