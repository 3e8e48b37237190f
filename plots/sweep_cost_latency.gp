# plots/sweep_cost_latency.gp: a serving sweep's cost against latency:
# every point's cost per million tokens (y, USD) against its p99 time to
# first token (x, log scale, s). The sweep's varied keys are told apart:
# one line per combination of the values of the keys that name the series
# (sercols: the GPU type, a policy, ...; a colour and marker each), joined
# through the values of the key the line runs along (linecol: a replica
# count, written beside each point), and a panel per value of the load key
# (loadcol: load_scale, an arrival rate, a trace's time scale), all panels
# on the same axes. Filled markers met every target the run's `slo_met`
# counts (named in the subtitle), open ones missed at least one; the
# cheapest filled point of each panel is ringed and described in a box.
# Labels are placed so that they do not overlap each other or the points
# (a greedy search over eight positions around each point; a label that
# fits nowhere goes where it overlaps least). The TTFT target, when every
# point has the same, is a vertical line with the region beyond it shaded.
# 95% confidence bars when the sweep ran replications.
#
# Reads sweep.csv as `clustersim sweep` writes it: point, the varied keys by
# scenario path, replications, status, error, text metrics (pool0_gpu),
# then <metric>_mean and <metric>_ci95 for every numeric metric.
#
#   gnuplot -e "in='OUT/sweep.csv'; sercols='cluster.pools.[0].gpu'; linecol='cluster.pools.[0].replicas'; out='sweep.png'" plots/sweep_cost_latency.gp
# Optional (-e); `clustersim plot` passes them:
#   term='svg'                          terminal (default: from out's extension)
#   sercols='k1 k2'                     columns whose values name a line (default: gpucol)
#   gpucol='pool0_gpu'                  the GPU column, the series without sercols
#   linecol='cluster.pools.[0].replicas' the column the lines run along, its value
#                                       written beside each point
#   loadcol='workload.load_scale'       a panel per value of this column
#   targets='met p99 TTFT ≤ 1 s, ...'   what slo_met counts, for the subtitle
#   notarget=1                          the scenario sets no latency target (slo_met:
#                                       nothing rejected)
#   slo_ttft=1                          TTFT target (s): the vertical line; NaN: none
#   noci=1                              no confidence bars (no *_ci95 columns)
#   name, model                         strings for the title

if (!exists("in")) { print "sweep_cost_latency.gp: set in='OUTDIR/sweep.csv'"; exit status 2 }
if (!exists("gpucol")) { gpucol = 'pool0_gpu' }
if (!exists("sercols")) { sercols = gpucol }
if (!exists("linecol")) { linecol = '' }
if (!exists("loadcol")) { loadcol = '' }
if (!exists("noci")) { noci = 0 }
if (!exists("slo_ttft")) {
  slo_ttft = NaN
  set datafile separator comma   # (common.gp is not loaded yet)
  set datafile columnheaders
  stats in using (v = column('slo_ttft_s_mean'), (v == v && v > 0) ? slo_ttft = v : 0, 0) nooutput
}
X = 'ttft_p99_s_mean'; XE = 'ttft_p99_s_ci95'
Y = 'usd_per_million_tokens_mean'; YE = 'usd_per_million_tokens_ci95'
if (noci != 0) { XE = X; YE = Y }    # (no bars drawn; names that exist)
has_slo = slo_ttft == slo_ttft && slo_ttft > 0
nsk = words(sercols)

# --- series, loads and points: the lists and arrays every panel reads ---
short(k) = (s_ = k, strstrt(s_, '.') > 0 ? short(s_[strstrt(s_, '.') + 1:]) : s_)   # last path component
kname(k) = (n_ = short(k), n_ eq 'gpu' || n_ eq 'pool0_gpu' ? 'GPU' : n_)         # a key for people
nosp(s) = strstrt(s, ' ') > 0 ? nosp(s[1:strstrt(s, ' ') - 1].'_'.s[strstrt(s, ' ') + 1:]) : s
sid(k) = k > nsk ? '' : (k > 1 ? '/' : '').nosp(strcol(word(sercols, k))).sid(k + 1)
lid(d_) = loadcol ne '' ? nosp(strcol(loadcol)) : 'all'
pos(list, w) = (p_ = strstrt(list, ' '.w.' '), p_ > 0 ? words(list[1:p_]) + 1 : 0)
slabel(s) = strstrt(s, '/') > 0 ? s[1:strstrt(s, '/') - 1].', '.slabel(s[strstrt(s, '/') + 1:]) : s

