#!/usr/bin/env bash
# Learning-task benchmark: `foldopt train` on every task with every available backward method
# (doc/benchmarks.md "Learning tasks"). Usage: bench-learning.sh FOLDOPT [OUTDIR] [EPOCHS].
# Writes OUTDIR/<task>-<backward>.json and .tsv, and prints a Markdown table on stdout:
# final test figure, two-stage figure, seconds per epoch. Unavailable combinations are listed
# with the reason foldopt gives. TASKS (environment) restricts the task list. EPOCHS, when
# given, applies to every task; by default qp (7-10 s per epoch plus the test evaluation on
# the shared 2-core machine) trains 6 epochs and the other tasks 10: about 10 minutes.
# Mean backward iterations (or unrolled steps) per sample and the largest tape are listed.
set -uo pipefail
foldopt=${1:?usage: bench-learning.sh FOLDOPT [OUTDIR] [EPOCHS]}
out=${2:-bench-learning}
epochs_all=${3:-}
mkdir -p "$out"
echo "| task | backward | epochs | final test | two-stage test | s / epoch | backward iters | tape (bytes) | failed samples |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for task in ${TASKS:-qp portfolio denoise topk}; do
    extra=()
    epochs=${epochs_all:-10}
    [ "$task" = qp ] && epochs=${epochs_all:-6}
    for b in direct lfpi gmres unroll; do
        base="$out/$task-$b"
        if "$foldopt" train "$task" --backward "$b" --epochs "$epochs" --seed 1 --json --quiet \
            "${extra[@]}" \
            >"$base.json" 2>"$base.err"; then
            python3 - "$base.json" "$base.tsv" "$task" "$b" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["history"]
per = sum(e["seconds"] for e in h[1:]) / max(1, len(h) - 1)
iters = sum(e["backward_iters"] for e in h[1:]) / max(1, len(h) - 1)
tape = max(e["tape_bytes"] for e in h)
with open(sys.argv[2], "w") as f:
    f.write("epoch\ttrain_loss\ttest\n")
    for e in h:
        f.write(f'{e["epoch"]}\t{e["train_loss"]:.10g}\t{e["test"]:.10g}\n')
print(f'| {sys.argv[3]} | {sys.argv[4]} | {r["epochs"]} | {r["final_test"]:.5g} ({r["metric"]}) | '
      f'{r["two_stage_test"]:.5g} | {per:.3f} | {iters:.4g} | {tape} | {r["failed"]} |')
PY
        else
            reason=$(tail -n 1 "$base.err" | sed 's/^foldopt: train: //')
            echo "| $task | $b | | failed: ${reason//|/\\|} | | | | | |"
            rm -f "$base.json"
        fi
    done
done
