# plots/plan_replicas.gp: a capacity plan: (a) the replicas each GPU type
# (with its tensor-parallel degree) needs to meet the targets against
# offered load (requests/s), and (b) what that costs per hour, so the
# cheapest choice at each load reads off the lowest line. Replica counts
# are integers, so both are drawn as steps through the loads the plan
# evaluated (the points): each step rises at the evaluated load below the
# one that needs more, so between two evaluated loads the line shows the
# larger count - enough for either. One line per (gpu, tp); loads a type
# cannot serve (feasible = 0) are left out, and its line ends. The plan's
# answer at the scenario's own load (load_scale 1), when given, is ringed
# on both panels.
#
# Reads plan_load.csv as `clustersim plan` writes it:
# gpu,tp,load_scale,offered_rate_per_s,replicas,usd_per_hour,feasible.
#
#   gnuplot -e "in='OUT/plan_load.csv'; out='plan.png'" plots/plan_replicas.gp
# Optional (-e); `clustersim plot` passes them from plan.json or summary.json:
#   term='svg'        terminal (default: from out's extension)
#   name, model       strings for the title
#   targets='ttft_p99_s ≤ 1'   the plan's targets, named in the subtitle
#   slo_ttft=1        (without targets) the TTFT target (s), named likewise
#   best_gpu='a100-80gb-sxm'; best_tp=2    the plan's answer (plan.json), ringed

if (!exists("in")) { print "plan_replicas.gp: set in='OUTDIR/plan_load.csv'"; exit status 2 }
fig_w = 1200; fig_h = 900
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

# --- the (gpu, tp) options, as 'gpu/tp' words, and the ranges ---
opts = ' '
xhi = 0; rhi = 0; chi = 0; nfeas = 0
stats in using (o = strcol('gpu').'/'.strcol('tp'), (strstrt(opts, ' '.o.' ') == 0 ? opts = opts.o.' ' : 0), \
                x = column('offered_rate_per_s'), xhi = x > xhi ? x : xhi, \
                (column('feasible') == 1) ? (nfeas = nfeas + 1, r = column('replicas'), rhi = r > rhi ? r : rhi, \
                                             c = column('usd_per_hour'), chi = c > chi ? c : chi) : 0, \
                0) nooutput
nopt = words(opts)
# the plan's answer at load_scale 1: where to ring it
bx = NaN; br = NaN; bc = NaN
if (exists("best_gpu") && exists("best_tp")) {
  stats in using ((strcol('gpu') eq best_gpu && column('tp') == best_tp && abs(column('load_scale') - 1) < 1e-9 \
                   && column('feasible') == 1) ? (bx = column('offered_rate_per_s'), br = column('replicas'), \
                                                  bc = column('usd_per_hour'), 0) : 0, 0) nooutput
}
has_best = bx == bx
if (nfeas == 0) { print "plan_replicas.gp: no feasible row in ".in; exit status 1 }
optname(k) = (w = word(opts, k), s = strstrt(w, '/'), sprintf('%s (tp %s)', w[1:s-1], w[s+1:]))
sel(k, v) = (strcol('gpu').'/'.strcol('tp') eq word(opts, k) && column('feasible') == 1) ? v : NaN

tl = 'Plan: replicas needed to meet the targets'
if (exists("name")) { tl = tl.' — '.name.(exists("model") ? ' ('.model.')' : '') }
sub = 'against offered load'
if (exists("targets")) {
  sub = sub.'; targets: '.targets
} else { if (exists("slo_ttft")) { if (slo_ttft == slo_ttft && slo_ttft > 0) { sub = sub.sprintf('; SLO: p99 TTFT ≤ %s s', num(slo_ttft)) } } }
if (has_best) { sub = sub.sprintf("\ncheapest at the scenario's load (ringed): %s, tp %d, %d replica%s, $%s/h", \
                                  best_gpu, best_tp, br, br == 1 ? '' : 's', num(bc)) }

L = 0.09; R = 0.75; T = 0.845; B = 0.09; G = 0.08
H = (T - B - G) / 2
set multiplot title tl."\n".sub font font.','.(fs + 3)
set lmargin at screen L; set rmargin at screen R
set xrange [0:xhi * 1.04]
set key at screen R + 0.02, screen T top left vertical Left reverse title 'GPU (tensor parallel)' left samplen 2
set label 1 '' at graph 0, graph 1 left offset 0, 0.75 front

set tmargin at screen T; set bmargin at screen T - H
set format x ''
set ylabel 'replicas'
set yrange [0:rhi * 1.12 + 0.5]
if (rhi <= 20) { set ytics 0, (rhi <= 10 ? 1 : 2) } else { set ytics autofreq }
set label 1 '(a) replicas needed (a point per load evaluated; between two, the larger count)'
plot for [k = 1:nopt] in using (sel(k, column('offered_rate_per_s'))):(column('replicas')) \
       with fsteps linetype k title '', \
     for [k = 1:nopt] in using (sel(k, column('offered_rate_per_s'))):(column('replicas')) \
       with points linetype k pointsize 1.1 title '', \
     for [k = 1:nopt] NaN with linespoints linetype k pointsize 1.1 title optname(k), \
     '+' using (has_best ? bx : NaN):(br) every ::0::0 with points pointtype 6 pointsize 3.5 linecolor '#000000' linewidth 2 title ''

set tmargin at screen B + H; set bmargin at screen B
set format x '%g'
set xlabel 'offered load (requests/s)'
set ylabel 'USD per hour'
set yrange [0:chi * 1.12]
set ytics autofreq
set label 1 '(b) what they cost (lowest line: cheapest at that load)'
unset key
plot for [k = 1:nopt] in using (sel(k, column('offered_rate_per_s'))):(column('usd_per_hour')) \
       with fsteps linetype k title '', \
     for [k = 1:nopt] in using (sel(k, column('offered_rate_per_s'))):(column('usd_per_hour')) \
       with points linetype k pointsize 1.1 title '', \
     '+' using (has_best ? bx : NaN):(bc) every ::0::0 with points pointtype 6 pointsize 3.5 linecolor '#000000' linewidth 2 title ''

unset multiplot
