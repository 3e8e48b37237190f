# plots/sweep_training.gp: a training sweep's answers against its axes:
# (a) how long the training takes (days, wall time with failures and
# restarts; the failure-free time dashed when failures cost something) and
# (b) what it costs (USD), against one varied key on x (xcol: numeric keys
# on a numeric axis, others as categories in the sweep's order), with a
# line per combination of the values of the other varied keys (sercols; a
# colour and marker each). 95% confidence bars when the sweep ran
# replications.
#
# Reads sweep.csv as `clustersim sweep` writes it for a `training`
# scenario: point, the varied keys, replications, status, error, text
# metrics, then <metric>_mean and <metric>_ci95 (train_days,
# failure_free_days, train_cost_usd, ...).
#
#   gnuplot -e "in='OUT/sweep.csv'; xcol='training.nics_per_node'; xnum=1; sercols='training.net_link'; out='t.png'" plots/sweep_training.gp
# Optional (-e); `clustersim plot` passes them:
#   term='svg'                 terminal (default: from out's extension)
#   xcol='k'                   the varied key along x (required)
#   xnum=1                     its values are numbers (default: categories)
#   sercols='k1 k2'            the varied keys that name the lines (default: none, one line)
#   noci=1                     no confidence bars
#   name, model, gpu           strings for the title

if (!exists("in") || !exists("xcol")) { print "sweep_training.gp: set in='OUTDIR/sweep.csv' and xcol='KEY'"; exit status 2 }
if (!exists("xnum")) { xnum = 0 }
xnum = (xnum != 0)
if (!exists("sercols")) { sercols = '' }
if (!exists("noci")) { noci = 0 }
fig_w = 1200; fig_h = 860
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'
set datafile missing NaN      # a line joins its own points across the other series' rows
nsk = words(sercols)

short(k) = (s_ = k, strstrt(s_, '.') > 0 ? short(s_[strstrt(s_, '.') + 1:]) : s_)
nosp(s) = strstrt(s, ' ') > 0 ? nosp(s[1:strstrt(s, ' ') - 1].'_'.s[strstrt(s, ' ') + 1:]) : s
sid(k) = nsk == 0 ? 'all' : (k > nsk ? '' : (k > 1 ? '/' : '').nosp(strcol(word(sercols, k))).sid(k + 1))
pos(list, w) = (p_ = strstrt(list, ' '.w.' '), p_ > 0 ? words(list[1:p_]) + 1 : 0)
slabel(s) = strstrt(s, '/') > 0 ? s[1:strstrt(s, '/') - 1].', '.slabel(s[strstrt(s, '/') + 1:]) : s
pesc(s) = strstrt(s, '%') > 0 ? s[1:strstrt(s, '%')].'%'.pesc(s[strstrt(s, '%') + 1:]) : s   # a tic label is a format

# --- series, x values, ranges ---
SL = ' '; XL = ' '; dmax = 0; cmax = 0; dmin = 1e300; cmin = 1e300; ffany = 0; nrep = 0
stats in using (s = sid(1), (strstrt(SL, ' '.s.' ') == 0 ? SL = SL.s.' ' : 0), \
                v = nosp(strcol(xcol)), (strstrt(XL, ' '.v.' ') == 0 ? XL = XL.v.' ' : 0), \
                d = column('train_days_mean'), (d == d && d > dmax) ? dmax = d : 0, (d == d && d < dmin) ? dmin = d : 0, \
                f = column('failure_free_days_mean'), (f == f && f < dmin) ? dmin = f : 0, \
                c = column('train_cost_usd_mean'), (c == c && c > cmax) ? cmax = c : 0, (c == c && c < cmin) ? cmin = c : 0, \
                r = column('replications'), (r == r && r > nrep) ? nrep = r : 0, 0) nooutput
ns = words(SL); nx = words(XL)
if (dmax <= 0) { print "sweep_training.gp: no point with a training time in ".in; exit status 1 }
# failures: the failure-free time differs somewhere
stats in using (f = column('failure_free_days_mean'), d = column('train_days_mean'), (f == f && d == d && d > f * 1.0001) ? ffany = 1 : 0, 0) nooutput
xv(d_) = xnum ? column(xcol) : pos(XL, nosp(strcol(xcol)))
sel(k, v) = pos(SL, sid(1)) == k ? v : NaN
cs = cmax >= 2e6 ? 1e6 : (cmax >= 2e3 ? 1e3 : 1)
cname = cs == 1e6 ? 'million USD' : (cs == 1e3 ? 'thousand USD' : 'USD')
ptf(k) = word('7 5 9 13 11 15 7 5', (k - 1) % 8 + 1) + 0
ci = (noci == 0 && nrep > 1) ? 1 : 0
e(c) = (v_ = column(c), v_ == v_ ? v_ : 0)

