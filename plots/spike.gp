# plots/spike.gp: a serving run's demand over time, for reading what a
# spike does: four panels on one time axis - (a) offered and served
# requests/s (and rejected/s when any were), with the saturation rate (what
# the replicas sustain) when known, (b) requests waiting, (c) p99 time to
# first token per interval (log scale when it spans more than a decade and
# a half), (d) capacity utilization (offered load over the saturation rate:
# above 1 the replicas cannot keep up; the line at 1 is saturation) and
# batch occupancy (the running batch over max_num_seqs) - or, for outputs
# without those columns, the replicas busy, the flat line continuous
# batching gives. The spike window is shaded on every panel and the moment
# its backlog was served (the drain end) marked; the time axis is in
# seconds, minutes or hours by the length drawn.
#
# Reads timeseries.csv as `clustersim run` writes it (time_s = interval
# start; the last row may be a partial interval; ttft_p99_s empty when no
# first token came in the interval).
#
#   gnuplot -e "in='OUT/timeseries.csv'; out='spike.png'" plots/spike.gp
# Optional (-e), mostly from summary.json; `clustersim plot` passes them all:
#   term='svg'            terminal (default: from out's extension)
#   name, model           strings for the title
#   hw                    the hardware for the title ('32 × a100-80gb-sxm (4 replicas)',
#                         '11 a10 replicas + 6 a100-80gb-sxm replicas (28 GPUs)');
#                         without it gpu, gpus and replicas make one
#   replicas              replicas in all: the capacity line of the fallback panel (d)
#   tend=3622.7           end of the run (s): length of the last, partial interval
#   interval=30           interval (s); default: from the time_s column
#   spike_start=1200; spike_end=1860    the window to shade (s)
#   drain_end=3450        when the spike's backlog was served (s), marked;
#   undrained=1           or: it was not served by the end
#   slo_ttft=2            TTFT target (s), drawn on panel (c)
#   saturation=20.5       the saturation rate (requests/s), drawn on panel (a)
#   capcols=1             the input has capacity_utilization and batch_occupancy
#   tfrom=1200; tto=2400  draw only this window of time (s)

if (!exists("in")) { print "spike.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
fig_w = 1200; fig_h = 960
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'
if (!exists("capcols")) { capcols = 0 }
capcols = (capcols != 0)

# --- the data's extent, the interval, the window, and what each panel needs ---
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
if (tfrom >= tto) { print sprintf("spike.gp: the window %g-%g s holds nothing of a run of %g s", tfrom, tto, tend); exit status 1 }
inw(t) = (t + dt(t) > tfrom && t < tto)   # the interval starting at t overlaps the window
tu = tunit_s(tto - tfrom)
tx(t) = t / (1.0 * tu)                    # seconds to the axis unit
tnum(t) = sprintf('%g', floor(tx(t) * 10 + 0.5) / 10.0)
mid(t) = tx(t + dt(t) / 2.0)         # interval averages sit mid-interval
end(t) = tx(t + dt(t))             # samples taken at the interval's end

rej = 0; ttft_lo = 1e300; ttft_hi = 0; qmax = 0; rate_max = 0; busy_max = 0; cap_max = 0
stats in using (inw(column('time_s')) ? ( \
                rej = rej + column('rejected'), \
                b = column('replicas_busy'), busy_max = (b > busy_max ? b : busy_max), \
                q = column('queue_length'), qmax = (q > qmax ? q : qmax), \
                r = column('offered_rate_per_s'), rate_max = (r > rate_max ? r : rate_max), \
                r = column('completions') / dt(column('time_s')), rate_max = (r > rate_max ? r : rate_max), \
                v = column('ttft_p99_s'), \
                (v == v && v > 0) ? (ttft_lo = (v < ttft_lo ? v : ttft_lo), ttft_hi = (v > ttft_hi ? v : ttft_hi)) : 0) : 0, \
                column('time_s')) nooutput
if (capcols) {
  stats in using (inw(column('time_s')) ? (c = column('capacity_utilization'), (c == c && c > cap_max) ? cap_max = c : 0, \
                                            c = column('batch_occupancy'), (c == c && c > cap_max) ? cap_max = c : 0) : 0, \
                  column('time_s')) nooutput
}
have_ttft = ttft_hi > 0
has_sat = exists("saturation")
if (has_sat) { has_sat = saturation == saturation && saturation > 0 }

# --- titles ---
if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("hw")) {
  what = what.' on '.hw
} else {
  if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu }
  if (exists("replicas")) { what = what.sprintf(' (%d replica%s)', replicas, replicas == 1 ? '' : 's') }
}
sub = 'per '.dur(interval).' interval'
has_spike = exists("spike_start") && exists("spike_end")
has_drain = exists("drain_end")
if (has_drain) { has_drain = drain_end == drain_end }
if (has_spike) {
  sub = sprintf('demand spike %s–%s %s (shaded)', tnum(spike_start), tnum(spike_end), tunit_name(tto - tfrom)). \
        (has_drain ? sprintf(', backlog served by %s %s', tnum(drain_end), tunit_name(tto - tfrom)) : \
         (exists("undrained") ? ', backlog not served by the end' : '')).'; '.sub
}
if (has_win) { sub = sub.sprintf("\nwindow %s–%s %s of the run", tnum(tfrom), tnum(tto), tunit_name(tto - tfrom)) }

