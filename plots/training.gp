# plots/training.gp: a training run's progress through its failures:
# (a) progress (percent of the work done) against wall time, the failures
# marked where the failures column steps up (a cross per sample that saw
# one, '+N' when it saw several), the failure-free run as a dashed line to
# its finish, the simulated finish; (b) failures and work lost to them,
# cumulative. The time axis is in days (hours for runs of two days or less).
#
# Reads timeseries.csv as `clustersim run` writes it for a `training`
# scenario: time_s (the sample's time), progress (0..1), failures and
# lost_work_s (cumulative), one row per interval (a day by default).
#
#   gnuplot -e "in='OUT/timeseries.csv'; out='training.png'" plots/training.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'                      terminal (default: from out's extension)
#   name, model, gpu; gpus          strings and numbers for the title
#   mfu                             model FLOPs utilization (0..1), for the title
#   failure_free_days               the run without failures: the reference line
#   train_days                      the simulated run's length (its finish)
#   finished=1                      whether it finished (0: cut by the horizon)
#   effective_fraction              failure-free time / wall time, for the title
#   phases_marked                   a run in phases: how many later phases begin, each
#   phaseK_share, phaseK_name,      at this share of the failure-free steps (a level of
#   phaseK_mfu                      progress), with its name and MFU (K = 1..phases_marked)
#   tfrom, tto                      draw only this window of wall time (s)

if (!exists("in")) { print "training.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
fig_w = 1200; fig_h = 820
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

# --- extent, finish, time unit ---
stats in using (column('time_s')) nooutput
t_last = STATS_max
stats in using (column('failures')) nooutput
nfail_max = STATS_max
stats in using (column('lost_work_s') / 3600.0) nooutput
lost_max = STATS_max
p_last = 0; stats in using (p_last = column('progress'), 0) nooutput
stats in using (column('time_s')) every ::0::0 nooutput
t0 = STATS_min
stats in using (column('progress')) every ::0::0 nooutput
p0 = STATS_min
if (!exists("finished")) { finished = p_last >= 1 ? 1 : 0 }
has_end = exists("train_days") && finished != 0
has_ff = exists("failure_free_days")
if (has_ff) { has_ff = failure_free_days > 0 }
span_s = t_last
if (has_end) { span_s = span_s > train_days * 86400 ? span_s : train_days * 86400 }
if (has_ff) { span_s = span_s > failure_free_days * 86400 ? span_s : failure_free_days * 86400 }
tu = span_s > 2 * 86400 ? 86400 : 3600
tunit = tu == 86400 ? 'days' : 'h'
tx(t) = t / (1.0 * tu)
dx(d) = d * 86400.0 / tu               # days to the axis unit
xmax = tx(span_s) * 1.05
xmin = 0
has_win = exists("tfrom") || exists("tto")
if (exists("tfrom")) { if (tfrom == tfrom && tfrom > 0) { xmin = tx(tfrom) } }
if (exists("tto")) { if (tto == tto && tx(tto) < xmax) { xmax = tx(tto) } }
if (xmin >= xmax) { print sprintf("training.gp: the window holds nothing of a run of %g s", span_s); exit status 1 }
ddur(d) = d < 2 ? sprintf('%.1f h', 24 * d) : sprintf('%.1f days', d)   # a length in days, for people

# --- titles ---
if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu }
sub = ''
nmark = exists("phases_marked") ? phases_marked : 0
if (exists("mfu")) { sub = sprintf('MFU %.0f%%', 100 * mfu).(nmark > 0 ? ' in its first phase' : '') }
if (has_end) { sub = sub.(sub ne '' ? ', ' : '').'trained in '.ddur(train_days) }
if (!has_end && exists("train_days")) { sub = sub.(sub ne '' ? ', ' : '').'not finished after '.ddur(train_days) }
if (has_ff) { sub = sub.' ('.ddur(failure_free_days).' without failures)' }
sub = sub.(sub ne '' ? ', ' : '').sprintf('%d failure%s', nfail_max, nfail_max == 1 ? '' : 's')
if (exists("effective_fraction")) { if (effective_fraction == effective_fraction) { sub = sub.sprintf(', %.1f%% of wall time useful', 100 * effective_fraction) } }
if (has_win) { sub = sub."\nwindow ".dur(xmin * tu)." – ".dur(xmax * tu)." of the run" }

# --- layout ---
L = 0.085; R = 0.915; T = 0.84; B = 0.085; G = 0.075
Hb = (T - B - G) * 0.3; Ha = T - B - G - Hb
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [xmin:xmax]
set format x ''
set xlabel ''
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front
c_fail = '#b00000'

