/**
 * `push-server --port N --path /push [--host H] [--redis URL [--redis-prefix P]] [--publish-key KEY | --open-publish] [--jsonp]`:
 * a thin shell that runs `createPushServer` on a node:http server.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { type ConnectionType, DEFAULT_ORDER } from '@push/protocol';
import type { Broker } from './broker/types.js';
import { messageOf } from './errors.js';
import { createPushServer } from './server.js';

const USAGE = `Usage: push-server --port N --path /push [--host 0.0.0.0] [--redis redis://host:6379 [--redis-prefix P]] [--publish-key KEY | --open-publish] [--origins URL,URL] [--jsonp]

  --port N            port to listen on (default 8080; 0 picks a free one)
  --host H            interface to bind (default all)
  --path P            path prefix of every transport (default /push)
  --redis URL         share fan-out, history and presence through Redis (needs @push/redis)
  --redis-prefix P    prefix of every Redis key (or set PUSH_REDIS_PREFIX; default push:), so two
                      deployments can share one Redis
  --publish-key KEY   accept POST {path}/publish from back ends that send KEY (or set PUSH_PUBLISH_KEY);
                      without it the endpoint is closed
  --open-publish      LOCAL DEVELOPMENT ONLY: anyone who can reach the server may POST {path}/publish
  --origins LIST      comma-separated sites allowed to use the server from a browser, e.g.
                      https://app.example.com (WebSocket Origin check, credentialed CORS); without
                      it any site may connect, and CORS never allows cookies
  --jsonp             also offer callback-polling (JSONP)
`;

/** `--origins a,b`: each entry must be an origin (scheme://host[:port]), said plainly otherwise. */
function parseOrigins(list: string): string[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      let origin: string | undefined;
      try {
        origin = new URL(entry).origin;
      } catch {
        origin = undefined;
      }
      if (origin === undefined || origin === 'null' || origin !== entry.replace(/\/$/, ''))
        throw new Error(`--origins takes origins like https://app.example.com, got ${entry}`);
      return origin;
    });
}

/** Loads the Redis broker, or explains what is missing. */
async function loadRedisBroker(url: string, prefix: string | undefined): Promise<Broker> {
  const specifier = '@push/redis';
  let module: {
    createRedisBroker?: (options: { url: string; prefix?: string }) => Broker | Promise<Broker>;
  };
  try {
    module = (await import(specifier)) as typeof module;
  } catch (error) {
    throw new Error(
      `--redis needs the @push/redis package, which could not be loaded (${messageOf(error)}). Install it: npm install @push/redis`,
    );
  }
  if (typeof module.createRedisBroker !== 'function') {
    throw new Error(
      '@push/redis was found but does not export createRedisBroker({ url }); update it to a matching version',
    );
  }
  return module.createRedisBroker({ url, ...(prefix ? { prefix } : {}) });
}

/** Runs the CLI with `argv` (without node and script). Resolves once listening; returns the stopper. */
export async function main(argv: string[]): Promise<() => Promise<void>> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string' },
      path: { type: 'string', default: '/push' },
      redis: { type: 'string' },
      'redis-prefix': { type: 'string' },
      'publish-key': { type: 'string' },
      'open-publish': { type: 'boolean', default: false },
      jsonp: { type: 'boolean', default: false },
      origins: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return async () => {};
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, got ${values.port}`);
  const publishKey = values['publish-key'] ?? process.env.PUSH_PUBLISH_KEY;
  if (values['open-publish'] && publishKey !== undefined)
    throw new Error('--open-publish and --publish-key (or PUSH_PUBLISH_KEY) exclude each other: pick one');
  // The CLI is an application: it reads the environment and hands @push/redis explicit options.
  const redisPrefix = values['redis-prefix'] ?? process.env.PUSH_REDIS_PREFIX;
  if (values['redis-prefix'] !== undefined && !values.redis)
    throw new Error('--redis-prefix needs --redis URL');
  const broker = values.redis ? await loadRedisBroker(values.redis, redisPrefix) : undefined;
  const transports: ConnectionType[] = values.jsonp
    ? [...DEFAULT_ORDER, 'callback-polling']
    : [...DEFAULT_ORDER];
  // Slowloris: a request must bring its headers within 10 s and its body within 30 s, checked
  // every second (held connects and streams are responses, not requests: these do not cut them).
  const http = createServer({
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    connectionsCheckingInterval: 1_000,
  });
  // Idle keep-alive sockets stay open longer than a load balancer's idle timeout (often 60 s), so
  // the balancer closes them first, and a client never reuses a socket the server is closing.
  http.keepAliveTimeout = 65_000;
  const push = createPushServer({
    server: http,
    path: values.path,
    transports,
    ...(broker ? { broker } : {}),
    ...(publishKey !== undefined ? { publishKey } : {}),
    ...(values['open-publish'] ? { publishEndpoint: 'open' as const } : {}),
    ...(values.origins ? { origins: parseOrigins(values.origins) } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, values.host, () => resolve());
  });
  const address = http.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(
    `push-server listening on http://${values.host ?? 'localhost'}:${actual}${push.path}${broker ? ' (redis broker)' : ''}\n`,
  );
  if (values['open-publish']) {
    // Loud on purpose: an open publish endpoint lets anyone on the network publish to every channel.
    process.stderr.write(
      `\n  WARNING: --open-publish: POST ${push.path}/publish accepts requests from ANYONE who can reach this port.\n  Use it for local development only; in production use --publish-key KEY.\n\n`,
    );
  } else if (publishKey === undefined) {
    process.stdout.write(
      `POST ${push.path}/publish is closed: start with --publish-key KEY (or PUSH_PUBLISH_KEY) to publish from a back end, or --open-publish for local development\n`,
    );
  }
  return async () => {
    await push.close();
    if (broker) await broker.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
}

/**
 * Runs the CLI as a process: starts it with `argv`, stops it on SIGINT / SIGTERM, and exits with a
 * usage message on a bad argument. The `push-server` bin (bin/push-server.mjs) calls this.
 */
export function run(argv: string[]): void {
  main(argv).then(
    (stop) => {
      const shutdown = () => {
        stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error: unknown) => {
      process.stderr.write(`push-server: ${messageOf(error)}\n\n${USAGE}`);
      process.exit(1);
    },
  );
}

// `node dist/cli.js ...` also runs it (the bin shim imports this module and calls `run` itself).
if (/(?:^|[\\/])cli\.(?:js|cjs|ts)$/.test(process.argv[1] ?? '')) run(process.argv.slice(2));
