// Every browser (Playwright project) x every transport x every scenario, plus the hostile-network
// cases. The cases and their assertions live in lib/scenarios.mjs, shared with the WebKit runner.
import { cases, executeCase } from '../lib/scenarios.mjs';
import { playwrightDriver, test } from './fixtures.js';

for (const kase of cases()) {
  test(kase.title, async ({ context, stack }, testInfo) => {
    test.setTimeout(kase.timeoutMs);
    testInfo.annotations.push({ type: 'transport', description: kase.transport });
    testInfo.annotations.push({ type: 'scenario', description: kase.scenario });
    const result = await executeCase(playwrightDriver(context), kase, stack, testInfo.project.name);
    await testInfo.attach('result.json', {
      body: JSON.stringify(result, null, 2),
      contentType: 'application/json',
    });
    const metrics = kase.check(result, { transport: kase.transport });
    testInfo.annotations.push({ type: 'metrics', description: JSON.stringify(metrics ?? {}) });
  });
}
