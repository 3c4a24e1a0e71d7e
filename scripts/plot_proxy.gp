# Plot of examples/python/opf_proxy.py --csv FILE: test error of the dispatch and of its cost
# against the number of training solves, values-only and Sobolev training (doc/python.md).
# usage: gnuplot -e "csv='doc/opf_proxy.csv'; out='doc/opf_proxy.png'" scripts/plot_proxy.gp
if (!exists("csv")) csv = 'doc/opf_proxy.csv'
if (!exists("out")) out = 'doc/opf_proxy.png'
set terminal pngcairo size 1000,420 font ",11"
set output out
set datafile separator ","
set logscale xy
set grid
set key top right
set xrange [5:100]
# the rows alternate: values only, then Sobolev, for each number of training solves
set xlabel "training solves"
set multiplot layout 1,2 title "AC-OPF proxy: values only vs Sobolev (values + d pg*/d pd from foldopt)"
set ylabel "dispatch RMSE on test loads (MW)"
plot csv using 1:3 skip 1 every 2::0 with linespoints pt 7 lw 2 title "values only", \
     csv using 1:3 skip 1 every 2::1 with linespoints pt 5 lw 2 title "Sobolev"
set ylabel "relative cost error on test loads"
plot csv using 1:4 skip 1 every 2::0 with linespoints pt 7 lw 2 title "values only", \
     csv using 1:4 skip 1 every 2::1 with linespoints pt 5 lw 2 title "Sobolev"
unset multiplot
