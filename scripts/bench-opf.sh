#!/usr/bin/env bash
# The AC-OPF table of doc/benchmarks.md: bench_opf on PGLib cases, each case in its own
# process under nice, REPS rounds (each round runs every case once per build, builds
# alternating, so that the load falls on all of them alike); prints every run as bench_opf
# printed it, then per case and build the medians and ranges of the forward seconds, one VJP
# of the objective / forward, the full d pg / d pd and d vm / d pd Jacobians / forward (wall
# clock, and CPU seconds of the process), the peak memory, the 1-minute load average
# and the KKT form.
#   usage: scripts/bench-opf.sh [-r REPS] [-b LABEL=BENCH_OPF]... BUSES ...
#   e.g.:  scripts/bench-opf.sh -r 3 1354 2312            # build/tests/bench/bench_opf
#          scripts/bench-opf.sh -b old=/tmp/old/build/tests/bench/bench_opf \
#              -b new=build/tests/bench/bench_opf 1354 2312
#   BUSES: bus counts of baseline_ac.tsv (a case with B buses runs as `bench_opf B B-1`).
#   FOLDOPT_PGLIB_DIR: the PGLib folder (default ../shared/data/pglib); BENCH_OPF_SET and
#   the other variables of bench_opf pass through. BENCH_OPF_RAW=FILE keeps the raw lines.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
    echo "usage: $0 [-r REPS] [-b LABEL=BENCH_OPF]... BUSES ..." >&2
    exit 2
}
reps=3
labels=()
exes=()
while getopts r:b: opt; do
    case $opt in
    r) reps=$OPTARG ;;
    b) labels+=("${OPTARG%%=*}") exes+=("${OPTARG#*=}") ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
if [ ${#exes[@]} -eq 0 ]; then
    labels=(build) exes=(build/tests/bench/bench_opf)
fi
for exe in "${exes[@]}"; do
    [ -x "$exe" ] || { echo "$0: $exe is not an executable" >&2; exit 2; }
done
export FOLDOPT_PGLIB_DIR=${FOLDOPT_PGLIB_DIR:-../shared/data/pglib}
raw=${BENCH_OPF_RAW:-$(mktemp)}
[ -n "${BENCH_OPF_RAW:-}" ] || trap 'rm -f "$raw"' EXIT
: >"$raw"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= reps; r++)); do
    for b in "$@"; do
        for k in "${!exes[@]}"; do
            out=$(nice -n 10 "${exes[$k]}" "$b" $((b - 1)) 2>/dev/null || true)
            header=$(grep -m1 '^case ' <<<"$out" || true)
            while read -r line; do # several cases can have B buses
                echo "${labels[$k]} $line"
                printf '%s\t%s\t%s\n' "${labels[$k]}" "$header" "$line" >>"$raw"
            done < <(grep '^pglib' <<<"$out" || true)
        done
    done
done
python3 - "$raw" <<'PY'
import statistics, sys
runs, order = {}, []
for rec in open(sys.argv[1]):
    label, header, line = rec.rstrip("\n").split("\t")
    names = header.split()[:-2]  # "status kkt" ends the header
    f = line.split()
    row = dict(zip(names, f))
    row["kkt"] = f[len(names) + 1] if len(f) > len(names) + 1 else "?"
    key = (row["case"], label)
    if key not in runs:
        order.append(key)
    runs.setdefault(key, []).append(row)

def med(rs, col, scale=1.0):
    v = [float(r[col].rstrip("%")) * scale for r in rs if col in r]
    v = [x for x in v if x == x]  # NaN: that part failed
    if not v:
        return "-"
    return "%.3g [%.3g-%.3g]" % (statistics.median(v), min(v), max(v))

cols = [("fwd_s", "fwd_s", 1), ("vjp/fwd %", "vjp/fwd", 1), ("pg/fwd", "jac/fwd", 1),
        ("vm/fwd", "vm/fwd", 1), ("vjp/cpu %", "vjp/cpu", 1), ("pg/cpu", "jac/cpu", 1),
        ("vm/cpu", "vm/cpu", 1), ("peak_MB", "peak_MB", 1)]
print("\nmedians [min-max] over the runs; ratios to the forward solve of the same process")
print("%-28s %-6s %2s " % ("case", "build", "n") +
      " ".join("%-22s" % c[0] for c in cols) + " load      kkt")
for key in sorted(order, key=lambda k: (int(runs[k][0]["buses"]), order.index(k))):
    rs = runs[key]
    loads = [float(r["load"]) for r in rs]
    forms = sorted(set(r["kkt"] for r in rs))
    print("%-28s %-6s %2d " % (key[0].replace("pglib_opf_", ""), key[1], len(rs)) +
          " ".join("%-22s" % med(rs, c[1], c[2]) for c in cols) +
          " %.1f-%.1f %s" % (min(loads), max(loads), ",".join(forms)))
PY
