/**
 * The outage test of the HTTP transports, in a module of its own: the lazy factories of
 * `@push/client` (`lazy.ts`) need it before the transports' own chunk is loaded.
 */

/**
 * An HTTP request's failure that says the server is not there: no answer at all (`network`), a
 * gateway's 502-504 (its upstream is down) or the server's own 503 (try again). It says nothing of
 * the transport, and every HTTP transport posts to the same endpoint: the next one in the list
 * would fail alike, or win only by timing as the server comes back (a restart behind a proxy that
 * refuses WebSockets ended on the iframe instead of SSE: issue 14). A WebSocket that fails to open
 * shows no status: refused or server down, it falls back.
 * @example unreachable(new TransportError('http-status', 'long-polling', { status: 502 })) // true
 */
export const unreachable = ({ code, status = 0 }: { code: string; status?: number | undefined }): boolean =>
  code === 'network' || (status > 501 && status < 505);
