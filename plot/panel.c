/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plot area of a panel: its margins are measured from the text that goes
 * round it (tick labels, axis labels, the first and last x labels' overhang),
 * so no label is clipped and stacked panels sharing an x axis line up on both
 * sides; then the grid, the frame, major and minor ticks and the labels.
 * Category names (samples) stand under their ticks, or are turned 45° and
 * cut to a length when they would crowd. */
#include <math.h>

#include "engine.h"
#include "internal.h"

/* ---- coordinates ----------------------------------------------------------------- */

static double axis_frac(const pl_axis *a, double v)
{
	if (a->log) {
		double lo = log10(a->min), hi = log10(a->max);
		double lv = v > 0 ? log10(v) : lo - 10;
		return (lv - lo) / (hi - lo);
	}
	return (v - a->min) / (a->max - a->min);
}

static double clampf(double f)
{
	if (!(f > -10))
		return -10;
	return f > 11 ? 11 : f;
}

double pl_px(const pl_panel *p, double x)
{
	return p->x0 + clampf(axis_frac(&p->x, x)) * p->w;
}

double pl_py(const pl_panel *p, double y)
{
	return p->y0 + p->h - clampf(axis_frac(&p->y, y)) * p->h;
}

/* ---- geometry of the text round a panel ----------------------------------------------- */

typedef struct geom {
	double tick, gap;   /* tick length; gap between tick and label */
	double lh_tick;     /* line height of the tick labels */
	double lh_label;    /* line height of the axis labels */
} geom;

static void measure(pl_fig *f, geom *g)
{
	g->tick = f->th.pad * 0.6;
	g->gap = f->th.pad * 0.5;
	pl_font(f, 0.9, 0);
	g->lh_tick = pl_line_height(f);
	pl_font(f, 1, 0);
	g->lh_label = pl_line_height(f);
}

#define COS45 0.70710678118654752

static double label_width(pl_fig *f, const pl_ticks *t, size_t i)
{
	return t->text[i] ? pl_text_width(f, t->text[i]) : pl_markup_width(f, t->label[i]);
}

static double top_margin(const geom *g)
{
	return g->lh_tick * 0.6; /* the top y label is centred on the top edge */
}

/* The height the x tick labels take under the ticks. */
static double xlabel_height(const pl_panel *p, const geom *g)
{
	if (p->x.cat && p->cat_turned)
		return (p->cat_len + g->lh_tick) * COS45 + g->lh_tick * 0.3;
	return g->lh_tick;
}

static double bottom_margin(const pl_fig *f, const pl_panel *p, const geom *g)
{
	if (!p->xlabels)
		return g->lh_tick * 0.6;
	double m = g->tick + g->gap + xlabel_height(p, g) + f->th.pad * 0.3;
	if (p->x.label && *p->x.label)
		m += g->gap + g->lh_label;
	return m;
}

static double widest(pl_fig *f, const pl_ticks *t)
{
	double w = 0;
	for (size_t i = 0; i < t->n; i++)
		w = fmax(w, label_width(f, t, i));
	return w;
}

/* Category names under a plot area of width w: side by side when each fits
 * its slot, else turned 45° and cut so that they take at most max_h. */
static void cat_layout(pl_fig *f, pl_panel *p, double w, double max_h, const geom *g)
{
	pl_ticks t;
	pl_axis_ticks(f, &p->x, w, 1, &t);
	double wid = widest(f, &t), step = t.n > 1 ? t.v[1] - t.v[0] : 1;
	double slot = w * step / fabs(p->x.max - p->x.min);
	p->cat_turned = wid + g->gap > slot;
	p->cat_len = p->cat_turned ? fmax(fmin(wid, max_h / COS45 - g->lh_tick), g->lh_tick) : slot;
	/* turned names stand slot·cos 45° apart: one line each at least */
	p->cat_every = 1;
	if (p->cat_turned && slot > 0)
		p->cat_every = (size_t)ceil(g->lh_tick * 1.05 / (slot * COS45) - 1e-9);
	if (p->cat_every < 1)
		p->cat_every = 1;
}

static double left_of(pl_fig *f, const pl_panel *p, double h, const geom *g)
{
	pl_ticks t;
	pl_axis_ticks(f, &p->y, h > 0 ? h : 10 * f->th.font, 0, &t);
	double m = g->tick + g->gap + widest(f, &t);
	if (p->y.label && *p->y.label)
		m += g->gap * 1.5 + g->lh_label;
	return m + f->th.pad * 0.4;
}

double pl_panel_left_margin(pl_fig *f, const pl_panel *p, double h)
{
	geom g;
	measure(f, &g);
	return left_of(f, p, h, &g);
}

/* How far the first and last x tick labels reach beyond the plot area's
 * left and right ends for a plot area of width w. */
static void overhang(pl_fig *f, const pl_panel *p, double w, const geom *g, double *l, double *r)
{
	pl_ticks t;
	pl_axis_ticks(f, &p->x, w, 1, &t);
	*l = *r = 0;
	if (t.n == 0)
		return;
	double fl = axis_frac(&p->x, t.v[0]), fr = axis_frac(&p->x, t.v[t.n - 1]);
	if (p->x.cat && p->cat_turned) { /* they hang down to the left of their ticks */
		*l = (p->cat_len + g->lh_tick) * COS45 - fl * w;
		*r = g->lh_tick * 0.5 - (1 - fr) * w;
		return;
	}
	double cap = p->x.cat ? p->cat_len : INFINITY;
	*l = fmin(label_width(f, &t, 0), cap) / 2 - fl * w;
	*r = fmin(label_width(f, &t, t.n - 1), cap) / 2 - (1 - fr) * w;
}

void pl_panel_place(pl_fig *f, pl_panel *p, double bx, double by, double bw, double bh)
{
	geom g;
	measure(f, &g);
	p->cat_turned = 0;
	p->cat_len = 0;
	p->cat_every = 1;
	double top = top_margin(&g), h = 10, left = 0, right = 0, w = 10;
	/* twice with category names: how they stand depends on the width, which
	 * depends on the left margin, which depends on the height they leave */
	for (int pass = 0; pass < (p->x.cat && p->xlabels ? 2 : 1); pass++) {
		if (pass == 1)
			cat_layout(f, p, w, bh * 0.4, &g);
		h = bh - top - bottom_margin(f, p, &g);
		if (h < 10)
			h = 10;
		left = p->left > 0 ? p->left : left_of(f, p, h, &g);
		right = f->th.pad * 0.5;
		w = bw - left - right - p->right;
		/* The overhang is reserved whether or not this panel shows its x
		 * labels, so that panels stacked over one x axis keep one width. */
		double ol, orr;
		overhang(f, p, w > 10 ? w : 10, &g, &ol, &orr);
		if (p->left <= 0 && ol + f->th.pad * 0.3 > left)
			left = ol + f->th.pad * 0.3;
		if (orr + f->th.pad * 0.3 > right)
			right = orr + f->th.pad * 0.3;
		w = bw - left - right - p->right;
		if (w < 10)
			w = 10;
	}
	p->x0 = bx + left;
	p->y0 = by + top;
	p->w = w;
	p->h = h;
}

void pl_panel_clip(pl_fig *f, const pl_panel *p)
{
	cairo_save(f->cr);
	cairo_rectangle(f->cr, p->x0, p->y0, p->w, p->h);
	cairo_clip(f->cr);
}

void pl_panel_unclip(pl_fig *f)
{
	cairo_restore(f->cr);
}

/* ---- drawing the axes ----------------------------------------------------------------------- */

void pl_panel_axes(pl_fig *f, const pl_panel *p)
{
	cairo_t *cr = f->cr;
	const pl_theme *th = &f->th;
	geom g;
	measure(f, &g);
	pl_ticks tx, ty;
	pl_axis_ticks(f, &p->x, p->w, 1, &tx);
	pl_axis_ticks(f, &p->y, p->h, 0, &ty);

	/* grid at the major ticks */
	cairo_set_dash(cr, NULL, 0, 0);
	cairo_set_line_width(cr, th->line * 0.5);
	pl_set(cr, pl_light_grey);
	for (size_t i = 0; i < ty.n; i++) {
		double y = pl_py(p, ty.v[i]);
		if (y < p->y0 + 0.5 || y > p->y0 + p->h - 0.5)
			continue;
		cairo_move_to(cr, p->x0, y);
		cairo_line_to(cr, p->x0 + p->w, y);
	}
	for (size_t i = 0; i < tx.n; i++) {
		double x = pl_px(p, tx.v[i]);
		if (x < p->x0 + 0.5 || x > p->x0 + p->w - 0.5)
			continue;
		cairo_move_to(cr, x, p->y0);
		cairo_line_to(cr, x, p->y0 + p->h);
	}
	cairo_stroke(cr);

	/* frame and ticks, outside the plot area */
	pl_set(cr, pl_okabe_ito[PL_BLACK]);
	cairo_set_line_width(cr, th->line * 0.7);
	cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
	cairo_stroke(cr);
	double yb = p->y0 + p->h;
	for (size_t i = 0; i < tx.n; i++) {
		cairo_move_to(cr, pl_px(p, tx.v[i]), yb);
		cairo_rel_line_to(cr, 0, g.tick);
	}
	for (size_t i = 0; i < tx.nminor; i++) {
		cairo_move_to(cr, pl_px(p, tx.minor[i]), yb);
		cairo_rel_line_to(cr, 0, g.tick * 0.5);
	}
	for (size_t i = 0; i < ty.n; i++) {
		cairo_move_to(cr, p->x0, pl_py(p, ty.v[i]));
		cairo_rel_line_to(cr, -g.tick, 0);
	}
	for (size_t i = 0; i < ty.nminor; i++) {
		cairo_move_to(cr, p->x0, pl_py(p, ty.minor[i]));
		cairo_rel_line_to(cr, -g.tick * 0.5, 0);
	}
	cairo_stroke(cr);

	/* tick labels */
	pl_font(f, 0.9, 0);
	double ylw = 0;
	for (size_t i = 0; i < ty.n; i++)
		ylw = fmax(ylw, pl_markup(f, p->x0 - g.tick - g.gap, pl_py(p, ty.v[i]), ty.label[i], 1, 0.5));
	for (size_t i = 0; p->xlabels && i < tx.n; i++) {
		double x = pl_px(p, tx.v[i]), y = yb + g.tick + g.gap;
		if (tx.text[i] && p->cat_every > 1 && i % p->cat_every != 0)
			continue;
		if (!tx.text[i]) {
			pl_markup(f, x, y, tx.label[i], 0.5, PL_TOP);
		} else if (p->cat_turned) {
			cairo_save(cr);
			cairo_translate(cr, x, y + g.lh_tick * 0.3);
			cairo_rotate(cr, -M_PI / 4);
			pl_text_fit(f, 0, 0, tx.text[i], p->cat_len, 1, 0.5, 0);
			cairo_restore(cr);
		} else {
			pl_text_fit(f, x, y, tx.text[i], p->cat_len, 0.5, PL_TOP, 0);
		}
	}

	/* axis labels */
	pl_font(f, 1, 0);
	if (p->xlabels && p->x.label)
		pl_text_fit(f, p->x0 + p->w / 2, yb + g.tick + g.gap + xlabel_height(p, &g) + g.gap, p->x.label,
		            p->w + 2 * th->pad,
		            0.5, PL_TOP, 0);
	/* centred on the plot area; a label longer than that may run into the
	 * top margin and down beside the x tick labels (not turned names, which
	 * hang to the left): a short residual panel keeps a readable label */
	if (p->y.label) {
		double xl = p->x0 - g.tick - g.gap - ylw - g.gap * 1.5;
		double b0 = p->y0 - top_margin(&g), b1 = p->y0 + p->h;
		if (p->xlabels && !p->cat_turned)
			b1 += g.tick + g.gap + g.lh_tick;
		else if (!p->xlabels)
			b1 += g.lh_tick * 0.6;
		if (pl_text_width(f, p->y.label) <= p->h)
			pl_text_up(f, xl, p->y0 + p->h / 2, p->y.label, p->h);
		else
			pl_text_up(f, xl, (b0 + b1) / 2, p->y.label, b1 - b0);
	}
}
