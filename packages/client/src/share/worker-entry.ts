/**
 * `@push/client/share-worker`: the SharedWorker script of `share: { worker }`. Self-contained
 * (the build bundles the client into it), so an app can serve it as a file or let its bundler
 * emit it. See "Sharing one connection" in the README.
 */
import { startShareWorker, type WorkerScope } from './worker.js';

startShareWorker(globalThis as unknown as WorkerScope);
