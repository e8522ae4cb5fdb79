// Subscriber child process: opens N lightweight subscribers of one kind against one server,
// checks that every subscriber gets every sequence number exactly once, reports the highest
// sequence number delivered to ALL subscribers (the closed-loop window's feedback), and records
// latencies during the latency phase. Controlled by the orchestrator over the IPC channel.
//
//   node subs.mjs <kind> <port> <n> <path>
//
// Kinds: ws-raw, sse-raw, sio-ws, sio-polling, bayeux-ws, bayeux-lp, bayeux-sse (raw wire), and
// client-ws, client-sse, client-lp, client-iframe (@push/client, what users run).

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { CHANNEL, MAXSEQ, nowUs, percentile, sleep } from './common.mjs';

const [kind, portArg, nArg, basePath = '/'] = process.argv.slice(2);
const PORT = Number(portArg);
const N = Number(nArg);
const HOST = '127.0.0.1';
/** Hard stop for this process, whatever happens (bounded in time). */
const LIFETIME_MS = Number(process.env.BENCH_SUBS_LIFETIME_MS ?? 120_000);
const OPEN_CONCURRENCY = 50;
const OPEN_TIMEOUT_MS = 15_000;
const LAT_CAP = 400_000;

const hardStop = setTimeout(() => {
  console.error(`[subs ${kind}] lifetime exceeded, exiting`);
  process.exit(3);
}, LIFETIME_MS);
hardStop.unref();

// ---------------------------------------------------------------------------------------------
// Delivery bookkeeping: one bit per (subscriber, seq), a per-seq counter, the all-delivered mark.

const WORDS = (MAXSEQ + 32) >>> 5;
const seen = new Uint32Array(N * WORDS);
const cnt = new Uint16Array(MAXSEQ + 2);
const lastSeq = new Int32Array(N);
const perSub = new Uint32Array(N);
const lat = new Float64Array(LAT_CAP);
let nLat = 0;
let upTo = 0;
let total = 0;
let dups = 0;
let outOfOrder = 0;
let badMessages = 0;
let errors = 0;
/** Errors up to the moment every subscriber had opened (a client that retried its handshake). */
let openErrors = 0;
const errorSamples = [];
let stopping = false;

function noteError(what) {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(String(what).slice(0, 300));
}

/** One delivery of the application payload `d` ({s, t, ph, p}) to subscriber `i`. */
function deliver(i, d) {
  const s = d?.s;
  if (!(Number.isInteger(s) && s > 0 && s <= MAXSEQ)) {
    badMessages++;
    return;
  }
  const w = i * WORDS + (s >>> 5);
  const bit = 1 << (s & 31);
  if (seen[w] & bit) {
    dups++;
    return;
  }
  seen[w] |= bit;
  if (s < lastSeq[i]) outOfOrder++;
  lastSeq[i] = s;
  perSub[i]++;
  total++;
  if (d.ph === 1 && nLat < LAT_CAP) lat[nLat++] = nowUs() - d.t;
  if (++cnt[s] === N) {
    const before = upTo;
    while (upTo < MAXSEQ && cnt[upTo + 1] === N) upTo++;
    if (upTo !== before) process.send?.({ type: 'progress', upTo });
  }
}

