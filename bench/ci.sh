#!/usr/bin/env bash
# CI hook: a quick bench run, then a report-only comparison against the committed baseline.
# Report only, never a gate: CI machines differ from the one the baseline was recorded on.
# A suite that fails still fails this script (after the comparison of what did run).
# Needs the project's Node on PATH (./dev bash bench/ci.sh, or from ./dev test).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p bench/out
started=$SECONDS
node bench/src/main.ts all --quick --json bench/out/latest.json
status=$?
elapsed=$((SECONDS - started))
echo "bench: quick run took ${elapsed}s (budget 300s)"
if ((elapsed > 300)); then echo "bench: warning: over the 5-minute CI budget" >&2; fi
if [[ -f bench/out/latest.json && -f bench/results/baseline.json ]]; then
  node bench/src/main.ts compare bench/results/baseline.json bench/out/latest.json --report-only \
    --markdown bench/out/compare.md --svg bench/out/compare.svg || status=$((status ? status : $?))
else
  echo "bench: no bench/results/baseline.json yet, nothing to compare against"
fi
exit "$status"
