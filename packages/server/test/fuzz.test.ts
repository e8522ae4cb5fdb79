/**
 * Fuzzing every ingress with fast-check (issue 12). The README test command runs a few thousand
 * inputs; `npm run fuzz` runs 100,000 (PUSH_FUZZ_RUNS) and prints how many it tried. A failure
 * prints the seed: PUSH_FUZZ_SEED=<seed> replays it.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fuzzCase, INGRESSES } from './fuzz/inputs.js';
import { type FuzzTarget, startFuzzTarget } from './fuzz/target.js';

const runs = Number(process.env.PUSH_FUZZ_RUNS ?? 2_000);
const seed =
  process.env.PUSH_FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.PUSH_FUZZ_SEED);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

let target: FuzzTarget;
beforeAll(async () => {
  target = await startFuzzTarget();
});
afterAll(async () => {
  await target?.close();
});

it(
  `every ingress answers ${runs} arbitrary inputs with a Bayeux error or a close, never a fault (seed ${seed})`,
  async () => {
    console.log(`fuzz: seed ${seed} (replay with PUSH_FUZZ_SEED=${seed}), ${runs} inputs`);
    // Warm up (JIT, lazy modules), then take the baseline.
    for (const input of fc.sample(fuzzCase, { numRuns: 50, seed: seed + 1 })) await target.send(input);
    const baseline = heapUsed();
    const perIngress = Object.fromEntries(INGRESSES.map((ingress) => [ingress, 0]));
    let tried = 0;
    const started = Date.now();
    const details = await fc.check(
      fc.asyncProperty(fuzzCase, async (input) => {
        await target.send(input);
        perIngress[input.ingress]!++;
        if (++tried % 500 === 0) {
          await target.checkControl();
          if (tried % 10_000 === 0)
            console.log(`fuzz: ${tried}/${runs} inputs, ${Math.round((Date.now() - started) / 1000)} s`);
        }
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    if (details.failed) {
      // Counterexamples can be megabytes of nesting: report the cause and a prefix.
      const example = JSON.stringify(details.counterexample) ?? '';
      throw new Error(
        `fuzz failed at input ${details.numRuns} (PUSH_FUZZ_SEED=${seed}): ${String(details.errorInstance)}\n` +
          `input: ${example.slice(0, 600)}${example.length > 600 ? ` ... (${example.length} chars)` : ''}`,
      );
    }
    await target.checkControl();
    expect(target.logged.filter((entry) => entry.code === 'fault')).toEqual([]);
    expect(target.running.push.metrics().faults).toBe(0);
    // Sessions the fuzzer opened end (handshake timeout, session timeout); memory goes back.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const grown = heapUsed() - baseline;
    console.log(
      `fuzz: tried ${tried} inputs in ${Math.round((Date.now() - started) / 1000)} s ` +
        `(${Object.entries(perIngress)
          .map(([ingress, count]) => `${ingress} ${count}`)
          .join(', ')}); heap ${grown >= 0 ? '+' : ''}${(grown / 1e6).toFixed(1)} MB; 0 faults`,
    );
    expect(tried).toBe(runs);
    expect(grown).toBeLessThan(32 * 1024 * 1024);
  },
  Math.max(120_000, runs * 20),
);
