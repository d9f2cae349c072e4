/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The legend: items (a line sample, a marker, or a filled swatch, and the
 * label) laid out in rows across the figure, above the panels, so it never
 * covers data. */
#include <math.h>

#include "engine.h"
#include "internal.h"

static void sample(pl_fig *f, const pl_legend_item *it, double x, double my, double len)
{
	cairo_t *cr = f->cr;
	double lw = it->width > 0 ? it->width : f->th.line;
	if (it->swatch) {
		double hh = f->th.font * 0.35;
		cairo_rectangle(cr, x, my - hh, len, 2 * hh);
		cairo_set_source_rgba(cr, it->c.r, it->c.g, it->c.b, 0.35);
		cairo_fill_preserve(cr);
		pl_set(cr, it->c);
		cairo_set_line_width(cr, f->th.line * 0.5);
		cairo_stroke(cr);
	}
	if (it->dash >= 0) {
		cairo_move_to(cr, x, my);
		cairo_line_to(cr, x + len, my);
		pl_set(cr, it->c);
		cairo_set_line_width(cr, lw);
		pl_set_dash(cr, it->dash, lw);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	if (it->marker >= 0)
		pl_marker(cr, x + len / 2, my, f->th.font * 0.3, it->marker, it->c, 1);
}

double pl_legend(pl_fig *f, double x, double y, double w, const pl_legend_item *it, size_t n, int draw)
{
	if (n == 0)
		return 0;
	pl_font(f, 0.9, 0);
	double len = f->th.font * 2.0, gap = f->th.font * 0.4, sep = f->th.font * 1.2;
	double row = pl_line_height(f) * 1.15;
	double cx = x, cy = y;
	for (size_t i = 0; i < n; i++) {
		double tw = fmin(pl_text_width(f, it[i].label), w - len - gap);
		double iw = len + gap + tw;
		if (cx > x && cx + iw > x + w) {
			cx = x;
			cy += row;
		}
		if (draw) {
			double my = cy + row / 2;
			sample(f, &it[i], cx, my, len);
			pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
			pl_text_fit(f, cx + len + gap, my, it[i].label, tw + 0.5, 0, 0.5, 0);
		}
		cx += iw + sep;
	}
	return cy - y + row;
}

void pl_fig_legend(pl_fig *f, const pl_legend_item *it, size_t n)
{
	if (n == 0)
		return;
	double x = f->x + f->th.pad, w = f->w - 2 * f->th.pad;
	f->top += f->th.pad * 0.3;
	f->top += pl_legend(f, x, f->top, w, it, n, 1) + f->th.pad * 0.3;
}
