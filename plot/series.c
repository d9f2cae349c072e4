/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Series drawn through a panel's mapping: polylines, histograms (steps),
 * points, error bars, bands, shaded spans, rules and labelled limit lines,
 * labels beside points. The caller clips to the plot area where data may
 * run outside it (pl_panel_clip). */
#include <math.h>

#include "engine.h"
#include "internal.h"

/* A y value as drawn: on a log axis, values <= 0 go to the floor (or are a gap). */
static double yval(const pl_panel *p, double v, double floor)
{
	if (p->y.log && isfinite(v) && v <= 0)
		return floor > 0 ? floor : NAN;
	return v;
}

static void stroke(cairo_t *cr, pl_rgb c, double width, int dash)
{
	pl_set(cr, c);
	cairo_set_line_width(cr, width);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	pl_set_dash(cr, dash, width);
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
}

void pl_line(pl_fig *f, const pl_panel *p, const double *x, const double *y, size_t n, pl_rgb c, double width,
             int dash, double floor)
{
	if (!x || !y)
		return;
	cairo_t *cr = f->cr;
	int pen = 0;
	for (size_t i = 0; i < n; i++) {
		double v = yval(p, y[i], floor);
		if (!isfinite(v) || !isfinite(x[i])) {
			pen = 0;
			continue;
		}
		double px = pl_px(p, x[i]), py = pl_py(p, v);
		if (!pen)
			cairo_move_to(cr, px, py);
		else
			cairo_line_to(cr, px, py);
		pen = 1;
	}
	stroke(cr, c, width, dash);
}

void pl_steps(pl_fig *f, const pl_panel *p, const double *x, const double *y, size_t n, pl_rgb c, double width,
              double floor)
{
	if (!x || !y || n == 0)
		return;
	cairo_t *cr = f->cr;
	int pen = 0;
	for (size_t i = 0; i < n; i++) {
		double v = yval(p, y[i], floor);
		if (!isfinite(v) || !isfinite(x[i])) {
			pen = 0;
			continue;
		}
		/* the bin: half-way to each neighbour (the outer bins mirrored) */
		double dl = i > 0 && isfinite(x[i - 1]) ? x[i] - x[i - 1] : i + 1 < n ? x[i + 1] - x[i] : 1;
		double dr = i + 1 < n && isfinite(x[i + 1]) ? x[i + 1] - x[i] : dl;
		double a = pl_px(p, x[i] - dl / 2), b = pl_px(p, x[i] + dr / 2), py = pl_py(p, v);
		if (!pen)
			cairo_move_to(cr, a, py);
		else
			cairo_line_to(cr, a, py);
		cairo_line_to(cr, b, py);
		pen = 1;
	}
	stroke(cr, c, width, PL_SOLID);
}

void pl_points(pl_fig *f, const pl_panel *p, const double *x, const double *y, size_t n, int shape, double r,
               pl_rgb c)
{
	if (!x || !y)
		return;
	cairo_t *cr = f->cr;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]) || (p->y.log && y[i] <= 0))
			continue;
		double px = pl_px(p, x[i]), py = pl_py(p, y[i]);
		if (shape < 0) {
			cairo_new_sub_path(cr);
			cairo_arc(cr, px, py, r, 0, 2 * M_PI);
		} else {
			pl_marker(cr, px, py, r, shape, c, 1);
		}
	}
	if (shape < 0) { /* the dots as one path: thousands of channels */
		pl_set(cr, c);
		cairo_fill(cr);
	}
}

void pl_errorbar(pl_fig *f, const pl_panel *p, double x, double lo, double hi, double cap, pl_rgb c, double width)
{
	if (!isfinite(x) || !isfinite(lo) || !isfinite(hi))
		return;
	cairo_t *cr = f->cr;
	double px = pl_px(p, x), ya = pl_py(p, lo), yb = pl_py(p, hi);
	cairo_move_to(cr, px, ya);
	cairo_line_to(cr, px, yb);
	if (cap > 0) {
		cairo_move_to(cr, px - cap, ya);
		cairo_line_to(cr, px + cap, ya);
		cairo_move_to(cr, px - cap, yb);
		cairo_line_to(cr, px + cap, yb);
	}
	stroke(cr, c, width, PL_SOLID);
}

