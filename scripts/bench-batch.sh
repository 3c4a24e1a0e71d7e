#!/usr/bin/env bash
# Scenario batches benchmark (doc/benchmarks.md, "Scenario batches"): build, then run
# scripts/bench_batch.py under nice on the PGLib cases. Environment: CASES (comma list,
# default case118_ieee,case1354_pegase,case2869_pegase), N (scenarios, default 200), REPS
# (default 3), CONFIGS (a,b,c,d,e), MEMORY (scenario counts of the memory runs), OUT (JSON of
# the raw runs, default build/bench-batch.json), TIME_LIMIT (forward.time_limit_s of every solve,
# loop and batches alike; default none).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
pglib=$(meson introspect build --buildoptions | python3 -c "
import json, sys
print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'pglib_dir'))")
[[ "$pglib" = /* ]] || pglib="$PWD/$pglib"
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD)"
exec nice -n 10 python3 scripts/bench_batch.py build/src/cli/foldopt "$pglib" \
    --cases "${CASES:-case118_ieee,case1354_pegase,case2869_pegase}" --n "${N:-200}" \
    --reps "${REPS:-3}" --configs "${CONFIGS:-a,b,c,d,e}" --memory "${MEMORY:-25,50,100,200}" \
    --json "${OUT:-build/bench-batch.json}" --time-limit "${TIME_LIMIT:-0}"
