#!/usr/bin/env bash
# Training curves of the learning benchmark as PNG (gnuplot): one plot per task with the test
# figure per epoch for each backward method and the two-stage level (of the first method run:
# under unroll it excludes the samples whose SQP iteration found another KKT point).
# Usage: plot-learning.sh OUTDIR [DOCDIR]  (OUTDIR as written by bench-learning.sh).
set -euo pipefail
out=${1:?usage: plot-learning.sh OUTDIR [DOCDIR]}
doc=${2:-doc}
for task in qp portfolio denoise topk; do
    plots=""
    two=""
    metric="test"
    for b in direct lfpi gmres unroll; do
        f="$out/$task-$b.tsv"
        [ -f "$f" ] || continue
        plots+="${plots:+, }'$f' using 1:3 with linespoints title '$b'"
        [ -n "$two" ] || two=$(python3 -c "import json;print(json.load(open('$out/$task-$b.json'))['two_stage_test'])")
        metric=$(python3 -c "import json;print(json.load(open('$out/$task-$b.json'))['metric'])")
    done
    [ -n "$plots" ] || continue
    gnuplot <<GP
set terminal pngcairo size 640,400
set output '$doc/learning-$task.png'
set title 'foldopt train $task: test $metric per epoch'
set xlabel 'epoch'
set ylabel 'test $metric'
set key top right
plot $plots, $two with lines dashtype 2 title 'two-stage'
GP
done
