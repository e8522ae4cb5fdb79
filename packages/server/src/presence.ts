/**
 * Presence on `/service/presence`: `enter` (with the client's data), `leave`, `members`.
 * Join and leave events are published on `presenceChannel(channel)` (`/presence<channel>`);
 * a member leaves when its session ends. A session may be in at most `limits.maxPresence`
 * channels at once (`429:presence,N:Limit exceeded: presence`).
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
      session.presence ??= new Set();
      const entered = session.presence;
      const already = entered.has(channel);
      const max = engine.options.limits.maxPresence;
      // Every entry costs broker memory until the session ends: bounded per session. Counted
      // before the broker is awaited, so concurrent enters cannot all slip under the limit.
      if (!already && entered.size >= max)
        throw new ServiceError(bayeuxErrors.limitExceeded('presence', max));
      entered.add(channel);
      const member = { clientId, ...(request.data === undefined ? {} : { data: request.data }) };
      let isNew: boolean;
      try {
        isNew = await engine.broker.presence.enter(channel, member, engine.options.sessionTimeout * 2);
      } catch (error) {
        if (!already) entered.delete(channel);
        throw error;
      }
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
