/**
 * Presence on `/service/presence`: `enter` (with the client's data), `leave`, `members`.
 * Join and leave events are published on `presenceChannel(channel)` (`/presence<channel>`);
 * a member leaves when its session ends.
 */
import {
  bayeuxErrors,
  type PresenceEvent,
  type PresenceReply,
  type PresenceRequest,
  parseChannel,
  presenceChannel,
} from '@push/protocol';
import { type Engine, ServiceError, type ServiceHandler } from './engine.js';

function requestOf(data: unknown): PresenceRequest {
  const request = data as Partial<PresenceRequest> | null;
  const action = request?.action;
  if (action !== 'enter' && action !== 'leave' && action !== 'members') {
    throw new ServiceError(bayeuxErrors.badRequest('presence needs "action": "enter" | "leave" | "members"'));
  }
  const parsed = parseChannel(request?.channel);
  if (parsed?.wildcard !== 'none' || parsed.kind !== 'data') {
    throw new ServiceError(bayeuxErrors.invalidChannel(String(request?.channel).slice(0, 512)));
  }
  return request as PresenceRequest;
}

/** The `/service/presence` handler bound to `engine`. */
export function presenceService(engine: Engine): ServiceHandler {
  return async ({ data, clientId, identity }): Promise<PresenceReply> => {
    const request = requestOf(data);
    const { channel } = request;
    const session = engine.registry.get(clientId);
    if (!session) throw new ServiceError(bayeuxErrors.unknownClient());
    if (request.action !== 'leave') {
      const authorize = engine.options.authorize;
      if (authorize && !(await authorize(identity, 'presence', channel))) {
        throw new ServiceError(bayeuxErrors.forbidden(channel, 'presence'));
      }
    }
    if (request.action === 'enter') {
      const member = { clientId, ...(request.data === undefined ? {} : { data: request.data }) };
      const isNew = await engine.broker.presence.enter(channel, member, engine.options.sessionTimeout * 2);
      session.presence ??= new Set();
      session.presence.add(channel);
      if (isNew) {
        const event: PresenceEvent = { type: 'join', channel, member };
        await engine.publish({ channel: presenceChannel(channel), data: event });
      }
    } else if (request.action === 'leave') {
      await engine.leavePresence(session, channel);
    }
    return { channel, members: await engine.broker.presence.members(channel) };
  };
}
