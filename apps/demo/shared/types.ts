/**
 * Payloads the demo server publishes and the pages read, and the shapes of its small HTTP API.
 * Shared by `server/` and `src/` so both sides agree on the wire.
 */

/** The transports the inspector can force or block, in the client's default preference order. */
export const TRANSPORTS = ['websocket', 'eventsource', 'long-polling', 'iframe'] as const;
export type DemoTransport = (typeof TRANSPORTS)[number];

/** One quote, published on `/stocks/aex/<symbol>` (symbol in lower case). */
export interface Quote {
  symbol: string;
  name: string;
  price: number;
  /** Previous close, the reference for `change`. */
  open: number;
  change: number;
  changePct: number;
  volume: number;
  /** Milliseconds since the epoch. */
  time: number;
}

/** `GET /api/stocks`: every quote with its recent prices, so the table and sparklines start full. */
export interface StocksSnapshot {
  quotes: Array<Quote & { history: number[] }>;
}

/** One chat line, published on `/chat/<room>`. */
export interface ChatMessage {
  id: string;
  name: string;
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** Typing indicator, published on `/chat/<room>/typing`. */
export interface TypingEvent {
  name: string;
  typing: boolean;
}

/** What a chat member enters presence with. */
export interface ChatMember {
  name: string;
}

/** The server's metrics, published on `/monitor/stats` once a second. */
export interface MonitorStats {
  time: number;
  uptime: number;
  sessions: number;
  subscriptions: number;
  connections: Partial<Record<string, number>>;
  messagesIn: number;
  messagesOut: number;
  /** Rates over the last sample interval. */
  inPerSec: number;
  outPerSec: number;
  memory: { rss: number; heapUsed: number; heapTotal: number };
  fallbacks: Record<string, number>;
  broker: 'memory' | 'redis';
}

/** `GET /api/config`: how the pages should connect. */
export interface DemoConfig {
  /** True when the server refuses handshakes without a token from `POST /login`. */
  auth: boolean;
  broker: 'memory' | 'redis';
  /** The Push endpoint path. */
  path: string;
}

/** `POST /login` request and answer. */
export interface LoginRequest {
  name: string;
}
export interface LoginResponse {
  token: string;
  name: string;
  /** Seconds until the token expires. */
  expiresIn: number;
}

/** Channel names, in one place. */
export const channels = {
  stocks: '/stocks/aex/*',
  stock: (symbol: string) => `/stocks/aex/${symbol.toLowerCase()}`,
  chat: (room: string) => `/chat/${room}`,
  typing: (room: string) => `/chat/${room}/typing`,
  monitor: '/monitor/stats',
  ping: '/service/ping',
} as const;

/** Chat room names: lower-case letters, digits and dashes, so they are valid channel segments. */
export function normalizeRoom(room: string): string {
  return (
    room
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'lobby'
  );
}
