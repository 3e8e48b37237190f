# plots/latency_cdf.gp: a serving run's latency distributions: three
# columns - time to first token, time per output token, end-to-end - each
# the fraction of requests (y) at or below a latency (x, log scale, s), one
# curve per request class (the class "all" only when it is the only one),
# with the latency targets marked: each class's own, in its colour, when
# the classes have targets of their own, else the scenario's. The top row
# is the plain CDF (0 - 100%); the bottom row stretches its tail, 90% to
# 99.99% in equal steps per nine (y = -log10(1 - p)), since the tail is
# what latency targets are about.
#
# Reads latency_cdf.csv as `clustersim run` writes it: class,p,ttft_s,
# tpot_s,e2e_s with quantiles p = 0.005 .. 0.995, 0.999, 0.9999 per class
# (tpot_s empty under static batching, which has no TPOT).
#
#   gnuplot -e "in='OUT/latency_cdf.csv'; out='latency_cdf.png'" plots/latency_cdf.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'                         terminal (default: from out's extension)
#   name, model, hw; gpu, gpus         title parts, as for spike.gp
#   slo_ttft, slo_tpot, slo_e2e (s)    the scenario's targets, drawn as vertical lines
#   ctt=' chat=0.5 batch=2 '           each class's TTFT target (s; -1: none), drawn in
#   ctp, ce2e                          its colour instead; likewise TPOT, end-to-end
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
ncl = words(classes)
lo1 = lo2 = lo3 = 1e300; hi1 = hi2 = hi3 = 0
stats in using (v = column('ttft_s'), (v == v && v > 0) ? (lo1 = v < lo1 ? v : lo1, hi1 = v > hi1 ? v : hi1) : 0, \
                v = column('tpot_s'), (v == v && v > 0) ? (lo2 = v < lo2 ? v : lo2, hi2 = v > hi2 ? v : hi2) : 0, \
                v = column('e2e_s'),  (v == v && v > 0) ? (lo3 = v < lo3 ? v : lo3, hi3 = v > hi3 ? v : hi3) : 0, \
                column('p')) nooutput

# --- the targets: the scenario's (sl1..sl3), or each class's (ct(list, class)) ---
sl1 = exists("slo_ttft") ? slo_ttft : NaN
sl2 = exists("slo_tpot") ? slo_tpot : NaN
sl3 = exists("slo_e2e") ? slo_e2e : NaN
if (!exists("ctt")) { ctt = '' }
if (!exists("ctp")) { ctp = '' }
if (!exists("ce2e")) { ce2e = '' }
ct(list, c) = (p_ = strstrt(list, ' '.c.'='), p_ > 0 ? real(word(list[p_ + strlen(c) + 2:], 1)) : -1)

# --- titles ---
if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("hw")) { what = what.' on '.hw } else { if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu } }
multi = ncl > 1
percl = (ctt.ctp.ce2e) ne ''
sub = 'latency of the requests completed after warm-up'.(multi ? ', by class' : '')
if (percl) { sub = sub.'; dashed: each class''s own targets, in its colour' }

# --- layout: 2 rows x 3 columns, margins fixed so the axes line up ---
L1 = 0.075; W = 0.26; G = 0.055
T1 = 0.84; H = 0.33; GV = 0.1
ty(p) = -log10(1 - p)       # the tail row's stretched probability axis
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set logscale x
set format x '%g'
set grid xtics ytics
set key at screen 0.5, screen 0.905 center center horizontal noopaque nobox samplen 2.5 width 2

# Tic sets: 1-2-5 steps on a narrow log axis; the two rows' probabilities.
XT125 = "(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)"
YLIN = "('0' 0, '25%%' 0.25, '50%%' 0.5, '75%%' 0.75, '100%%' 1)"
YTAIL = "('90%%' ty(0.9), '99%%' ty(0.99), '99.9%%' ty(0.999), '99.99%%' ty(0.9999))"
cols = 'ttft_s tpot_s e2e_s'
titles1 = "'time to first token (TTFT)' 'time per output token (TPOT)' 'end-to-end latency'"
titles2 = "'TTFT: the tail' 'TPOT: the tail' 'end-to-end: the tail'"
xlabels = "'TTFT (s, log scale)' 'TPOT (s, log scale)' 'end-to-end latency (s, log scale)'"

