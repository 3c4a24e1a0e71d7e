#!/usr/bin/env bash
# Forward solves of the PGLib cases under one choice of Ipopt options and model settings
# (doc/benchmarks.md "Forward solve: iterations"): every case of baseline_ac.tsv with
# MINBUS < buses <= MAXBUS (or the cases named with -c) solved by `foldopt opf CASE --json
# --set log.verbose=2 [OPF_ARGS...]`, one process per case under nice -n 10. Prints one line
# per case as it finishes: Ipopt iterations of the first solve (both runs of a solve that
# forward.stall_iter restarted, marked "restart" at the end of its row) and of all solves (the
# re-solves of doc/acopf.md §2.2 included; the tightening re-solves of forward.resolve_rounds
# only when derivatives would run them: pass -- --set forward.resolve_when=solve, since a
# plain foldopt opf leaves them to a fold that never comes), restoration-phase iterations
# of the first solve, the first and final statuses,
# the forward wall seconds (foldopt's) and the process's CPU seconds, the objective's
# relative difference from baseline_ac.tsv (which has 5 significant digits), the exit code
# and the 1-minute load; then the sums. Iteration counts do not depend on the load; the
# seconds do.
#   usage: scripts/bench-ipopt-defaults.sh [-b MAXBUS] [-m MINBUS] [-c CASE,CASE..]
#            [-t CPUSEC] [-l LOGDIR] [-e FOLDOPT] [-- OPF_ARGS...]
#   -t CPUSEC stops a case's process after CPUSEC seconds of CPU (ulimit -t): its row then
#   shows status "-" and a nonzero rc, i.e. "> CPUSEC s, not finished".
#   e.g.   scripts/bench-ipopt-defaults.sh -b 3000 -- --ipopt mu_strategy=adaptive
#   FOLDOPT_PGLIB_DIR: the PGLib folder (default ../shared/data/pglib). LOGDIR (default a
#   temporary folder, removed) keeps each case's JSON and Ipopt log, and the table's rows in
#   LOGDIR/rows.txt.
#   scripts/bench-ipopt-defaults.sh -j [LABEL=]LOGDIR_A,[LABEL=]LOGDIR_B[,...]  prints such
#   runs side by side (the cases of all): iterations of all solves and CPU seconds, statuses
#   that differ from the first run's, and the sums.
set -euo pipefail
cd "$(dirname "$0")/.."
maxbus=3000 minbus=0 list="" logdir="" exe=build/src/cli/foldopt join="" cpulimit=unlimited
while getopts b:m:c:t:l:e:j: opt; do
    case $opt in
    b) maxbus=$OPTARG ;;
    m) minbus=$OPTARG ;;
    c) list=$OPTARG ;;
    t) cpulimit=$OPTARG ;;
    l) logdir=$OPTARG ;;
    e) exe=$OPTARG ;;
    j) join=$OPTARG ;;
    *) echo "usage: $0 [-b MAXBUS] [-m MINBUS] [-c CASES] [-t CPUSEC] [-l LOGDIR] [-e FOLDOPT] [-- OPF_ARGS]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ -n "$join" ]; then
    python3 - "$join" <<'PY'
import sys
dirs = sys.argv[1].split(",")
labels = [d.split("=", 1)[0] if "=" in d else chr(ord("A") + i) for i, d in enumerate(dirs)]
dirs = [d.split("=", 1)[-1] for d in dirs]
rows = [{l.split()[0]: l.split() for l in open(d + "/rows.txt") if l.strip()} for d in dirs]
common = [c for c in rows[0] if all(c in r for r in rows[1:])]
print("iterations of all solves / CPU seconds of the process; a status that differs from A's "
      "is named")
print("%-20s %6s " % ("case", "buses") + " ".join("%14s" % l for l in labels))
sums = [[0, 0.0, 0.0] for _ in rows]  # iterations, cpu, cpu of cases >= 1000 buses
for case in common:
    cells = []
    for k, r in enumerate(rows):
        v = r[case]
        cell = "%s/%s" % (v[3], v[8])
        if v[6] != rows[0][case][6]:
            cell += " " + v[6]
        cells.append("%14s" % cell)
        sums[k][0] += int(v[3])
        sums[k][1] += float(v[8])
        if int(v[1]) >= 1000:
            sums[k][2] += float(v[8])
    print("%-20s %6s " % (case, rows[0][case][1]) + " ".join(cells))