/** A Bayeux message array (or single message) as received by subscriber `i`; returns replies. */
function bayeuxMessages(i, parsed, onMeta) {
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const m of list) {
    if (m === null || typeof m !== 'object') {
      badMessages++;
      continue;
    }
    if (m.channel === CHANNEL) deliver(i, m.data);
    else if (typeof m.channel === 'string' && m.channel.startsWith('/meta/')) onMeta(m);
    else badMessages++;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (one keep-alive agent for the whole process; every subscriber holds its own
// socket while its request is pending, so the agent opens as many sockets as are needed).

const agent = new http.Agent({
  keepAlive: true,
  maxSockets: Number.POSITIVE_INFINITY,
  maxFreeSockets: 4 * N + 16,
});

let httpRequests = 0;
/** WebSocket frames received (to report how many deliveries each carried). */
let wsFrames = 0;

function request(method, path, body, headers = {}) {
  httpRequests++;
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: HOST,
        port: PORT,
        method,
        path,
        agent,
        headers: payload ? { 'content-length': payload.length, ...headers } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode >= 400)
            reject(new Error(`${method} ${path} -> ${res.statusCode} ${text.slice(0, 200)}`));
          else resolve(text);
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function postJson(path, messages) {
  return request('POST', path, JSON.stringify(messages), { 'content-type': 'application/json' }).then((t) =>
    JSON.parse(t),
  );
}

/**
 * A minimal HTTP/1.1 keep-alive client connection (one socket, one request at a time, or one
 * endless streaming response): much cheaper per request than node:http's client, so that the
 * subscriber process, not the server, is less often what sets the pace of the HTTP transports.
 * Understands Content-Length and chunked bodies, nothing else (enough for every target here).
 */
class RawHttp {
  constructor() {
    this.sock = net.connect({ host: HOST, port: PORT });
    this.sock.setNoDelay(true);
    this.buf = null;
    this.cur = null;
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', (e) => this.fail(e));
    this.sock.on('close', () => this.fail(new Error('connection closed')));
    closers.push(() => this.sock.destroy());
  }

  /** Sends a request; resolves with the response body as text (rejects on status >= 400). */
  request(method, path, body, headers = {}) {
    httpRequests++;
    return new Promise((resolve, reject) =>
      this.send(method, path, body, headers, { resolve, reject, onData: null }),
    );
  }

  /** Opens a streaming GET; resolves once a 200 head arrived, then calls onData(text) per chunk. */
  stream(path, headers, onData) {
    return new Promise((resolve, reject) =>
      this.send('GET', path, undefined, headers, { resolve, reject, onData }),
    );
  }

  send(method, path, body, headers, cur) {
    if (this.cur) return cur.reject(new Error('RawHttp: a request is already in flight'));
    Object.assign(cur, { state: 0, status: 0, remaining: 0, parts: [] });
    this.cur = cur;
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${HOST}:${PORT}\r\n`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    head += body === undefined ? '\r\n' : `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    this.sock.write(head);
  }

  fail(error) {
    const cur = this.cur;
    this.cur = null;
    if (cur && !stopping) cur.reject(error);
  }

  onData(d) {
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    while (this.cur && this.buf && this.step()) {}
    if (this.buf && this.buf.length === 0) this.buf = null;
  }

  /** One parser step; false when more bytes are needed. */
  step() {
    const c = this.cur;
    const buf = this.buf;
    if (c.state === 0) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return false;
      const head = buf.toString('latin1', 0, end).toLowerCase();
      this.buf = buf.subarray(end + 4);
      c.status = Number(head.slice(9, 12));
      const cl = /\r\ncontent-length: *(\d+)/.exec(head);
      if (/\r\ntransfer-encoding: *chunked/.test(head)) c.state = 2;
      else if (cl) {
        c.state = 1;
        c.remaining = Number(cl[1]);
      } else if (c.onData)
        c.state = 5; // a stream without framing: the body runs until close
      else {
        this.fail(new Error(`unsupported response framing: ${head.slice(0, 200)}`));
        return false;
      }
      if (c.onData) {
        if (c.status !== 200) c.reject(new Error(`stream status ${c.status}`));
        else c.resolve();
      }
      return true;
    }
    if (c.state === 1) {
      if (buf.length < c.remaining) return false;
      c.parts.push(buf.subarray(0, c.remaining));
      this.buf = buf.subarray(c.remaining);
      this.finish();
      return true;
    }
    if (c.state === 2) {
      const eol = buf.indexOf('\r\n');
      if (eol === -1) return false;
      c.remaining = Number.parseInt(buf.toString('latin1', 0, eol), 16);
      this.buf = buf.subarray(eol + 2);
      c.state = c.remaining === 0 ? 4 : 3;
      return true;
    }
    if (c.state === 3) {
      if (buf.length < c.remaining + 2) return false;
      const data = buf.subarray(0, c.remaining);
      this.buf = buf.subarray(c.remaining + 2);
      if (c.onData) c.onData(data.toString());
      else c.parts.push(data);
      c.state = 2;
      return true;
    }
    if (c.state === 5) {
      this.buf = null;
      c.onData(buf.toString());
      return false;
    }
    // state 4: the empty line after the last chunk (no trailers here)
    if (buf.length < 2) return false;
    this.buf = buf.subarray(2);
    this.finish();
    return true;
  }

  finish() {
    const c = this.cur;
    this.cur = null;
    const text = c.parts.length === 1 ? c.parts[0].toString() : Buffer.concat(c.parts).toString();
    if (c.status >= 400) c.reject(new Error(`HTTP ${c.status}: ${text.slice(0, 200)}`));
    else if (c.onData) c.reject(new Error('stream ended'));
    else c.resolve(text);
  }

  postJson(path, messages) {
    return this.request('POST', path, JSON.stringify(messages), { 'content-type': 'application/json' }).then(
      (t) => JSON.parse(t),
    );
  }
}

/**
 * A minimal WebSocket client on a raw socket (RFC 6455: upgrade, unmasked server frames,
 * masked client frames, ping/pong, fragments): cheaper per message than the `ws` client, so the
 * server is more often what sets the pace. BENCH_WS_CLIENT=ws uses the `ws` library instead.
 * Emits 'open', 'message' (a Buffer), 'error', 'close'; has send(text) and terminate().
 */
class RawWs extends EventEmitter {
  constructor(path) {
    super();
    this.sock = net.connect({ host: HOST, port: PORT });
    this.sock.setNoDelay(true);
    this.buf = null;
    this.open = false;
    this.fragments = [];
    const key = randomBytes(16).toString('base64');
    this.sock.write(
      `GET ${path} HTTP/1.1\r\nhost: ${HOST}:${PORT}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
        `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
    );
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', (e) => this.emit('error', e));
    this.sock.on('close', () => this.emit('close'));
  }

  terminate() {
    this.sock.destroy();
  }

  send(text) {
    this.frame(0x1, Buffer.from(text));
  }

  frame(opcode, payload) {
    const len = payload.length;
    const hdr = Buffer.allocUnsafe(len < 126 ? 6 : 8);
    hdr[0] = 0x80 | opcode;
    let o = 2;
    if (len < 126) hdr[1] = 0x80 | len;
    else {
      hdr[1] = 0x80 | 126;
      hdr.writeUInt16BE(len, 2);
      o = 4;
    }
    const mask = randomBytes(4);
    mask.copy(hdr, o);
    const body = Buffer.allocUnsafe(len);
    for (let k = 0; k < len; k++) body[k] = payload[k] ^ mask[k & 3];
    this.sock.write(Buffer.concat([hdr, body]));
  }

  onData(d) {
    let buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (!this.open) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        this.buf = buf;
        return;
      }
      const status = buf.toString('latin1', 9, 12);
      if (status !== '101') {
        this.emit('error', new Error(`upgrade refused: ${buf.toString('latin1', 0, Math.min(end, 200))}`));
        this.sock.destroy();
        return;
      }
      this.open = true;
      buf = buf.subarray(end + 4);
      this.emit('open');
    }
    let off = 0;
    while (buf.length - off >= 2) {
      const b0 = buf[off];
      let len = buf[off + 1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (buf.length - off < 10) break;
        len = buf.readUInt32BE(off + 6);
        hdr = 10;
      }
      if (buf.length - off < hdr + len) break;
      const payload = buf.subarray(off + hdr, off + hdr + len);
      off += hdr + len;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        if (fin && this.fragments.length === 0) this.emit('message', payload);
        else {
          this.fragments.push(Buffer.from(payload));
          if (fin) {
            const whole = Buffer.concat(this.fragments);
            this.fragments = [];
            this.emit('message', whole);
          }
        }
      } else if (opcode === 0x9) this.frame(0xa, Buffer.from(payload));
      else if (opcode === 0x8) this.sock.end();
    }
    this.buf = off < buf.length ? buf.subarray(off) : null;
  }
}

