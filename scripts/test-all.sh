#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, typecheck, every package's tests (unit and e2e),
# then the quick bench with its report-only compare. Every step runs even when an earlier one
# failed, so one CI run shows everything that is wrong; the exit code is non-zero if any failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1
failed=()
step() {
  local name=$1; shift
  local started=$SECONDS
  echo "::: $name"
  if "$@"; then echo "::: $name passed ($((SECONDS - started)) s)"; else failed+=("$name"); echo "::: $name FAILED ($((SECONDS - started)) s)"; fi
}
step lint pnpm exec biome check .
step typecheck pnpm exec turbo run typecheck --output-logs=errors-only
export KILN_TEST_STARTED=$(date +%s)
step test pnpm exec turbo run test --concurrency=1 --continue
step bench bash bench/ci.sh
node scripts/test-summary.ts || true
if [ ${#failed[@]} -gt 0 ]; then echo "failed: ${failed[*]}"; exit 1; fi
echo "all steps passed"
