/**
 * Key layout. Every key starts with the broker's prefix (default `push:`); per-channel keys put the
 * channel name in a hash tag so a channel's log and meta always live in one slot.
 *
 * | key                          | type    | holds                                             |
 * |------------------------------|---------|---------------------------------------------------|
 * | `{prefix}bus`                | pub/sub | every published message, one channel for all nodes |
 * | `{prefix}bus:meta`           | hash    | `epoch` of the bus log                             |
 * | `{prefix}bus:log`            | stream  | the last published messages of all channels, ids `0-<seq>` |
 * | `{prefix}{/a/b}:meta`        | hash    | `epoch` (random id) and `top` (last offset)        |
 * | `{prefix}{/a/b}:log`         | stream  | history: field `o` = offset, `p` = message JSON    |
 * | `{prefix}{/a/b}:members`     | hash    | presence: clientId -> member JSON                  |
 * | `{prefix}presence:expiry`    | zset    | `channel\nclientId` scored by expiry time (ms)     |
 * | `{prefix}session:<clientId>` | string  | the id of the node holding the session (PX TTL)    |
 * | `{prefix}node:<nodeId>`      | string  | present while that node lives (short PX TTL)       |
 * | `{prefix}relay:<nodeId>`     | stream  | requests, answers and socket writes relayed to that node; unread entries only |
 */

/** The keys of one broker, derived from its prefix. */
export interface KeyLayout {
  readonly prefix: string;
  /** The pub/sub channel every node subscribes to. */
  readonly bus: string;
  /** Epoch of the bus log. */
  readonly busMeta: string;
  /** Recent messages of every channel under a dense sequence, to replay after a reconnect. */
  readonly busLog: string;
  /** Presence expiry index over every channel. */
  readonly presenceExpiry: string;
  meta(channel: string): string;
  log(channel: string): string;
  members(channel: string): string;
  /** Shared sessions: which node holds `clientId`. */
  session(clientId: string): string;
  /** Liveness of a node. */
  node(nodeId: string): string;
  /** The Stream a node reads relayed requests from. */
  relay(nodeId: string): string;
}

/**
 * Builds the key layout for `prefix`.
 * @example createKeyLayout('push:').log('/chat') === 'push:{/chat}:log'
 */
export function createKeyLayout(prefix: string): KeyLayout {
  return {
    prefix,
    bus: `${prefix}bus`,
    busMeta: `${prefix}bus:meta`,
    busLog: `${prefix}bus:log`,
    presenceExpiry: `${prefix}presence:expiry`,
    meta: (channel) => `${prefix}{${channel}}:meta`,
    log: (channel) => `${prefix}{${channel}}:log`,
    members: (channel) => `${prefix}{${channel}}:members`,
    session: (clientId) => `${prefix}session:${clientId}`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    relay: (nodeId) => `${prefix}relay:${nodeId}`,
  };
}

/** The presence expiry index member for `clientId` in `channel`. */
export function presenceEntry(channel: string, clientId: string): string {
  return `${channel}\n${clientId}`;
}