# (a) progress
set tmargin at screen T; set bmargin at screen T - Ha
set ylabel 'progress (% of the work)'
set yrange [0:109]
set ytics 0, 20, 100
set key at graph 0.01, graph 0.97 left top vertical opaque box linecolor rgb '#d8d8d8' width 1 samplen 2.5
set label 1 '(a) progress (work done and kept); failures marked'
if (has_ff) {
  set arrow 1 from first dx(failure_free_days), graph 0 to first dx(failure_free_days), graph 1 nohead linecolor rgb '#707070' dashtype 2 linewidth 1.2 back
  set label 2 'without failures: '.ddur(failure_free_days) at first dx(failure_free_days), graph 0.03 left rotate by 90 offset -0.9, 0 textcolor rgb '#505050' boxed front
}
if (has_end) {
  set arrow 2 from first dx(train_days), graph 0 to first dx(train_days), graph 1 nohead linecolor rgb '#0072B2' dashtype 3 linewidth 1.2 back
  set label 3 'finished: '.ddur(train_days) at first dx(train_days), graph 0.03 left rotate by 90 offset 1.4, 0 textcolor rgb '#0072B2' boxed front
}
# the line from the start to the first sample and from the last to the finish
set arrow 3 from 0, 0 to tx(t0), 100 * p0 nohead linetype 1 back
if (has_end) { set arrow 4 from tx(t_last), 100 * p_last to dx(train_days), 100 nohead linetype 1 back }
# where each later phase begins: a level of progress
do for [k = 1:nmark] {
  ps = value(sprintf('phase%d_share', k))
  pn = exists(sprintf('phase%d_name', k)) ? value(sprintf('phase%d_name', k)) : sprintf('phase %d', k + 1)
  pm = exists(sprintf('phase%d_mfu', k)) ? sprintf(', MFU %.0f%%', 100 * value(sprintf('phase%d_mfu', k))) : ''
  set arrow 10 + k from graph 0, first 100 * ps to graph 1, first 100 * ps nohead linecolor rgb '#009E73' dashtype 4 linewidth 1 back
  set label 10 + k pn.' begins'.pm at graph 0.99, first 100 * ps right offset 0, 0.7 textcolor rgb '#007A5A' front
}
prevf = 0
step(f) = (d = f - prevf, prevf = f, d)
plot in using (tx(column('time_s'))):(100 * column('progress')) with lines linetype 1 title 'progress', \
     (has_ff ? (x < dx(failure_free_days) ? 100 * x / dx(failure_free_days) : NaN) : NaN) with lines linecolor rgb '#707070' dashtype 2 linewidth 1.5 title (has_ff ? 'without failures' : ''), \
     in using (tx(column('time_s'))):(d = step(column('failures')), d > 0 ? 100 * column('progress') : NaN) \
        with points pointtype 2 pointsize 1.6 linewidth 2 linecolor rgb c_fail title (nfail_max > 0 ? 'failures since the last sample' : ''), \
     '' using (tx(column('time_s'))):(d = step(column('failures')), d > 0 ? 100 * column('progress') : NaN):(d > 1 ? sprintf('+%d', d) : '') \
        with labels left offset 0.6, -0.6 textcolor rgb c_fail font font.','.(fs - 2) title ''
unset arrow; unset label 2; unset label 3
do for [k = 1:nmark] { unset label 10 + k }

# (b) failures and lost work, cumulative
set tmargin at screen B + Hb; set bmargin at screen B
set format x '%g'
set xlabel sprintf('wall time (%s)', tunit)
set ylabel 'failures'
set yrange [0:nfail_max > 0 ? nfail_max * 1.2 : 1]
if (nfail_max <= 6) { set ytics 1 } else { set ytics autofreq }
set y2label 'work lost (h)' textcolor rgb '#D55E00'
set y2range [0:lost_max > 0 ? lost_max * 1.2 : 1]
set y2tics autofreq nomirror textcolor rgb '#D55E00'
set key at graph 0.01, graph 0.95 left top vertical opaque box linecolor rgb '#d8d8d8' width 1 samplen 2.5
set label 1 '(b) failures and work lost to them (back to the last checkpoint), cumulative'
plot in using (tx(column('time_s'))):(column('failures')) with steps linecolor rgb c_fail title 'failures', \
     '' using (tx(column('time_s'))):(column('lost_work_s') / 3600.0) axes x1y2 with lines linetype 2 title 'work lost (h)'

unset multiplot
