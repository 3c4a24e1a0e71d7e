#!/usr/bin/env bash
# Sensitivity audit (doc/benchmarks.md "Audit"): every PGLib case up to MAXBUS buses, each in
# its own process (build/tests/bench/audit_sensitivities), at the default settings: a seeded
# sample of Jacobian columns of pg, qg, vm, va w.r.t. pd and qd, and the LMPs, against
# central differences of warm re-solves at tol 1e-9 (steps 0.05, 0.025, 0.0125 MW; an entry
# they call wrong, flagged or not, is judged again on the two smaller steps re-solved at tol 1e-11
# (which must agree), reaching at
# least 1e-10, or converged within 1e-9 and agreeing with the middle step re-solved at tol
# 1e-10, which removes the bias of the re-solves' own barrier parameter). The Jacobian is
# computed by one call per output kind, as foldopt opf --of KIND does. Per case: entries matched / reported
# (NaN, an interval that contains the reference, a trust-report item) / flagged with an
# interval that misses the reference / silently wrong (unflagged and off), and
# the time of the resolution step (warm re-solves) against the time of the solve without it.
# A column whose re-solves cannot reach tol 1e-9 is measured again with steps 10 times larger
# and re-solves reaching 1e-7: such a loose reference confirms entries ("matched (N loose)")
# but never convicts one (what it does not match is counted unreliable, listed as "loose:").
# A kink at the solution (one-sided differences against a re-solve of the unmoved point that
# differ by a gap the same at the three steps) is judged apart: an unflagged entry there is
# silently wrong ("kink:" in CASE.err, counted in the kinks column), whatever the reference.
# Usage: audit-sensitivities.sh AUDIT_BIN PGLIB_DIR [OUTDIR] [MAXBUS] [SEED] [COLUMNS]
# (defaults: audit, 3000, 1, 5). Writes OUTDIR/audit.tsv and prints a Markdown table with the
# totals and the load average before and after. CASES (environment) restricts the case list
# (names without the pglib_opf_ prefix, e.g. CASES="case179_goc case1951_rte"); TIMEOUT
# (seconds, default 7200) limits each case. OUTDIR/CASE.err lists the entries found wrong.
set -uo pipefail
bin=${1:?usage: audit-sensitivities.sh AUDIT_BIN PGLIB_DIR [OUTDIR] [MAXBUS] [SEED] [COLUMNS]}
dir=${2:?usage: audit-sensitivities.sh AUDIT_BIN PGLIB_DIR [OUTDIR] [MAXBUS] [SEED] [COLUMNS]}
out=${3:-audit}
maxbus=${4:-3000}
seed=${5:-1}
cols=${6:-5}
mkdir -p "$out"
tsv="$out/audit.tsv"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
"$bin" --header >"$tsv"
cases=$(awk -F'\t' -v max="$maxbus" 'NR > 1 && $2 <= max { print $1 }' "$dir/baseline_ac.tsv")
for c in $cases; do
    if [ -n "${CASES:-}" ] && ! grep -qw "${c#pglib_opf_}" <<<"$CASES"; then continue; fi
    line=$(timeout "${TIMEOUT:-7200}" nice "$bin" "$dir/$c.m" "$seed" "$cols" 2>"$out/$c.err")
    rc=$?
    [ -z "$line" ] && line=$(printf '%s\t-\tfailed (exit %d)' "$c" "$rc")
    printf '%s\n' "$line" >>"$tsv"
    printf '%s\n' "$line" >&2
done
end=$(date +%s)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tsv" "$load0" "$load1" $((end - start)) <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
head, rows = rows[0], rows[1:]
ix = {k: i for i, k in enumerate(head)}
print("| case | buses | form | forward (s) | resolution (s, % of the solve) | re-solves | ambiguous after | "
      "entries | matched | reported | flagged, interval misses | silently wrong | unreliable ref. | "
      "LMPs matched / reported / misses / wrong / unreliable | worst silently wrong |")
print("| --- " * 15 + "|")
tot = dict(entries=0, matched=0, reported=0, miss=0, wrong=0, unreliable=0, lmp=0, lmp_matched=0,
           lmp_reported=0, lmp_miss=0, lmp_wrong=0, lmp_unreliable=0)
fwd = res = 0.0
failed = []
tot_loose = [0, 0, 0]  # matched against a loose reference (entries, LMPs); kinks
mark = lambda v, l: f"{v} ({l} loose)" if l else f"{v}"
mark_k = lambda v, k: f"{v} ({k} at kinks)" if k else f"{v}"
for r in rows:
    if len(r) <= ix["worst_entry"]:  # a failed case (older rows lack the loose columns)
        failed.append(r[0] + ": " + " ".join(r[2:]))
        print(f"| {r[0].replace('pglib_opf_', '')} | {r[1]} | {' '.join(r[2:])} |" + " |" * 12)
        continue
    g = lambda k: r[ix[k]] if k in ix and ix[k] < len(r) else "0"
    loose, lmp_loose = int(g("matched_loose")), int(g("lmp_matched_loose"))
    kinks = int(g("kinks"))
    tot_loose[2] += kinks
    tot_loose[0] += loose
    tot_loose[1] += lmp_loose
    for k in tot:
        tot[k] += int(g(k))
    f, s = float(g("forward_s")), float(g("resolve_s"))
    fwd += f
    res += s
    share = f"{100 * s / (f - s):.0f}%" if f > s else "-"
    worst = "-" if g("worst_entry") == "-" else f"{g('worst_entry')} ({float(g('worst_wrong')):.2g})"
    print(f"| {g('case').replace('pglib_opf_', '')} | {g('buses')} | {g('form')} | {f:.2f} | "
          f"{s:.2f} ({share}) | {g('resolves')} | {g('ambiguous')} | {g('entries')} | "
          f"{mark(g('matched'), loose)} | {g('reported')} | {g('miss')} | {mark_k(g('wrong'), kinks)} | "
          f"{g('unreliable')} | {mark(g('lmp_matched'), lmp_loose)} / {g('lmp_reported')} / {g('lmp_miss')} / {g('lmp_wrong')} / "
          f"{g('lmp_unreliable')} | {worst} |")
share = f"{100 * res / (fwd - res):.0f}%" if fwd > res else "-"
print(f"| **total** | {len(rows)} cases | | {fwd:.1f} | {res:.1f} ({share}) | | | {tot['entries']} | "
      f"{mark(tot['matched'], tot_loose[0])} | {tot['reported']} | {tot['miss']} | "
      f"**{mark_k(tot['wrong'], tot_loose[2])}** | {tot['unreliable']} | {mark(tot['lmp_matched'], tot_loose[1])} / "
      f"{tot['lmp_reported']} / {tot['lmp_miss']} / "
      f"{tot['lmp_wrong']} / {tot['lmp_unreliable']} | |")
print()
print(f"Load average (1, 5, 15 min) before: {sys.argv[2]}; after: {sys.argv[3]}; "
      f"wall time {int(sys.argv[4]) // 60} min.")
if failed:
    print("Not audited: " + "; ".join(failed))
PY
