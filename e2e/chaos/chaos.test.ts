// The chaos run in the test command: a smaller seeded run than `npm run chaos`, same assertions.
// Replay a failure with its printed seed: CHAOS_SEED=N npm test --workspace @push/e2e
// (or npm run chaos -- --seed N).
import { randomInt } from 'node:crypto';
import { expect, it } from 'vitest';
import { runChaos } from './chaos.js';

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomInt(2 ** 31);
// `npm run chaos -- --clients N --messages N` sets these; the test command runs the defaults.
const clients = Number(process.env.CHAOS_CLIENTS ?? 40);
const messages = Number(process.env.CHAOS_MESSAGES ?? 1500);
const rate = 100;

it(`${clients} clients on mixed transports, 3 channels at ${rate} msg/s through cuts, a buffering proxy, stalls and a server restart (seed ${seed})`, async () => {
  const report = await runChaos({
    seed,
    clients,
    channels: 3,
    rate,
    durationMs: (messages / rate) * 1000,
    settleMs: 20_000,
    log: (line) => console.log(line),
  });
  console.log(report.schedule.join('\n'));
  console.log(JSON.stringify(report.transportsSeen));
  for (const problem of report.problems.slice(0, 20)) console.log(problem);
  console.log(
    `${report.line}\nreplay: npm run chaos -- --seed ${seed} --clients ${clients} --messages ${messages}`,
  );
  expect(report.faults).toBeGreaterThan(0);
  expect(report.switches).toBeGreaterThan(0);
  expect({ lost: report.lost, duplicated: report.duplicated, reordered: report.reordered }).toEqual({
    lost: 0,
    duplicated: 0,
    reordered: 0,
  });
  expect(report.unrecovered).toBe(0); // history holds the whole run
  expect({ overflows: report.overflows, cut429: report.cut429 }).toEqual({ overflows: 0, cut429: 0 });
});
