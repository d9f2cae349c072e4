/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The calibration figure: per curve the standards, the fitted curve y = c0 +
 * c1·x + c2·x² with its equation and r, and a residual panel (standard −
 * curve, in y units) under it. */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "report_internal.h"

#define MINUS "\xE2\x88\x92"

static double poly(const mg_plot_calcurve *c, double x)
{
	double v = 0;
	for (size_t i = c->ncoef; i-- > 0;)
		v = v * x + c->coef[i];
	return v;
}

static double pearson(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

/* The curve's name with r, and its equation; returns the height used. */
static double heading(pl_fig *f, const mg_plot_calcurve *c, double cx, double cy, double cw)
{
	const pl_theme *th = &f->th;
	char head[200], eq[96] = "";
	double r = isfinite(c->r) ? c->r : (c->n >= 2 ? pearson(c->x, c->y, c->n) : NAN);
	size_t nc = c->ncoef == 3 && c->coef[2] == 0 ? 2 : c->ncoef;
	if (nc >= 2) {
		int el = snprintf(eq, sizeof(eq), "y = %.4g %s %.4g x", c->coef[0], c->coef[1] < 0 ? MINUS : "+",
		                  fabs(c->coef[1]));
		if (nc == 3 && el > 0 && (size_t)el < sizeof(eq))
			snprintf(eq + el, sizeof(eq) - (size_t)el, " %s %.3g x\xC2\xB2", c->coef[2] < 0 ? MINUS : "+",
			         fabs(c->coef[2]));
	}
	if (isfinite(r))
		snprintf(head, sizeof(head), "%s   r = %.5f", c->label ? c->label : "", r);
	else
		snprintf(head, sizeof(head), "%s", c->label ? c->label : "");
	pl_font(f, 0.95, 1);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	pl_text_fit(f, cx + th->pad, cy, head, cw - 2 * th->pad, 0, PL_TOP, 0);
	double lh = pl_line_height(f);
	if (eq[0]) { /* the equation on its own line */
		pl_font(f, 0.85, 0);
		pl_set(f->cr, pl_grey);
		pl_text_fit(f, cx + th->pad, cy + lh, eq, cw - 2 * th->pad, 0, PL_TOP, 0);
		pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
		lh += pl_line_height(f);
	}
	return lh + th->pad * 0.2;
}

static void draw_curve(pl_fig *f, const mg_plot_calcurve *c, double cx, double cy, double cw, double ch)
{
	const pl_theme *th = &f->th;
	double lh = heading(f, c, cx, cy, cw);
	if (c->n < 1 || !c->x || !c->y)
		return;
	double xmx = 0, ymx = 0, ymn = 0, rmx = 0;
	for (size_t i = 0; i < c->n; i++) {
		xmx = fmax(xmx, c->x[i]);
		ymx = fmax(ymx, c->y[i]);
		ymn = fmin(ymn, c->y[i]);
		if (c->ncoef)
			rmx = fmax(rmx, fabs(c->y[i] - poly(c, c->x[i])));
	}
	if (!(xmx > 0))
		xmx = 1;
	if (!(ymx > ymn))
		ymx = ymn + 1;
	if (!(rmx > 0))
		rmx = 0.01 * (ymx - ymn);
	pl_panel p = {.x = {.min = 0, .max = xmx * 1.05, .label = c->x_label},
	              .y = {.min = ymn, .max = ymx * 1.08, .label = c->y_label}};
	pl_panel q = {.x = p.x, .y = {.min = -rmx * 1.3, .max = rmx * 1.3, .label = "Resid."}, .xlabels = 1};
	double avail = ch - lh, ph = avail * 0.62, qh = avail - ph;
	p.left = q.left = fmax(pl_panel_left_margin(f, &p, ph), pl_panel_left_margin(f, &q, qh));
	pl_panel_place(f, &p, cx, cy + lh, cw - th->pad, ph);
	pl_panel_place(f, &q, cx, cy + lh + ph, cw - th->pad, qh);
	pl_panel_axes(f, &p);
	pl_panel_axes(f, &q);
	pl_panel_clip(f, &p);
	if (c->ncoef) {
		double xs[101], ys[101];
		for (int i = 0; i <= 100; i++) {
			xs[i] = p.x.max * i / 100.0;
			ys[i] = poly(c, xs[i]);
		}
		pl_line(f, &p, xs, ys, 101, pl_okabe_ito[PL_VERMILLION], th->line * 1.3, PL_SOLID, 0);
	}
	pl_points(f, &p, c->x, c->y, c->n, PL_CIRCLE, th->font * 0.3, pl_okabe_ito[PL_BLACK]);
	pl_panel_unclip(f);
	pl_panel_clip(f, &q);
	pl_hline(f, &q, 0, pl_okabe_ito[PL_BLACK], th->line * 0.6, PL_SOLID);
	for (size_t i = 0; c->ncoef && i < c->n; i++)
		pl_marker(f->cr, pl_px(&q, c->x[i]), pl_py(&q, c->y[i] - poly(c, c->x[i])), th->font * 0.28, PL_SQUARE,
		          pl_okabe_ito[PL_BLUE], 1);
	pl_panel_unclip(f);
}

int rp_fig_calibration(pl_fig *f, const mg_plot_calcurve *cv, size_t n)
{
	if (!cv || n == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "calibration plot: no curve");
	const pl_theme *th = &f->th;
	pl_legend_item it[] = {
		{"Standards", pl_okabe_ito[PL_BLACK], -1, PL_CIRCLE, th->line, 0},
		{"Calibration curve", pl_okabe_ito[PL_VERMILLION], PL_SOLID, -1, th->line * 1.3, 0},
		{"Residual: standard " MINUS " curve", pl_okabe_ito[PL_BLUE], -1, PL_SQUARE, th->line, 0},
	};
	pl_fig_legend(f, it, MG_ARRAY_SIZE(it));
	size_t cols, rows;
	double top = f->top, h = f->bottom - top;
	pl_grid(n, f->w, h, &cols, &rows);
	double cw = f->w / (double)cols, ch = h / (double)rows;
	for (size_t k = 0; k < n; k++)
		draw_curve(f, &cv[k], f->x + (double)(k % cols) * cw, top + (double)(k / cols) * ch, cw, ch);
	return MG_OK;
}
