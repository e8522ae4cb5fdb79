/** `/service/presence`: enter and leave publish join / leave on `/presence{channel}`; every reply lists the members. */
import type { Message, PresenceRequest } from '@push/protocol';
import type { FakeServer } from './index.js';
import type { HandlerContext } from './session.js';

export function presence(server: FakeServer, message: Message, { base, session }: HandlerContext): Message[] {
  const request = (message as { data: PresenceRequest }).data;
  const list = server.members.get(request.channel) ?? [];
  if (request.action === 'enter') {
    const member = { clientId: session.id, data: request.data };
    list.push(member);
    server.publish(`/presence${request.channel}`, { type: 'join', channel: request.channel, member });
  } else if (request.action === 'leave') {
    const at = list.findIndex((x) => x.clientId === session.id);
    if (at >= 0) {
      const [member] = list.splice(at, 1);
      server.publish(`/presence${request.channel}`, { type: 'leave', channel: request.channel, member });
    }
  }
  server.members.set(request.channel, list);
  return [{ ...base, successful: true, data: { channel: request.channel, members: [...list] } }];
}
