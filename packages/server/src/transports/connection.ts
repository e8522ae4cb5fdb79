/** The downstream side of a session: where the server writes messages for one client. */
import type { ConnectionType, Message } from '@push/protocol';
import type { Delivery } from '../delivery.js';

/**
 * A live channel to one client that can carry messages at any time: a WebSocket, an SSE stream,
 * a forever-iframe. (Long-polling and JSONP have no Connection: they answer held requests.)
 * Deliveries are written as they happen on every connection, with the ack extension too: the next
 * `/meta/connect` reply numbers the batch of what went out since (`ext.ack`), and the client acks
 * it with its next connect, so acks never hold a delivery back.
 */
export interface Connection {
  readonly type: ConnectionType;
  /** True while the socket holds more unsent bytes than allowed: the session queues instead. */
  isBlocked(): boolean;
  /** Calls `callback` once when the socket has drained below the limit (or is closed). */
  onceUnblocked(callback: () => void): void;
  /**
   * Writes deliveries now, as one frame where the framing allows (transports share the frame
   * between subscribers that get the same deliveries: see `wsRunFrameOf`).
   */
  write(deliveries: readonly Delivery[]): void;
  /** Writes replies, then deliveries, as one batch (connect replies, error notices). */
  writeBatch(replies: readonly Message[], deliveries: readonly Delivery[]): void;
  /** Ends the connection. */
  close(): void;
}
