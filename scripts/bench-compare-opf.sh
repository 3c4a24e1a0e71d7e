#!/usr/bin/env bash
# Two builds of bench_opf on the same PGLib cases (doc/benchmarks.md "Cost of the parameter
# set"): REPS rounds, each running every case once per build, alternating, one process per
# case under nice; prints every run, then per case and build the medians of the forward
# seconds, one VJP of the objective w.r.t. all parameters (vjp_s), d pg / d pd (jac_pg_s)
# and the peak memory, with the machine's load.
#   usage: scripts/bench-compare-opf.sh [-r REPS] OLD_BENCH NEW_BENCH BUSES ...
#   e.g.:  scripts/bench-compare-opf.sh /tmp/main/build/tests/bench/bench_opf \
#              build/tests/bench/bench_opf 300 1354 2000
#   FOLDOPT_PGLIB_DIR: the PGLib folder (default ../shared/data/pglib).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3
while getopts r: opt; do
    case $opt in
    r) reps=$OPTARG ;;
    *) echo "usage: $0 [-r REPS] OLD_BENCH NEW_BENCH BUSES ..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || { echo "usage: $0 [-r REPS] OLD_BENCH NEW_BENCH BUSES ..." >&2; exit 2; }
old=$1 new=$2
shift 2
export FOLDOPT_PGLIB_DIR=${FOLDOPT_PGLIB_DIR:-../shared/data/pglib}
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
for ((r = 1; r <= reps; r++)); do
    for b in "$@"; do
        for build in old new; do
            exe=$old
            [ $build = new ] && exe=$new
            line=$(nice "$exe" "$b" $((b - 1)) 2>/dev/null | grep '^pglib' || true)
            [ -n "$line" ] && echo "$build $line" | tee -a "$raw"
        done
    done
done
# columns of bench_opf: case buses n iter fwd_s cb obj_rel vjp_s jac_pg_s ... peak_MB load
python3 - "$raw" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    key = (f[1], f[0])
    runs.setdefault(key, []).append((float(f[5]), float(f[8]), float(f[9]), float(f[13]),
                                     float(f[14])))
print("\n%-28s %-5s %8s %8s %9s %8s %11s" % ("case", "build", "fwd_s", "vjp_s", "jac_pg_s",
                                              "peak_MB", "load"))
for (case, build), rs in sorted(runs.items(), key=lambda kv: (kv[0][0], kv[0][1] != "old")):
    med = [statistics.median(r[i] for r in rs) for i in range(4)]
    loads = [r[4] for r in rs]
    print("%-28s %-5s %8.3f %8.4f %9.3f %8.0f %5.1f-%-5.1f" % (case, build, *med, min(loads),
                                                               max(loads)))
PY
