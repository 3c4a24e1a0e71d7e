#!/usr/bin/env bash
# Synthetic AC-OPF grids at scale (doc/benchmarks.md "Synthetic grids at scale"): for each
# size, REPS runs of `bench_opf --grid SIZE SEED` (generate the grid, solve it with default
# settings, one VJP of the objective w.r.t. all parameters, d pg / d pd for 100 loads), each
# run in its own process under nice; prints every run, then a table of medians (min-max)
# with the machine's load.
#   usage: scripts/bench-gridscale.sh [-r REPS] [-s SEED] [SIZE ...]
#          scripts/bench-gridscale.sh -t FILE [FILE ...]   (the table of runs printed before)
#   default: 3 repetitions, seed 1, sizes 30000 100000
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3
seed=1
tables=false
while getopts r:s:t opt; do
    case $opt in
    r) reps=$OPTARG ;;
    s) seed=$OPTARG ;;
    t) tables=true ;;
    *) echo "usage: $0 [-r REPS] [-s SEED] [SIZE ...] | -t FILE ..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
if $tables; then
    grep -h '^grid' "$@" >"$raw" || true
else
    sizes=("$@")
    [ ${#sizes[@]} -gt 0 ] || sizes=(30000 100000)
    bash scripts/build.sh
    exe=build/tests/bench/bench_opf
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
    echo "# $(date -u '+%F %H:%M') UTC, commit $commit," \
         "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "# runs: case buses n iter fwd_s cb obj_rel vjp_s jac100_s vjp/fwd jac/fwd env_err" \
         "peak_MB load status kkt | gen_s load_before"
    for size in "${sizes[@]}"; do
        for _ in $(seq "$reps"); do
            before=$(cut -d' ' -f1 /proc/loadavg)
            out=$(nice -n 10 "$exe" --grid "$size" "$seed" 2>&1 || true)
            gen=$(sed -n 's/.*generated in \([0-9.]*\) s.*/\1/p' <<<"$out")
            line=$(grep '^grid' <<<"$out" | tail -n 1)
            echo "$line | ${gen:-?} $before" | tee -a "$raw"
        done
    done
fi
python3 - "$raw" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    main, _, extra = line.partition("|")
    f = main.split()
    if len(f) >= 4 and f[2] == "forward":  # the solve failed: "forward STATUS after N ..."
        f = f[:2] + ["-", f[5]] + ["nan"] * 10 + ["failed:", f[3]]
    if len(f) < 16:
        continue
    runs.setdefault(int(f[1]), []).append((f, extra.split()))
def med(vals, fmt):
    vals = [v for v in vals if v == v]
    if not vals:
        return "-"
    m = fmt.format(statistics.median(vals))
    if len(vals) > 1:
        m += " (" + fmt.format(min(vals)) + "-" + fmt.format(max(vals)) + ")"
    return m
def num(s):
    try:
        return float(s.rstrip("%"))
    except ValueError:
        return float("nan")
print("\n| buses | variables | runs | generate s | Ipopt iterations | forward s | VJP s "
      "| VJP / forward | d pg/d pd, 100 loads, s | peak MB | load (1 min) | status, KKT form |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for buses in sorted(runs):
    rs = runs[buses]
    col = lambda k: [num(f[k]) for f, _ in rs]
    loads = [num(e[1]) for _, e in rs if len(e) > 1] + col(13)
    states = sorted({" ".join(f[14:16]) for f, _ in rs})
    gen = [num(e[0]) for _, e in rs if e]
    print(f"| {buses} | {rs[0][0][2]} | {len(rs)} | {med(gen, '{:.2f}')} | "
          f"{med(col(3), '{:.0f}')} | "
          f"{med(col(4), '{:.1f}')} | {med(col(7), '{:.2f}')} | {med(col(9), '{:.2f}')}% | "
          f"{med(col(8), '{:.2f}')} | {med(col(12), '{:.0f}')} | "
          f"{min(loads):.1f}-{max(loads):.1f} | {'; '.join(states)} |")
EOF
