# plots/spike.gp: a serving run's demand over time, for reading what a
# spike does: four panels on one time axis - (a) offered and served
# requests/s (and rejected/s when any were), (b) requests waiting,
# (c) p99 time to first token per interval (log scale when it spans more
# than a decade and a half), (d) replicas busy, with the replicas there
# are. The spike window is shaded on every panel; the time axis is in
# seconds, minutes or hours by the run's length.
#
# Reads timeseries.csv as `clustersim run` writes it (time_s = interval
# start; the last row may be a partial interval; ttft_p99_s empty when no
# first token came in the interval).
#
#   gnuplot -e "in='OUT/timeseries.csv'; out='spike.png'" plots/spike.gp
# Optional (-e), mostly from summary.json; `clustersim plot` passes them all:
#   term='svg'            terminal (default: from out's extension)
#   name, model, gpu      strings for the title
#   gpus, replicas        numbers for the title; replicas draws the capacity line
#   tend=3622.7           end of the run (s): length of the last, partial interval
#   interval=30           interval (s); default: from the time_s column
#   spike_start=1200; spike_end=1860    the window to shade (s)
#   slo_ttft=2            TTFT target (s), drawn on panel (c)

if (!exists("in")) { print "spike.gp: set in='OUTDIR/timeseries.csv'"; exit status 2 }
fig_w = 1200; fig_h = 960
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

# --- the data's extent, the interval, and what each panel needs ---
stats in using (column('time_s')) nooutput
nrows = STATS_records; t_first = STATS_min; t_last = STATS_max
if (!exists("interval")) { interval = nrows > 1 ? (t_last - t_first) / (nrows - 1) : (exists("tend") ? tend - t_first : 1) }
if (!exists("tend")) { tend = t_last + interval }
if (tend <= t_last) { tend = t_last + interval }
dt(t) = (t + interval > tend) ? tend - t : interval
tu = tunit_s(tend)
tx(t) = t / (1.0 * tu)                    # seconds to the axis unit
tnum(t) = sprintf('%g', floor(tx(t) * 10 + 0.5) / 10.0)
mid(t) = tx(t + dt(t) / 2.0)         # interval averages sit mid-interval
end(t) = tx(t + dt(t))             # samples taken at the interval's end

rej = 0; ttft_lo = 1e300; ttft_hi = 0; qmax = 0; rate_max = 0; busy_max = 0
stats in using (rej = rej + column('rejected'), \
                b = column('replicas_busy'), busy_max = (b > busy_max ? b : busy_max), \
                q = column('queue_length'), qmax = (q > qmax ? q : qmax), \
                r = column('offered_rate_per_s'), rate_max = (r > rate_max ? r : rate_max), \
                r = column('completions') / dt(column('time_s')), rate_max = (r > rate_max ? r : rate_max), \
                v = column('ttft_p99_s'), \
                (v == v && v > 0) ? (ttft_lo = (v < ttft_lo ? v : ttft_lo), ttft_hi = (v > ttft_hi ? v : ttft_hi)) : 0, \
                column('time_s')) nooutput
have_ttft = ttft_hi > 0

# --- titles ---
if (!exists("name")) { name = in }
what = ''
if (exists("model")) { what = model }
if (exists("gpu")) { what = what.' on '.(exists("gpus") ? sprintf('%d × ', gpus) : '').gpu }
if (exists("replicas")) { what = what.sprintf(' (%d replica%s)', replicas, replicas == 1 ? '' : 's') }
sub = 'per '.dur(interval).' interval'
has_spike = exists("spike_start") && exists("spike_end")
if (has_spike) { sub = sprintf('demand spike %s–%s %s (shaded); ', tnum(spike_start), tnum(spike_end), tunit_name(tend)).sub }

# --- layout: four panels sharing x, margins fixed so the axes line up ---
L = 0.095; R = 0.965; T = 0.865; B = 0.075; G = 0.045
H = (T - B - 3 * G) / 4
top(i) = T - (i - 1) * (H + G)
bot(i) = top(i) - H

set multiplot title name.(what ne '' ? ' — '.what : '')."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [0:tx(tend)]
if (tstep(tend) > 0) { set xtics tstep(tend) }
set format x ''
set xlabel ''
set key at graph 1, graph 1.01 right bottom horizontal noopaque nobox width -1 samplen 2
if (has_spike) {
  set object 1 rectangle from tx(spike_start), graph 0 to tx(spike_end), graph 1 \
      fillcolor rgb c_spike fillstyle solid 1.0 noborder behind
}
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front

# (a) offered and served load
set tmargin at screen top(1); set bmargin at screen bot(1)
set ylabel 'requests/s'
set yrange [0:rate_max * 1.15 + 1e-9]
set label 1 (rej > 0 ? '(a) load: offered, served (completions) and rejected' : '(a) load: offered and served (completions)')
served = "'' using (mid(column('time_s'))):(column('completions') / dt(column('time_s'))) with lines linetype 1 title 'served'"
if (rej > 0) {
  plot in using (mid(column('time_s'))):(column('offered_rate_per_s')) with lines linetype 8 linewidth 2.5 title 'offered', \
       @served, \
       '' using (mid(column('time_s'))):(column('rejected') / dt(column('time_s'))) with lines linetype 2 title 'rejected'
} else {
  plot in using (mid(column('time_s'))):(column('offered_rate_per_s')) with lines linetype 8 linewidth 2.5 title 'offered', \
       @served
}

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

# (d) busy replicas
set tmargin at screen top(4); set bmargin at screen bot(4)
set ylabel 'busy replicas'
set format x '%g'
set xlabel sprintf('time (%s)', tunit_name(tend))
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

unset multiplot