# --- layout: four panels sharing x, margins fixed so the axes line up ---
L = 0.095; R = 0.965; T = 0.865; B = 0.075; G = 0.045
H = (T - B - 3 * G) / 4
top(i) = T - (i - 1) * (H + G)
bot(i) = top(i) - H

set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [tx(tfrom):tx(tto)]
if (tstep(tto - tfrom) > 0) { set xtics tstep(tto - tfrom) }
set format x ''
set xlabel ''
set key at graph 1, graph 1.01 right bottom horizontal noopaque nobox width -1 samplen 2
clampx(t) = t < tfrom ? tfrom : (t > tto ? tto : t)
if (has_spike) {
  if (spike_end > tfrom && spike_start < tto) {
    set object 1 rectangle from tx(clampx(spike_start)), graph 0 to tx(clampx(spike_end)), graph 1 \
        fillcolor rgb c_spike fillstyle solid 1.0 noborder behind
  }
}
c_drain = '#7a4d00'
show_drain = 0
if (has_drain) { show_drain = drain_end >= tfrom && drain_end <= tto }
if (show_drain) {
  set arrow 5 from first tx(drain_end), graph 0 to first tx(drain_end), graph 1 nohead linecolor rgb c_drain dashtype 3 linewidth 1.5 front
}
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front

# (a) offered and served load
set tmargin at screen top(1); set bmargin at screen bot(1)
set ylabel 'requests/s'
ya = rate_max > (has_sat ? saturation : 0) ? rate_max : saturation
set yrange [0:ya * 1.15 + 1e-9]
set label 1 (rej > 0 ? '(a) load: offered, served (completions) and rejected' : '(a) load: offered and served (completions)')
if (has_sat) {
  set arrow 1 from graph 0, first saturation to graph 1, first saturation nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
  set label 2 sprintf('saturation rate %s/s', num(saturation)) at graph 0.006, first saturation left offset 0, 0.75 textcolor rgb c_ref front
}
if (show_drain) {
  if (drain_end > tfrom + 0.85 * (tto - tfrom)) {
    set label 4 'backlog served' at first tx(drain_end), graph 0.62 right offset -0.5, 0 textcolor rgb c_drain front
  } else {
    set label 4 'backlog served' at first tx(drain_end), graph 0.62 left offset 0.5, 0 textcolor rgb c_drain front
  }
}
served = "'' using (mid(column('time_s'))):(column('completions') / dt(column('time_s'))) with lines linetype 1 title 'served'"
if (rej > 0) {
  plot in using (mid(column('time_s'))):(column('offered_rate_per_s')) with lines linetype 8 linewidth 2.5 title 'offered', \
       @served, \
       '' using (mid(column('time_s'))):(column('rejected') / dt(column('time_s'))) with lines linetype 2 title 'rejected'
} else {
  plot in using (mid(column('time_s'))):(column('offered_rate_per_s')) with lines linetype 8 linewidth 2.5 title 'offered', \
       @served
}
unset arrow 1; unset label 2; unset label 4