set datafile separator comma
set datafile columnheaders
SL = ' '; LL = ' '; nrow = 0
stats in using (nrow = nrow + 1, s = sid(1), (strstrt(SL, ' '.s.' ') == 0 ? SL = SL.s.' ' : 0), \
                l = lid(0), (strstrt(LL, ' '.l.' ') == 0 ? LL = LL.l.' ' : 0), 0) nooutput
ns = words(SL); np = words(LL)
array PX[nrow]; array PY[nrow]; array PP[nrow]; array PS[nrow]; array PM[nrow]; array PT[nrow]
array BY[np]; array BX[np]; array BI[np]
do for [p = 1:np] { BY[p] = 1e300; BX[p] = NaN; BI[p] = 0 }
npts = 0; xlo = 1e300; xhi = 0; yhi = 0
stats in using (x = column(X), y = column(Y), \
                (x == x && x > 0 && y == y) ? (npts = npts + 1, PX[npts] = x, PY[npts] = y, \
                   PP[npts] = pos(LL, lid(0)), PS[npts] = pos(SL, sid(1)), \
                   PM[npts] = (column('slo_met_mean') == 1), PT[npts] = (linecol ne '' ? strcol(linecol) : ''), \
                   xlo = x < xlo ? x : xlo, xhi = x > xhi ? x : xhi, yhi = y > yhi ? y : yhi, \
                   (PM[npts] && y < BY[PP[npts]]) ? (BY[PP[npts]] = y, BX[PP[npts]] = x, BI[PP[npts]] = npts) : 0) : 0, \
                0) nooutput
if (npts == 0) { print "sweep_cost_latency.gp: no point with a p99 TTFT and a cost in ".in; exit status 1 }
if (has_slo) { xlo = slo_ttft < xlo ? slo_ttft : xlo; xhi = slo_ttft > xhi ? slo_ttft : xhi }
nrep = 0
stats in using (r = column('replications'), (r == r && r > nrep) ? nrep = r : 0, 0) nooutput

# --- the figure's size and its grid of panels ---
pc = np <= 3 ? np : (np == 4 ? 2 : 3)        # panel columns
pr = ceil(np / (pc * 1.0))                    # rows
fig_w = np == 1 ? 1200 : (pc == 2 ? 1400 : 1600)
fig_h = np == 1 ? 900 : 320 + 440 * pr
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'
set datafile missing NaN      # a line joins its own points across the other series' rows

# --- titles ---
tl = 'Sweep: cost against p99 time to first token'
if (exists("name")) { tl = tl.' — '.name.(exists("model") ? ' ('.model.')' : '') }
skeys = ''
do for [k = 1:nsk] { skeys = skeys.(k > 1 ? ', ' : '').kname(word(sercols, k)) }
sub1 = (linecol ne '' ? 'a line per '.skeys.', through '.short(linecol).' (the numbers beside the points)' : 'a marker per '.skeys) \
       .(loadcol ne '' ? '; a panel per '.short(loadcol) : '')
if (!exists("targets")) { targets = 'met the targets (slo_met = 1)' }
if (!exists("notarget")) { notarget = 0 }
notarget = (notarget != 0)
sub2 = 'filled: '.targets.'; open: '.(notarget ? 'some rejected' : 'missed one')
sub3 = (np > 1 ? 'ringed: the cheapest filled point of each panel; ' : 'ringed: the cheapest filled point; ') \
       .(nrep > 1 ? sprintf('mean of %d replications%s', nrep, noci != 0 ? '' : ', bars: 95% confidence') : 'one replication per point')
T0 = 1 - 200.0 / fig_h                        # top of the panels
set multiplot title tl."\n".sub1."\n".sub2."\n".sub3 font font.','.(fs + 1)

