# plots/plan_fleet.gp: a fleet plan (`clustersim plan --pricing`): every
# fleet the plan simulated, what it costs per hour against how many
# replicas it commits to (its fixed baseline; 0: all autoscaled), one
# colour per baseline pricing and a shape per burst pricing. The fleets
# that met every target are filled points; those that missed are small
# crosses. The answer is ringed, and the cheapest fleet all on demand -
# what the saving is measured against - is the dashed line. Along each colour and shape
# the baseline grows and the burst it needs shrinks, so the cheapest mix
# sits at the bottom of its curve.
#
# Reads plan.csv as `clustersim plan --pricing` writes it: gpu, tp,
# baseline_pricing, baseline_replicas, burst_pricing, burst_max_replicas,
# feasible, usd_per_hour, ...
#
#   gnuplot -e "in='OUT/plan.csv'; out='fleet.png'" plots/plan_fleet.gp
# Optional (-e); `clustersim plot` passes them from plan.json:
#   term='svg'        terminal (default: from out's extension)
#   name, model       strings for the title
#   targets='ttft_p99_s ≤ 2'   the plan's targets, named in the subtitle
#   best_base=1; best_cost=0.91; best_label='1 reserved-3y + up to 2 spot'   the answer, ringed
#   od_cost=2.05      the cheapest all-on-demand fleet (USD/h), dashed

if (!exists("in")) { print "plan_fleet.gp: set in='OUTDIR/plan.csv'"; exit status 2 }
fig_w = 1200; fig_h = 800
plotdir = ARG0
while (strlen(plotdir) > 0 && plotdir[strlen(plotdir):] ne '/') { plotdir = plotdir[1:strlen(plotdir)-1] }
load plotdir.'common.gp'

# --- the pricings of baselines and bursts ('-' for a part absent), and the ranges ---
part(s) = s eq '' ? '-' : s
bases = ' '; bursts = ' '
xhi = 0; chi = 0; nfeas = 0
stats in using (b = part(strcol('baseline_pricing')), (strstrt(bases, ' '.b.' ') == 0 ? bases = bases.b.' ' : 0), \
                e = part(strcol('burst_pricing')), (strstrt(bursts, ' '.e.' ') == 0 ? bursts = bursts.e.' ' : 0), \
                x = column('baseline_replicas'), xhi = x > xhi ? x : xhi, \
                c = column('usd_per_hour'), (c == c && c > chi) ? chi = c : 0, \
                nfeas = nfeas + (column('feasible') == 1), 0) nooutput
nb = words(bases); ne = words(bursts)
if (nfeas == 0) { print "plan_fleet.gp: no fleet met the targets in ".in; exit status 1 }
has_od = exists("od_cost")
if (has_od) { has_od = od_cost == od_cost && od_cost > 0 }
# fleets dearer than twice all on demand are off the top (the search's first
# probe, the most replicas allowed, among them)
ytop = has_od ? (chi < 2 * od_cost ? chi : 2 * od_cost) : chi
if (has_od && od_cost > ytop) { ytop = od_cost }
# the x range: the fleets that are on the figure
xhi = 0
stats in using (c = column('usd_per_hour'), x = column('baseline_replicas'), \
                (c == c && c <= ytop * 1.1 && x > xhi) ? xhi = x : 0, 0) nooutput
bname(k) = (w = word(bases, k), w eq '-' ? 'none (all autoscaled)' : w)
ename(j) = (w = word(bursts, j), w eq '-' ? 'none (fixed only)' : w)
# a point type per burst: none a circle, on-demand a square, spot a triangle, others diamonds
ept(j) = (w = word(bursts, j), w eq '-' ? 7 : w eq 'on-demand' ? 5 : w eq 'spot' ? 9 : 13)
sel(k, j, ok, v) = (part(strcol('baseline_pricing')) eq word(bases, k) && part(strcol('burst_pricing')) eq word(bursts, j) \
                    && (column('feasible') == 1) == ok) ? v : NaN

tl = 'Fleet plan: what each mix of pricings costs'
if (exists("name")) { tl = tl.' — '.name.(exists("model") ? ' ('.model.')' : '') }
sub = 'every fleet simulated; crosses missed the targets'
if (ytop < chi) { sub = sub.sprintf(', those above $%s/h are off the top', num(ytop)) }
if (exists("targets")) { sub = sub."\ntargets: ".targets }
has_best = exists("best_base") && exists("best_cost")
if (has_best) { sub = sub."\ncheapest (ringed): ".(exists("best_label") ? best_label.', ' : '').sprintf('$%s/h', num(best_cost)) }
if (has_od) { sub = sub.sprintf('; all on demand (dashed): $%s/h', num(od_cost)) }

set title tl."\n".sub font font.','.(fs + 2)
set lmargin at screen 0.09; set rmargin at screen 0.70; set tmargin at screen 0.80; set bmargin at screen 0.10
set key at screen 0.72, screen 0.80 top left vertical Left reverse left samplen 1
set xlabel 'replicas committed (the fixed baseline; 0: all autoscaled)'
set ylabel 'USD per hour (mean over the scenario)'
set xrange [-0.5:xhi + 0.5]
if (xhi <= 20) { set xtics 0, 1 } else { set xtics autofreq }
set yrange [0:ytop * 1.1]
plot for [k = 1:nb] for [j = 1:ne] in using (sel(k, j, 1, column('baseline_replicas'))):(column('usd_per_hour')) \
       with points linetype k pointtype ept(j) pointsize 1.4 title '', \
     for [k = 1:nb] for [j = 1:ne] in using (sel(k, j, 0, column('baseline_replicas'))):(column('usd_per_hour')) \
       with points linetype k pointtype 2 pointsize 0.8 title '', \
     NaN with points pointtype -1 title 'colour: baseline pricing', \
     for [k = 1:nb] NaN with points linetype k pointtype 7 pointsize 1.4 title bname(k), \
     NaN with points pointtype -1 title 'shape: burst pricing', \
     for [j = 1:ne] NaN with points linecolor '#555555' pointtype ept(j) pointsize 1.4 title ename(j), \
     (has_od ? od_cost : NaN) with lines dashtype 2 linecolor '#000000' linewidth 1.5 title 'all on demand', \
     '+' using (has_best ? best_base : NaN):(has_best ? best_cost : NaN) every ::0::0 \
       with points pointtype 6 pointsize 3.5 linecolor '#000000' linewidth 2 title ''
