/**
 * Presence on a channel: enter/leave/members are requests on `/service/presence`; join/leave
 * events arrive on `presenceChannel(channel)`. After a new session the member re-enters. The
 * shared tab client (`@push/client/share`) builds the same handles over requests that go to the
 * tab holding the connection (`presenceHandles`).
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
import type { Subscriptions } from './subscriptions.js';
import type { MessageHandler, Presence, Subscription } from './types.js';

type Listener = (member: PresenceMember) => void;

/** What presence handles are built on. */
export interface PresenceDeps {
  /** Sends a presence request; resolves with the members the reply lists. */
  call(request: PresenceRequest): Promise<PresenceMember[]>;
  subscribe(channel: string, handler: MessageHandler): Subscription;
  /** Channels entered, with the data: re-entered after a new session (a shared tab sends them to its holder). */
  entered: Map<string, unknown>;
}

/** The presence channels of one client. */
export interface Presences {
  /** The handle of `channel`, created on first use and kept until its `close()`. */
  get(channel: string): Presence;
  /** After (re)connecting: members re-enter when the session is new. */
  renew(fresh: boolean): void;
}

/**
 * One presence handle per channel over `deps`.
 * @example const presences = presenceHandles({ call, subscribe, entered: new Map() });
 * const lobby = presences.get('/chat/lobby');
 */
export function presenceHandles({ call, subscribe, entered }: PresenceDeps): Presences {
  const handles = new Map<string, Presence>();
  const create = (channel: string): Presence => {
    // join/leave listeners as mitt kept them (it was a dependency for this alone): a list per
    // event, so a function added twice is called twice and `off` removes one of them.
    let listeners: { join?: Listener[]; leave?: Listener[] } = {};
    const off = (event: 'join' | 'leave', fn: Listener) => {
      const list = listeners[event];
      list?.splice(list.indexOf(fn) >>> 0, 1);
    };
    let sub: Subscription | undefined;
    const listen = () => {
      sub ??= subscribe(presenceChannel(channel), (data) => {
        const event = data as PresenceEvent;
        if (event?.type === 'join' || event?.type === 'leave')
          for (const fn of listeners[event.type]?.slice() ?? []) fn(event.member);
      });
      return sub.ready;
    };
    return {
      channel,
      async enter(data) {
        await listen();
        entered.set(channel, data);
        return call({ action: 'enter', channel, data });
      },
      async leave() {
        entered.delete(channel);
        await call({ action: 'leave', channel });
      },
      members: () => call({ action: 'members', channel }),
      on(event, fn) {
        void listen().catch(() => {});
        listeners[event] = [...(listeners[event] ?? []), fn];
        return () => off(event, fn);
      },
      off,
      async close() {
        const wasEntered = entered.delete(channel);
        listeners = {};
        sub?.unsubscribe();
        sub = undefined;
        handles.delete(channel);
        if (wasEntered) await call({ action: 'leave', channel });
      },
    };
  };
  return {
    get(channel) {
      const handle = handles.get(channel) ?? create(channel);
      handles.set(channel, handle);
      return handle;
    },
    renew(fresh) {
      if (fresh)
        for (const [channel, data] of entered) call({ action: 'enter', channel, data }).catch(() => {});
    },
  };
}

/**
 * Presence for a client, over its publish path and subscriptions. Wired into `@push/client`; pass
 * it to `createClientFactory` for a custom preset (the WebSocket-only entry leaves it out).
 * @example createClientFactory([websocket()], { presence: createPresences });
 */
export function createPresences(
  send: (channel: string, data: unknown) => Promise<Reply>,
  subscriptions: Subscriptions,
): Presences {
  return presenceHandles({
    call: async (request) =>
      ((await send(PRESENCE_SERVICE, request)).data as PresenceReply | undefined)?.members ?? [],
    subscribe: subscriptions.subscribe,
    entered: new Map(),
  });
}
