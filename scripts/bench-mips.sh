#!/usr/bin/env bash
# foldopt's forward solve against MATPOWER's MIPS (doc/benchmarks.md "Forward solve against
# MATPOWER's MIPS"): build, then run scripts/bench_mips.py under nice on the PGLib cases.
# Needs Octave (Debian package octave) and a MATPOWER source tree (lib/, mips/, mp-opt-model/,
# mptest/ of github.com/MATPOWER/matpower), which the project does not ship or install.
# Environment: MATPOWER (its directory, required), REPS (default 3), MIN_BUSES (1000),
# MAX_BUSES (5000), CASES (comma list: instead of the bus range), OUT (JSON of the raw runs,
# default build/bench-mips.json), OPF_ARGS (more arguments of foldopt opf, e.g. "--set
# forward.ordering=amd"), MIPS_FROM (comma list of earlier OUT files: their MIPS runs are
# reused and only foldopt runs; MATPOWER and Octave are then not needed).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MIPS_FROM:-}" ]; then
    [ -n "${MATPOWER:-}" ] && [ -f "$MATPOWER/lib/runopf.m" ] ||
        { echo "$0: set MATPOWER to a MATPOWER source tree (with lib/runopf.m)" >&2; exit 2; }
    command -v octave >/dev/null ||
        { echo "$0: octave not found (apt-get install octave)" >&2; exit 2; }
fi
bash scripts/build.sh
pglib=$(meson introspect build --buildoptions | python3 -c "
import json, sys
print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'pglib_dir'))")
[[ "$pglib" = /* ]] || pglib="$PWD/$pglib"
octave=${MIPS_FROM:+"MIPS runs from $MIPS_FROM"}
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD), ${octave:-$(octave --version | head -1)}"
exec nice -n 10 python3 scripts/bench_mips.py build/src/cli/foldopt "$pglib" "${MATPOWER:--}" \
    --reps "${REPS:-3}" --min-buses "${MIN_BUSES:-1000}" --max-buses "${MAX_BUSES:-5000}" \
    --cases "${CASES:-}" --json "${OUT:-build/bench-mips.json}" --opf-args "${OPF_ARGS:-}" \
    --mips-from "${MIPS_FROM:-}"
