// The Push server settings of every chaos node (in-process on the file broker, or a child process on
// Redis): short connect holds and heartbeats so faults are noticed within the run, and the default
// queue limit (`maxQueue`), so a session cut as slow shows up as in production. Only the
// per-source handshake rate is lifted: every chaos client comes from 127.0.0.1 through one proxy.
import type { PushServerOptions } from '@push/server';

export const CHAOS_SERVER_OPTIONS = {
  path: '/push',
  timeout: 2000,
  heartbeatInterval: 500,
  limits: { handshakesPerMinute: 1_000_000 },
} satisfies Partial<PushServerOptions>;

/** Messages kept per channel: more than any run publishes on one channel, so no gap exceeds it. */
export const CHAOS_HISTORY = 20_000;
