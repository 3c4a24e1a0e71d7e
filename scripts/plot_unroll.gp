# Plot of `build/tests/bench/bench_unroll --csv FILE`: relative gradient error against k for
# reverse-mode unrolling, LFPI and GMRES (doc/iterative.md §5).
# usage: gnuplot -e "csv='doc/unroll.csv'; out='doc/unroll.png'" scripts/plot_unroll.gp
if (!exists("csv")) csv = 'doc/unroll.csv'
if (!exists("out")) out = 'doc/unroll.png'
set terminal pngcairo size 900,560 font ",11"
set output out
set datafile separator ","
set key top right
set logscale y
set format y "10^{%L}"
set grid
set xlabel "k (iterations: unrolled forward steps, or backward iterations at the fixed point)"
set ylabel "relative error of the gradient"
set title "Unrolling vs folding: projected gradient on a box-constrained QP"
set yrange [1e-17:10]
plot csv using 1:($2 > 1e-17 ? $2 : 1e-17) skip 1 with linespoints pt 7 ps 0.5 lw 2 title "reverse-mode unrolling", \
     csv using 1:($3 > 1e-17 ? $3 : 1e-17) skip 1 with linespoints pt 5 ps 0.5 lw 2 title "LFPI at the fixed point", \
     csv using 1:($4 > 1e-17 ? $4 : 1e-17) skip 1 with linespoints pt 9 ps 0.5 lw 2 title "GMRES at the fixed point"
