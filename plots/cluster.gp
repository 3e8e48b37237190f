# plots/cluster.gp: a shared cluster's job queue over time, for reading
# how busy the cluster was and what the queue cost: panels on one time axis
# (days, or hours for runs of three days or less) - (a) GPUs busy, split
# into the serving pool's (at the bottom) and the jobs' (stacked above),
# against the cluster's GPUs; (b) jobs waiting and jobs running; (c) when
# jobs.csv is given, each job's wait against its submit time (log scale,
# coloured by kind, marker size by GPUs; waits under a minute on the
# bottom line).
#
# Reads timeseries.csv as `clustersim run` writes it for a `jobs` scenario
# (time_s = interval start, gpus_busy time-averaged over the interval and
# including the serving pool's GPUs; queue_length, running_jobs and
# serving_gpus sampled at the interval's end) and jobs.csv (a row per
# finished job: kind, gpus, submit_s, wait_s).
#
#   gnuplot -e "in='OUT/timeseries.csv'; jobs='OUT/jobs.csv'; out='cluster.png'" plots/cluster.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'                         terminal (default: from out's extension)
#   jobs='OUT/jobs.csv'                draws panel (c)
#   name, policy, gpu                  strings for the title
#   cluster_gpus                       the cluster's GPUs: the capacity line
#   tend                               end of the run (s): the last interval's length
#   interval                           interval (s); default: from the time_s column
#   njobs, wait_mean, util, preemptions, failures   numbers for the subtitle
#   tfrom, tto                         draw only this window of time (s)

