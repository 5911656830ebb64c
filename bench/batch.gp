# SPDX-License-Identifier: LGPL-2.1-or-later
# MACs per second against GenerateMacBatch size, from bench/batch.dat (written by hmacd-bench).
#         gnuplot -e "datafile='bench/batch.dat'; outfile='bench/batch.png'" bench/batch.gp
if (!exists("datafile")) datafile = 'bench/batch.dat'
if (!exists("outfile")) outfile = 'bench/batch.png'

set terminal pngcairo size 1000,640 font "sans,11"
set output outfile
set title "hmacd GenerateMacBatch: MACs per second against batch size (32-byte messages, 1 client, root)"
set logscale x 2
set logscale y 10
set xrange [0.7:6000]
set yrange [1000:5e8]
set xtics ("1" 1, "16" 16, "256" 256, "4096" 4096)
set format y "10^{%L}"
set xlabel "messages per call"
set ylabel "MACs per second"
set grid xtics ytics mytics
set key left top box opaque
set style data linespoints

plot datafile using 1:2 title "hmacd GenerateMacBatch" lw 2 pt 7 ps 1.3, \
     '' using 1:2:(sprintf("%.0f", $2)) with labels offset 0,1.2 notitle, \
     '' using 1:3 with lines lw 2 dt 2 title "in-process OpenSSL HMAC-SHA256, keyed once (compute floor)", \
     '' using 1:4 with lines lw 2 dt 3 title "GenerateMac, one MAC per call", \
     '' using 1:5 with lines lw 1 lc rgb "red" title "target: 1,000,000 MACs/s at 4096"
