/**
 * Errors cross the BroadcastChannel as plain objects (structured clone keeps neither the class nor
 * its fields) and are rebuilt on the other side as the same PushError or TransportError.
 */
import { PushError, type PushErrorCode } from '../errors.js';
import { TransportError, type TransportErrorCode } from '../transports/transport.js';
import type { WireError } from './types.js';

const MARK = '$pushError';

export function errorToWire(error: unknown): WireError & { [MARK]: true } {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    transport?: never;
    status?: number;
    bayeux?: string;
    advice?: unknown;
  };
  const suffix = e.bayeux ? ` (${e.bayeux})` : '';
  const message = String(e?.message ?? error);
  return {
    [MARK]: true,
    name: e?.name ?? 'Error',
    code: e?.code ?? 'connection-lost',
    message: suffix && message.endsWith(suffix) ? message.slice(0, -suffix.length) : message,
    transport: e?.transport,
    status: e?.status,
    bayeux: e?.bayeux,
    advice: e?.advice,
  };
}

export function errorFromWire(w: WireError): PushError | TransportError {
  if (w.name === 'TransportError')
    return new TransportError(w.code as TransportErrorCode, w.transport!, { status: w.status });
  return new PushError(w.code as PushErrorCode, w.message, w.bayeux, w.advice as never);
}

/** Replaces every Error inside an event argument by its wire form (and back). */
export function toWire(value: unknown): unknown {
  if (value instanceof Error) return errorToWire(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
}

export function fromWire(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  if ((value as Record<string, unknown>)[MARK]) return errorFromWire(value as WireError);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
}
