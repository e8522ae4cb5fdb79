/** CORS for the HTTP transports, driven by the same Origin allow-list as WebSocket. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors } from '@push/protocol';
import { sendRefusal } from './body.js';

/**
 * Sets CORS headers for an allowed Origin; answers preflights and refuses disallowed origins.
 * Returns true when the request was fully answered here.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  isOriginAllowed: (origin: string | undefined) => boolean,
): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && !isOriginAllowed(origin)) {
    sendRefusal(res, 403, bayeuxErrors.forbidden(origin, 'origin'));
    return true;
  }
  if (origin !== undefined) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
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
