#!/usr/bin/env bash
# The forward solve with and without Ipopt's bound relaxation (doc/benchmarks.md "Bound
# relaxation"): every PGLib case up to MAXBUS buses solved by `foldopt opf CASE --json` with
# foldopt's default (bound_relax_factor = 0) and with Ipopt's (--ipopt
# bound_relax_factor=1e-8), REPS rounds alternating the two, one process per run under nice.
# Prints every run, then per case and setting: the exit code and status of the last run, the
# first solve's status and iterations, the tightening rounds, the tolerance reached, the
# objective's relative difference from baseline_ac.tsv, and the medians of the forward and
# tightening seconds, with the machine's load.
#   usage: scripts/bench-bound-relax.sh [-r REPS] [-b MAXBUS] [FOLDOPT]
#   FOLDOPT_PGLIB_DIR: the PGLib folder (default ../shared/data/pglib).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3 maxbus=2500
while getopts r:b: opt; do
    case $opt in
    r) reps=$OPTARG ;;
    b) maxbus=$OPTARG ;;
    *) echo "usage: $0 [-r REPS] [-b MAXBUS] [FOLDOPT]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
exe=${1:-build/src/cli/foldopt}
pglib=${FOLDOPT_PGLIB_DIR:-../shared/data/pglib}
[ -f "$pglib/baseline_ac.tsv" ] || { echo "$0: no $pglib/baseline_ac.tsv" >&2; exit 2; }
cases=$(awk -F'\t' -v m="$maxbus" 'NR > 1 && $2 <= m { print $1 }' "$pglib/baseline_ac.tsv")
raw=$(mktemp) out=$(mktemp)
trap 'rm -f "$raw" "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
    for c in $cases; do
        for setting in 0 1e-8; do
            extra=()
            [ "$setting" = 0 ] || extra=(--ipopt "bound_relax_factor=$setting")
            rc=0
            nice timeout 900 "$exe" opf "$pglib/$c.m" --json -o "$out" "${extra[@]}" \
                >/dev/null 2>&1 || rc=$?
            load=$(cut -d' ' -f1 /proc/loadavg)
            python3 - "$out" "$c" "$setting" "$rc" "$load" "$pglib/baseline_ac.tsv" <<'PY' |
import json, sys
path, case, setting, rc, load, base = sys.argv[1:]
ref = {l.split("\t")[0]: float(l.split("\t")[2]) for l in list(open(base))[1:]}
try:
    d = json.load(open(path))
except (OSError, ValueError):
    d = {}
obj = d.get("objective")
rel = abs(obj - ref[case]) / abs(ref[case]) if isinstance(obj, (int, float)) else float("nan")
print(case, setting, rc, d.get("status", "-"), d.get("first_status", "-"),
      d.get("first_iterations", -1), d.get("classify_resolves", -1),
      d.get("tol_reached", float("nan")), "%.2e" % rel, d.get("forward_seconds", float("nan")),
      d.get("classify_seconds", float("nan")), load)
PY
                tee -a "$raw"
            rm -f "$out"
        done
    done
done
python3 - "$raw" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    runs.setdefault((f[0], f[1]), []).append(f)
print("\n%-28s %-5s %2s %-10s %-10s %5s %4s %7s %8s %8s %8s %9s" % (
    "case", "relax", "rc", "status", "first", "iter", "tigh", "tol", "obj_rel", "fwd_s",
    "tight_s", "load"))
buses = lambda case: int(re.match(r"pglib_opf_case(\d+)", case).group(1))
for (case, setting), rs in sorted(runs.items(), key=lambda kv: (buses(kv[0][0]), kv[0][1])):
    last = rs[-1]
    med = [statistics.median(float(r[i]) for r in rs) for i in (9, 10)]
    loads = [float(r[11]) for r in rs]
    print("%-28s %-5s %2s %-10s %-10s %5s %4s %7s %8s %8.2f %8.2f %4.1f-%-4.1f" % (
        case.replace("pglib_opf_", ""), setting, last[2], last[3], last[4], last[5], last[6],
        last[7], last[8], *med, min(loads), max(loads)))
PY
