#!/usr/bin/env bash
# Where a full Jacobian's time goes (doc/benchmarks.md, Summary, "d vm / d pd"): for each PGLib
# case given (1354 -> pglib_opf_case1354_pegase.m, the first match), one `foldopt opf CASE
# --wrt WRT --of OF --json` at log.verbose 3, then scripts/profile_jacobian.py sums its log:
# the primary system's block solves, the comparison runs of the trust checks, the rest.
# Environment: WRT (default pd), OF (default vm), FOLDOPT_PGLIB_DIR (default ../shared/data/pglib).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
pglib=${FOLDOPT_PGLIB_DIR:-../shared/data/pglib}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD)"
names=()
for c in "$@"; do
    f=$(ls "$pglib"/pglib_opf_case"$c"*.m | head -1)
    n=$(basename "$f" .m)
    build/src/cli/foldopt opf "$f" --wrt "${WRT:-pd}" --of "${OF:-vm}" --json \
        --set log.verbose=3 > "$tmp/$n.json" 2> "$tmp/$n.err" || true
    names+=("$tmp/$n")
done
python3 scripts/profile_jacobian.py "${names[@]}"