if (!exists("in")) { print "cluster.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
has_jobs = exists("jobs")
fig_w = 1200; fig_h = has_jobs ? 1000 : 760
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

# --- the data's extent, the interval, the time unit ---
stats in using (column('time_s')) nooutput
nrows = STATS_records; t_first = STATS_min; t_last = STATS_max
if (!exists("interval")) { interval = nrows > 1 ? (t_last - t_first) / (nrows - 1) : (exists("tend") ? tend - t_first : 1) }
if (!exists("tend")) { tend = t_last + interval }
if (tend <= t_last) { tend = t_last + interval }
dt(t) = (t + interval > tend) ? tend - t : interval
tu = tend > 3 * 86400 ? 86400 : 3600
tunit = tu == 86400 ? 'days' : 'h'
tx(t) = t / (1.0 * tu)
mid(t) = tx(t + dt(t) / 2.0)
end(t) = tx(t + dt(t))

busy_max = 0; qmax = 0
stats in using (b = column('gpus_busy'), busy_max = (b > busy_max ? b : busy_max), \
                q = column('queue_length'), qmax = (q > qmax ? q : qmax), \
                q = column('running_jobs'), qmax = (q > qmax ? q : qmax), 0) nooutput
cap = exists("cluster_gpus") ? cluster_gpus : 0

# --- titles ---
if (!exists("name")) { name = in }
what = ''
if (exists("policy")) { what = policy.' scheduling' }
if (exists("gpu")) { what = what.(what ne '' ? ' on ' : '').(cap > 0 ? sprintf('%d × ', cap) : '').gpu }
sub = ''
if (exists("njobs")) { sub = sprintf('%d jobs', njobs) }
if (exists("wait_mean")) { if (wait_mean == wait_mean) { sub = sub.(sub ne '' ? ', ' : '').'mean wait '.dur(floor(wait_mean / (wait_mean < 3600 ? 6 : 360) + 0.5) * (wait_mean < 3600 ? 6 : 360)) } }
if (exists("util")) { sub = sub.(sub ne '' ? ', ' : '').sprintf('GPUs %.0f%% busy', 100 * util) }
if (exists("preemptions")) { sub = sub.(sub ne '' ? ', ' : '').sprintf('%d preemption%s', preemptions, preemptions == 1 ? '' : 's') }
if (exists("failures")) { sub = sub.(sub ne '' ? ', ' : '').sprintf('%d GPU failure%s', failures, failures == 1 ? '' : 's') }
sub = sub.(sub ne '' ? '; ' : '').'per '.dur(interval).' interval'
has_win = exists("tfrom") || exists("tto")
if (!exists("tfrom")) { tfrom = 0 }
if (!exists("tto")) { tto = tend }
if (tfrom != tfrom || tfrom < 0) { tfrom = 0 }
if (tto != tto || tto > tend) { tto = tend }
if (tfrom >= tto) { print sprintf("cluster.gp: the window %g-%g s holds nothing of a run of %g s", tfrom, tto, tend); exit status 1 }
if (has_win) { sub = sub."\nwindow ".dur(tfrom)." – ".dur(tto)." of the run" }

# --- layout: two or three panels sharing x, margins fixed so the axes line up ---
L = 0.1; R = 0.965; T = has_jobs ? 0.875 : 0.83; B = has_jobs ? 0.07 : 0.1; G = 0.06
np = has_jobs ? 3 : 2
H = (T - B - (np - 1) * G) / (np + 0.4)     # panel (a) is 1.4 panels tall
Ha = 1.4 * H
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [tx(tfrom):tx(tto)]
if (tu == 86400 && tx(tto - tfrom) <= 21) { set xtics 1 }
if (tu == 3600 && tx(tto - tfrom) > 24) { set xtics 6 }
set format x ''
set xlabel ''
set key at graph 1, graph 1.01 right bottom horizontal noopaque nobox width 1 samplen 2
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front
set style fill solid 1.0 noborder
c_jobs = '#3d8fc6'; c_serve = '#ecb23a'

# (a) GPUs busy: serving at the bottom, jobs above, against the cluster
set tmargin at screen T; set bmargin at screen T - Ha
set ylabel 'GPUs'
ytop = busy_max > cap ? busy_max : cap
set yrange [0:ytop > 0 ? ytop * 1.12 : 1]
set label 1 '(a) GPUs busy, time-averaged: the serving pool and jobs'
if (cap > 0) {
  set arrow 1 from graph 0, first cap to graph 1, first cap nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 front
  set label 2 sprintf('cluster: %d GPUs', cap) at graph 0.006, first cap left offset 0, 0.7 textcolor rgb c_ref front
}
# the pool during an interval is the size sampled at the previous interval's end
prev = NaN
plot in using (mid(column('time_s'))):(column('gpus_busy')):(dt(column('time_s')) / tu) \
        with boxes fillcolor rgb c_jobs fillstyle solid 1.0 border linecolor rgb c_jobs title 'jobs', \
     '' using (mid(column('time_s'))):(s = (prev == prev ? prev : column('serving_gpus')), prev = column('serving_gpus'), s):(dt(column('time_s')) / tu) \
        with boxes fillcolor rgb c_serve fillstyle solid 1.0 border linecolor rgb c_serve title 'serving pool', \
     NaN with lines linecolor rgb c_ref dashtype 2 linewidth 1.5 title (cap > 0 ? 'cluster GPUs' : '')
unset arrow 1; unset label 2

# (b) queue and running jobs
set tmargin at screen T - Ha - G; set bmargin at screen T - Ha - G - H
set ylabel 'jobs'
set yrange [0:qmax > 0 ? qmax * 1.15 : 1]
if (qmax <= 6) { set ytics 1 } else { set ytics autofreq }
set label 1 '(b) jobs waiting and running, at the end of each interval'
if (!has_jobs) { set format x '%g'; set xlabel sprintf('time (%s)', tunit) }
plot in using (end(column('time_s'))):(column('queue_length')) with steps linetype 2 title 'waiting', \
     '' using (end(column('time_s'))):(column('running_jobs')) with steps linetype 1 title 'running'
set ytics autofreq

# (c) each job's wait against its submit time
if (has_jobs) {
  wu = tu == 86400 ? 3600 : 60
  wname = wu == 3600 ? 'h' : 'min'
  wfloor = 60.0 / wu                      # a minute, in the wait unit
  whi = wfloor
  stats jobs using (w = column('wait_s') / wu, whi = (w > whi ? w : whi), 0) nooutput
  set tmargin at screen B + H; set bmargin at screen B
  set format x '%g'
  set xlabel sprintf('time (%s): when the job was submitted', tunit)
  set ylabel sprintf('wait (%s)', wname)
  set logscale y
  set yrange [wfloor / 3.2:whi * 2.5]
  # decades at or above a minute, and waits under a minute on a line of their own
  set ytics ('< 1 min' wfloor / 2)
  do for [e = ceil(log10(wfloor) - 1e-9) : ceil(log10(whi * 2.5))] { set ytics add (sprintf('%g', 10.0 ** e) 10.0 ** e) }
  set mytics 10
  set label 1 '(c) each job''s wait (log scale; marker size: its GPUs)'
  w(k) = strcol('kind') eq k ? (v = column('wait_s') / wu, v < wfloor ? wfloor / 2 : v) : NaN
  ps(g) = 0.45 + 0.28 * log(g > 1 ? g : 1) / log(2)
  plot jobs using (tx(column('submit_s'))):(w('inference')):(ps(column('gpus'))) with points pointtype 7 pointsize variable linecolor rgb '#009E73' title 'inference', \
       '' using (tx(column('submit_s'))):(w('finetune')):(ps(column('gpus'))) with points pointtype 5 pointsize variable linecolor rgb '#D55E00' title 'fine-tuning', \
       '' using (tx(column('submit_s'))):(w('training')):(ps(column('gpus'))) with points pointtype 9 pointsize variable linecolor rgb '#0072B2' title 'training'
}

unset multiplot