# (b) queue
set tmargin at screen top(2); set bmargin at screen bot(2)
set ylabel 'waiting requests'
set yrange [0:qmax > 0 ? qmax * 1.12 : 1]
if (qmax <= 6) { set ytics 1 }
set label 1 '(b) queue: requests waiting at the end of each interval'
plot in using (end(column('time_s'))):(column('queue_length')) with lines linetype 4 title ''

# (c) p99 TTFT
set ytics autofreq
set tmargin at screen top(3); set bmargin at screen bot(3)
set ylabel 'p99 TTFT (s)'
lo = ttft_lo; hi = ttft_hi
if (exists("slo_ttft")) { if (slo_ttft > 0) { lo = (slo_ttft < lo ? slo_ttft : lo); hi = (slo_ttft > hi ? slo_ttft : hi) } }
if (have_ttft && hi / lo > 30) {
  set logscale y
  set yrange [lo / 1.6:hi * 1.6]
  set format y '%g'
  set label 1 '(c) p99 time to first token, per interval (log scale)'
} else {
  unset logscale y
  set yrange [0:(have_ttft ? hi * 1.15 : 1)]
  set label 1 '(c) p99 time to first token, per interval'
}
if (exists("slo_ttft")) {
  if (slo_ttft > 0) {
    set arrow 1 from graph 0, first slo_ttft to graph 1, first slo_ttft nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
    set label 2 sprintf('SLO %s s', num(slo_ttft)) at graph 0.006, first slo_ttft left offset 0, 0.75 textcolor rgb c_ref front
  }
}
if (!have_ttft) { set label 3 'no first token in any interval' at graph 0.5, graph 0.5 center }
plot in using (mid(column('time_s'))):(v = column('ttft_p99_s'), v > 0 ? v : NaN) with lines linetype 2 title ''
unset arrow 1; unset label 2; unset label 3; unset logscale y; set format y '%g'

# (d) capacity utilization and batch occupancy; without them, busy replicas
set tmargin at screen top(4); set bmargin at screen bot(4)
set format x '%g'
set xlabel sprintf('time (%s)', tunit_name(tto - tfrom))
if (capcols) {
  set ylabel 'fraction of capacity'
  ytop = cap_max > 1 ? cap_max : 1
  set yrange [0:ytop * 1.25]
  set label 1 '(d) capacity utilization and batch occupancy'
  set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
  set label 2 'saturation (1)' at graph 0.006, first 1 left offset 0, 0.75 textcolor rgb c_ref front
  plot in using (mid(column('time_s'))):(column('capacity_utilization')) with lines linetype 3 title 'offered / saturation rate', \
       '' using (mid(column('time_s'))):(column('batch_occupancy')) with lines linetype 5 title 'running batch / max_num_seqs'
} else {
  set ylabel 'busy replicas'
  cap = exists("replicas") ? replicas : 0
  ytop = (busy_max > cap ? busy_max : cap)
  set yrange [0:ytop > 0 ? ytop * 1.3 : 1]
  if (ytop <= 6) { set ytics 1 }
  set label 1 '(d) replicas busy (time-averaged over each interval)'
  if (cap > 0) {
    set arrow 1 from graph 0, first cap to graph 1, first cap nohead linecolor rgb c_ref dashtype 2 linewidth 1.5 back
    set label 2 sprintf('%d replica%s', cap, cap == 1 ? '' : 's') at graph 0.006, first cap left offset 0, 0.75 textcolor rgb c_ref front
  }
  plot in using (mid(column('time_s'))):(column('replicas_busy')) with lines linetype 3 title ''
}

unset multiplot
