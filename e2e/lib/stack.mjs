// A "stack" is what one runner worker uses: two harness server processes (children of this
// process) and the fault-injecting proxies in front of the first one, plus a small control server.
//
//   main         harness with @push/server's default broker; most scenarios talk to it directly
//   restartable  harness whose history is kept in a file (survives a restart); the restart
//                scenario talks to it and asks the control server to restart it mid-stream
//   proxies      refuse-ws, silent-ws, buffer, cut -> main
//   control      POST /restart-stream, /restart-status, /proxy-stats, /proxy-reset (CORS *)
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy } from './proxy.mjs';

export const E2E_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUILD_DIR = join(E2E_ROOT, 'node_modules', '.cache', 'push-e2e');
const HARNESS = join(BUILD_DIR, 'harness.mjs');

/** Starts one harness process and resolves when it listens. */
function spawnHarness({ port = 0, historyFile, name, log }) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, E2E_PORT: String(port), E2E_ROOT, E2E_BUILD_DIR: BUILD_DIR };
    if (historyFile) env.E2E_HISTORY_FILE = historyFile;
    const child = spawn(process.execPath, ['--enable-source-maps', HARNESS], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`harness ${name} did not start within 15 s: ${out.slice(-2000)}`));
    }, 15000);
    child.stdout.on('data', (d) => {
      const s = d.toString();
      out += s;
      const m = /E2E_HARNESS_LISTENING (\d+)/.exec(out);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
      if (settled) log?.(`[${name}] ${s.trimEnd()}`);
    });
    child.stderr.on('data', (d) => {
      out += d.toString();
      log?.(`[${name}:err] ${d.toString().trimEnd()}`);
    });
    child.on('exit', (code, signal) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(
          new Error(`harness ${name} exited (${code ?? signal}) before listening:\n${out.slice(-3000)}`),
        );
      }
    });
  });
}

function stopChild(child, ms = 3000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/**
 * @param {{ name?: string, seed?: number, log?: (line: string) => void }} [opts]
 */
export async function startStack(opts = {}) {
  const name = opts.name ?? 'stack';
  const log = opts.log ?? (process.env.E2E_DEBUG ? (l) => console.error(l) : undefined);
  const historyFile = join(tmpdir(), `push-e2e-history-${name}-${process.pid}-${Date.now()}.jsonl`);

  const main = await spawnHarness({ name: `${name}/main`, log });
  let restartable = await spawnHarness({ name: `${name}/restartable`, historyFile, log });
  const restartablePort = restartable.port;

  const target = () => ({ host: '127.0.0.1', port: main.port });
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const proxies = {
    'refuse-ws': await startProxy({ mode: 'refuse-ws', target }),
    'silent-ws': await startProxy({ mode: 'silent-ws', target }),
    buffer: await startProxy({ mode: 'buffer', target }),
    cut: await startProxy({ mode: 'cut', target, seed }),
  };

  // ---- restart machinery ----
  let restart = { phase: 'idle' };
  async function restartHarness() {
    const t = Date.now();
    await stopChild(restartable.child);
    restartable = await spawnHarness({
      name: `${name}/restartable`,
      port: restartablePort,
      historyFile,
      log,
    });
    return Date.now() - t;
  }
  async function restartStream({ channel, count, restartAt, intervalMs }) {
    const base = `http://127.0.0.1:${restartablePort}/e2e-ctl/publish`;
    restart = {
      phase: 'streaming',
      channel,
      count,
      restartAt,
      published: 0,
      retries: 0,
      restartMs: null,
      error: null,
    };
    try {
      for (let seq = 1; seq <= count; seq++) {
        if (seq === restartAt + 1) {
          restart.phase = 'restarting';
          restart.pidBefore = restartable.child.pid;
          restart.restartMs = await restartHarness();
          restart.pidAfter = restartable.child.pid;
          restart.phase = 'streaming';
        }
        for (let attempt = 0; ; attempt++) {
          try {
            await postJson(base, { channel, data: { seq } });
            break;
          } catch (e) {
            restart.retries++;
            if (attempt > 100) throw e;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        restart.published = seq;
        await new Promise((r) => setTimeout(r, intervalMs));
      }
      restart.phase = 'done';
    } catch (e) {
      restart.phase = 'failed';
      restart.error = String(e?.stack ?? e);
    }
  }

  const ctl = http.createServer(async (req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', 'content-type');
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      return res.end();
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? JSON.parse(text) : {};
    const send = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    try {
      switch (req.url) {
        case '/restart-stream':
          if (restart.phase === 'streaming' || restart.phase === 'restarting')
            return send(409, { error: 'restart stream already running' });
          void restartStream(body);
          return send(200, { ok: true });
        case '/restart-status':
          return send(200, restart);
        case '/proxy-stats':
          return send(
            200,
            Object.fromEntries(Object.entries(proxies).map(([k, p]) => [k, { ...p.stats, seed: p.seed }])),
          );
        case '/proxy-cutting':
          proxies.cut.setCutting(body.on, { dropNext: !!body.dropNext, seed: body.seed });
          return send(200, { ok: true, cutting: !!body.on });
        case '/proxy-reset':
          for (const p of Object.values(proxies)) p.resetStats();
          return send(200, { ok: true });
        default:
          return send(404, { error: `unknown ${req.url}` });
      }
    } catch (e) {
      return send(500, { error: String(e) });
    }
  });
  await new Promise((r) => ctl.listen(0, '127.0.0.1', r));
  const ctlPort = ctl.address().port;

  const info = {
    name,
    harness: `http://127.0.0.1:${main.port}`,
    restartable: `http://127.0.0.1:${restartablePort}`,
    stackCtl: `http://127.0.0.1:${ctlPort}`,
    proxies: Object.fromEntries(Object.entries(proxies).map(([k, p]) => [k, p.url])),
    cutSeed: seed,
  };

  return {
    info,
    /** The main harness's counters (push.metrics()), for the matrix's server-side section. */
    async serverMetrics() {
      try {
        const res = await fetch(`${info.harness}/e2e-ctl/info`, {
          method: 'POST',
          body: '{}',
          signal: AbortSignal.timeout(3000),
        });
        return (await res.json()).metrics;
      } catch {
        return undefined;
      }
    },
    async stop() {
      ctl.close();
      ctl.closeAllConnections?.();
      await Promise.all(Object.values(proxies).map((p) => p.close()));
      await Promise.all([stopChild(main.child), stopChild(restartable.child)]);
      rmSync(historyFile, { force: true });
    },
  };
}

/**
 * Where a scenario's page is loaded from and which URLs it gets, given the stack info.
 * `via`: 'direct' | 'restartable' | a proxy mode.
 */
export function endpointsFor(info, via) {
  if (info.mode === 'target') {
    // Pages from the local page server; the client talks to the deployment, directly or (the
    // forever-iframe, which needs one origin) through the page server's relay.
    const ctl = `${info.pages}/e2e-ctl`;
    if (via === 'direct') return { origin: info.pages, url: info.target, ctl, stackCtl: null };
    if (via === 'relay') return { origin: info.pages, url: info.relay, ctl, stackCtl: null };
    throw new Error(`${via} needs the local stack, not available with --target`);
  }
  const origin =
    via === 'direct' ? info.harness : via === 'restartable' ? info.restartable : info.proxies[via];
  if (!origin) throw new Error(`unknown endpoint ${via}`);
  const ctlBase = via === 'restartable' ? info.restartable : info.harness;
  return { origin, url: `${origin}/push`, ctl: `${ctlBase}/e2e-ctl`, stackCtl: info.stackCtl };
}
