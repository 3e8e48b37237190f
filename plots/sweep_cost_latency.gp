# plots/sweep_cost_latency.gp: a sweep's cost against latency: every point's
# cost per million tokens (y, USD) against its p99 time to first token
# (x, log scale, s), one series per GPU type, with 95% confidence bars when
# the sweep ran replications. Filled markers met the SLO, open ones missed
# it; the TTFT target is a vertical line with the region beyond it shaded,
# and the cheapest point that met the SLO (slo_met_mean = 1) is ringed and
# labelled. Each series' points are joined in order of latency.
#
# Reads sweep.csv as `clustersim sweep` writes it: point, the varied keys by
# scenario path, text metrics (pool0_gpu, status), then <metric>_mean and
# <metric>_ci95 for every numeric metric.
#
#   gnuplot -e "in='OUT/sweep.csv'; out='sweep.png'" plots/sweep_cost_latency.gp
# Optional (-e); `clustersim plot` passes them:
#   term='svg'                          terminal (default: from out's extension)
#   gpucol='cluster.pools.[0].gpu'      the column naming the series (default pool0_gpu)
#   repcol='cluster.pools.[0].replicas' a column whose value labels each point
#   slo_ttft=1                          TTFT target (s); default: the slo_ttft_s_mean
#                                       column; NaN for none
#   noci=1                              no confidence bars (no *_ci95 columns)
#   name, model                         strings for the title

if (!exists("in")) { print "sweep_cost_latency.gp: set in='OUTDIR/sweep.csv'"; exit status 2 }
fig_w = 1200; fig_h = 860
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'
if (!exists("gpucol")) { gpucol = 'pool0_gpu' }
if (!exists("repcol")) { repcol = '' }
if (!exists("noci")) { noci = 0 }
X = 'ttft_p99_s_mean'; XE = 'ttft_p99_s_ci95'
Y = 'usd_per_million_tokens_mean'; YE = 'usd_per_million_tokens_ci95'
if (noci != 0) { XE = X; YE = Y }    # (no bars drawn; names that exist)

# --- series, ranges, the SLO and the cheapest point meeting it ---
if (!exists("slo_ttft")) {
  slo_ttft = NaN
  stats in using (v = column('slo_ttft_s_mean'), (v == v && v > 0) ? slo_ttft = v : 0, 0) nooutput
}
has_slo = slo_ttft == slo_ttft && slo_ttft > 0
gpus_list = ' '
xlo = 1e300; xhi = 0; yhi = 0; npts = 0
best = 1e300; bx = 0; by = 0; bg = ''; brep = ''
stats in using (g = strcol(gpucol), (strstrt(gpus_list, ' '.g.' ') == 0 ? gpus_list = gpus_list.g.' ' : 0), \
                x = column(X), y = column(Y), \
                (x == x && x > 0 && y == y) ? (npts = npts + 1, xlo = x < xlo ? x : xlo, xhi = x > xhi ? x : xhi, \
                                               yhi = y > yhi ? y : yhi) : 0, \
                m = column('slo_met_mean'), \
                (m == 1 && y == y && y < best) ? (best = y, bx = x, by = y, bg = g, \
                                                  brep = repcol ne '' ? strcol(repcol) : '', 0) : 0, \
                0) nooutput
ngpu = words(gpus_list)
if (npts == 0) { print "sweep_cost_latency.gp: no point with a p99 TTFT and a cost in ".in; exit status 1 }
if (has_slo) { xlo = slo_ttft < xlo ? slo_ttft : xlo; xhi = slo_ttft > xhi ? slo_ttft : xhi }

# --- titles ---
tl = 'Sweep: cost against p99 time to first token'
if (exists("name")) { tl = tl.' — '.name.(exists("model") ? ' ('.model.')' : '') }
sub = 'mean over replications'.(noci != 0 ? '' : ', bars: 95% confidence').'; filled: met the SLO, open: missed it'
if (repcol ne '') {
  rname = repcol
  while (strstrt(rname, '.') > 0) { rname = rname[strstrt(rname, '.') + 1:] }
  sub = sub."\nnumbers beside the points: ".rname
}
set title tl."\n".sub font font.','.(fs + 2)

set logscale x
set format x '%g'
set xrange [xlo / 2.0:xhi * 2.0]
set yrange [0:yhi * 1.15]
set xlabel 'p99 time to first token (s, log scale)'
set ylabel 'cost (USD per million tokens)'
set lmargin 12
set key outside right top vertical Left reverse title 'GPU' left samplen 2
set style fill transparent solid 0.08 noborder

if (has_slo) {
  set object 1 rectangle from first slo_ttft, graph 0 to graph 1, graph 1 fillcolor rgb c_ref fillstyle transparent solid 0.06 noborder behind
  set arrow 1 from first slo_ttft, graph 0 to first slo_ttft, graph 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
  set label 1 sprintf('SLO: p99 TTFT ≤ %s s', num(slo_ttft)) at first slo_ttft, graph 0.97 left offset 0.6, 0 textcolor rgb c_ref front
  set label 4 'misses the SLO' at graph 0.99, graph 0.03 right textcolor rgb c_ref front
}
if (best < 1e300) {
  where = bg.(brep ne '' ? ' × '.brep : '')
  set label 2 sprintf("cheapest meeting the SLO: %s\n$%s per M tokens, p99 TTFT %s s", where, num(by), num(bx)) \
      at first bx, first by left offset 2.2, -1.6 front boxed textcolor '#000000'
} else {
  set label 2 'no point met the SLO' at graph 0.5, graph 0.97 center front textcolor rgb c_ref
}

# point types: k-th series filled (met) and its open twin (missed)
ptf(k) = word('7 5 9 13 11 15 7 5', (k - 1) % 8 + 1) + 0
pto(k) = ptf(k) - 1
sel(k, v) = strcol(gpucol) eq word(gpus_list, k) ? v : NaN
xl(x, e) = (e == e && x - e > 0) ? x - e : x    # bars clipped at 0 on the log axis
rx = repcol ne '' ? 1 : 0
ci = noci != 0 ? 0 : 1

plot for [k = 1:ngpu] in using (sel(k, column(X))):(column(Y)) smooth unique with lines linetype k linewidth 1.2 title '', \
     for [k = 1:ngpu] NaN with linespoints linetype k linewidth 1.2 pointtype ptf(k) pointsize 1.6 title word(gpus_list, k), \
     for [k = 1:ngpu * ci] '' using (sel(k, column(X))):(column(Y)):(xl(column(X), column(XE))):(column(X) + (column(XE) == column(XE) ? column(XE) : 0)) \
                                :(column(Y) - (column(YE) == column(YE) ? column(YE) : 0)):(column(Y) + (column(YE) == column(YE) ? column(YE) : 0)) \
          with xyerrorbars linetype k linewidth 0.8 pointtype -1 title '', \
     for [k = 1:ngpu] '' using (sel(k, column(X))):(column('slo_met_mean') == 1 ? column(Y) : NaN) with points linetype k pointtype ptf(k) pointsize 1.6 title '', \
     for [k = 1:ngpu] '' using (sel(k, column(X))):(column('slo_met_mean') == 1 ? NaN : column(Y)) with points linetype k pointtype pto(k) pointsize 1.6 title '', \
     for [k = 1:ngpu * rx] '' using (sel(k, column(X))):(column(Y)):(strcol(repcol)) with labels offset 0, 1.1 font font.','.(fs - 2) textcolor '#404040' title '', \
     '+' using (best < 1e300 ? bx : NaN):(by) every ::0::0 with points pointtype 6 pointsize 4.5 linecolor '#000000' linewidth 2 title ''
