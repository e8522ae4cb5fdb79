/**
 * The chunk `@push/client` loads on demand (`lazy.ts`): the HTTP fallback transports and the
 * background upgrader. One module, so the first fallback fetches them all at once (a client that
 * leaves WebSocket usually walks on down the list, and the upgrader runs only off the best one).
 */
export { eventSource } from './transports/eventsource.js';
export { domFrame, fetchFrame, iframe } from './transports/iframe.js';
export { longPolling } from './transports/long-polling.js';
export { tryUpgrade } from './upgrade.js';
