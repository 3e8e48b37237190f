# plots/common.gp: what every figure script shares, loaded by each of them
# after it has set fig_w and fig_h (pixels): the terminal and output file,
# fonts, a colour-blind-safe set of line types, the CSV input settings, and
# helpers for the time axis and for quoting numbers in labels. It draws
# nothing and reads no data.
#
# Variables it reads (all optional):
#   out   the file to write; without it the picture goes to standard
#         output (how `clustersim plot` runs the scripts: it copies the
#         picture into place itself, so gnuplot never opens a file by a
#         name it could take for a pipe)
#   term  'png' (pngcairo) or 'svg'; default: from out's extension, else png
#   font  font name, default 'DejaVu Sans'

if (!exists("term")) { term = 'png'; if (exists("out")) { if (strlen(out) > 4 && out[strlen(out)-3:] eq '.svg') { term = 'svg' } } }
if (!exists("font")) { font = 'DejaVu Sans' }
if (!exists("fig_w")) { fig_w = 1200 }
if (!exists("fig_h")) { fig_h = 800 }
fs = 13    # base font size in points at 1200 px wide

set encoding utf8
if (term eq 'svg') {
  set terminal svg size fig_w, fig_h dynamic noenhanced font font.','.fs background '#ffffff' linewidth 1.2
} else {
  set terminal pngcairo size fig_w, fig_h noenhanced font font.','.fs background '#ffffff' linewidth 1.2
}
if (exists("out")) { set output out } else { set output }

set datafile separator comma
set datafile columnheaders
set border 3 linecolor '#404040'
set tics nomirror out scale 0.6 textcolor '#202020'
set grid xtics ytics linecolor '#d8d8d8' linetype 1 linewidth 0.8 dashtype solid
set key noautotitle samplen 2.5 spacing 1.15 textcolor '#202020'
set style textbox opaque noborder fillcolor '#ffffff'

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
set linetype 1 linecolor '#0072B2' linewidth 2 pointtype 7 pointsize 1.2
set linetype 2 linecolor '#D55E00' linewidth 2 pointtype 5 pointsize 1.2
set linetype 3 linecolor '#009E73' linewidth 2 pointtype 9 pointsize 1.4
set linetype 4 linecolor '#CC79A7' linewidth 2 pointtype 13 pointsize 1.4
set linetype 5 linecolor '#E69F00' linewidth 2 pointtype 11 pointsize 1.4
set linetype 6 linecolor '#56B4E9' linewidth 2 pointtype 15 pointsize 1.4
set linetype 7 linecolor '#000000' linewidth 2 pointtype 3 pointsize 1.2
set linetype 8 linecolor '#999999' linewidth 2 pointtype 1 pointsize 1.2
set linetype cycle 8
c_spike = '#fde2c4'     # the spike window's shading
c_ref = '#b00000'       # reference lines: SLO targets, capacity

# The time axis: seconds, minutes or hours by the run's length (s).
tunit_s(len) = len <= 180 ? 1 : len <= 3*3600 ? 60 : 3600
tunit_name(len) = len <= 180 ? 's' : len <= 3*3600 ? 'min' : 'h'

# A day's worth of hours per tic on runs longer than three days.
tstep(len) = len > 3*86400 ? 24 : 0
# A duration (s) for people: '30 s', '5 min', '1 h'.
dur(s) = s < 120 ? sprintf('%g s', s) : s < 3600 ? sprintf('%g min', s / 60.0) : sprintf('%g h', s / 3600.0)

# Numbers in labels: at most 3 significant digits, no trailing zeros.
num(x) = sprintf('%.3g', x)
# A value passed with -e, or NaN when it was not.
isnum(x) = (x == x)
