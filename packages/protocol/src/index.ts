/**
 * @push/protocol — Bayeux 1.0 wire types with Push's `ext` fields, channel names and wildcard
 * matching, Bayeux error strings, and the framing codec of each transport. No runtime dependencies.
 *
 * @example
 * import { SubscriptionIndex, encodeBatch, bayeuxErrors } from '@push/protocol';
 * const index = new SubscriptionIndex<string>();
 * index.add('/stocks/**', 'client-1');
 * index.match('/stocks/aex/philips'); // Set { 'client-1' }
 */

export * from './channel.js';
export * from './codecs/callback-name.js';
export * from './codecs/iframe.js';
export * from './codecs/json-batch.js';
export * from './codecs/jsonp.js';
export * from './codecs/script-safe-json.js';
export * from './codecs/sse.js';
export * from './errors.js';
export * from './messages.js';
export * from './subscription-index.js';
export * from './transports.js';
