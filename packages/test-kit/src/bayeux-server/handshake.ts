/** `/meta/handshake`: a new session, or the refusal the test configured. */
import type { Message, Reply } from '@push/protocol';
import type { FakeServer } from './index.js';

export function handshake(server: FakeServer, message: Message): Reply {
  const base = { channel: message.channel, id: message.id, clientId: message.clientId };
  if (server.handshakeError)
    return { ...base, successful: false, error: server.handshakeError, advice: server.handshakeAdvice };
  const session = server.open();
  return {
    ...base,
    clientId: session.id,
    successful: true,
    version: '1.0',
    ext: { ack: true },
    advice: server.advice,
  };
}
