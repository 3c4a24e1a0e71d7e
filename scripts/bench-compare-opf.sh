#!/usr/bin/env bash
# Two builds of bench_opf on the same PGLib cases (doc/benchmarks.md "Cost of the parameter
# set"), alternating, one process per case under nice: scripts/bench-opf.sh with the two
# builds labelled old and new.
#   usage: scripts/bench-compare-opf.sh [-r REPS] OLD_BENCH NEW_BENCH BUSES ...
#   e.g.:  scripts/bench-compare-opf.sh /tmp/main/build/tests/bench/bench_opf \
#              build/tests/bench/bench_opf 300 1354 2000
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
exec bash scripts/bench-opf.sh -r "$reps" -b "old=$old" -b "new=$new" "$@"
