# plots/tco.gp: owning against renting, from `clustersim tco FILE.cfg`'s
# tco.csv (month, then the cumulative USD of each option): (a) each
# option's total over the horizon as a bar (the last row), buying green;
# (b) the cumulative cost month by month, buying's capex at month 0, the
# month buying pays back against the cheapest on-demand option marked.
#
#   gnuplot -e "in='OUT/tco.csv'; out='tco.png'" plots/tco.gp
# Optional (-e); `clustersim plot` passes them from tco.json:
#   term='svg'; name, gpu, years, peak_gpus   title parts
#   payback, payback_against                  the month buying pays back, against what
#   has_buy=1                                 the last column is buying's
#   break_even                                owning's break-even utilisation against that option

if (!exists("in")) { print "tco.gp: set in='OUTDIR/tco.csv'"; exit status 2 }
fig_w = 1200; fig_h = 860
capcols = 0
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

stats in using 1 nooutput
nrows = STATS_records; last = nrows - 1; months = STATS_max
stats in nooutput
ncol = STATS_columns
if (ncol < 2 || nrows < 1) { print "tco.gp: tco.csv has no option"; exit status 1 }
top = 0
# cumulative, so each column's largest value is its total
do for [i=2:ncol] { stats in using i nooutput; if (STATS_max > top) { top = STATS_max } }
# buying, when the GPU has a purchase price, is tco.csv's last column
if (!exists("has_buy")) { has_buy = 0 }
isbuy(i) = (has_buy != 0 && i == ncol)

if (!exists("name")) { name = in }
sub = exists("years") ? sprintf('%g years', years) : sprintf('%d months', months)
if (exists("gpu")) { sub = sub.' of '.(exists("peak_gpus") ? sprintf('%d × ', peak_gpus) : '').gpu.' at peak' }
if (exists("payback")) { if (payback == payback) { sub = sub.sprintf('; buying pays back in month %d', payback).(exists("payback_against") ? ' against '.payback_against : '') } }
if (exists("break_even")) { if (break_even == break_even) { sub = sub.sprintf("\nowning breaks even with that price at %.0f%% utilisation", 100 * break_even) } }

set multiplot title name.' — owning against renting'."\n".sub font font.','.(fs + 3)
L = 0.1; R = 0.97
set lmargin at screen L; set rmargin at screen R

# (a) totals
set tmargin at screen 0.85; set bmargin at screen 0.56
set label 1 '(a) total over the horizon (thousand USD)' at graph 0, graph 1 left offset 0, 0.75 front
set style fill solid 0.8 noborder
set boxwidth 0.7
set yrange [0:top / 1e3 * 1.15]
set xrange [0.3:ncol - 0.7]
set xtics rotate by -25 left font font.','.(fs - 2) nomirror
set ylabel 'thousand USD'
set grid noxtics ytics
plot for [i=2:ncol] in every ::last::last using (i - 1):(column(i) / 1e3):xtic(columnhead(i)) \
     with boxes linecolor rgb (isbuy(i) ? '#009E73' : '#0072B2') title '', \
     for [i=2:ncol] in every ::last::last using (i - 1):(column(i) / 1e3):(sprintf('%.0f', column(i) / 1e3)) \
     with labels offset 0, 0.7 font font.','.(fs - 3) title ''
unset label 1

# (b) cumulative
set tmargin at screen 0.44; set bmargin at screen 0.08
set label 1 '(b) cumulative cost by month' at graph 0, graph 1 left offset 0, 0.75 front
set xrange [0:months]
set xtics auto norotate font font.','.fs
set yrange [0:top / 1e3 * 1.1]
set xlabel 'month'
set ylabel 'thousand USD'
set grid xtics ytics
set key inside left top vertical opaque box linecolor '#d8d8d8' font font.','.(fs - 3) maxrows 6
if (exists("payback")) { if (payback == payback) {
  set arrow 1 from first payback, graph 0 to first payback, graph 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
  set label 2 sprintf('pays back: month %d', payback) at first payback, graph 0.95 left offset 0.5, 0 textcolor rgb c_ref front
} }
plot for [i=2:ncol] in using 1:(column(i) / 1e3) with lines \
     linewidth (isbuy(i) ? 3.5 : 1.8) linetype (isbuy(i) ? 3 : (i - 1) % 8 + 1) title columnhead(i)
unset multiplot
