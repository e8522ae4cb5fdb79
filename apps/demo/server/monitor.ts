/**
 * The live monitor feed: once a second, the Push server's metrics plus process memory, with
 * per-second rates, published on `/monitor/stats`. Recent samples are kept for freshly opened pages.
 */
import { channels, type MonitorStats } from '../shared/types.js';

/** What the monitor reads from the Push server (`server.metrics()`). */
export interface MetricsLike {
  sessions: number;
  subscriptions: number;
  connections: Partial<Record<string, number>>;
  messagesIn: number;
  messagesOut: number;
  fallbacks: Record<string, number>;
}

export interface MonitorOptions {
  metrics(): MetricsLike;
  publish(channel: string, data: MonitorStats): unknown;
  broker: MonitorStats['broker'];
  /** Milliseconds between samples. @defaultValue 1000 */
  interval?: number;
  /** Samples kept for `GET /api/monitor`. @defaultValue 120 */
  keep?: number;
}

export interface Monitor {
  history(): MonitorStats[];
  stop(): void;
}

export function startMonitor(options: MonitorOptions): Monitor {
  const interval = options.interval ?? 1_000;
  const keep = options.keep ?? 120;
  const samples: MonitorStats[] = [];
  const started = Date.now();
  let previous: { time: number; in: number; out: number } | undefined;

  const sample = () => {
    const m = options.metrics();
    const time = Date.now();
    const seconds = previous ? Math.max(0.001, (time - previous.time) / 1_000) : 1;
    const memory = process.memoryUsage();
    const stats: MonitorStats = {
      time,
      uptime: Math.round((time - started) / 1_000),
      sessions: m.sessions,
      subscriptions: m.subscriptions,
      connections: { ...m.connections },
      messagesIn: m.messagesIn,
      messagesOut: m.messagesOut,
      inPerSec: previous ? Math.max(0, Math.round((m.messagesIn - previous.in) / seconds)) : 0,
      outPerSec: previous ? Math.max(0, Math.round((m.messagesOut - previous.out) / seconds)) : 0,
      memory: { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal },
      fallbacks: { ...m.fallbacks },
      broker: options.broker,
    };
    previous = { time, in: m.messagesIn, out: m.messagesOut };
    samples.push(stats);
    if (samples.length > keep) samples.shift();
    void Promise.resolve(options.publish(channels.monitor, stats)).catch(() => {});
  };
  const timer = setInterval(sample, interval);
  return { history: () => [...samples], stop: () => clearInterval(timer) };
}
