/**
 * The broker contract, as defined by `@push/server` (packages/server/src/broker/types.ts).
 * Re-exported from there so this package implements exactly the server's interface.
 */
export type {
  Broker,
  BrokerListener,
  BrokerMessage,
  BrokerPublishInput,
  HistoryResult,
  PresenceStore,
  SessionStore,
} from '@push/server';
