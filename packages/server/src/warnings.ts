/**
 * Configurations that work but leave a door open, told once per server through its logger when it
 * is created (an operator reads logs, not TSDoc).
 */
import type { PushLogEntry, PushServerOptions } from './options.js';

/**
 * The warnings `options` deserve.
 * @example configurationWarnings({ authenticate }) // [{ code: 'insecure-origins', … }]
 */
export function configurationWarnings(options: PushServerOptions): PushLogEntry[] {
  const warnings: PushLogEntry[] = [];
  if (options.authenticate !== undefined && options.origins === undefined) {
    warnings.push({
      code: 'insecure-origins',
      message:
        "authenticate is set but origins is not: any web site can open a WebSocket (and JSONP or iframe requests) to this server, and the browser sends your users' cookies along. If authenticate trusts cookies or other ambient credentials, set origins to the sites that may use this server.",
    });
  }
  return warnings;
}
