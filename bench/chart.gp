# bench/chart.gp - bench/run.sh's chart: how many times better rxsvc does
# than OpenAFS's userspace Rx, per workload and placement (and per rxkad
# level in the rxkad groups), with issues 5's and 6's targets.  run.sh
# sets, with gnuplot -e:
#   bars  file of "x advantage series" (1 unpinned, 2 one-cpu, 3 split;
#         4, 5, 6: rxkad clear, auth, crypt, unpinned)
#   tg    file of "x at-least aim" (NaN where the row has no such target)
#   lb    file of "x-centre \"workload\""
#   out   the PNG to write
#   sub   a subtitle (date, revision)
#   ylo, yhi  the y range
# The advantage is rxsvc ÷ OpenAFS for higher-is-better rows (calls/s,
# MB/s) and OpenAFS ÷ rxsvc for lower-is-better rows (CPU, memory,
# seconds), so above 1 is rxsvc ahead everywhere.

set terminal pngcairo size 1800,760 font "sans,10"
set output out
set title "rxsvc vs OpenAFS 1.8 userspace Rx: how many times better rxsvc does\n{/*0.8 ".sub."}"
set ylabel "rxsvc advantage (×): rxsvc ÷ OpenAFS, " . \
	"or OpenAFS ÷ rxsvc for CPU, memory, time"
set logscale y 2
set yrange [ylo:yhi]
set ytics ("1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "3" 3, "4" 4, \
	"8" 8, "16" 16, "32" 32, "64" 64)
set grid ytics lc rgb "#dddddd"
set xtics rotate by -30 left scale 0 nomirror
set xrange [-1:*]
set offsets 0, 0.6, 0, 0
set key top left box opaque
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.9
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lw 1.5 lc rgb "black" front
set label 1 "1 = same" at graph 1.005, first 1 left front font ",9"
set bmargin 7
set rmargin 10

plot bars using 1:($3 == 1 ? $2 : NaN) with boxes lc rgb "#4477aa" \
	title "unpinned", \
     bars using 1:($3 == 2 ? $2 : NaN) with boxes lc rgb "#ee6677" \
	title "both on CPU 0", \
     bars using 1:($3 == 3 ? $2 : NaN) with boxes lc rgb "#228833" \
	title "split: servers CPU 0, clients CPU 1", \
     bars using 1:($3 == 4 ? $2 : NaN) with boxes lc rgb "#ccbb44" \
	title "rxkad clear (unpinned)", \
     bars using 1:($3 == 5 ? $2 : NaN) with boxes lc rgb "#66ccee" \
	title "rxkad auth (unpinned)", \
     bars using 1:($3 == 6 ? $2 : NaN) with boxes lc rgb "#aa3377" \
	title "rxkad crypt (unpinned)", \
     bars using 1:2:(sprintf("%.2f", $2)) with labels offset 0,0.6 \
	font ",8" notitle, \
     tg using ($1 - 0.45):2:(0.9):(0) with vectors nohead lw 3 \
	lc rgb "#cc0000" title "at least (issues 5, 6)", \
     tg using ($1 - 0.45):3:(0.9):(0) with vectors nohead lw 2 dt 2 \
	lc rgb "#000000" title "aim (issues 5, 6)", \
     lb using 1:(NaN):xtic(2) notitle