/**
 * A WebSocket client to `path` on the target: the `ws` library (what Node users run, and what
 * @push/client runs on here), or the raw one with BENCH_WS_CLIENT=raw.
 */
function openWs(path) {
  return process.env.BENCH_WS_CLIENT !== 'raw'
    ? new WebSocket(`ws://${HOST}:${PORT}${path}`, { perMessageDeflate: false })
    : new RawWs(path);
}

/** Splits an SSE byte stream into events and calls onData(dataString) for each one with data. */
function sseParser(onData) {
  let rest = '';
  let cr = '';
  return (chunk) => {
    // Line endings may be \r\n, \r or \n (faye-websocket writes \r\n); a \r at the end of a
    // chunk waits for the next one, in case it is the first half of \r\n.
    let text = cr + chunk;
    cr = '';
    if (text.indexOf('\r') !== -1) {
      if (text.endsWith('\r')) {
        cr = '\r';
        text = text.slice(0, -1);
      }
      text = text.replace(/\r\n?/g, '\n');
    }
    rest += text;
    let end = rest.indexOf('\n\n');
    while (end !== -1) {
      const block = rest.slice(0, end);
      rest = rest.slice(end + 2);
      let data;
      for (const line of block.split('\n')) {
        if (line.startsWith('data:')) {
          const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
          data = data === undefined ? v : `${data}\n${v}`;
        }
      }
      if (data !== undefined) onData(data);
      end = rest.indexOf('\n\n');
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Subscriber kinds. Each open(i) resolves when subscriber i is subscribed and ready to receive.

const closers = [];
let idSeq = 0;
const nextId = () => String(++idSeq);

const kinds = {
  /** Floor: plain ws client; every frame is the JSON payload. */
  'ws-raw': (i) =>
    new Promise((resolve, reject) => {
      const ws = openWs(basePath);
      closers.push(() => ws.terminate());
      ws.on('open', resolve);
      ws.on('error', reject);
      ws.on('message', (buf) => {
        wsFrames++;
        try {
          deliver(i, JSON.parse(buf));
        } catch {
          badMessages++;
        }
      });
    }),

  /**
   * Floor: plain SSE stream; every event's data is the JSON payload. Read the way a Node user
   * would write it: http.get + eventsource-parser (BENCH_SSE_CLIENT=raw: RawHttp + a minimal parser).
   */
  'sse-raw': async (i) => {
    if (process.env.BENCH_SSE_CLIENT === 'raw')
      return new RawHttp().stream(
        basePath,
        { accept: 'text/event-stream' },
        sseParser((data) => deliver(i, JSON.parse(data))),
      );
    const { createParser } = await import('eventsource-parser');
    const parser = createParser({ onEvent: (event) => deliver(i, JSON.parse(event.data)) });
    return new Promise((resolve, reject) => {
      const req = http.get(
        { host: HOST, port: PORT, path: basePath, headers: { accept: 'text/event-stream' }, agent },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream status ${res.statusCode}`));
          res.setEncoding('utf8');
          res.on('data', (text) => parser.feed(text));
          res.on('error', (e) => stopping || noteError(e.message));
          resolve();
        },
      );
      req.on('error', reject);
      closers.push(() => req.destroy());
    });
  },

  /** Socket.IO 4 over the websocket transport, speaking the engine.io v4 / socket.io v5 wire. */
  'sio-ws': (i) =>
    new Promise((resolve, reject) => {
      const ws = openWs('/socket.io/?EIO=4&transport=websocket');
      closers.push(() => ws.terminate());
      ws.on('error', reject);
      ws.on('message', (buf) => {
        wsFrames++;
        const s = buf.toString();
        const type = s.charCodeAt(0);
        if (type === 52 /* '4' message */) {
          if (s.charCodeAt(1) === 50 /* '2' event */) {
            const [, data] = JSON.parse(s.slice(2));
            deliver(i, data);
          } else if (s.charCodeAt(1) === 48 /* '0' connect */) resolve();
          else noteError(`sio: ${s}`);
        } else if (type === 50 /* '2' ping */) ws.send('3');
        else if (type === 48 /* '0' open */) ws.send('40');
        else if (type === 49 /* '1' close */) noteError('sio: closed by server');
      });
    }),

  /** Socket.IO 4 over engine.io HTTP long-polling (the long-polling reference). */
  'sio-polling': async (i) => {
    const base = `/socket.io/?EIO=4&transport=polling`;
    const conn = new RawHttp();
    const open = await conn.request('GET', base);
    if (open[0] !== '0') throw new Error(`sio polling open: ${open.slice(0, 100)}`);
    const sid = JSON.parse(open.slice(1)).sid;
    const url = `${base}&sid=${encodeURIComponent(sid)}`;
    const post = (body) => request('POST', url, body, { 'content-type': 'text/plain;charset=UTF-8' });
    await conn.request('POST', url, '40', { 'content-type': 'text/plain;charset=UTF-8' });
    let resolveReady;
    const ready = new Promise((r) => {
      resolveReady = r;
    });
    const loop = async () => {
      while (!stopping) {
        let text;
        try {
          text = await conn.request('GET', url);
        } catch (e) {
          if (!stopping) noteError(e.message);
          return;
        }
        for (const pkt of text.split('\x1e')) {
          const type = pkt.charCodeAt(0);
          if (type === 52) {
            if (pkt.charCodeAt(1) === 50) deliver(i, JSON.parse(pkt.slice(2))[1]);
            else if (pkt.charCodeAt(1) === 48) resolveReady();
          } else if (type === 50) post('3').catch((e) => noteError(e.message));
          else if (type === 49) {
            noteError('sio polling: closed by server');
            return;
          }
        }
      }
    };
    loop();
    await ready;
  },

  /** Bayeux 1.0 over websocket: handshake, subscribe and /meta/connect over the socket. */
  'bayeux-ws': (i) =>
    new Promise((resolve, reject) => {
      const ws = openWs(basePath);
      let clientId;
      const send = (msgs) => ws.send(JSON.stringify(msgs));
      // A polite goodbye, so the server ends the session now rather than at its timeout.
      closers.push(() => {
        if (clientId && ws.readyState === 1) send([{ channel: '/meta/disconnect', clientId, id: nextId() }]);
        setTimeout(() => ws.terminate(), 50);
      });
      const connect = () =>
        send([{ channel: '/meta/connect', clientId, connectionType: 'websocket', id: nextId() }]);
      ws.on('error', reject);
      ws.on('open', () =>
        send([
          {
            channel: '/meta/handshake',
            version: '1.0',
            minimumVersion: '1.0',
            supportedConnectionTypes: ['websocket'],
            id: nextId(),
          },
        ]),
      );
      ws.on('message', (buf) => {
        wsFrames++;
        let parsed;
        try {
          parsed = JSON.parse(buf);
        } catch {
          badMessages++;
          return;
        }
        bayeuxMessages(i, parsed, (m) => {
          if (m.successful === false) {
            noteError(`${m.channel}: ${m.error}`);
            if (m.channel !== '/meta/connect') reject(new Error(`${m.channel}: ${m.error}`));
            return;
          }
          if (m.channel === '/meta/handshake') {
            clientId = m.clientId;
            send([
              { channel: '/meta/subscribe', clientId, subscription: CHANNEL, id: nextId() },
              {
                channel: '/meta/connect',
                clientId,
                connectionType: 'websocket',
                advice: { timeout: 0 },
                id: nextId(),
              },
            ]);
          } else if (m.channel === '/meta/subscribe') resolve();
          else if (m.channel === '/meta/connect' && !stopping) connect();
        });
      });
    }),

  /** Bayeux 1.0 long-polling: POST JSON batches, /meta/connect held by the server. */
  'bayeux-lp': async (i) => {
    const conn = new RawHttp();
    const hs = await conn.postJson(basePath, [
      {
        channel: '/meta/handshake',
        version: '1.0',
        minimumVersion: '1.0',
        supportedConnectionTypes: ['long-polling'],
        id: nextId(),
      },
    ]);
    const clientId = hs[0]?.clientId;
    if (!hs[0]?.successful) throw new Error(`handshake: ${JSON.stringify(hs).slice(0, 200)}`);
    let subscribed = false;
    const onMeta = (m) => {
      if (m.successful === false) noteError(`${m.channel}: ${m.error}`);
      else if (m.channel === '/meta/subscribe') subscribed = true;
    };
    // The first connect is answered at once (advice.timeout 0), as Faye and CometD clients do.
    bayeuxMessages(
      i,
      await conn.postJson(basePath, [
        {
          channel: '/meta/connect',
          clientId,
          connectionType: 'long-polling',
          advice: { timeout: 0 },
          id: nextId(),
        },
      ]),
      onMeta,
    );
    bayeuxMessages(
      i,
      await conn.postJson(basePath, [
        { channel: '/meta/subscribe', clientId, subscription: CHANNEL, id: nextId() },
      ]),
      onMeta,
    );
    if (!subscribed) throw new Error('subscribe not acknowledged');
    const loop = async () => {
      while (!stopping) {
        try {
          const replies = await conn.postJson(basePath, [
            { channel: '/meta/connect', clientId, connectionType: 'long-polling', id: nextId() },
          ]);
          bayeuxMessages(i, replies, onMeta);
          // A refused connect ends this subscriber (no hot retry loop); the check reports it.
          if (replies.some((m) => m?.channel === '/meta/connect' && m.successful === false)) return;
        } catch (e) {
          if (!stopping) noteError(e.message);
          return;
        }
      }
    };
    loop();
  },

  /**
   * Bayeux eventsource, Faye's form: handshake and subscribe by POST, then one
   * `GET {path}/{clientId}` stream (Accept: text/event-stream) carrying message arrays, and
   * /meta/connect by POST with connectionType eventsource (answered at once; repeated after
   * advice.interval to keep the session alive).
   */
  'bayeux-sse': async (i) => {
    const hs = await postJson(basePath, [
      {
        channel: '/meta/handshake',
        version: '1.0',
        minimumVersion: '1.0',
        supportedConnectionTypes: ['eventsource', 'long-polling'],
        id: nextId(),
      },
    ]);
    const clientId = hs[0]?.clientId;
    if (!hs[0]?.successful) throw new Error(`handshake: ${JSON.stringify(hs).slice(0, 200)}`);
    let subscribed = false;
    let interval = 0;
    const onMeta = (m) => {
      if (m.successful === false) noteError(`${m.channel}: ${m.error}`);
      else if (m.channel === '/meta/subscribe') subscribed = true;
      else if (m.channel === '/meta/connect' && typeof m.advice?.interval === 'number')
        interval = m.advice.interval;
    };
    await new RawHttp().stream(
      `${basePath.replace(/\/$/, '')}/${clientId}`,
      { accept: 'text/event-stream' },
      sseParser((data) => bayeuxMessages(i, JSON.parse(data), onMeta)),
    );
    const connect = async () => {
      if (stopping) return;
      try {
        bayeuxMessages(
          i,
          await postJson(basePath, [
            { channel: '/meta/connect', clientId, connectionType: 'eventsource', id: nextId() },
          ]),
          onMeta,
        );
      } catch (e) {
        if (!stopping) noteError(e.message);
        return;
      }
      if (interval > 0 && !stopping) setTimeout(connect, Math.max(interval, 1000)).unref();
    };
    await connect();
    bayeuxMessages(
      i,
      await postJson(basePath, [
        { channel: '/meta/subscribe', clientId, subscription: CHANNEL, id: nextId() },
      ]),
      onMeta,
    );
    if (!subscribed) throw new Error('subscribe not acknowledged');
  },
};

// ---------------------------------------------------------------------------------------------
// @push/client subscribers: what users run. createClient from the built dist with its defaults
// (acks on, resume on), forced to one transport each; `ws` as the WebSocket (Node 20 has none).
// Node resolves @push/client to its Node build, whose HTTP transports use `nodeFetch` (node:http):
// the counting wrapper counts requests and hands them to that same default.

let pushClientModule;
async function pushClient() {
  pushClientModule ??= await import('@push/client');
  return pushClientModule;
}

/**
 * `ws` for @push/client, counting frames inside the client's own 'message' listener, as the ws
 * floor counts inside its one listener. A second listener would cost our row what the floor does
 * not pay: with two listeners EventEmitter copies its listener array on every frame.
 */
class CountingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { perMessageDeflate: false });
  }
  on(event, listener) {
    if (event !== 'message') return super.on(event, listener);
    // ws emits 'message' with (data, isBinary): passed on as they are, with no arguments array
    // (rest parameters and apply cost an allocation per frame that the floor's listener does not).
    return super.on(event, function counted(data, isBinary) {
      wsFrames++;
      return listener.call(this, data, isBinary);
    });
  }
}
const countingFetch = (input, init) => {
  httpRequests++;
  return pushClientModule.nodeFetch(input, init);
};

function clientKind(transport) {
  return async (i) => {
    const mod = await pushClient();
    const client = mod.createClient({
      url: `http://${HOST}:${PORT}${basePath}`,
      // Outside a browser the forever-iframe document is fetched and decoded (`fetchFrame`),
      // as the client's README tells Node users to do; the other transports go by name.
      transports: [transport === 'iframe' ? mod.iframe(mod.fetchFrame) : transport],
      WebSocket: CountingWebSocket,
      fetch: countingFetch,
      storage: null,
    });
    closers.push(() => client.close().catch(() => {}));
    client.on('error', (e) => noteError(`client ${i}: ${e.code ?? ''} ${e.message}`));
    const sub = client.subscribe(CHANNEL, (data) => deliver(i, data));
    await sub.ready;
    if (client.transport !== transport) throw new Error(`client ${i} on ${client.transport}`);
  };
}
/** socket.io-client 4.8.4 (what Socket.IO users run), forced to one transport, one Manager each. */
function sioClientKind(transport) {
  return async (i) => {
    const { io } = await import('socket.io-client');
    const socket = io(`http://${HOST}:${PORT}`, {
      transports: [transport],
      forceNew: true,
      reconnection: false,
    });
    closers.push(() => socket.close());
    socket.on('m', (data) => deliver(i, data));
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    // Frames (websocket) or completed polls (polling), for the deliveries/frame or request column.
    const engine = socket.io.engine;
    if (transport === 'polling') engine.transport.on('pollComplete', () => httpRequests++);
    else engine.on('packet', (packet) => packet.type === 'message' && wsFrames++);
    socket.on('disconnect', (why) => stopping || noteError(`sio client ${i}: ${why}`));
  };
}
kinds['sio-client-ws'] = sioClientKind('websocket');
kinds['sio-client-polling'] = sioClientKind('polling');
kinds['client-ws'] = clientKind('websocket');
kinds['client-sse'] = clientKind('eventsource');
kinds['client-lp'] = clientKind('long-polling');
kinds['client-iframe'] = clientKind('iframe');

// ---------------------------------------------------------------------------------------------

async function openAll() {
  const open = kinds[kind];
  if (!open) throw new Error(`unknown subscriber kind ${kind}`);
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      let timer;
      try {
        await Promise.race([
          open(i),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('open timed out')), OPEN_TIMEOUT_MS);
          }),
        ]);
      } catch (e) {
        failed++;
        noteError(`open ${i}: ${e.message}`);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, N) }, worker));
  return failed;
}