for l, (it, cpu, big) in zip(labels, sums):
    print("sum %s: %d cases, %d iterations, cpu %.1f s (cases >= 1000 buses: %.1f s)" % (
        l, len(common), it, cpu, big))
PY
    exit 0
fi
pglib=${FOLDOPT_PGLIB_DIR:-../shared/data/pglib}
base=$pglib/baseline_ac.tsv
[ -f "$base" ] || { echo "$0: no $base" >&2; exit 2; }
[ -x "$exe" ] || { echo "$0: no $exe (build first)" >&2; exit 2; }
if [ -n "$list" ]; then
    cases=$(tr ',' '\n' <<<"$list" | sed 's/^\(pglib_opf_\)\{0,1\}/pglib_opf_/')
else
    cases=$(awk -F'\t' -v lo="$minbus" -v hi="$maxbus" 'NR > 1 && $2 > lo && $2 <= hi { print $1 }' "$base")
fi
keep=1
if [ -z "$logdir" ]; then
    logdir=$(mktemp -d) keep=0
    trap 'rm -rf "$logdir"' EXIT
fi
mkdir -p "$logdir"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') commit $(git rev-parse --short HEAD 2>/dev/null || echo -)" \
    "args: ${*:-(defaults)}"
printf '%-24s %6s %6s %6s %5s %-10s %-10s %8s %8s %9s %3s %5s %s\n' case buses first total restor \
    first_st status fwd_s cpu_s obj_rel rc load note
rows=$logdir/rows.txt
: >"$rows"
for c in $cases; do
    [ -f "$pglib/$c.m" ] || { echo "$c: not in $pglib" >&2; continue; }
    rc=0
    (ulimit -t "$cpulimit" && exec nice -n 10 /usr/bin/time -f '%U %S' -o "$logdir/$c.time" \
        "$exe" opf "$pglib/$c.m" --json --set log.verbose=2 "$@") >"$logdir/$c.json" \
        2>"$logdir/$c.log" || rc=$?
    load=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$logdir" "$c" "$rc" "$load" "$base" <<'PY' | tee -a "$rows"
import json, re, sys
logdir, case, rc, load, base = sys.argv[1:]
ref = {l.split("\t")[0]: (int(l.split("\t")[1]), float(l.split("\t")[2]))
       for l in list(open(base))[1:]}
buses, obj_ref = ref.get(case, (0, float("nan")))
try:
    d = json.load(open("%s/%s.json" % (logdir, case)))
except (OSError, ValueError):
    d = {}
log = open("%s/%s.log" % (logdir, case), errors="replace").read()
runs = log.split("Total number of variables")[1:]
iters = [int(m.group(1)) for m in re.finditer(r"Number of Iterations\.+: (\d+)", log)]
# the first solve's iterations (a solve restarted by forward.stall_iter: both runs)
first = d.get("first_iterations", iters[0] if iters else -1)
restart = "restart" if "restarted with mu_strategy adaptive" in log else ""
restor = len(re.findall(r"^\s*\d+r ", runs[0], re.M)) if runs else -1
try:
    cpu = sum(float(v) for v in open("%s/%s.time" % (logdir, case)).read().split()[-2:])
except (OSError, ValueError):
    cpu = float("nan")
obj = d.get("objective")
rel = (obj - obj_ref) / abs(obj_ref) if isinstance(obj, (int, float)) else float("nan")
print("%-24s %6d %6d %6d %5d %-10s %-10s %8.2f %8.2f %9.1e %3s %5s %s" % (
    case.replace("pglib_opf_", ""), buses, first, d.get("iterations", -1), restor,
    d.get("first_status", "-"), d.get("status", "-"), d.get("forward_seconds", float("nan")),
    cpu, rel, rc, load, restart))
PY
done
python3 - "$rows" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit(0)
num = lambda i: sum(float(r[i]) for r in rows if float(r[i]) == float(r[i]))
solved = sum(r[6] == "solved" for r in rows)
worst = max((abs(float(r[9])) for r in rows if float(r[9]) == float(r[9])), default=float("nan"))
over = [r[0] for r in rows if int(r[3]) > 150]
print("sum: %d cases, %d solved, first-solve iterations %d, all iterations %d, forward %.1f s, "
      "cpu %.1f s, largest |obj_rel| %.1e, above 150 iterations: %s" % (
          len(rows), solved, num(2), num(3), num(7), num(8), worst, " ".join(over) or "none"))
PY
[ "$keep" = 1 ] && echo "# logs in $logdir"
exit 0
