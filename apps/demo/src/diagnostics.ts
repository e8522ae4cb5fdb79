/**
 * What the transport inspector shows about one client: transport and state history, reconnects,
 * fallbacks and round-trip latency. A small external store read with `useSyncExternalStore`.
 */
import type { ConnectionState, Fallback, PushClient, TransportChange } from '@push/client';
import type { SharedClient, Sharing } from '@push/client/share';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { channels } from '../shared/types.js';

export interface LogEntry {
  /** Increasing number, unique per client. */
  seq: number;
  at: number;
  text: string;
  kind: 'state' | 'transport' | 'fallback' | 'error';
}

export interface Diagnostics {
  state: ConnectionState;
  transport: string | undefined;
  fallbacks: readonly Fallback[];
  reconnects: number;
  /** Latest publish round trip to `/service/ping`, in milliseconds. */
  latency: number | undefined;
  /** Recent round trips, oldest first. */
  latencies: number[];
  connectedAt: number | undefined;
  /**
   * With sharing on: how many tabs share the connection and who holds it (undefined until the
   * holder has spoken, or when sharing is off).
   */
  sharing: Sharing | undefined;
  log: LogEntry[];
}

/** The client shares its connection with other tabs (`createClient` from `@push/client/share`). */
function isShared(client: PushClient): client is SharedClient {
  return typeof (client as Partial<SharedClient>).onSharing === 'function';
}

const PING_EVERY = 2_000;
const LOG_SIZE = 30;

class DiagnosticsStore {
  #value: Diagnostics;
  readonly #listeners = new Set<() => void>();
  readonly #stop: Array<() => void> = [];

  constructor(readonly client: PushClient) {
    this.#value = {
      state: client.state,
      transport: client.transport,
      fallbacks: [...client.fallbacks],
      reconnects: 0,
      latency: undefined,
      latencies: [],
      connectedAt: client.state === 'connected' ? Date.now() : undefined,
      sharing: isShared(client) ? client.sharing : undefined,
      log: [{ seq: 0, at: Date.now(), kind: 'state', text: `client created (${client.state})` }],
    };
    this.#stop.push(
      client.on('state', (state: ConnectionState, previous: ConnectionState) =>
        this.#onState(state, previous),
      ),
      client.on('transport', (change: TransportChange) => this.#onTransport(change)),
      client.on('error', (error: Error) => this.#append({ kind: 'error', text: error.message })),
    );
    if (isShared(client)) {
      let holder = client.sharing?.leader;
      this.#stop.push(
        client.onSharing((sharing) => {
          if (sharing && sharing.leader !== holder) {
            holder = sharing.leader;
            const who = sharing.here ? 'this tab' : sharing.holder === 'worker' ? 'a worker' : 'another tab';
            this.#append(
              { kind: 'transport', text: `connection held by ${who} (${sharing.leader})` },
              { sharing },
            );
          } else this.#set({ sharing });
        }),
      );
    }
    const timer = setInterval(() => void this.#ping(), PING_EVERY);
    this.#stop.push(() => clearInterval(timer));
  }

  get = (): Diagnostics => this.#value;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  dispose(): void {
    for (const stop of this.#stop.splice(0)) stop();
  }

  #set(patch: Partial<Diagnostics>): void {
    this.#value = { ...this.#value, ...patch };
    for (const listener of this.#listeners) listener();
  }

  #seq = 0;

  #append(entry: Omit<LogEntry, 'at' | 'seq'>, patch: Partial<Diagnostics> = {}): void {
    const log = [...this.#value.log, { ...entry, seq: ++this.#seq, at: Date.now() }].slice(-LOG_SIZE);
    this.#set({ ...patch, log });
  }

  #onState(state: ConnectionState, previous: ConnectionState): void {
    const reconnects =
      this.#value.reconnects + (state === 'reconnecting' && previous !== 'reconnecting' ? 1 : 0);
    const connectedAt = state === 'connected' ? Date.now() : this.#value.connectedAt;
    this.#append(
      { kind: 'state', text: `${previous} → ${state}` },
      {
        state,
        reconnects,
        connectedAt,
        fallbacks: [...this.client.fallbacks],
        transport: this.client.transport,
      },
    );
    if (state === 'connected') void this.#ping();
  }

  #onTransport(change: TransportChange): void {
    const fallbacks = [...this.client.fallbacks];
    const text = change.previous
      ? `${change.previous} → ${change.transport} (${change.reason})`
      : `${change.transport} (${change.reason})`;
    this.#append({ kind: 'transport', text }, { transport: change.transport, fallbacks });
  }

  async #ping(): Promise<void> {
    if (this.client.state !== 'connected') return;
    const started = performance.now();
    try {
      await this.client.publish(channels.ping, { sent: Date.now() });
    } catch {
      return;
    }
    const latency = Math.round((performance.now() - started) * 10) / 10;
    this.#set({ latency, latencies: [...this.#value.latencies, latency].slice(-40) });
  }
}

/** Live diagnostics of `client`; a fresh store per client, created and disposed by an effect. */
export function useDiagnostics(client: PushClient): Diagnostics {
  const [store, setStore] = useState<DiagnosticsStore | undefined>(undefined);
  useEffect(() => {
    const next = new DiagnosticsStore(client);
    setStore(next);
    return () => next.dispose();
  }, [client]);
  const current = store?.client === client ? store : undefined;
  return useSyncExternalStore(current?.subscribe ?? noSubscribe, current?.get ?? (() => EMPTY));
}

const EMPTY: Diagnostics = {
  state: 'connecting',
  transport: undefined,
  fallbacks: [],
  reconnects: 0,
  latency: undefined,
  latencies: [],
  connectedAt: undefined,
  sharing: undefined,
  log: [],
};

function noSubscribe(): () => void {
  return () => {};
}
