/**
 * Presence on a channel: enter/leave/members are requests on `/service/presence`; join/leave
 * events arrive on `presenceChannel(channel)`. After a new session the member re-enters.
 */
import {
  PRESENCE_SERVICE,
  type PresenceEvent,
  type PresenceMember,
  type PresenceReply,
  type PresenceRequest,
  presenceChannel,
  type Reply,
} from '@push/protocol';
import mitt from 'mitt';
import type { Subscriptions } from './subscriptions.js';
import type { Presence, Subscription } from './types.js';

/** A Presence plus the hook the client calls after reconnecting. */
export interface PresenceHandle extends Presence {
  /** Re-enters after a new session when this client had entered. */
  renew(fresh: boolean): void;
}

/**
 * Presence for one channel, built on the client's publish path and subscriptions.
 * @example const lobby = createPresence('/chat/lobby', outbox.send, subscriptions);
 */
export function createPresence(
  channel: string,
  send: (channel: string, data: unknown) => Promise<Reply>,
  subscriptions: Subscriptions,
  onClose: () => void = () => {},
): PresenceHandle {
  const events = mitt<{ join: PresenceMember; leave: PresenceMember }>();
  let sub: Subscription | undefined;
  let entered: { data?: unknown } | undefined;
  const listen = () => {
    sub ??= subscriptions.subscribe(presenceChannel(channel), (data) => {
      const event = data as PresenceEvent;
      if (event?.type === 'join' || event?.type === 'leave') events.emit(event.type, event.member);
    });
    return sub.ready;
  };
  const call = async (request: PresenceRequest) =>
    ((await send(PRESENCE_SERVICE, request)).data as PresenceReply | undefined)?.members ?? [];
  return {
    channel,
    async enter(data) {
      await listen();
      entered = { data };
      return call({ action: 'enter', channel, data });
    },
    async leave() {
      entered = undefined;
      await call({ action: 'leave', channel });
    },
    members: () => call({ action: 'members', channel }),
    on(event, fn) {
      void listen().catch(() => {});
      events.on(event, fn);
      return () => events.off(event, fn);
    },
    off: (event, fn) => events.off(event, fn),
    async close() {
      const wasEntered = entered;
      entered = undefined;
      events.all.clear();
      sub?.unsubscribe();
      sub = undefined;
      onClose();
      if (wasEntered) await call({ action: 'leave', channel });
    },
    renew(fresh) {
      if (fresh && entered) call({ action: 'enter', channel, data: entered.data }).catch(() => {});
    },
  };
}

/** The presence channels of one client. */
export interface Presences {
  /** The handle of `channel`, created on first use and kept until its `close()`. */
  get(channel: string): Presence;
  /** After (re)connecting: members re-enter when the session is new. */
  renew(fresh: boolean): void;
}

/**
 * Presence for a client: one handle per channel. Wired into `@push/client`; pass it to
 * `createClientFactory` for a custom preset (the WebSocket-only entry leaves it out).
 * @example createClientFactory([websocket()], { presence: createPresences });
 */
export function createPresences(
  send: (channel: string, data: unknown) => Promise<Reply>,
  subscriptions: Subscriptions,
): Presences {
  const handles = new Map<string, PresenceHandle>();
  return {
    get(channel) {
      let handle = handles.get(channel);
      if (!handle) {
        handle = createPresence(channel, send, subscriptions, () => handles.delete(channel));
        handles.set(channel, handle);
      }
      return handle;
    },
    renew(fresh) {
      for (const handle of handles.values()) handle.renew(fresh);
    },
  };
}
