# plots/utilization.gp: how much of a serving run's capacity was used over
# time: (a) capacity utilization - the offered load over the saturation
# rate (the request rate the replicas sustain when never short of work),
# per interval; above the line at 1 they cannot keep up and a queue grows;
# (b) batch occupancy (the running batch over max_num_seqs) and KV-cache
# occupancy (fraction of the KV blocks in use at the interval's end,
# averaged over replicas), in percent; (c) the running batch size
# (sequences in a replica's batch, time-averaged, per replica). The busy
# fraction (`utilization`, what nvidia-smi shows) is not drawn: under
# continuous batching it reads about 100% whenever anything runs.
# Outputs without the capacity columns (capacity_utilization,
# batch_occupancy) get the older figure: (a) GPU utilization (busy time)
# and KV-cache occupancy, (b) the running batch. The panels share the time
# axis; the spike window, when there is one, is shaded.
#
# Reads timeseries.csv as `clustersim run` writes it (time_s = interval
# start; the last row may be a partial interval).
#
#   gnuplot -e "in='OUT/timeseries.csv'; out='utilization.png'" plots/utilization.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'                         terminal (default: from out's extension)
#   name, model, hw; gpu, gpus, replicas   title parts, as for spike.gp
#   tend, interval                     as for spike.gp (s)
#   spike_start, spike_end             the window to shade (s)
#   saturation                         the saturation rate (requests/s), for the title
#   capcols=1                          the input has capacity_utilization and batch_occupancy
#   tfrom, tto                         draw only this window of time (s)

if (!exists("in")) { print "utilization.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
if (!exists("capcols")) { capcols = 0 }
capcols = (capcols != 0)
fig_w = 1200; fig_h = capcols ? 900 : 760
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

stats in using (column('time_s')) nooutput
nrows = STATS_records; t_first = STATS_min; t_last = STATS_max
if (!exists("interval")) { interval = nrows > 1 ? (t_last - t_first) / (nrows - 1) : (exists("tend") ? tend - t_first : 1) }
if (!exists("tend")) { tend = t_last + interval }
if (tend <= t_last) { tend = t_last + interval }
dt(t) = (t + interval > tend) ? tend - t : interval
has_win = exists("tfrom") || exists("tto")
if (!exists("tfrom")) { tfrom = 0 }
if (!exists("tto")) { tto = tend }
if (tfrom != tfrom || tfrom < 0) { tfrom = 0 }
if (tto != tto || tto > tend) { tto = tend }
if (tfrom >= tto) { print sprintf("utilization.gp: the window %g-%g s holds nothing of a run of %g s", tfrom, tto, tend); exit status 1 }
inw(t) = (t + dt(t) > tfrom && t < tto)
tu = tunit_s(tto - tfrom)
tx(t) = t / (1.0 * tu)
mid(t) = tx(t + dt(t) / 2.0)
end(t) = tx(t + dt(t))
tnum(t) = sprintf('%g', floor(tx(t) * 10 + 0.5) / 10.0)
batch_max = 0; cap_max = 0
stats in using (inw(column('time_s')) ? (b = column('running_batch'), (b == b && b > batch_max) ? batch_max = b : 0) : 0, 0) nooutput
if (capcols) {
  stats in using (inw(column('time_s')) ? (c = column('capacity_utilization'), (c == c && c > cap_max) ? cap_max = c : 0) : 0, 0) nooutput
}

if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("hw")) {
  what = what.' on '.hw
} else {
  if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu }
  if (exists("replicas")) { what = what.sprintf(' (%d replica%s)', replicas, replicas == 1 ? '' : 's') }
}
sub = (capcols ? 'capacity use' : 'GPU and KV-cache use').' per '.dur(interval).' interval'
if (capcols && exists("saturation")) { if (saturation == saturation) { sub = sub.sprintf('; saturation rate %s requests/s', num(saturation)) } }
has_spike = exists("spike_start") && exists("spike_end")
if (has_spike) { sub = sub.sprintf('; demand spike %s–%s %s (shaded)', tnum(spike_start), tnum(spike_end), tunit_name(tto - tfrom)) }
if (has_win) { sub = sub.sprintf("\nwindow %s–%s %s of the run", tnum(tfrom), tnum(tto), tunit_name(tto - tfrom)) }

np = capcols ? 3 : 2
L = 0.085; R = 0.965; T = capcols ? 0.855 : 0.83; B = capcols ? 0.085 : 0.1; G = 0.065
H = (T - B - (np - 1) * G) / np
top(i) = T - (i - 1) * (H + G)
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [tx(tfrom):tx(tto)]
if (tstep(tto - tfrom) > 0) { set xtics tstep(tto - tfrom) }
set key at graph 1, graph 1.01 right bottom horizontal noopaque nobox width 1
clampx(t) = t < tfrom ? tfrom : (t > tto ? tto : t)
if (has_spike) {
  if (spike_end > tfrom && spike_start < tto) {
    set object 1 rectangle from tx(clampx(spike_start)), graph 0 to tx(clampx(spike_end)), graph 1 \
        fillcolor rgb c_spike fillstyle solid 1.0 noborder behind
  }
}
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front
set format x ''

if (capcols) {
  # (a) capacity utilization, the line at 1 = saturation
  set tmargin at screen top(1); set bmargin at screen top(1) - H
  set ylabel 'offered / saturation'
  ytop = cap_max > 1 ? cap_max : 1
  set yrange [0:ytop * 1.2]
  set label 1 '(a) capacity utilization: offered load over the saturation rate (above 1: overloaded)'
  set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
  set label 2 'saturation' at graph 0.006, first 1 left offset 0, 0.75 textcolor rgb c_ref front
  plot in using (mid(column('time_s'))):(column('capacity_utilization')) with lines linetype 3 title ''
  unset arrow 1; unset label 2

  # (b) batch occupancy and KV cache, percent
  set tmargin at screen top(2); set bmargin at screen top(2) - H
  set ylabel 'percent'
  set yrange [0:110]
  set ytics 0, 20, 100
  set label 1 '(b) occupancy: batch (running / max_num_seqs) and KV cache'
  plot in using (mid(column('time_s'))):(100 * column('batch_occupancy')) with lines linetype 5 title 'batch occupancy', \
       '' using (end(column('time_s'))):(100 * column('kv_used_fraction')) with lines linetype 1 title 'KV cache in use'
} else {
  # (a) utilization and KV cache, percent
  set tmargin at screen top(1); set bmargin at screen top(1) - H
  set ylabel 'percent'
  set yrange [0:110]
  set ytics 0, 20, 100
  set label 1 '(a) GPU utilization (busy time) and KV-cache occupancy'
  plot in using (mid(column('time_s'))):(100 * column('utilization')) with lines linetype 1 title 'GPU utilization', \
       '' using (end(column('time_s'))):(100 * column('kv_used_fraction')) with lines linetype 5 title 'KV cache in use'
}

# the running batch
set tmargin at screen B + H; set bmargin at screen B
set format x '%g'
set xlabel sprintf('time (%s)', tunit_name(tto - tfrom))
set ylabel 'sequences per replica'
set yrange [0:batch_max > 0 ? batch_max * 1.18 : 1]
set ytics autofreq
set label 1 sprintf('(%s) running batch size (sequences in a replica''s batch, time-averaged)', capcols ? 'c' : 'b')
plot in using (mid(column('time_s'))):(column('running_batch')) with lines linetype 4 title ''

unset multiplot
