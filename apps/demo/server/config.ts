/** The demo server's settings, from the environment. */
import { randomBytes } from 'node:crypto';

export interface DemoServerConfig {
  port: number;
  host: string | undefined;
  /** Use the Redis broker (`@push/redis`) at this URL instead of the in-memory one. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key (`PUSH_REDIS_PREFIX`), so two deployments can share one Redis; default `push:`. */
  redisPrefix?: string | undefined;
  /** Refuse handshakes without a token issued by `POST /login`. */
  auth: boolean;
  /** HMAC secret for the demo's tokens; random per process unless set. */
  secret: string;
  /**
   * Run the stock simulator and publish this process's metrics. Turn off (`DEMO_SIMULATORS=0`) on
   * extra processes sharing one Redis, so quotes and monitor samples come from a single node.
   */
  simulators: boolean;
  /** Directory of the built pages. */
  staticDir: string;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

export function readConfig(env: NodeJS.ProcessEnv, staticDir: string): DemoServerConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a port number (0-65535), got "${env.PORT}"`);
  }
  return {
    port,
    host: env.HOST || undefined,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.PUSH_REDIS_PREFIX || undefined,
    auth: TRUE.has((env.DEMO_AUTH ?? '').toLowerCase()),
    secret: env.DEMO_SECRET || randomBytes(32).toString('hex'),
    simulators: !['0', 'false', 'no', 'off'].includes((env.DEMO_SIMULATORS ?? '').toLowerCase()),
    staticDir: env.DEMO_STATIC_DIR || staticDir,
  };
}
