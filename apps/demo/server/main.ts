/**
 * `npm start`: runs the demo server. Environment: PORT (8080), HOST, REDIS_URL (Redis broker via
 * @push/redis) and PUSH_REDIS_PREFIX (its key prefix), DEMO_AUTH=1 (require a token from POST /login), DEMO_SECRET (token HMAC secret).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from './app.js';
import { readConfig } from './config.js';

const staticDir = fileURLToPath(new URL('../dist/', import.meta.url));

async function main(): Promise<void> {
  const config = readConfig(process.env, staticDir);
  if (!existsSync(`${config.staticDir}/index.html`)) {
    console.warn(
      `[demo] ${config.staticDir}index.html is missing: build the pages with \`npm run build -w @push/demo\`.`,
    );
  }
  const demo = await startDemoServer(config);
  const mode = [
    config.redisUrl ? `Redis broker (${redact(config.redisUrl)})` : 'in-memory broker',
    config.auth ? 'auth ON (POST /login issues tokens)' : 'auth off',
    ...(config.simulators ? [] : ['simulators off']),
  ].join(', ');
  console.log(`[demo] Push demo ready at ${demo.url}  (${mode}; Push endpoint ${demo.url}${demo.push.path})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`[demo] ${signal}: shutting down`);
    const force = setTimeout(() => process.exit(0), 3_000);
    force.unref();
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}

main().catch((error: Error) => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    console.error(
      `[demo] Port ${process.env.PORT ?? 8080} is in use: stop the other process or set PORT=8081.`,
    );
  } else {
    console.error(`[demo] Could not start: ${error.message}`);
  }
  process.exit(1);
});
