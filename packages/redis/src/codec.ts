/**
 * What travels through Redis: the message body as JSON (`{channel, data, id?, publisherId?}`),
 * prefixed on the bus by `offset epoch time ` which the publish script adds.
 */
import type { BrokerMessage, BrokerPublishInput } from './broker-types.js';
import type { StreamEntry } from './scripts.js';

type Body = Omit<BrokerMessage, 'offset' | 'epoch' | 'time'>;

/** The JSON body stored in the log and sent on the bus. */
export function encodeBody(input: BrokerPublishInput): string {
  const body: Body = { channel: input.channel, data: input.data };
  if (input.id !== undefined) body.id = input.id;
  if (input.publisherId !== undefined) body.publisherId = input.publisherId;
  return JSON.stringify(body);
}

function withPosition(json: string, offset: number, epoch: string, time: number): BrokerMessage {
  const body = JSON.parse(json) as Body;
  const message: BrokerMessage = { channel: body.channel, data: body.data, offset, epoch, time };
  if (body.id !== undefined) message.id = body.id;
  if (body.publisherId !== undefined) message.publisherId = body.publisherId;
  return message;
}

/** Decodes a bus message `offset epoch time json`; undefined when it is not one. */
export function decodeBusMessage(raw: string): BrokerMessage | undefined {
  const a = raw.indexOf(' ');
  const b = raw.indexOf(' ', a + 1);
  const c = raw.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const offset = Number(raw.slice(0, a));
  const time = Number(raw.slice(b + 1, c));
  if (!Number.isInteger(offset) || !Number.isFinite(time)) return undefined;
  try {
    return withPosition(raw.slice(c + 1), offset, raw.slice(a + 1, b), time);
  } catch {
    return undefined;
  }
}

/** A bus message with its place in the bus log. */
export interface BusItem {
  seq: number;
  busEpoch: string;
  message: BrokerMessage;
}

/** Decodes `seq busEpoch offset epoch time json` as published on the bus. */
export function decodeBusItem(raw: string): BusItem | undefined {
  const a = raw.indexOf(' ');
  const b = raw.indexOf(' ', a + 1);
  const seq = Number(raw.slice(0, a));
  if (a < 0 || b < 0 || !Number.isInteger(seq)) return undefined;
  const message = decodeBusMessage(raw.slice(b + 1));
  return message ? { seq, busEpoch: raw.slice(a + 1, b), message } : undefined;
}

/** Decodes bus log entries (`[0-seq, ['m', body]]`, oldest first). */
export function decodeBusEntries(entries: StreamEntry[], busEpoch: string): BusItem[] {
  const items: BusItem[] = [];
  for (const [id, fields] of entries) {
    const message = decodeBusMessage(fields[1] ?? '');
    if (message) items.push({ seq: Number(id.slice(id.indexOf('-') + 1)), busEpoch, message });
  }
  return items;
}

/** Decodes log entries (newest first, as the history script returns them) into offset order. */
export function decodeEntries(entries: StreamEntry[], epoch: string): BrokerMessage[] {
  const messages: BrokerMessage[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const [id, fields] = entries[i]!;
    let offset = 0;
    let json = 'null';
    for (let f = 0; f < fields.length; f += 2) {
      if (fields[f] === 'o') offset = Number(fields[f + 1]);
      else if (fields[f] === 'p') json = fields[f + 1] ?? 'null';
    }
    messages.push(withPosition(json, offset, epoch, Number(id.slice(0, id.indexOf('-')))));
  }
  return messages;
}
