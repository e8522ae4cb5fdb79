/**
 * @push/server — the Push reference server: every Bayeux transport on one path, sessions with
 * bounded queues, channel history with resume, presence, auth hooks, metrics, a broker interface.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createPushServer } from '@push/server';
 * const http = createServer();
 * const push = createPushServer({ server: http, path: '/push' });
 * http.listen(8080);
 */

export { type JwtAuthenticatorOptions, jwtAuthenticator } from './auth/jwt.js';
export { createMemoryBroker, type MemoryBroker, type MemoryBrokerOptions } from './broker/memory.js';
export type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPublishInput,
  HistoryResult,
  PresenceStore,
  SessionStore,
} from './broker/types.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export { ServiceError, type ServiceHandler, type ServiceRequest } from './engine.js';
export { PushServerError, type PushServerErrorCode } from './errors.js';
export type { PushServerEvents } from './events.js';
export { ChannelHistory, type HistoryOptions } from './history.js';
export type { MetricsSnapshot } from './metrics.js';
export type {
  Authenticate,
  Authorize,
  AuthorizeAction,
  PushIdentity,
  PushLimits,
  PushLogEntry,
  PushLogger,
  PushServerOptions,
  RequestInfo,
} from './options.js';
export type { PublishDedupeOptions } from './publish-dedupe.js';
export { createPushServer, type PushServer } from './server.js';
export type { SessionEndReason } from './session.js';
