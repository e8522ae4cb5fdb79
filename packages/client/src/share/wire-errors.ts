/**
 * Errors cross the BroadcastChannel as plain objects (structured clone keeps neither the class nor
 * its fields) and are rebuilt on the other side as the same PushError or TransportError.
 */
import { PushError } from '../errors.js';
import { TransportError } from '../transports/transport.js';
import type { WireError } from './types.js';

const MARK = '$pushError';
type Marked = WireError & { [MARK]: true };

/** The wire form of a thrown value; anything but a PushError or TransportError becomes `connection-lost`. */
export function errorToWire(error: unknown): Marked {
  if (error instanceof TransportError) {
    const { code, transport, status, message } = error;
    return { [MARK]: true, name: 'TransportError', code, transport, status, message };
  }
  if (error instanceof PushError) {
    const { code, bayeux, advice } = error;
    // the constructor appends ` (bayeux)` again on the other side
    const suffix = bayeux ? ` (${bayeux})` : '';
    const { message } = error;
    return {
      [MARK]: true,
      name: 'PushError',
      code,
      message: suffix && message.endsWith(suffix) ? message.slice(0, -suffix.length) : message,
      bayeux,
      advice,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { [MARK]: true, name: 'PushError', code: 'connection-lost', message };
}

export function errorFromWire(w: WireError): PushError | TransportError {
  if (w.name === 'TransportError') return new TransportError(w.code, w.transport, { status: w.status });
  return new PushError(w.code, w.message, w.bayeux, w.advice);
}

function isWireError(value: object): value is Marked {
  return MARK in value && value[MARK] === true;
}

/** Replaces every Error inside an event argument by its wire form (and back). */
export function toWire(value: unknown): unknown {
  if (value instanceof Error) return errorToWire(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
}

export function fromWire(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  if (isWireError(value)) return errorFromWire(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
}
