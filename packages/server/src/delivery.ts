/**
 * A message on its way to subscribers, serialized ONCE per fan-out. Transports splice the shared
 * JSON (or the frame built from it, also cached on the delivery) into their own framing, so a
 * message to 1,000 subscribers is stringified once, not 1,000 times.
 */
import { type DataMessage, encodeSseEvent } from '@push/protocol';
import type { BrokerMessage } from './broker/types.js';
import { encodeTextFrame } from './transports/ws-frame.js';

/** One published message as delivered to clients, with its cached encodings. */
export interface Delivery {
  readonly channel: string;
  readonly offset: number;
  /** The Bayeux message object (for codecs that need objects: iframe, JSONP). */
  readonly message: DataMessage;
  /** `JSON.stringify(message)`, computed once. */
  readonly json: string;
  /** Cached WebSocket frame (header and payload `[json]`), built on first use. */
  wsFrame?: Buffer;
  /** Cached SSE event's bytes, built on first use (a view into {@link Delivery.sseChunk}). */
  sseEvent?: Buffer;
  /** The same event as one HTTP/1.1 chunk (`size CRLF event CRLF`), built with it. */
  sseChunk?: Buffer;
  /**
   * The last run of deliveries starting with this one that got a shared frame (see
   * {@link wsRunFrameOf} and {@link sseRunOf}).
   */
  run?: DeliveryRun;
}

/**
 * Deliveries that went out together, as one frame, to one subscriber. Messages published in one
 * tick reach every subscriber of their channel as the same run, so its frame is built once and
 * shared, like the frame of a single delivery.
 */
interface DeliveryRun {
  readonly deliveries: readonly Delivery[];
  ws?: Buffer;
  sse?: Buffer;
  sseChunk?: Buffer;
}

/** The cached run of `deliveries` (kept on its first delivery), replacing a different one. */
function runOf(deliveries: readonly Delivery[]): DeliveryRun {
  const first = deliveries[0]!;
  const cached = first.run;
  if (cached && sameDeliveries(cached.deliveries, deliveries)) return cached;
  const run: DeliveryRun = { deliveries: [...deliveries] };
  first.run = run;
  return run;
}

function sameDeliveries(a: readonly Delivery[], b: readonly Delivery[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** Builds the delivered Bayeux message of a broker message: data plus `ext.push` offset and epoch. */
export function createDelivery(source: BrokerMessage): Delivery {
  const message: DataMessage = {
    channel: source.channel,
    data: source.data,
    ...(source.id === undefined ? {} : { id: source.id }),
    ext: { push: { offset: source.offset, epoch: source.epoch } },
  };
  return { channel: source.channel, offset: source.offset, message, json: messageJson(source, message) };
}

/**
 * `JSON.stringify(message)`, splicing in the broker's `dataJson` when it has one (same keys in
 * the same order), so a published message's data is serialized once per publish.
 */
function messageJson(source: BrokerMessage, message: DataMessage): string {
  if (source.dataJson === undefined) return JSON.stringify(message);
  const id = source.id === undefined ? '' : `,"id":${JSON.stringify(source.id)}`;
  const ext = `{"push":{"offset":${source.offset},"epoch":${JSON.stringify(source.epoch)}}}`;
  return `{"channel":${JSON.stringify(source.channel)},"data":${source.dataJson}${id},"ext":${ext}}`;
}

/** The whole WebSocket frame of one delivery (payload `[json]`), shared by every subscriber. */
export function wsFrameOf(delivery: Delivery): Buffer {
  delivery.wsFrame ??= encodeTextFrame(`[${delivery.json}]`);
  return delivery.wsFrame;
}

/** One WebSocket frame carrying several deliveries, shared by subscribers that get the same run. */
export function wsRunFrameOf(deliveries: readonly Delivery[]): Buffer {
  if (deliveries.length === 1) return wsFrameOf(deliveries[0]!);
  const run = runOf(deliveries);
  run.ws ??= encodeTextFrame(encodeMixedBatch([], deliveries));
  return run.ws;
}

/**
 * The SSE events of several deliveries as one write, shared by subscribers that get the same run.
 * Bytes, as the WebSocket frames are: a string would be encoded again for every subscriber.
 */
export function sseRunOf(deliveries: readonly Delivery[]): Buffer {
  if (deliveries.length === 1) return sseEventOf(deliveries[0]!);
  return sseRun(deliveries).sse!;
}

/**
 * {@link sseRunOf} as one chunk of a `Transfer-Encoding: chunked` body, shared by every
 * subscriber: a stream whose response is chunked can write it to its socket as it is.
 */
export function sseChunkOf(deliveries: readonly Delivery[]): Buffer {
  if (deliveries.length > 1) return sseRun(deliveries).sseChunk!;
  const delivery = deliveries[0]!;
  sseEventOf(delivery);
  return delivery.sseChunk!;
}

function sseRun(deliveries: readonly Delivery[]): DeliveryRun {
  const run = runOf(deliveries);
  if (!run.sse) [run.sse, run.sseChunk] = chunked(Buffer.concat(deliveries.map(sseEventOf)));
  return run;
}

/** The SSE event for one delivery (`id:` is the channel offset), shared by every subscriber. */
export function sseEventOf(delivery: Delivery): Buffer {
  if (!delivery.sseEvent) {
    const event = encodeSseEvent({ id: String(delivery.offset), data: `[${delivery.json}]` });
    [delivery.sseEvent, delivery.sseChunk] = chunked(Buffer.from(event));
  }
  return delivery.sseEvent;
}

/** `bytes` framed as one HTTP/1.1 chunk, and a view of `bytes` inside it (one allocation for both). */
function chunked(bytes: Buffer): [body: Buffer, chunk: Buffer] {
  const size = `${bytes.length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(size.length + bytes.length + 2);
  chunk.write(size, 0, 'latin1');
  bytes.copy(chunk, size.length);
  chunk.write('\r\n', size.length + bytes.length, 'latin1');
  return [chunk.subarray(size.length, size.length + bytes.length), chunk];
}

/** A JSON batch of replies (objects) followed by deliveries (pre-encoded). */
export function encodeMixedBatch(replies: readonly object[], deliveries: readonly Delivery[]): string {
  let out = '[';
  let first = true;
  for (const reply of replies) {
    out += first ? JSON.stringify(reply) : `,${JSON.stringify(reply)}`;
    first = false;
  }
  for (const delivery of deliveries) {
    out += first ? delivery.json : `,${delivery.json}`;
    first = false;
  }
  return `${out}]`;
}

/** Rebuilds a delivery from its JSON (a message relayed from another server process). */
export function deliveryFromJson(json: string): Delivery {
  const message = JSON.parse(json) as DataMessage;
  const offset = message.ext?.push?.offset;
  return { channel: message.channel, offset: typeof offset === 'number' ? offset : 0, message, json };
}
