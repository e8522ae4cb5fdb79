import type { Message, Reply } from '@push/protocol';

/** One client session of the fake server. */
export interface Session {
  id: string;
  /** Subscribed patterns. */
  subs: Set<string>;
  /** Messages waiting for the next connect (long-polling). */
  queue: Message[];
  /** The connect held open until messages arrive or its timeout. */
  held?: { reply: Reply; respond: (batch: Message[]) => void; timer: unknown };
  /** A downstream stream (WebSocket, SSE, iframe): messages go there at once. */
  stream?: (batch: Message[]) => void;
  /** Connect replies sent, numbered for the `ack` extension. */
  batch: number;
}

/** What a handler gets besides the message: the reply skeleton, the session and the responder. */
export interface HandlerContext {
  /** `{ channel, id, clientId }` of the message, the start of every reply. */
  base: Pick<Reply, 'channel' | 'id' | 'clientId'>;
  /** The sender's session; every handler but the handshake's runs only with one. */
  session: Session;
  /** Answers the request the message came in (a held connect answers later through it). */
  respond: (batch: Message[]) => void;
}
