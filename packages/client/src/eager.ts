/**
 * The real modules behind the stand-ins of `lazy.ts`, loaded at once. The SharedWorker build
 * (`rollup.config.mjs`) puts this module in `lazy.ts`'s place: the worker is one self-contained
 * file, where on-demand loading saves nothing and its namespace objects would keep code that
 * tree-shaking drops (fetchFrame and the iframe decoder: +3 kB gzip).
 */
export { createPresences, presenceHandles } from './presence.js';
export { eventSource } from './transports/eventsource.js';
export { domFrame, fetchFrame, iframe } from './transports/iframe.js';
export { longPolling } from './transports/long-polling.js';
export { upgrade } from './upgrade.js';
