# plots/latency_cdf.gp: a serving run's latency distributions: three
# columns - time to first token, time per output token, end-to-end - each
# the fraction of requests (y) at or below a latency (x, log scale, s), one
# curve per request class (the class "all" only when it is the only one),
# with the SLO targets, when set, marked. The top row is the plain CDF
# (0 - 100%); the bottom row stretches its tail, 90% to 99.99% in equal
# steps per nine (y = -log10(1 - p)), since the tail is what latency
# targets are about.
#
# Reads latency_cdf.csv as `clustersim run` writes it: class,p,ttft_s,
# tpot_s,e2e_s with quantiles p = 0.005 .. 0.995, 0.999, 0.9999 per class
# (tpot_s empty under static batching, which has no TPOT).
#
#   gnuplot -e "in='OUT/latency_cdf.csv'; out='latency_cdf.png'" plots/latency_cdf.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'                         terminal (default: from out's extension)
#   name, model, gpu; gpus             strings and a number for the title
#   slo_ttft, slo_tpot, slo_e2e (s)    targets, drawn as vertical lines
#   classes='chat batch'               classes to draw (default: all in the file)

if (!exists("in")) { print "latency_cdf.gp: set in='OUTDIR/latency_cdf.csv'"; exit status 2 }
fig_w = 1500; fig_h = 980
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

# --- the classes, and each column's range of positive values ---
if (!exists("classes")) {
  classes = ' '
  stats in using (c = strcol('class'), (strstrt(classes, ' '.c.' ') == 0 ? classes = classes.c.' ' : 0), 0) nooutput
  if (words(classes) > 1 && strstrt(classes, ' all ') > 0) {
    rest = ''
    do for [c in classes] { if (c ne 'all') { rest = rest.c.' ' } }
    classes = rest
  }
}
lo1 = lo2 = lo3 = 1e300; hi1 = hi2 = hi3 = 0
stats in using (v = column('ttft_s'), (v == v && v > 0) ? (lo1 = v < lo1 ? v : lo1, hi1 = v > hi1 ? v : hi1) : 0, \
                v = column('tpot_s'), (v == v && v > 0) ? (lo2 = v < lo2 ? v : lo2, hi2 = v > hi2 ? v : hi2) : 0, \
                v = column('e2e_s'),  (v == v && v > 0) ? (lo3 = v < lo3 ? v : lo3, hi3 = v > hi3 ? v : hi3) : 0, \
                column('p')) nooutput

# --- titles ---
if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu }
multi = words(classes) > 1
sub = 'latency of the requests completed after warm-up'.(multi ? ', by class' : '')

# --- layout: 2 rows x 3 columns, margins fixed so the axes line up ---
L1 = 0.075; W = 0.26; G = 0.055
T1 = 0.84; H = 0.33; GV = 0.1
ty(p) = -log10(1 - p)       # the tail row's stretched probability axis
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set logscale x
set format x '%g'
set grid xtics ytics
set key bottom right opaque box linecolor '#ffffff'

# Tic sets: 1-2-5 steps on a narrow log axis; the two rows' probabilities.
XT125 = "(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)"
YLIN = "('0' 0, '25%%' 0.25, '50%%' 0.5, '75%%' 0.75, '100%%' 1)"
YTAIL = "('90%%' ty(0.9), '99%%' ty(0.99), '99.9%%' ty(0.999), '99.99%%' ty(0.9999))"

# One panel: column col (i-th), row r, with range [lo, hi] and target slo
# (NaN: none). Macros take no arguments: each panel sets these first.
PANEL = "set lmargin at screen L1 + (i - 1) * (W + G); set rmargin at screen L1 + (i - 1) * (W + G) + W; " . \
        "set tmargin at screen T1 - (r - 1) * (H + GV); set bmargin at screen T1 - (r - 1) * (H + GV) - H; " . \
        "l = lo; h = hi; if (slo == slo && slo > 0) { l = (slo < l ? slo : l); h = (slo > h ? slo : h) }; " . \
        "if (h > 0) { set xrange [l / 1.5:h * 1.5] } else { set xrange [0.01:1] }; " . \
        "if (h > 0 && h / l < 300) { set xtics ".XT125." } else { set xtics autofreq }; " . \
        "if (r == 1) { set yrange [0:1.03]; set ytics ".YLIN." } else { set yrange [ty(0.9):ty(0.9999) + 0.1]; set ytics ".YTAIL." }; " . \
        "unset arrow 1; unset label 1; unset label 3; " . \
        "if (slo == slo && slo > 0) { set arrow 1 from first slo, graph 0 to first slo, graph 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back; " . \
        "  set label 1 sprintf('SLO %s s', num(slo)) at first slo, graph (r == 1 ? 0.05 : 0.95) left offset 0.4, 0 boxed textcolor rgb c_ref front }; " . \
        "if (hi <= 0) { set label 3 nodata at graph 0.5, graph 0.5 center boxed textcolor '#606060' }; " . \
        "plot for [k = 1:words(classes)] in using (strcol('class') eq word(classes, k) ? column(col) : NaN):(r == 1 ? column('p') : ty(column('p'))) " . \
        "  with lines linetype k title (i == 1 && r == 1 && multi ? word(classes, k) : '')"

sl1 = exists("slo_ttft") ? slo_ttft : NaN
sl2 = exists("slo_tpot") ? slo_tpot : NaN
sl3 = exists("slo_e2e") ? slo_e2e : NaN
do for [r = 1:2] {
  i = 1; col = 'ttft_s'; lo = lo1; hi = hi1; slo = sl1; nodata = 'no data'
  set title (r == 1 ? 'time to first token (TTFT)' : 'TTFT: the tail')
  set xlabel (r == 2 ? 'TTFT (s, log scale)' : '')
  set ylabel (r == 1 ? 'requests at or below' : 'requests at or below (tail)')
  @PANEL

  i = 2; col = 'tpot_s'; lo = lo2; hi = hi2; slo = sl2
  nodata = "no TPOT: static batching\nreturns all tokens at once"
  set title (r == 1 ? 'time per output token (TPOT)' : 'TPOT: the tail')
  set xlabel (r == 2 ? 'TPOT (s, log scale)' : '')
  set ylabel ''
  @PANEL

  i = 3; col = 'e2e_s'; lo = lo3; hi = hi3; slo = sl3; nodata = 'no data'
  set title (r == 1 ? 'end-to-end latency' : 'end-to-end: the tail')
  set xlabel (r == 2 ? 'end-to-end latency (s, log scale)' : '')
  @PANEL
}

unset multiplot
