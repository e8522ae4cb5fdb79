/**
 * Server metrics, counted with plain numbers on the hot path and exported through a prom-client
 * Registry owned by this server instance (never the global registry).
 */
import type { ConnectionType, FallbackReport } from '@push/protocol';
import type { Registry } from 'prom-client';
import type { Session } from './session.js';

/** A point-in-time view of the server's counters (`server.metrics()`). */
export interface MetricsSnapshot {
  /** Live sessions. */
  sessions: number;
  /** Live sessions by the connection type they last used. */
  connections: Partial<Record<ConnectionType, number>>;
  /** Subscriptions held across all sessions. */
  subscriptions: number;
  /** Messages received from clients and HTTP publishers (every Bayeux message). */
  messagesIn: number;
  /** Data messages written to clients. */
  messagesOut: number;
  /** Clients cut off because their queue overflowed. */
  queueOverflows: number;
  /** Fallbacks reported by clients, keyed `from->to`. */
  fallbacks: Record<string, number>;
  /**
   * Inputs refused and limits hit, by reason: a ProtocolError code (`malformed-json`, `too-deep`,
   * ...) or a limit name (`handshake-rate`, `pending-batches`, `handshake-timeout`, ...).
   */
  refusals: Record<string, number>;
  /** Exceptions caused by one client that were contained (that client's session or connection ended). */
  faults: number;
}

/** What the metrics read from the server at scrape time. */
export interface MetricsSource {
  sessions(): Iterable<Session>;
}

/** Counters plus their Prometheus exposition. */
export class ServerMetrics {
  messagesIn = 0;
  messagesOut = 0;
  queueOverflows = 0;
  faults = 0;
  private readonly fallbacks = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  /**
   * This server's own prom-client registry (never the global one), built on the first scrape:
   * a server nobody scrapes never loads prom-client.
   */
  private registry: Promise<Registry> | undefined;

  constructor(private readonly source: MetricsSource) {}

  /** Counts the fallbacks a client reported in its handshake. */
  reportFallbacks(reports: unknown): void {
    if (!Array.isArray(reports)) return;
    for (const report of reports.slice(0, 16) as Partial<FallbackReport>[]) {
      if (typeof report?.from !== 'string' || typeof report.to !== 'string') continue;
      const key = `${report.from.slice(0, 32)}->${report.to.slice(0, 32)}`;
      this.fallbacks.set(key, (this.fallbacks.get(key) ?? 0) + 1);
    }
  }

  /** Counts one refused input or hit limit under `reason`. */
  refused(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  snapshot(): MetricsSnapshot {
    let sessions = 0;
    let subscriptions = 0;
    const connections: Partial<Record<ConnectionType, number>> = {};
    for (const session of this.source.sessions()) {
      sessions++;
      subscriptions += session.subscriptionCount;
      if (session.transport) connections[session.transport] = (connections[session.transport] ?? 0) + 1;
    }
    return {
      sessions,
      connections,
      subscriptions,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      queueOverflows: this.queueOverflows,
      fallbacks: Object.fromEntries(this.fallbacks),
      refusals: Object.fromEntries(this.refusals),
      faults: this.faults,
    };
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ text: string; contentType: string }> {
    this.registry ??= this.createRegistry();
    const registry = await this.registry;
    return { text: await registry.metrics(), contentType: registry.contentType };
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    return (await this.exposition()).text;
  }

  private async createRegistry(): Promise<Registry> {
    const { Counter, Gauge, Registry } = await import('prom-client');
    const registry = new Registry();
    const self = this;
    new Gauge({
      name: 'push_sessions',
      help: 'Live Bayeux sessions',
      registers: [registry],
      collect() {
        this.set(self.snapshot().sessions);
      },
    });
    new Gauge({
      name: 'push_connections',
      help: 'Live sessions by connection type',
      labelNames: ['transport'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [transport, count] of Object.entries(self.snapshot().connections))
          this.set({ transport }, count);
      },
    });
    new Gauge({
      name: 'push_subscriptions',
      help: 'Channel subscriptions across all sessions',
      registers: [registry],
      collect() {
        this.set(self.snapshot().subscriptions);
      },
    });
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter('push_messages_in_total', 'Bayeux messages received', () => this.messagesIn);
    counter('push_messages_out_total', 'Data messages delivered to clients', () => this.messagesOut);
    counter(
      'push_queue_overflows_total',
      'Clients cut off because their queue overflowed',
      () => this.queueOverflows,
    );
    counter('push_faults_total', 'Client-caused exceptions contained to that client', () => this.faults);
    new Counter({
      name: 'push_refusals_total',
      help: 'Inputs refused and limits hit, by reason',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of self.refusals) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: 'push_fallbacks_total',
      help: 'Transport fallbacks reported by clients at handshake',
      labelNames: ['from', 'to'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, count] of self.fallbacks) {
          const [from = '', to = ''] = key.split('->');
          this.inc({ from, to }, count);
        }
      },
    });
    return registry;
  }
}
