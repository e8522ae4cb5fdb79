// Every selected browser (Playwright project) x transport x scenario, plus the hostile-network
// cases. The cases and their assertions live in lib/scenarios.mjs, shared with the WebKit runner;
// which ones run is decided by lib/selection.mjs from the E2E_* variables (scripts/run.mjs).
import { runCase } from '../lib/scenarios.mjs';
import { optionsFromEnv, replayCommand, selectCases } from '../lib/selection.mjs';
import { playwrightDriver, test } from './fixtures.js';

const opts = optionsFromEnv();

for (const kase of selectCases(opts).selected) {
  test(kase.title, async ({ context, stack }, testInfo) => {
    test.setTimeout(kase.timeoutMs);
    testInfo.annotations.push({ type: 'transport', description: kase.transport });
    testInfo.annotations.push({ type: 'scenario', description: kase.scenario });
    const browser = testInfo.project.name;
    let outcome: { result: unknown; metrics: unknown; seed?: number };
    try {
      outcome = await runCase(playwrightDriver(context, testInfo), kase, stack, browser);
    } catch (e) {
      const err = e as Error & { result?: unknown; seed?: number };
      if (err.seed !== undefined) announceSeed(err.seed);
      await testInfo.attach('result.json', {
        body: JSON.stringify(err.result ?? null, null, 2),
        contentType: 'application/json',
      });
      throw e;
    }
    if (outcome.seed !== undefined) announceSeed(outcome.seed);
    await testInfo.attach('result.json', {
      body: JSON.stringify(outcome.result, null, 2),
      contentType: 'application/json',
    });
    testInfo.annotations.push({ type: 'metrics', description: JSON.stringify(outcome.metrics ?? {}) });

    function announceSeed(seed: number) {
      testInfo.annotations.push({ type: 'seed', description: String(seed) });
      const replay = replayCommand({
        browser,
        transport: kase.transport,
        scenario: kase.scenario,
        seed,
        target: opts.target,
      });
      testInfo.annotations.push({ type: 'replay', description: replay });
      console.log(`[${browser}] ${kase.title}: seed ${seed} (replay: ${replay})`);
    }
  });
}
