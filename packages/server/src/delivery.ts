/**
 * A message on its way to subscribers, serialized ONCE per fan-out. Transports splice the shared
 * JSON (or the frame built from it, also cached on the delivery) into their own framing, so a
 * message to 1,000 subscribers is stringified once, not 1,000 times.
 */
import { type DataMessage, encodeSseEvent } from '@push/protocol';
import type { BrokerMessage } from './broker/types.js';

/** One published message as delivered to clients, with its cached encodings. */
export interface Delivery {
  readonly channel: string;
  readonly offset: number;
  /** The Bayeux message object (for codecs that need objects: iframe, JSONP). */
  readonly message: DataMessage;
  /** `JSON.stringify(message)`, computed once. */
  readonly json: string;
  /** Cached WebSocket frame payload `[json]`, built on first use. */
  wsFrame?: Buffer;
  /** Cached SSE event, built on first use. */
  sseEvent?: string;
}

/** Builds the delivered Bayeux message of a broker message: data plus `ext.push` offset and epoch. */
export function createDelivery(source: BrokerMessage): Delivery {
  const message: DataMessage = {
    channel: source.channel,
    data: source.data,
    ...(source.id === undefined ? {} : { id: source.id }),
    ext: { push: { offset: source.offset, epoch: source.epoch } },
  };
  return { channel: source.channel, offset: source.offset, message, json: JSON.stringify(message) };
}

/** The WebSocket payload for one delivery, shared by every subscriber. */
export function wsFrameOf(delivery: Delivery): Buffer {
  delivery.wsFrame ??= Buffer.from(`[${delivery.json}]`);
  return delivery.wsFrame;
}

/** The SSE event for one delivery (`id:` is the channel offset), shared by every subscriber. */
export function sseEventOf(delivery: Delivery): string {
  delivery.sseEvent ??= encodeSseEvent({ id: String(delivery.offset), data: `[${delivery.json}]` });
  return delivery.sseEvent;
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
