// The chaos runs. In the test command (`npm test --workspace @push/e2e`): smaller seeded runs, each
// bounded under a minute: a mix of all four transports through every fault, the issue's scenario
// (streaming clients, a buffering proxy that appears mid-stream and stays). `npm run chaos` (cli.mjs)
// runs one run of any size through this file instead (CHAOS_CLI=1), by default the issue's full
// size; `--broker redis` is the two-node Redis run (in the test command at the smaller size, on
// the Redis at 127.0.0.1:6379 or REDIS_URL).
// Replay a failure with its printed seed: CHAOS_SEED=N npm test --workspace @push/e2e, or the
// printed `npm run chaos -- ...` line.
import { randomInt } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_ORDERS, type ChaosOptions, type ChaosReport, runChaos, STREAMING_ORDERS } from './chaos.js';
import type { BrokerKind } from './cluster.js';

const env = process.env;
const seed = env.CHAOS_SEED ? Number(env.CHAOS_SEED) : randomInt(2 ** 31);

async function run(name: string, options: Omit<ChaosOptions, 'seed' | 'log'>): Promise<ChaosReport> {
  const report = await runChaos({ ...options, seed, log: (line) => console.log(line) });
  console.log(report.schedule.join('\n'));
  // The first few of each kind: a run with many unrecovered channels still shows its losses.
  const unrecovered = report.problems.filter((line) => line.includes('recovered:false'));
  const others = report.problems.filter((line) => !line.includes('recovered:false'));
  for (const problem of [...others.slice(0, 15), ...unrecovered.slice(0, 10)]) console.log(problem);
  const replay =
    `npm run chaos -- --seed ${seed} --clients ${options.clients} --messages ${options.messages} ` +
    `--channels ${options.channels} --rate ${options.rate} --broker ${options.broker ?? 'memory'}` +
    (name === 'issue' ? ' --profile issue' : '');
  console.log(`${report.line}\nreplay: ${replay}`);
  if (env.CHAOS_SUMMARY) appendFileSync(env.CHAOS_SUMMARY, `${report.line}\n`);
  return report;
}

/** The server's default `limits.maxQueue`, which the chaos nodes keep. */
const DEFAULT_MAX_QUEUE = 1_000;

/** What every run must show: faults happened, clients switched, and nothing was lost or doubled. */
function expectDelivered(report: ChaosReport): void {
  expect(report.faults).toBeGreaterThan(0);
  expect(report.switches).toBeGreaterThan(0);
  expect({ lost: report.lost, duplicated: report.duplicated, reordered: report.reordered }).toEqual({
    lost: 0,
    duplicated: 0,
    reordered: 0,
  });
  expect(report.unrecovered).toBe(0); // history holds the whole run
  // A client that reads is never cut as slow. One cut off for longer than its queue holds is
  // (the documented outcome: 429 with handshake advice, then a resume from history that the
  // checks above prove whole). The test command's faults are far shorter than that, but on a
  // loaded machine a client's attempts can miss the gaps between faults and keep it away through
  // several of them (8 s in one run: its session filled and was cut). So each cut must fall inside
  // a stretch of its client's away longer than one fault and one more attempt.
  if (report.messagesPerFault < DEFAULT_MAX_QUEUE) expect(report.cutReading).toEqual([]);
}

/** The issue's scenario: a buffering proxy appears mid-stream and stays; all step down. */
function issueProfile(clients: number, messages: number, rate: number, broker: BrokerKind) {
  return {
    clients,
    channels: 3,
    rate,
    messages,
    settleMs: 20_000,
    broker,
    orders: STREAMING_ORDERS,
    faults: ['buffer-stays' as const],
  };
}

function expectSteppedDown(report: ChaosReport, clients: number): void {
  expectDelivered(report);
  expect(report.transportsSeen).toEqual({ 'long-polling': clients });
  expect(report.switches).toBeGreaterThanOrEqual(clients);
}

if (env.CHAOS_CLI) {
  // `npm run chaos`: one run of the asked size (defaults: the issue's full size).
  const clients = Number(env.CHAOS_CLIENTS ?? 200);
  const messages = Number(env.CHAOS_MESSAGES ?? 10_000);
  const channels = Number(env.CHAOS_CHANNELS ?? 10);
  const rate = Number(env.CHAOS_RATE ?? 100);
  const broker = (env.CHAOS_BROKER ?? 'memory') as BrokerKind;
  const issue = env.CHAOS_PROFILE === 'issue';
  it(`chaos ${issue ? 'issue profile' : 'run'}: ${clients} clients, ${channels} channels, ${messages} messages at ${rate} msg/s, ${broker} broker (seed ${seed})`, async () => {
    if (issue) {
      const report = await run('issue', { ...issueProfile(clients, messages, rate, broker), channels });
      expectSteppedDown(report, clients);
    } else {
      const settleMs = Number(env.CHAOS_SETTLE_MS ?? 60_000);
      expectDelivered(await run('full', { clients, channels, rate, messages, settleMs, broker }));
    }
  }, 1_800_000);
} else {
  describe('chaos (test command size)', () => {
    /** 40 clients on all four transports, 3 channels, 1,500 messages at 100 msg/s, every fault. */
    const mixed = async (broker: BrokerKind) =>
      expectDelivered(
        await run('mixed', {
          clients: 40,
          channels: 3,
          rate: 100,
          messages: 1500,
          settleMs: 20_000,
          orders: ALL_ORDERS,
          broker,
        }),
      );

    it(`40 clients on all four transports, 3 channels at 100 msg/s through cuts, a buffering proxy, stalls and a server restart (seed ${seed})`, async () => {
      await mixed('memory');
    }, 90_000);

    it(`on Redis: 40 clients on all four transports across two nodes behind a round-robin proxy, one node SIGKILLed mid-run, with cuts, a buffering proxy and stalls (seed ${seed})`, async () => {
      await mixed('redis');
    }, 90_000);

    it(`the issue's scenario: 40 clients on SSE or the iframe, 3 channels at 100 msg/s, a buffering proxy appears mid-stream and stays; all step down to long-polling (seed ${seed})`, async () => {
      const report = await run('issue', issueProfile(40, 1500, 100, 'memory'));
      expectSteppedDown(report, 40);
    }, 90_000);
  });
}
