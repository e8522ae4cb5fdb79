/**
 * Which site a request comes from, judged for the `origins` allow-list on every ingress: HTTP
 * requests of every transport and WebSocket upgrades.
 *
 * `Origin` is not enough: `<script src>` (JSONP), `<iframe src>` and form posts of some browsers
 * carry none, yet carry the victim's cookies. So with a list, an Origin-less request is judged by
 * what the browser says instead:
 *
 * - `Sec-Fetch-Site` (sent by current browsers, and not settable by a page): `same-origin` and
 *   `none` (typed in the address bar) pass; `same-site` and `cross-site` pass only when the
 *   `Referer`'s origin is on the list.
 * - Without it (older browsers) the `Referer` decides when present: its origin must be on the
 *   list, or be this server itself (same origin, its `Host`).
 * - A request with neither is not from a browser page (curl, a back end, a native app): it cannot
 *   carry a victim's cookies, so it passes.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { bayeuxErrors } from '@push/protocol';

/** What the check needs from the server's options. */
export interface OriginPolicy {
  isOriginAllowed(origin: string | undefined): boolean;
  /** False when no `origins` list was configured: then every site is allowed. */
  hasOriginList: boolean;
}

/** The origin (`scheme://host[:port]`) of a URL header, or undefined when it is not one. */
function originOf(url: string | undefined): string | undefined {
  if (url === undefined || url.length > 4096) return undefined;
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why a request with these headers is refused as coming from a site not on the list (a Bayeux
 * `403:<origin>:Forbidden: origin denied`), or undefined when it may go on.
 * @example originRefusal({ 'sec-fetch-site': 'cross-site' }, policy) // '403:cross-site:Forbidden: origin denied'
 */
export function originRefusal(headers: IncomingHttpHeaders, policy: OriginPolicy): string | undefined {
  const origin = single(headers.origin);
  if (origin !== undefined) {
    return policy.isOriginAllowed(origin)
      ? undefined
      : bayeuxErrors.forbidden(origin.slice(0, 256), 'origin');
  }
  if (!policy.hasOriginList) return undefined;
  const site = single(headers['sec-fetch-site']);
  const referer = single(headers.referer);
  const refererOrigin = originOf(referer);
  if (site === 'same-origin' || site === 'none') return undefined;
  if (site !== undefined) {
    // same-site, cross-site (or a value we do not know): only the Referer can name an allowed site.
    if (refererOrigin !== undefined && policy.isOriginAllowed(refererOrigin)) return undefined;
    return bayeuxErrors.forbidden(refererOrigin ?? site.slice(0, 32), 'origin');
  }
  if (referer === undefined) return undefined;
  if (refererOrigin !== undefined) {
    if (policy.isOriginAllowed(refererOrigin)) return undefined;
    const host = single(headers.host);
    if (host !== undefined && new URL(refererOrigin).host === host.toLowerCase()) return undefined;
  }
  return bayeuxErrors.forbidden(refererOrigin ?? 'referer', 'origin');
}
