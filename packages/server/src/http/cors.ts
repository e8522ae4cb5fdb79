/** CORS for the HTTP transports, driven by the same Origin allow-list as WebSocket. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendRefusal } from './body.js';
import { type OriginPolicy, originRefusal } from './origin.js';

/**
 * Refuses requests from sites not on the `origins` list (with or without an `Origin` header, see
 * {@link originRefusal}), sets CORS headers and answers preflights. Returns true when the request
 * was fully answered here.
 *
 * Only a configured list earns `access-control-allow-credentials`: without one any site may read
 * responses, so they must never be made with the user's cookies (`*` cannot carry credentials).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: OriginPolicy): boolean {
  const refusal = originRefusal(req.headers, policy);
  if (refusal !== undefined) {
    sendRefusal(res, 403, refusal);
    return true;
  }
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
