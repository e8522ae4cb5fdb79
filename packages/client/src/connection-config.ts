/**
 * What the connection is given and what it offers (`connection.ts`): kept apart so the connection
 * module reads as the state table and its wiring.
 */
import type { Message, Reply } from '@push/protocol';
import type { HoldPolicy } from './hold.js';
import type { TransportMemory } from './memory.js';
import type { Platform, TransportFactory } from './transports/transport.js';
import type { AuthToken, ClientEvents, PushClient } from './types.js';
import type { UpgradeControl } from './upgrade.js';

/** What `createConnection` needs: the URL, the platform, the transports, timings and callbacks. */
export interface ConnectionConfig {
  url: URL;
  env: Platform;
  factories: readonly TransportFactory[];
  auth?: AuthToken | (() => Promise<AuthToken>);
  attemptTimeout: number;
  heartbeatGrace: number;
  backoff: { base: number; max: number };
  upgradeDelay: number;
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void;
  /** Data and other non-reply messages, from the current link or one being drained. */
  onMessage(message: Message): void;
  /** Connected; `fresh` when the session is new (subscriptions must be renewed). */
  onConnected(fresh: boolean): void;
  /** Transport memory per origin (`memory.ts`); absent in the WebSocket-only entry. */
  memory?: TransportMemory;
  /** Held-request adaptation (`hold.ts`); absent in the WebSocket-only entry. */
  holdPolicy?: (env: Platform) => HoldPolicy;
  /** Background upgrader (`upgrade.ts`); absent in single-transport entries. */
  upgrade?: (control: UpgradeControl, delay: number) => void;
}

export interface Connection extends Pick<PushClient, 'state' | 'transport' | 'clientId' | 'fallbacks'> {
  start(): void;
  /** Sends a request on the current link; rejects with `connection-lost` when there is none. */
  request(message: Message): Promise<Reply>;
  close(): Promise<void>;
  /** When the current link last delivered anything (the client's clock; 0 without a link). */
  readonly heard: number;
}
