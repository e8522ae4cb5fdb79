/**
 * Bayeux 1.0 message shapes, plus the fields Push adds inside `ext`.
 *
 * Everything Push adds travels in `ext`, so plain Bayeux peers (Faye, CometD) ignore it.
 * See docs/protocol.md for every field with examples.
 */

/**
 * Bayeux connection types. `iframe` is Push's own (forever-iframe / htmlfile streaming). Their
 * traits and the default order are in `transports.ts` (`TRANSPORTS`, `DEFAULT_ORDER`).
 */
export type ConnectionType = 'websocket' | 'eventsource' | 'long-polling' | 'callback-polling' | 'iframe';

/** The protocol version a handshake announces. */
export const BAYEUX_VERSION = '1.0';

/** What the client must do after this reply (Bayeux `advice.reconnect`). */
export type ReconnectAdvice = 'retry' | 'handshake' | 'none';

/** Bayeux `advice`: how the client should reconnect and how long requests are held. */
export interface Advice {
  reconnect?: ReconnectAdvice;
  /** Milliseconds to wait before the next `/meta/connect`. */
  interval?: number;
  /** Milliseconds the server holds a `/meta/connect` open (0: plain polling). */
  timeout?: number;
  'multiple-clients'?: boolean;
  hosts?: string[];
}

/** A position in a channel's history: `offset` counts messages, `epoch` names the history instance. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** A presence member as the server reports it. */
export interface PresenceMember {
  clientId: string;
  /** Whatever the client supplied when it entered (name, avatar, …). */
  data?: unknown;
}

/** A presence change, delivered on `presenceChannel(channel)`. */
export interface PresenceEvent {
  type: 'join' | 'leave';
  channel: string;
  member: PresenceMember;
}

/** Report from a client that it fell back from one transport to another (feeds server metrics). */
export interface FallbackReport {
  from: ConnectionType;
  to: ConnectionType;
  reason: string;
}

/** Fields Push adds under `ext.push`. Each field lists the messages it appears on. */
export interface PushExt {
  /** Data messages from the server: the message's position in its channel history. */
  offset?: number;
  /** Data messages and subscribe replies: the history instance the offsets belong to. */
  epoch?: string;
  /** `/meta/subscribe` request: resume each listed channel after the given position. */
  resume?: Record<string, StreamPosition>;
  /** `/meta/subscribe` reply: false when the history window no longer holds what was missed. */
  recovered?: boolean;
  /** `/meta/subscribe` reply: current top position of each resumed channel. */
  positions?: Record<string, StreamPosition>;
  /** `/meta/handshake` request: reports of transports the client gave up on before this one. */
  fallbacks?: FallbackReport[];
  /** `/meta/connect` reply on a stream transport: server time, for round-trip estimates. */
  time?: number;
  /**
   * Publish request: its idempotency key (at most {@link MAX_PUBLISH_KEY_LENGTH} characters). The
   * server publishes a key once within its de-duplication window and answers a repeat with the
   * first publish's reply.
   */
  key?: string;
}

/** Longest `ext.push.key` a server accepts on a publish. */
export const MAX_PUBLISH_KEY_LENGTH = 128;

/** The `ext` object of a message: Push's own fields plus anything other extensions add. */
export interface MessageExt {
  /**
   * Delivery acknowledgement, compatible with CometD's ack extension: `true` on handshake
   * (both directions) to enable it; on `/meta/connect` the server sends the batch number of the
   * messages it delivers and the client echoes the last batch number it received.
   */
  ack?: boolean | number;
  /** Authentication credentials sent with `/meta/handshake`. */
  auth?: { token: string };
  /** Push's own fields. */
  push?: PushExt;
  [key: string]: unknown;
}

/** Fields every Bayeux message may carry. */
export interface MessageBase {
  channel: string;
  id?: string;
  clientId?: string;
  ext?: MessageExt;
  advice?: Advice;
}

export interface HandshakeRequest extends MessageBase {
  channel: '/meta/handshake';
  version: string;
  minimumVersion?: string;
  supportedConnectionTypes: string[];
}

export interface ConnectRequest extends MessageBase {
  channel: '/meta/connect';
  clientId: string;
  connectionType: string;
}

export interface SubscribeRequest extends MessageBase {
  channel: '/meta/subscribe';
  clientId: string;
  subscription: string | string[];
}

export interface UnsubscribeRequest extends MessageBase {
  channel: '/meta/unsubscribe';
  clientId: string;
  subscription: string | string[];
}

export interface DisconnectRequest extends MessageBase {
  channel: '/meta/disconnect';
  clientId: string;
}

/** A publish (client -> server) or a delivery (server -> client) on a data or service channel. */
export interface DataMessage<T = unknown> extends MessageBase {
  data: T;
}

/** Any reply to a request: meta replies and publish acknowledgements. */
export interface Reply extends MessageBase {
  successful: boolean;
  error?: string;
  version?: string;
  supportedConnectionTypes?: string[];
  subscription?: string | string[];
  connectionType?: string;
  /** Service channel replies may carry data. */
  data?: unknown;
}

export type MetaRequest =
  | HandshakeRequest
  | ConnectRequest
  | SubscribeRequest
  | UnsubscribeRequest
  | DisconnectRequest;

/** Anything that may appear in a Bayeux batch, in either direction. */
export type Message = MetaRequest | DataMessage | Reply;

/** Meta channels defined by Bayeux 1.0. */
export const META = {
  handshake: '/meta/handshake',
  connect: '/meta/connect',
  subscribe: '/meta/subscribe',
  unsubscribe: '/meta/unsubscribe',
  disconnect: '/meta/disconnect',
} as const;

export type MetaChannel = (typeof META)[keyof typeof META];

/** The service channel that carries presence requests (`enter`, `leave`, `members`). */
export const PRESENCE_SERVICE = '/service/presence';

/** Request data published on {@link PRESENCE_SERVICE}. */
export type PresenceRequest =
  | { action: 'enter'; channel: string; data?: unknown }
  | { action: 'leave'; channel: string }
  | { action: 'members'; channel: string };

/** Reply data for a presence request. */
export interface PresenceReply {
  channel: string;
  members: PresenceMember[];
}

/**
 * The channel on which join/leave events of `channel` are delivered.
 * @example presenceChannel('/chat/lobby') === '/presence/chat/lobby'
 */
export function presenceChannel(channel: string): string {
  return `/presence${channel}`;
}

/** True when `message` is a reply (it has `successful`). */
export function isReply(message: Message): message is Reply {
  return typeof (message as Reply).successful === 'boolean';
}

/** True when `message` carries application data (a publish or a delivery). */
export function isDataMessage(message: Message): message is DataMessage {
  return 'data' in message && !message.channel.startsWith('/meta/') && !isReply(message);
}
