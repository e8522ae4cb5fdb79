#!/usr/bin/env bash
# The whole e2e run: browsers present?, build bundles, Playwright (chromium, firefox), the WebKit
# runner, then the matrix. Every step runs even if an earlier one failed; exits non-zero on any
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
bash scripts/ensure-browsers.sh || exit 1
rm -rf results/raw
node scripts/build.mjs || exit 1
npx playwright test "$@" || rc=1
node webkit/run.mjs --no-build ${E2E_GREP:+--grep "$E2E_GREP"} || rc=1
node scripts/matrix.mjs || rc=1
echo "HTML report: e2e/playwright-report/index.html; matrix: e2e/results/matrix.md"
exit $rc