function finish(last) {
  let missing = 0;
  let subsWithMissing = 0;
  for (let i = 0; i < N; i++) {
    let m = 0;
    for (let s = 1; s <= last; s++) if (!(seen[i * WORDS + (s >>> 5)] & (1 << (s & 31)))) m++;
    missing += m;
    if (m) subsWithMissing++;
  }
  const sorted = lat.slice(0, nLat).sort();
  return {
    type: 'report',
    total,
    expected: last * N,
    missing,
    subsWithMissing,
    dups,
    outOfOrder,
    badMessages,
    errors,
    openErrors,
    errorSamples,
    latSamples: nLat,
    p50: percentile(sorted, 50) / 1000,
    p99: percentile(sorted, 99) / 1000,
    max: nLat ? sorted[nLat - 1] / 1000 : Number.NaN,
  };
}

process.on('message', async (msg) => {
  if (msg.cmd === 'mark') {
    process.send({
      type: 'mark',
      name: msg.name,
      cpu: process.cpuUsage(),
      t: nowUs(),
      total,
      httpRequests,
      wsFrames,
    });
  } else if (msg.cmd === 'lat') {
    // Latency percentiles of the samples since the last 'lat' (one latency round), then reset;
    // with `values`, the samples themselves (µs), for the orchestrator to merge several processes.
    const sorted = lat.slice(0, nLat).sort();
    process.send({
      type: 'lat',
      samples: nLat,
      p50: percentile(sorted, 50) / 1000,
      p99: percentile(sorted, 99) / 1000,
      values: msg.values ? Array.from(sorted) : undefined,
    });
    nLat = 0;
  } else if (msg.cmd === 'finish') {
    // Give stragglers a moment (bounded), then check.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && total < msg.last * N) await sleep(50);
    process.send(finish(msg.last));
  } else if (msg.cmd === 'close') {
    stopping = true;
    for (const c of closers) {
      try {
        c();
      } catch {}
    }
    agent.destroy();
    setTimeout(() => process.exit(0), 200).unref();
  }
});

process.on('uncaughtException', (e) => {
  noteError(`uncaught: ${e.stack ?? e}`);
});

const t0 = Date.now();
const failed = await openAll();
openErrors = errors;
process.send({ type: 'ready', failed, openMs: Date.now() - t0, errorSamples });