# panel p's graph area, in screen fractions
L0 = 105.0 / fig_w; R0 = np == 1 ? 0.74 : 0.78; B0 = 80.0 / fig_h
GW = 0.05; GH = 95.0 / fig_h
PWD = (R0 - L0 - (pc - 1) * GW) / pc; PHT = (T0 - B0 - (pr - 1) * GH) / pr
gl(p) = L0 + ((p - 1) % pc) * (PWD + GW)
gr(p) = gl(p) + PWD
gt(p) = T0 - floor((p - 1) / pc) * (PHT + GH)
gb(p) = gt(p) - PHT

# axes shared by every panel
ax1 = xlo / 2.0; ax2 = xhi * 2.0; ay1 = 0; ay2 = yhi * 1.15
sx(p, x) = (gl(p) + (log(x) - log(ax1)) / (log(ax2) - log(ax1)) * PWD) * fig_w   # data to pixels
sy(p, y) = (gb(p) + (y - ay1) / (ay2 - ay1) * PHT) * fig_h
set logscale x
set format x '%g'
set xrange [ax1:ax2]
# a narrow log axis gets 1-2-5 steps (gnuplot would label one decade or none)
if (ax2 / ax1 < 300) { set xtics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000) }
set yrange [ay1:ay2]
set style fill transparent solid 0.08 noborder

# --- label placement: boxes in pixels, x1 x2 y1 y2 ---
cw = 0.68 * (fs - 2); ch = 1.45 * (fs - 2)     # a character of the point labels, in pixels
mk = 8                                         # half a marker
QMAX = 90 * nrow + 16
array QX1[QMAX]; array QX2[QMAX]; array QY1[QMAX]; array QY2[QMAX]
array LASTP[ns]
ovl(a1, a2, b1, b2) = (m_ = (a2 < b2 ? a2 : b2) - (a1 > b1 ? a1 : b1), m_ > 0 ? m_ : 0)
# candidate c (1..8) for a w x h box beside a point: its centre's offset
cdx(c, w) = c == 1 ? mk + 3 + w / 2 : c == 2 ? -(mk + 3 + w / 2) : c <= 4 ? 0 : (c % 2 ? 1 : -1) * (mk + 1 + w / 2)
cdy(c, h) = c == 3 ? mk + 2 + h / 2 : c == 4 ? -(mk + 2 + h / 2) : c <= 2 ? 0 : (c <= 6 ? 1 : -1) * (mk + h / 2)
# how badly a box x1..x2, y1..y2 in panel p overlaps the nq boxes placed, and the panel's edge
cost(p, x1, x2, y1, y2) = (nq > 0 ? sum [j = 1:nq] (ovl(x1, x2, QX1[j], QX2[j]) * ovl(y1, y2, QY1[j], QY2[j])) : 0) \
                          + 10 * ((x2 - x1) * (y2 - y1) - ovl(x1, x2, gl(p) * fig_w, gr(p) * fig_w) * ovl(y1, y2, gb(p) * fig_h, gt(p) * fig_h))

# point types: k-th series filled (met) and its open twin (missed)
ptf(k) = word('7 5 9 13 11 15 7 5', (k - 1) % 8 + 1) + 0
pto(k) = ptf(k) - 1
selp(k, p, v) = (pos(SL, sid(1)) == k && pos(LL, lid(0)) == p) ? v : NaN
xl(x, e) = (e == e && x - e > 0) ? x - e : x    # bars clipped at 0 on the log axis
ci = noci != 0 ? 0 : 1
ltitle = skeys

