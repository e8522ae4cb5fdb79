/**
 * Bayeux channel names: validation, classification and wildcard matching.
 * `/a/*` matches exactly one more segment, `/a/**` any number (at least one).
 * Wildcards may only be the last segment.
 */
import { bayeuxErrors, ProtocolError } from './errors.js';

/** Longest channel name Push accepts. */
export const MAX_CHANNEL_LENGTH = 512;

/** Characters a segment may hold: Bayeux's alpha, digit and mark, plus `.`. */
const SEGMENT = /^[A-Za-z0-9\-_!~()$@.]+$/;

export type ChannelKind = 'meta' | 'service' | 'data';
export type WildcardKind = 'none' | 'one' | 'deep';

/** A validated channel name, split into parts. */
export interface ParsedChannel {
  name: string;
  /** Literal segments, without the trailing wildcard. */
  segments: string[];
  kind: ChannelKind;
  wildcard: WildcardKind;
}

/**
 * Parses and validates a channel name or pattern; returns undefined when it is invalid.
 * @example parseChannel('/stocks/aex/*') // { segments: ['stocks','aex'], kind: 'data', wildcard: 'one', … }
 */
export function parseChannel(name: unknown): ParsedChannel | undefined {
  if (typeof name !== 'string' || name.length < 2 || name.length > MAX_CHANNEL_LENGTH || name[0] !== '/') {
    return undefined;
  }
  const parts = name.slice(1).split('/');
  let wildcard: WildcardKind = 'none';
  const last = parts[parts.length - 1];
  if (last === '*' || last === '**') {
    wildcard = last === '*' ? 'one' : 'deep';
    parts.pop();
  }
  for (const part of parts) if (!SEGMENT.test(part)) return undefined;
  const head = parts[0];
  const kind: ChannelKind = head === 'meta' ? 'meta' : head === 'service' ? 'service' : 'data';
  return { name, segments: parts, kind, wildcard };
}

/** True when `name` is a valid channel name or pattern. */
export function isValidChannel(name: unknown): name is string {
  return parseChannel(name) !== undefined;
}

/** True for a pattern ending in `*` or `**`. */
export function isWildcard(name: string): boolean {
  return name.endsWith('/*') || name.endsWith('/**');
}

/** True for `/meta/...` channels. */
export function isMetaChannel(name: string): boolean {
  return name === '/meta' || name.startsWith('/meta/');
}

/** True for `/service/...` channels: delivered to the server only, never broadcast. */
export function isServiceChannel(name: string): boolean {
  return name === '/service' || name.startsWith('/service/');
}

/**
 * Parses a channel or throws a ProtocolError carrying the Bayeux `407` string.
 * @param allowWildcard whether patterns are accepted (subscribe: yes; publish: no)
 */
export function assertChannel(name: unknown, allowWildcard: boolean): ParsedChannel {
  const parsed = parseChannel(name);
  if (!parsed) {
    throw new ProtocolError(
      'invalid-channel',
      `Invalid channel name: ${String(name).slice(0, 80)}`,
      bayeuxErrors.invalidChannel(String(name).slice(0, MAX_CHANNEL_LENGTH)),
    );
  }
  if (!allowWildcard && parsed.wildcard !== 'none') {
    throw new ProtocolError(
      'invalid-channel',
      `Wildcards are not allowed here: ${parsed.name}`,
      bayeuxErrors.invalidChannel(parsed.name),
    );
  }
  return parsed;
}

/**
 * True when `channel` (a concrete name) is matched by `pattern` (a name or wildcard pattern).
 * @example channelMatches('/stocks/**', '/stocks/aex/philips') === true
 */
export function channelMatches(pattern: string, channel: string): boolean {
  if (pattern === channel) return !isWildcard(pattern);
  const parsedPattern = parseChannel(pattern);
  const parsedChannel = parseChannel(channel);
  if (!parsedPattern || !parsedChannel || parsedChannel.wildcard !== 'none') return false;
  const prefix = parsedPattern.segments;
  const segments = parsedChannel.segments;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== segments[i]) return false;
  switch (parsedPattern.wildcard) {
    case 'none':
      return segments.length === prefix.length;
    case 'one':
      return segments.length === prefix.length + 1;
    case 'deep':
      return segments.length > prefix.length;
  }
}
