#!/usr/bin/env bash
# foldopt opf with OpenBLAS on 1 and on 2 threads, interleaved, each run its own process:
# wall clock, user and system CPU seconds, peak RSS, 1-minute load (doc/benchmarks.md,
# "Library threads").
#   scripts/bench-threads.sh [-r REPS] [-t "1 2"] [CASE ...]    (default: 5 cases >= 1,354 buses)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=2
threads="1 2"
while getopts r:t: o; do
    case $o in r) reps=$OPTARG ;; t) threads=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(case1354_pegase case2000_goc case2869_pegase case4917_goc case10000_goc)
pglib=${FOLDOPT_PGLIB_DIR:-../shared/data/pglib}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
exe=build/src/cli/foldopt
[ -x "$exe" ] || bash scripts/build.sh >/dev/null
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $(git rev-parse --short HEAD)"
echo "# foldopt opf CASE --wrt pd --mode value (forward with its re-solves, LMPs)"
for rep in $(seq "$reps"); do
    for c in "${cases[@]}"; do
        for t in $threads; do
            load=$(cut -d' ' -f1 /proc/loadavg)
            /usr/bin/time -f "$c threads=$t rep=$rep wall %e user %U sys %S peak_kb %M load $load" \
                env OPENBLAS_NUM_THREADS="$t" "$exe" opf "$pglib/pglib_opf_$c.m" --wrt pd \
                --mode value -o /dev/null 2>&1 >/dev/null | grep -E ' wall '
        done
    done
done