do for [p = 1:np] {
  set lmargin at screen gl(p); set rmargin at screen gr(p)
  set tmargin at screen gt(p); set bmargin at screen gb(p)
  set title (loadcol ne '' ? short(loadcol).' = '.word(LL, p) : '') offset 0, -0.4
  set xlabel ((p - 1) / pc == pr - 1 || p + pc > np ? 'p99 time to first token (s, log scale)' : '')
  set ylabel ((p - 1) % pc == 0 ? 'cost (USD per million tokens)' : '')
  do for [a = 1:9] { unset object a; unset arrow a }
  unset label
  if (has_slo) {
    set object 1 rectangle from first slo_ttft, graph 0 to graph 1, graph 1 fillcolor rgb c_ref fillstyle transparent solid 0.06 noborder behind
    set arrow 1 from first slo_ttft, graph 0 to first slo_ttft, graph 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
    set label 1 sprintf('p99 TTFT target %s s', num(slo_ttft)) at first slo_ttft, graph 0.98 left offset 0.5, -0.2 textcolor rgb c_ref front
  }
  # obstacles: the points of this panel, the lines joining them (small boxes
  # every 10 pixels along each segment, a series' points joined in file
  # order), and the target's label
  nq = 0
  do for [k = 1:ns] { LASTP[k] = 0 }
  do for [i = 1:npts] {
    if (PP[i] == p) {
      nq = nq + 1; QX1[nq] = sx(p, PX[i]) - mk; QX2[nq] = sx(p, PX[i]) + mk; QY1[nq] = sy(p, PY[i]) - mk; QY2[nq] = sy(p, PY[i]) + mk
      j = LASTP[PS[i]]
      if (j > 0 && linecol ne '') {
        x0 = sx(p, PX[j]); y0 = sy(p, PY[j]); x1 = sx(p, PX[i]); y1 = sy(p, PY[i])
        nseg = floor(sqrt((x1 - x0)**2 + (y1 - y0)**2) / 10.0); nseg = nseg > 80 ? 80 : nseg
        do for [m = 1:nseg] {
          if (nq < QMAX) {
            u = m / (nseg + 1.0); nq = nq + 1
            QX1[nq] = x0 + u * (x1 - x0) - 3; QX2[nq] = QX1[nq] + 6; QY1[nq] = y0 + u * (y1 - y0) - 3; QY2[nq] = QY1[nq] + 6
          }
        }
      }
      LASTP[PS[i]] = i
    }
  }
  if (has_slo) {
    nq = nq + 1; QX1[nq] = sx(p, slo_ttft); QX2[nq] = QX1[nq] + 0.68 * fs * 22; QY2[nq] = gt(p) * fig_h; QY1[nq] = QY2[nq] - 2.2 * fs
    nq = nq + 1; QX1[nq] = sx(p, slo_ttft) - 2; QX2[nq] = QX1[nq] + 4; QY1[nq] = gb(p) * fig_h; QY2[nq] = gt(p) * fig_h
  }
  # the cheapest point meeting the targets: ringed (an obstacle too), and a
  # box saying what it is, beside it or in a corner of the panel
  if (BI[p] > 0) {
    i = BI[p]
    nq = nq + 1; QX1[nq] = sx(p, PX[i]) - 2 * mk; QX2[nq] = sx(p, PX[i]) + 2 * mk; QY1[nq] = sy(p, PY[i]) - 2 * mk; QY2[nq] = sy(p, PY[i]) + 2 * mk
    t1 = notarget ? 'cheapest with none rejected:' : 'cheapest meeting the targets:'
    t2 = slabel(word(SL, PS[i])).(PT[i] ne '' ? ' × '.PT[i] : '')
    t3 = sprintf('$%s/M tokens, p99 TTFT %s s', num(PY[i]), num(PX[i]))
    lw = strlen(t1) > strlen(t2) ? strlen(t1) : strlen(t2); lw = strlen(t3) > lw ? strlen(t3) : lw
    w = cw * lw + 10; h = 3 * ch + 8
    bcost = 1e300
    do for [c = 1:12] {
      if (c <= 8) {
        cx = sx(p, PX[i]) + cdx(c, w) + (c == 1 || c >= 5 ? mk : (c == 2 ? -mk : 0)); cy = sy(p, PY[i]) + cdy(c, h) * 1.3
      } else {
        cx = (c % 2 ? gl(p) * fig_w + w / 2 + 6 : gr(p) * fig_w - w / 2 - 6)
        cy = (c <= 10 ? gb(p) * fig_h + h / 2 + 6 : gt(p) * fig_h - h / 2 - 2.4 * ch)
      }
      v = cost(p, cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
      if (v < bcost) { bcost = v; bx = cx; by = cy }
    }
    nq = nq + 1; QX1[nq] = bx - w / 2; QX2[nq] = bx + w / 2; QY1[nq] = by - h / 2; QY2[nq] = by + h / 2
    # a label's first line sits on its anchor, the others below it
    set label 2 t1."\n".t2."\n".t3 at screen bx / fig_w, screen (by + h / 2 - ch / 2 - 4) / fig_h center front boxed textcolor '#000000' font font.','.(fs - 2)
  } else {
    t = notarget ? 'every point had a request rejected' : 'no point meets the targets'
    w = cw * strlen(t) + 10; h = ch + 6
    bcost = 1e300
    do for [c = 9:12] {
      cx = (c % 2 ? gl(p) * fig_w + w / 2 + 6 : gr(p) * fig_w - w / 2 - 6)
      cy = (c <= 10 ? gb(p) * fig_h + h / 2 + 6 : gt(p) * fig_h - h / 2 - 2.4 * ch)
      v = cost(p, cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
      if (v < bcost) { bcost = v; bx = cx; by = cy }
    }
    nq = nq + 1; QX1[nq] = bx - w / 2; QX2[nq] = bx + w / 2; QY1[nq] = by - h / 2; QY2[nq] = by + h / 2
    set label 2 t at screen bx / fig_w, screen by / fig_h center front boxed textcolor rgb c_ref font font.','.(fs - 2)
  }
  # the numbers beside the points
  do for [i = 1:npts] {
    if (PP[i] == p && PT[i] ne '') {
      w = cw * strlen(PT[i]) + 2; h = ch
      bcost = 1e300
      do for [c = 1:8] {
        cx = sx(p, PX[i]) + cdx(c, w); cy = sy(p, PY[i]) + cdy(c, h)
        v = cost(p, cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
        if (v < bcost) { bcost = v; bx = cx; by = cy }
        if (v == 0) { break }
      }
      nq = nq + 1; QX1[nq] = bx - w / 2; QX2[nq] = bx + w / 2; QY1[nq] = by - h / 2; QY2[nq] = by + h / 2
      set label 100 + i PT[i] at screen bx / fig_w, screen by / fig_h center front textcolor '#404040' font font.','.(fs - 2)
    }
  }
  if (p == 1) {
    set key at screen R0 + 0.015, screen T0 top left vertical Left reverse title ltitle left samplen 2 spacing 1.2
  } else {
    unset key
  }
  plot for [k = 1:ns] in using (selp(k, p, column(X))):(column(Y)) with lines linetype k linewidth 1.2 title '', \
       for [k = 1:ns] NaN with linespoints linetype k linewidth 1.2 pointtype ptf(k) pointsize 1.6 title slabel(word(SL, k)), \
       NaN with points pointtype 7 pointsize 1.6 linecolor '#404040' title (notarget ? 'none rejected' : 'met every target'), \
       NaN with points pointtype 6 pointsize 1.6 linecolor '#404040' title (notarget ? 'some rejected' : 'missed one'), \
       NaN with points pointtype 6 pointsize 3.2 linewidth 2 linecolor '#000000' title 'the cheapest filled', \
       for [k = 1:ns * ci] in using (selp(k, p, column(X))):(column(Y)):(xl(column(X), column(XE))):(column(X) + (column(XE) == column(XE) ? column(XE) : 0)) \
                                  :(column(Y) - (column(YE) == column(YE) ? column(YE) : 0)):(column(Y) + (column(YE) == column(YE) ? column(YE) : 0)) \
            with xyerrorbars linetype k linewidth 0.8 pointtype -1 title '', \
       for [k = 1:ns] in using (selp(k, p, column(X))):(column('slo_met_mean') == 1 ? column(Y) : NaN) with points linetype k pointtype ptf(k) pointsize 1.6 title '', \
       for [k = 1:ns] in using (selp(k, p, column(X))):(column('slo_met_mean') == 1 ? NaN : column(Y)) with points linetype k pointtype pto(k) pointsize 1.6 title '', \
       '+' using (BI[p] > 0 ? PX[BI[p]] : NaN):(BI[p] > 0 ? PY[BI[p]] : NaN) every ::0::0 with points pointtype 6 pointsize 3.2 linewidth 2 linecolor '#000000' title ''
}

unset multiplot
