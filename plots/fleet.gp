# plots/fleet.gp: the fleet over time in a serving run: (a) the offered
# load (requests/s, left axis) against the replicas asked for, ready and
# busy (right axis; an autoscaler's decisions show as steps, a replica's
# start-up delay as the gap between asked for and ready), spot
# interruptions marked on the time axis; (b) what the fleet costs per
# hour, stacked by how it is paid: on demand, reserved, spot, owned, and
# electricity. The spike window, when there is one, is shaded.
#
# Reads timeseries.csv as `clustersim run` writes it (time_s = interval
# start; the last row may be a partial interval).
#
#   gnuplot -e "in='OUT/timeseries.csv'; out='fleet.png'" plots/fleet.gp
# Optional (-e); `clustersim plot` passes them from summary.json:
#   term='svg'; name, model, hw; gpu, gpus, replicas; tend, interval;
#   spike_start, spike_end; tfrom, tto   as for utilization.gp

if (!exists("in")) { print "fleet.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
fig_w = 1200; fig_h = 820
capcols = 1
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
if (tfrom >= tto) { print sprintf("fleet.gp: the window %g-%g s holds nothing of a run of %g s", tfrom, tto, tend); exit status 1 }
inw(t) = (t + dt(t) > tfrom && t < tto)
tu = tunit_s(tto - tfrom)
tx(t) = t / (1.0 * tu)
mid(t) = tx(t + dt(t) / 2.0)
end(t) = tx(t + dt(t))
tnum(t) = sprintf('%g', floor(tx(t) * 10 + 0.5) / 10.0)

# the extents of the window: load, replicas, cost
rate_max = 0; reps_max = 0; cost_max = 0; n_intr = 0
stats in using (inw(column('time_s')) ? (v = column('offered_rate_per_s'), (v == v && v > rate_max) ? rate_max = v : 0) : 0, 0) nooutput
stats in using (inw(column('time_s')) ? (v = column('replicas_requested'), (v == v && v > reps_max) ? reps_max = v : 0) : 0, 0) nooutput
stats in using (inw(column('time_s')) ? (v = column('cost_usd_per_h'), (v == v && v > cost_max) ? cost_max = v : 0) : 0, 0) nooutput
stats in using (inw(column('time_s')) ? (n_intr = n_intr + column('spot_interruptions')) : 0, 0) nooutput
# which ways of paying the window holds (only those get a key entry)
k_od = 0; k_res = 0; k_spot = 0; k_own = 0; k_el = 0
stats in using (inw(column('time_s')) ? (k_od = k_od + column('cost_on_demand_usd_per_h'), \
    k_res = k_res + column('cost_reserved_usd_per_h'), k_spot = k_spot + column('cost_spot_usd_per_h'), \
    k_own = k_own + column('cost_owned_usd_per_h'), k_el = k_el + column('cost_energy_usd_per_h')) : 0, 0) nooutput

if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("hw")) { what = what.' on '.hw }
sub = 'replicas and cost per '.dur(interval).' interval'
if (n_intr > 0) { sub = sub.sprintf('; %d spot interruption%s (marked)', n_intr, n_intr == 1 ? '' : 's') }
has_spike = exists("spike_start") && exists("spike_end")
if (has_spike) { sub = sub.sprintf('; demand spike %s–%s %s (shaded)', tnum(spike_start), tnum(spike_end), tunit_name(tto - tfrom)) }
if (has_win) { sub = sub.sprintf("\nwindow %s–%s %s of the run", tnum(tfrom), tnum(tto), tunit_name(tto - tfrom)) }

L = 0.085; R = 0.915; T = 0.85; B = 0.09; G = 0.07
H = (T - B - G) / 2
set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [tx(tfrom):tx(tto)]
if (tstep(tto - tfrom) > 0) { set xtics tstep(tto - tfrom) }
set key inside left top vertical opaque box linecolor '#d8d8d8' width 1
clampx(t) = t < tfrom ? tfrom : (t > tto ? tto : t)
if (has_spike) {
  if (spike_end > tfrom && spike_start < tto) {
    set object 1 rectangle from tx(clampx(spike_start)), graph 0 to tx(clampx(spike_end)), graph 1 \
        fillcolor rgb c_spike fillstyle solid 1.0 noborder behind
  }
}
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front
set format x ''

# (a) load and replicas
set tmargin at screen T; set bmargin at screen T - H
set ylabel 'offered load (requests/s)'
set yrange [0:rate_max > 0 ? rate_max * 1.2 : 1]
set y2label 'replicas'
set y2range [0:reps_max > 0 ? reps_max * 1.25 : 1]
set y2tics nomirror
set ytics nomirror
set label 1 '(a) offered load, and replicas asked for, ready and busy'
mark(t, n) = n > 0 ? 0 : NaN
plot in using (mid(column('time_s'))):(column('offered_rate_per_s')) with lines linetype 8 title 'offered load', \
     '' using (end(column('time_s'))):(column('replicas_requested')) axes x1y2 with steps linetype 2 title 'asked for', \
     '' using (end(column('time_s'))):(column('replicas_ready')) axes x1y2 with steps linetype 1 title 'ready', \
     '' using (mid(column('time_s'))):(column('replicas_busy')) axes x1y2 with lines linetype 3 dashtype 2 title 'busy', \
     '' using (mid(column('time_s'))):(mark(column('time_s'), column('spot_interruptions'))) axes x1y2 \
        with points linetype 7 pointtype 9 pointsize 1.6 title (n_intr > 0 ? 'spot interruption' : '')
unset y2tics; unset y2label

# (b) cost per hour, stacked by pricing
set tmargin at screen B + H; set bmargin at screen B
set format x '%g'
set xlabel sprintf('time (%s)', tunit_name(tto - tfrom))
set ylabel 'USD per hour'
set yrange [0:cost_max > 0 ? cost_max * 1.25 : 1]
set label 1 '(b) cost per hour, by how it is paid'
set style fill solid 0.75 noborder
c1(t) = column('cost_on_demand_usd_per_h')
c2(t) = c1(t) + column('cost_reserved_usd_per_h')
c3(t) = c2(t) + column('cost_spot_usd_per_h')
c4(t) = c3(t) + column('cost_owned_usd_per_h')
c5(t) = c4(t) + column('cost_energy_usd_per_h')
plot in using (mid(column('time_s'))):(c5(0)):(c4(0)) with filledcurves linetype 8 title (k_el > 0 ? 'electricity' : ''), \
     '' using (mid(column('time_s'))):(c4(0)):(c3(0)) with filledcurves linetype 4 title (k_own > 0 ? 'owned' : ''), \
     '' using (mid(column('time_s'))):(c3(0)):(c2(0)) with filledcurves linetype 3 title (k_spot > 0 ? 'spot' : ''), \
     '' using (mid(column('time_s'))):(c2(0)):(c1(0)) with filledcurves linetype 5 title (k_res > 0 ? 'reserved' : ''), \
     '' using (mid(column('time_s'))):(c1(0)):(0) with filledcurves linetype 1 title (k_od > 0 ? 'on demand' : '')

unset multiplot
