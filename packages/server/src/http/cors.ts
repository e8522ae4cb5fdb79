/** CORS for the HTTP transports, driven by the same Origin allow-list as WebSocket. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginPolicy } from './origin.js';

/**
 * Sets CORS headers and answers preflights, for a request already judged by `originRefusal`
 * (origin.ts; the router refuses sites not on the `origins` list first). Returns true when the
 * request was fully answered here.
 *
 * Only a configured list earns `access-control-allow-credentials`: without one any site may read
 * responses, so they must never be made with the user's cookies (`*` cannot carry credentials).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: OriginPolicy): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (policy.hasOriginList) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    } else {
      res.setHeader('access-control-allow-origin', '*');
    }
  }
  if (req.method === 'OPTIONS') {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader(
      'access-control-allow-headers',
      req.headers['access-control-request-headers'] ??
        'content-type, authorization, x-push-key, last-event-id',
    );
    res.setHeader('access-control-max-age', '600');
    res.writeHead(204);
    res.end();
    return true;
  }
  return false;
}
