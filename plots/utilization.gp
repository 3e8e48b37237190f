# plots/utilization.gp: how busy a serving run's hardware was over time:
# (a) GPU utilization (fraction of GPU time busy, averaged over each
# interval) and KV-cache occupancy (fraction of the KV blocks in use at the
# interval's end, averaged over replicas), both in percent; (b) the running
# batch size (sequences in a replica's batch, time-averaged, per replica).
# Both panels share the time axis; the spike window, when there is one, is
# shaded.
#
# Reads timeseries.csv as `clustersim run` writes it (time_s = interval
# start; the last row may be a partial interval).
#
#   gnuplot -e "in='OUT/timeseries.csv'; out='utilization.png'" plots/utilization.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'                         terminal (default: from out's extension)
#   name, model, gpu; gpus, replicas   strings and numbers for the title
#   tend, interval                     as for spike.gp (s)
#   spike_start, spike_end             the window to shade (s)

if (!exists("in")) { print "utilization.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
fig_w = 1200; fig_h = 760
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

stats in using (column('time_s')) nooutput
nrows = STATS_records; t_first = STATS_min; t_last = STATS_max
if (!exists("interval")) { interval = nrows > 1 ? (t_last - t_first) / (nrows - 1) : (exists("tend") ? tend - t_first : 1) }
if (!exists("tend")) { tend = t_last + interval }
if (tend <= t_last) { tend = t_last + interval }
dt(t) = (t + interval > tend) ? tend - t : interval
tu = tunit_s(tend)
tx(t) = t / (1.0 * tu)
mid(t) = tx(t + dt(t) / 2.0)
end(t) = tx(t + dt(t))
tnum(t) = sprintf('%g', floor(tx(t) * 10 + 0.5) / 10.0)
stats in using (column('running_batch')) nooutput
batch_max = STATS_max

if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu }
if (exists("replicas")) { what = what.sprintf(' (%d replica%s)', replicas, replicas == 1 ? '' : 's') }
sub = 'GPU and KV-cache use per '.dur(interval).' interval'
has_spike = exists("spike_start") && exists("spike_end")
if (has_spike) { sub = sub.sprintf('; demand spike %s–%s %s (shaded)', tnum(spike_start), tnum(spike_end), tunit_name(tend)) }

L = 0.085; R = 0.965; T = 0.83; B = 0.1; G = 0.075
H = (T - B - G) / 2
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [0:tx(tend)]
if (tstep(tend) > 0) { set xtics tstep(tend) }
set key at graph 1, graph 1.01 right bottom horizontal noopaque nobox width 1
if (has_spike) {
  set object 1 rectangle from tx(spike_start), graph 0 to tx(spike_end), graph 1 \
      fillcolor rgb c_spike fillstyle solid 1.0 noborder behind
}
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front

# (a) utilization and KV cache, percent
set tmargin at screen T; set bmargin at screen T - H
set format x ''
set ylabel 'percent'
set yrange [0:110]
set ytics 0, 20, 100
set label 1 '(a) GPU utilization (busy time) and KV-cache occupancy'
plot in using (mid(column('time_s'))):(100 * column('utilization')) with lines linetype 1 title 'GPU utilization', \
     '' using (end(column('time_s'))):(100 * column('kv_used_fraction')) with lines linetype 5 title 'KV cache in use'

# (b) running batch
set tmargin at screen B + H; set bmargin at screen B
set format x '%g'
set xlabel sprintf('time (%s)', tunit_name(tend))
set ylabel 'sequences per replica'
set yrange [0:batch_max > 0 ? batch_max * 1.18 : 1]
set ytics autofreq
set label 1 '(b) running batch size (sequences in a replica''s batch, time-averaged)'
plot in using (mid(column('time_s'))):(column('running_batch')) with lines linetype 4 title ''

unset multiplot
