// A forever-iframe for Node chaos clients that behaves like the browser's frame, not like a parser
// of our own format: it GETs the server's iframe URL as a navigation would (no custom headers),
// tokenizes the streamed htmlfile the way an HTML parser does (doctype, comments, tags, and script
// data that ends only at `</script`), and RUNS each script when its end tag is parsed, in a realm
// of its own whose `parent` is the owner window holding the client's callback. So what reaches the
// client is what the server's markup does when executed: a payload that broke out of its script,
// opened a comment, or was not valid JavaScript would fail here as in a browser, where the client's
// `fetchFrame` (JSON.parse of the text between `parent.` and `);</script>`) would not notice.
//
// It plugs into the client's real iframe transport (`iframe(scriptFrame)`: POST upstream, the
// `null` open signal, negotiation, resume and fallback run unchanged); only `domFrame`'s DOM glue is
// replaced. Not covered here, and covered only by the browser e2e (e2e/tests, e2e/webkit): the
// hidden <iframe> element and the htmlfile ActiveX host, the frame's load/error events, the
// document watch that detects a reset stream in Chromium and Firefox (readyState polled every
// FRAME_WATCH_INTERVAL; here the socket's close is seen at once), cookies, and the browser's own
// buffering of a streaming document.
import http from 'node:http';
import vm from 'node:vm';
import type { FrameOpener } from '@push/client';

/** Default silence after which the frame counts as dead, as the client's STREAM_IDLE_TIMEOUT. */
const IDLE_TIMEOUT = 25_000;

/**
 * Splits a streamed HTML document into the scripts a browser would run, in order, whatever the
 * chunk boundaries. Handles what an htmlfile holds: markup declarations (`<!DOCTYPE …>`),
 * comments (`<!-- … -->`, which hide any `<script>` inside them), start and end tags (attribute
 * values are not quoted in Push's markup, so `>` ends a tag), text, and script data, which only a
 * case-insensitive `</script` followed by whitespace, `/` or `>` ends.
 * @example const t = createScriptTokenizer((code) => vm.runInContext(code, realm)); t.feed(chunk);
 */
export function createScriptTokenizer(onScript: (code: string) => void): { feed(text: string): void } {
  let buffer = '';
  let inScript = false;
  const scriptEnd = /<\/script[\s/>]/i;
  return {
    feed(text) {
      buffer += text;
      for (;;) {
        if (inScript) {
          const match = scriptEnd.exec(buffer);
          if (!match) return; // the end tag may be split across chunks: wait
          const close = buffer.indexOf('>', match.index);
          if (close < 0) return;
          const code = buffer.slice(0, match.index);
          buffer = buffer.slice(close + 1);
          inScript = false;
          onScript(code);
          continue;
        }
        const lt = buffer.indexOf('<');
        if (lt < 0) {
          buffer = ''; // text between elements: nothing runs
          return;
        }
        buffer = buffer.slice(lt);
        if (buffer.startsWith('<!--')) {
          const end = buffer.indexOf('-->', 4);
          if (end < 0) return;
          buffer = buffer.slice(end + 3);
          continue;
        }
        if (buffer.length < 4) return; // cannot yet tell a comment from a declaration
        const close = buffer.indexOf('>');
        if (close < 0) return;
        const tag = buffer.slice(1, close);
        buffer = buffer.slice(close + 1);
        if (/^script(\s|$)/i.test(tag)) inScript = true;
      }
    },
  };
}

/**
 * The browser-like frame opener for Node: `createClient({ transports: [iframe(scriptFrame)] })`.
 * Reports the end as a browser page would learn it: the document finished or its connection
 * dropped (`closed`), a script threw (`bad-frame`: a browser would log it and the page would see
 * silence until its idle timeout; failing at once makes a server bug visible in the chaos report),
 * or nothing ran for `idleTimeout` ms (`idle`).
 * @example createClient({ url, transports: [eventSource(), longPolling(), iframe(scriptFrame)] });
 */
export const scriptFrame: FrameOpener = (src, callback, env, onBatch, onEnd, idleTimeout = IDLE_TIMEOUT) => {
  let ended = false;
  let idle: unknown;
  const end: Parameters<FrameOpener>[4] = (code, details) => {
    if (ended) return;
    ended = true;
    env.clock.clearTimeout(idle);
    request.destroy();
    onEnd(code, details);
  };
  const alive = () => {
    env.clock.clearTimeout(idle);
    idle = env.clock.setTimeout(() => end('idle'), idleTimeout);
  };
  // The page's window as the frame sees it through `parent`: only the callback the client set.
  const owner: Record<string, unknown> = {
    [callback]: (batch: Parameters<typeof onBatch>[0]) => {
      if (ended) return;
      alive();
      onBatch(batch);
    },
  };
  const realm = vm.createContext({ parent: owner });
  const tokenizer = createScriptTokenizer((code) => {
    if (ended) return;
    try {
      vm.runInContext(code, realm);
    } catch (cause) {
      end('bad-frame', { cause });
    }
  });
  alive();
  const request = http.get(src, { headers: { accept: 'text/html' } }, (response) => {
    // Whatever the status, a browser renders the document it got (an error page runs no callback).
    response.setEncoding('utf8');
    response.on('data', (text: string) => tokenizer.feed(text));
    response.on('end', () => end('closed')); // the frame's load event: the server ended the stream
    response.on('error', (cause) => end('closed', { cause }));
    response.on('close', () => end('closed')); // the connection dropped mid-document
  });
  request.on('error', (cause) => end('closed', { cause }));
  return () => {
    ended = true;
    env.clock.clearTimeout(idle);
    request.destroy();
  };
};
