// One fresh server per test: the e2e harness (pages, /e2e-ctl/*, @push/server at /push) in a child
// process, and a counting HTTP/1.1 proxy in front of it that the clients' push traffic goes
// through. Pages load from the harness port, push goes to the proxy port: a different host:port,
// so the browser's 6-connections-per-host limit applies to push traffic alone.
// The proxy counts TCP connections, /meta/handshake requests and connections open right now.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { SHARE_BUILD } from './build.mjs';

export async function startShareStack() {
  const child = spawn(process.execPath, [join(SHARE_BUILD, 'harness.mjs')], {
    env: {
      ...process.env,
      E2E_PORT: '0',
      E2E_ROOT: join(SHARE_BUILD, '..', '..', '..', 'share'),
      E2E_BUILD_DIR: SHARE_BUILD,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /E2E_HARNESS_LISTENING (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`harness exited ${code}: ${out}`)));
  });
  const counts = { connections: 0, open: 0, handshakes: 0, requests: 0, maxOpen: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  const proxy = http.createServer((req, res) => {
    counts.requests++;
    const up = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.on('data', (chunk) => {
      if (String(chunk).includes('/meta/handshake')) counts.handshakes++;
      up.write(chunk);
    });
    req.on('end', () => up.end());
  });
  proxy.on('connection', (socket) => {
    counts.connections++;
    counts.open++;
    counts.maxOpen = Math.max(counts.maxOpen, counts.open);
    socket.on('close', () => counts.open--);
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  const harness = `http://127.0.0.1:${port}`;
  return {
    harness,
    push: `http://127.0.0.1:${proxy.address().port}/push`,
    counts,
    async ctl(action, body = {}) {
      const res = await fetch(`${harness}/e2e-ctl/${action}`, { method: 'POST', body: JSON.stringify(body) });
      return res.json();
    },
    async stop() {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      agent.destroy();
      child.kill('SIGTERM');
    },
  };
}