do for [r = 1:2] {
  do for [i = 1:3] {
    col = word(cols, i)
    lo = i == 1 ? lo1 : (i == 2 ? lo2 : lo3)
    hi = i == 1 ? hi1 : (i == 2 ? hi2 : hi3)
    slo = i == 1 ? sl1 : (i == 2 ? sl2 : sl3)
    tl = i == 1 ? ctt : (i == 2 ? ctp : ce2e)
    nodata = i == 2 ? "no TPOT: static batching\nreturns all tokens at once" : 'no data'
    # each class's target, when they differ; else the one they share
    nt = 0; t1 = NaN; same = 1
    if (tl ne '') {
      do for [k = 1:ncl] {
        v = ct(tl, word(classes, k))
        if (v > 0) { nt = nt + 1; if (t1 == t1 && v != t1) { same = 0 }; t1 = (t1 == t1 ? t1 : v) }
      }
      if (same && nt > 0 && nt == ncl) { slo = t1; tl = '' }
      if (nt == 0) { tl = '' }
    }
    set lmargin at screen L1 + (i - 1) * (W + G); set rmargin at screen L1 + (i - 1) * (W + G) + W
    set tmargin at screen T1 - (r - 1) * (H + GV); set bmargin at screen T1 - (r - 1) * (H + GV) - H
    l = lo; h = hi
    if (slo == slo && slo > 0) { l = (slo < l ? slo : l); h = (slo > h ? slo : h) }
    if (tl ne '') { do for [k = 1:ncl] { v = ct(tl, word(classes, k)); if (v > 0) { l = (v < l ? v : l); h = (v > h ? v : h) } } }
    if (h > 0) { set xrange [l / 1.5:h * 1.5]; xl = l / 1.5; xh = h * 1.5 } else { set xrange [0.01:1]; xl = 0.01; xh = 1 }
    xfrac(v) = log(v / xl) / log(xh / xl)   # where v falls across the log axis (0..1)
    if (h > 0 && h / l < 300) { set xtics @XT125 } else { set xtics autofreq }
    if (r == 1) { set yrange [0:1.03]; set ytics @YLIN } else { set yrange [ty(0.9):ty(0.9999) + 0.1]; set ytics @YTAIL }
    do for [a = 1:20] { unset arrow a; unset label a }
    if (tl eq '' && slo == slo && slo > 0) {
      set arrow 1 from first slo, graph 0 to first slo, graph 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
      if (xfrac(slo) > 0.72) {
        set label 1 sprintf('SLO %s s', num(slo)) at first slo, graph (r == 1 ? 0.05 : 0.95) right offset -0.4, 0 boxed textcolor rgb c_ref front
      } else {
        set label 1 sprintf('SLO %s s', num(slo)) at first slo, graph (r == 1 ? 0.05 : 0.95) left offset 0.4, 0 boxed textcolor rgb c_ref front
      }
    }
    if (tl ne '') {
      n = 0
      do for [k = 1:ncl] {
        v = ct(tl, word(classes, k))
        if (v > 0) {
          n = n + 1
          set arrow 1 + k from first v, graph 0 to first v, graph 1 nohead linetype k dashtype 2 linewidth 1.5 back
          yl = r == 1 ? 0.05 + 0.085 * (n - 1) : 0.95 - 0.085 * (n - 1)
          if (xfrac(v) > 0.72) {   # near the right edge: the label on the line's left
            set label 1 + k sprintf('%s %s s', word(classes, k), num(v)) at first v, graph yl right offset -0.4, 0 boxed textcolor lt k front
          } else {
            set label 1 + k sprintf('%s %s s', word(classes, k), num(v)) at first v, graph yl left offset 0.4, 0 boxed textcolor lt k front
          }
        }
      }
    }
    if (hi <= 0) { set label 20 nodata at graph 0.5, graph 0.5 center boxed textcolor '#606060' }
    set title (r == 1 ? word(titles1, i) : word(titles2, i))
    set xlabel (r == 2 ? word(xlabels, i) : '')
    set ylabel (i == 1 ? (r == 1 ? 'requests at or below' : 'requests at or below (tail)') : '')
    plot for [k = 1:ncl] in using (strcol('class') eq word(classes, k) ? column(col) : NaN):(r == 1 ? column('p') : ty(column('p'))) \
      with lines linetype k title (i == 1 && r == 1 && multi ? word(classes, k) : '')
  }
}

unset multiplot
