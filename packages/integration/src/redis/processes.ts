/** Child server processes for the multi-process tests and the bench. */
import { type ChildProcess, spawn } from 'node:child_process';
import { publishHttp as publishWithKey } from '@push/test-kit/bayeux-client';

/**
 * The publish key every spawned server gets (as `PUSH_PUBLISH_KEY`): HTTP publish is closed
 * without one, and the tests publish as a trusted back end.
 */
export const PUBLISH_KEY = 'multi-process-test-publish-key';

/** Publishes through `POST {base}/publish` as the spawned servers' trusted back end. */
export function publishHttp(
  base: string,
  channel: string,
  data: unknown,
): Promise<{ offset: number; epoch: string }> {
  return publishWithKey(base, channel, data, PUBLISH_KEY);
}

/** A running server process. */
export interface NodeProcess {
  readonly port: number;
  readonly base: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr. */
  readonly output: string[];
  /** SIGKILL: a crash, no cleanup. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
}

/** Spawns `node <script> ...args` with `env`, resolving once it prints its port. */
export function spawnNode(script: string, args: string[], env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, PUSH_PUBLISH_KEY: PUBLISH_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 10 s:\n${output.join('')}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      const match = /(?:ready |listening on http:\/\/[^:]+:)(\d+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        const port = Number(match[1]);
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (more: Buffer) => output.push(more.toString()));
        resolve({
          port,
          base: `http://127.0.0.1:${port}/push`,
          child,
          output,
          kill: () => end('SIGKILL'),
          stop: () => end('SIGTERM'),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${output.join('')}`));
    });
  });
}
