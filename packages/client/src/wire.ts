/**
 * Parsing of incoming batches. `decodeBatch` from @push/protocol is built for the server (it
 * formats Bayeux error replies and pulls in the whole error table, ~1.2 KB gzip); a client only
 * needs to drop what is not a batch, so it parses here and ignores malformed input.
 */
import type { Message } from '@push/protocol';

const isMessage = (m: { channel?: unknown } | null): m is Message => typeof m?.channel === 'string';

/** Parses a batch (or a single message); returns [] for anything that is not one. */
export function parseBatch(text: string): Message[] {
  try {
    const value: unknown = JSON.parse(text);
    const list = Array.isArray(value) ? value : [value];
    // Every delivery passes here: a well-formed batch (all of them, in practice) is kept as it is.
    return list.every(isMessage) ? list : list.filter(isMessage);
  } catch {
    return [];
  }
}
