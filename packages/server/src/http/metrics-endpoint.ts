/** `GET {path}/metrics`: Prometheus text exposition of this server's own registry. */
import type { ServerResponse } from 'node:http';
import type { Engine } from '../engine.js';
import { send } from './body.js';

export async function handleMetricsEndpoint(engine: Engine, res: ServerResponse): Promise<void> {
  const { text, contentType } = await engine.metrics.exposition();
  send(res, 200, contentType, text);
}