# --- titles ---
tl = 'Training sweep: time and cost'.(exists("name") ? ' — '.name : '').(exists("model") ? ' ('.model.(exists("gpu") ? ' on '.gpu : '').')' : '')
skeys = ''
do for [k = 1:nsk] { skeys = skeys.(k > 1 ? ', ' : '').short(word(sercols, k)) }
sub = 'against '.short(xcol).(nsk > 0 ? '; a line per '.skeys : '') \
      .(nrep > 1 ? sprintf('; mean of %d replications%s', nrep, ci ? ', bars: 95% confidence' : '') : '')

L = 0.1; R = nsk > 0 ? 0.74 : 0.95; T = 0.85; B = 0.1; G = 0.08
H = (T - B - G) / 2
set multiplot title tl."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
if (xnum) {
  stats in using (column(xcol)) nooutput
  x0 = STATS_min; x1 = STATS_max
  pad = x1 > x0 ? (x1 - x0) * 0.06 : (x0 != 0 ? abs(x0) * 0.1 : 1)
  set xrange [x0 - pad:x1 + pad]
  set xtics autofreq
} else {
  set xrange [0.5:nx + 0.5]
  set xtics ()
  do for [i = 1:nx] { set xtics add (pesc(word(XL, i)) i) }
}
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front
if (nsk > 0) {
  set key at screen R + 0.02, screen T top left vertical Left reverse title skeys left samplen 2 spacing 1.2
} else {
  unset key
}

# (a) training time
set tmargin at screen T; set bmargin at screen T - H
set format x ''
set xlabel ''
set ylabel 'days'
# a spread under a quarter of the largest value would be lost from 0 up: the axis
# then starts below the smallest value, and says so
zoomd = dmax - dmin < 0.25 * dmax
if (zoomd) { set yrange [dmin - (dmax - dmin) * 0.3 - dmax * 0.01:dmax + (dmax - dmin) * 0.3 + dmax * 0.01] } else { set yrange [0:dmax * 1.15] }
set label 1 '(a) training time (wall time, with failures and restarts)'.(ffany ? '; dashed: without failures' : '').(zoomd ? '; the axis does not start at 0' : '')
plot for [k = 1:ns] in using (xv(0)):(sel(k, column('train_days_mean'))) with linespoints linetype k pointtype ptf(k) pointsize 1.4 title (nsk > 0 ? slabel(word(SL, k)) : ''), \
     for [k = 1:ns * ffany] in using (xv(0)):(sel(k, column('failure_free_days_mean'))) with lines linetype k dashtype 2 linewidth 1.2 title '', \
     for [k = 1:ns * ci] in using (xv(0)):(sel(k, column('train_days_mean'))):(e('train_days_ci95')) with yerrorbars linetype k pointtype -1 title ''

# (b) cost
unset key
set tmargin at screen B + H; set bmargin at screen B
set format x '%g'
set xlabel short(xcol)
set ylabel 'cost ('.cname.')'
zoomc = cmax - cmin < 0.25 * cmax
if (zoomc) { set yrange [(cmin - (cmax - cmin) * 0.3 - cmax * 0.01) / cs:(cmax + (cmax - cmin) * 0.3 + cmax * 0.01) / cs] } else { set yrange [0:cmax / cs * 1.15 + 1e-12] }
set label 1 '(b) what it costs (GPU-hours at the catalog price)'.(zoomc ? '; the axis does not start at 0' : '')
plot for [k = 1:ns] in using (xv(0)):(sel(k, column('train_cost_usd_mean')) / cs) with linespoints linetype k pointtype ptf(k) pointsize 1.4 title '', \
     for [k = 1:ns * ci] in using (xv(0)):(sel(k, column('train_cost_usd_mean')) / cs):(e('train_cost_usd_ci95') / cs) with yerrorbars linetype k pointtype -1 title ''

unset multiplot
