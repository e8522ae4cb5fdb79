/**
 * Sessions whose credentials expire. An `authenticate` hook may return an identity with
 * `expiresAt` (`jwtAuthenticator` sets it from the token's `exp`); once the server's clock passes
 * it the session ends with `401::Token expired` and `advice.reconnect: 'handshake'`, on whatever
 * transport, so the client handshakes again with fresh credentials (and resumes from history).
 */
import { bayeuxErrors, type Reply } from '@push/protocol';
import type { Engine } from './engine.js';
import type { PushIdentity } from './options.js';
import type { Session } from './session.js';

/** The Bayeux error a session whose credentials expired gets. */
const CREDENTIALS_EXPIRED_ERROR = bayeuxErrors.unauthenticated('Token expired');

/** True when `identity` carries an expiry that `now` has reached. */
export function credentialsExpired(identity: PushIdentity, now: number): boolean {
  const expiresAt = identity.expiresAt;
  return typeof expiresAt === 'number' && expiresAt <= now;
}

/**
 * Ends a session whose credentials expired. A held `/meta/connect` is answered first as usual
 * (with what is queued): a final reply put in its place would not carry the connect's `id`, and
 * HTTP clients match replies by id. The client's next request then gets `401::Token expired` with
 * handshake advice (the registry's tombstone); a stream or WebSocket gets the final reply at once.
 */
export function endExpiredSession(engine: Engine, session: Session): void {
  session.release();
  engine.endSession(session, 'expired', credentialsExpiredReply(session.id));
}

/** The final `/meta/connect` reply that ends a session whose credentials expired. */
function credentialsExpiredReply(clientId: string): Reply {
  return {
    channel: '/meta/connect',
    clientId,
    successful: false,
    error: CREDENTIALS_EXPIRED_ERROR,
    advice: { reconnect: 'handshake', interval: 0 },
  };
}