void pl_band(pl_fig *f, const pl_panel *p, const double *x, const double *lo, const double *hi, size_t n,
             pl_rgb c, double alpha)
{
	if (!x || !lo || !hi)
		return;
	cairo_t *cr = f->cr;
	/* one closed shape per run of finite values: along hi, back along lo */
	size_t i = 0;
	while (i < n) {
		while (i < n && !(isfinite(x[i]) && isfinite(lo[i]) && isfinite(hi[i])))
			i++;
		size_t a = i;
		while (i < n && isfinite(x[i]) && isfinite(lo[i]) && isfinite(hi[i]))
			i++;
		if (i - a < 2)
			continue;
		cairo_move_to(cr, pl_px(p, x[a]), pl_py(p, hi[a]));
		for (size_t k = a + 1; k < i; k++)
			cairo_line_to(cr, pl_px(p, x[k]), pl_py(p, hi[k]));
		for (size_t k = i; k-- > a;)
			cairo_line_to(cr, pl_px(p, x[k]), pl_py(p, lo[k]));
		cairo_close_path(cr);
	}
	cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
	cairo_fill(cr);
}

void pl_xspan(pl_fig *f, const pl_panel *p, double x0, double x1, pl_rgb c, double alpha)
{
	double a = fmax(pl_px(p, x0), p->x0), b = fmin(pl_px(p, x1), p->x0 + p->w);
	if (!(b > a))
		return;
	cairo_rectangle(f->cr, a, p->y0, b - a, p->h);
	cairo_set_source_rgba(f->cr, c.r, c.g, c.b, alpha);
	cairo_fill(f->cr);
}

void pl_hline(pl_fig *f, const pl_panel *p, double y, pl_rgb c, double width, int dash)
{
	if (!isfinite(y))
		return;
	double py = pl_py(p, y);
	cairo_move_to(f->cr, p->x0, py);
	cairo_line_to(f->cr, p->x0 + p->w, py);
	stroke(f->cr, c, width, dash);
}

void pl_vline(pl_fig *f, const pl_panel *p, double x, pl_rgb c, double width, int dash)
{
	if (!isfinite(x))
		return;
	double px = pl_px(p, x);
	cairo_move_to(f->cr, px, p->y0);
	cairo_line_to(f->cr, px, p->y0 + p->h);
	stroke(f->cr, c, width, dash);
}

double pl_limit_room(pl_fig *f, const char *const *labels, size_t n)
{
	pl_font(f, 0.8, 0);
	double w = 0;
	for (size_t i = 0; i < n; i++)
		w = fmax(w, pl_text_width(f, labels[i]));
	return w > 0 ? w + f->th.pad * 0.6 : 0;
}

void pl_limit(pl_fig *f, const pl_panel *p, double y, const char *label, pl_rgb c, double width, int dash)
{
	if (!isfinite(y))
		return;
	pl_hline(f, p, y, c, width, dash);
	double py = pl_py(p, y);
	if (!label || py < p->y0 - 0.5 || py > p->y0 + p->h + 0.5)
		return;
	pl_font(f, 0.8, 0);
	pl_set(f->cr, pl_ink(c));
	pl_text(f, p->x0 + p->w + f->th.pad * 0.4, py, label, 0, 0.5);
}

void pl_point_label(pl_fig *f, const pl_panel *p, double x, double y, const char *s, pl_rgb c, int above,
                    double gap)
{
	if (!s || !*s || !isfinite(x) || !isfinite(y))
		return;
	cairo_t *cr = f->cr;
	double tw = pl_text_width(f, s), lh = pl_line_height(f);
	double px = pl_px(p, x), py = pl_py(p, y);
	double lx = fmin(fmax(px - tw / 2, p->x0 + 1), p->x0 + p->w - tw - 1);
	/* the line box: above the point, or below it when there is no room */
	double top = above ? py - gap - lh : py + gap;
	if (top < p->y0)
		top = py + gap;
	if (top + lh > p->y0 + p->h)
		top = py - gap - lh;
	/* a white halo keeps the label readable over the lines */
	cairo_rectangle(cr, lx - 1, top, tw + 2, lh);
	cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
	cairo_fill(cr);
	pl_set(cr, pl_ink(c));
	pl_text(f, lx, top, s, 0, PL_TOP);
}
