/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Control charts: the values of a QC series in time order, the mean and the
 * ±2s and ±3s limits (labelled in the right margin), the batch's span shaded
 * and its points told apart, 1-2s warnings and rule violations marked and
 * labelled with the rule, and the rules fired listed under the chart's name.
 * Several charts stack in one figure under one legend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

#define MINUS "\xE2\x88\x92"
#define PLUSMINUS "\xC2\xB1"

/* "2-2s at points 25–26; 1-3s at point 28 (rejection)" */
static void rules_summary(const mg_plot_control *c, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	unsigned seen = 0;
	for (size_t i = 0; c->flags && i < c->n; i++)
		seen |= c->flags[i] & MG_WG_REJECT;
	if (!seen) {
		snprintf(buf, cap, "%s", !isfinite(c->sd) ? "No control limits yet (too little history)"
		                                           : "No rejection rule fired");
		return;
	}
	for (unsigned bit = 1; bit <= MG_WG_10_X; bit <<= 1) {
		if (!(seen & bit) || !(bit & MG_WG_REJECT))
			continue;
		int k = snprintf(buf + len, cap - len, "%s%s at point", len ? "; " : "", mg_wg_rule_name(bit));
		if (k < 0 || (size_t)k >= cap - len)
			return;
		len += (size_t)k;
		int count = 0;
		for (size_t i = 0; i < c->n; i++) {
			if (!(c->flags[i] & bit))
				continue;
			/* runs of consecutive points as "a–b" */
			size_t j = i;
			while (j + 1 < c->n && (c->flags[j + 1] & bit))
				j++;
			if (j > i)
				k = snprintf(buf + len, cap - len, "%s %zu\xE2\x80\x93%zu", count ? "," : (j > i ? "s" : ""),
				             i + 1, j + 1);
			else
				k = snprintf(buf + len, cap - len, "%s %zu", count ? "," : "", i + 1);
			if (k < 0 || (size_t)k >= cap - len)
				return;
			len += (size_t)k;
			count++;
			i = j;
		}
	}
	if (len + 1 < cap)
		snprintf(buf + len, cap - len, " (rejection)");
}

/* The chart's name with its mean and s, and the rules fired; returns the height. */
static double heading(pl_fig *f, const mg_plot_control *c, double x, double y, double w)
{
	const pl_theme *th = &f->th;
	char head[256], sum[512];
	if (isfinite(c->mean) && isfinite(c->sd) && c->sd > 0) {
		/* the mean to the decimal of s's second significant digit, plus one */
		int dec = 2 - (int)floor(log10(c->sd));
		dec = dec < 0 ? 0 : dec > 8 ? 8 : dec;
		snprintf(head, sizeof(head), "%s (%s): mean %.*f, s %.2g", c->label ? c->label : "", c->unit ? c->unit : "",
		         dec, c->mean, c->sd);
	} else {
		snprintf(head, sizeof(head), "%s (%s)", c->label ? c->label : "", c->unit ? c->unit : "");
	}
	pl_font(f, 1, 1);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	pl_text_fit(f, x + th->pad, y, head, w - 2 * th->pad, 0, PL_TOP, 0);
	double h = pl_line_height(f);
	rules_summary(c, sum, sizeof(sum));
	unsigned seen = 0;
	for (size_t i = 0; c->flags && i < c->n; i++)
		seen |= c->flags[i] & MG_WG_REJECT;
	pl_font(f, 0.85, 0);
	pl_set(f->cr, seen ? pl_okabe_ito[PL_VERMILLION] : pl_grey);
	pl_text_fit(f, x + th->pad, y + h, sum, w - 2 * th->pad, 0, PL_TOP, 0);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	return h + pl_line_height(f) + th->pad * 0.3;
}

static void draw_points(pl_fig *f, const pl_panel *p, const mg_plot_control *c, double r)
{
	const pl_theme *th = &f->th;
	pl_panel_clip(f, p);
	double *xs = malloc((c->n ? c->n : 1) * sizeof(double));
	if (xs) { /* the line through the values, gaps at NAN */
		for (size_t i = 0; i < c->n; i++)
			xs[i] = (double)(i + 1);
		pl_line(f, p, xs, c->value, c->n, pl_grey, th->line * 0.7, PL_SOLID, 0);
		free(xs);
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!isfinite(c->value[i]))
			continue;
		unsigned fl = c->flags ? c->flags[i] : 0;
		double px = pl_px(p, i + 1.0), py = pl_py(p, c->value[i]);
		if (fl & MG_WG_REJECT)
			pl_marker(f->cr, px, py, r * 1.45, PL_DIAMOND, pl_okabe_ito[PL_VERMILLION], 1);
		else if (fl & MG_WG_1_2S)
			pl_marker(f->cr, px, py, r * 1.3, PL_TRIANGLE, pl_okabe_ito[PL_ORANGE], 1);
		else if (c->in_batch && c->in_batch[i])
			pl_marker(f->cr, px, py, r, PL_CIRCLE, pl_okabe_ito[PL_BLUE], 1);
		else
			pl_marker(f->cr, px, py, r * 0.85, PL_CIRCLE, pl_grey, 1);
	}
	pl_panel_unclip(f);
}

/* The rule at the first point of each run of the same rules, never two
 * labels overlapping. */
static void rule_labels(pl_fig *f, const pl_panel *p, const mg_plot_control *c, double r)
{
	pl_font(f, 0.75, 1);
	double last_r = -INFINITY;
	for (size_t i = 0; c->flags && i < c->n; i++) {
		unsigned fl = c->flags[i] & MG_WG_REJECT;
		if (!fl || (i > 0 && (c->flags[i - 1] & MG_WG_REJECT) == fl) || !isfinite(c->value[i]))
			continue;
		char lab[64];
		mg_wg_rules_format(fl, lab, sizeof(lab));
		double tw = pl_text_width(f, lab), px = pl_px(p, i + 1.0);
		double lx = fmin(fmax(px - tw / 2, p->x0 + 1), p->x0 + p->w - tw - 1);
		if (lx < last_r + f->th.pad * 0.5)
			continue;
		int above = !(isfinite(c->mean) && c->value[i] < c->mean);
		pl_point_label(f, p, i + 1.0, c->value[i], lab, pl_okabe_ito[PL_VERMILLION], above, r * 1.8);
		last_r = lx + tw;
	}
}

static void draw_one(pl_fig *f, const mg_plot_control *c, double x, double y, double w, double h)
{
	const pl_theme *th = &f->th;
	double top = y + heading(f, c, x, y, w);
	int lim = isfinite(c->mean) && isfinite(c->sd) && c->sd > 0;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < c->n; i++)
		if (isfinite(c->value[i])) {
			lo = fmin(lo, c->value[i]);
			hi = fmax(hi, c->value[i]);
		}
	if (lim) {
		lo = fmin(lo, c->mean - 3.6 * c->sd);
		hi = fmax(hi, c->mean + 3.6 * c->sd);
	}
	if (!isfinite(lo)) {
		lo = 0;
		hi = 1;
	}
	if (!(hi > lo)) {
		lo -= 1;
		hi += 1;
	}
	double padv = (hi - lo) * 0.04;
	char ylab[96];
	snprintf(ylab, sizeof(ylab), "Value (%s)", c->unit && *c->unit ? c->unit : "as measured");
	static const char *const names[] = {"+3s", "+2s", "mean", MINUS "2s", MINUS "3s"};
	pl_panel p = {.x = {.min = 0.5,
	                    .max = fmax((double)c->n, 1) + 0.5,
	                    .label = c->x_label ? c->x_label : "QC measurement (oldest \xE2\x86\x92 newest)",
	                    .integers = 1},
	              .y = {.min = lo - padv, .max = hi + padv, .label = ylab},
	              .xlabels = 1,
	              .right = lim ? pl_limit_room(f, names, MG_ARRAY_SIZE(names)) : 0};
	pl_panel_place(f, &p, x, top, w, y + h - top);

	/* the batch's span */
	size_t a = c->n, b = 0;
	for (size_t i = 0; c->in_batch && i < c->n; i++)
		if (c->in_batch[i]) {
			a = i < a ? i : a;
			b = i;
		}
	if (a < c->n)
		pl_xspan(f, &p, a + 0.5, b + 1.5, (pl_rgb){0.90, 0.95, 0.99}, 1);
	pl_panel_axes(f, &p);
	if (lim) {
		static const double k[] = {3, 2, 0, -2, -3};
		for (size_t i = 0; i < MG_ARRAY_SIZE(k); i++) {
			pl_rgb col = k[i] == 0 ? pl_okabe_ito[PL_BLACK]
			             : fabs(k[i]) == 2 ? pl_okabe_ito[PL_ORANGE]
			                               : pl_okabe_ito[PL_VERMILLION];
			pl_limit(f, &p, c->mean + k[i] * c->sd, names[i], col, th->line * (k[i] == 0 ? 0.8 : 1.0),
			         fabs(k[i]) == 2 ? PL_DASHED : PL_SOLID);
		}
	}
	double r = th->font * 0.27;
	draw_points(f, &p, c, r);
	rule_labels(f, &p, c, r);
}

void rp_fig_control_legend(pl_fig *f)
{
	const pl_theme *th = &f->th;
	pl_legend_item it[] = {
		{"History", pl_grey, -1, PL_CIRCLE, th->line, 0},
		{"This batch", pl_okabe_ito[PL_BLUE], -1, PL_CIRCLE, th->line, 0},
		{"Warning (1-2s)", pl_okabe_ito[PL_ORANGE], -1, PL_TRIANGLE, th->line, 0},
		{"Rule violated", pl_okabe_ito[PL_VERMILLION], -1, PL_DIAMOND, th->line, 0},
		{"Mean", pl_okabe_ito[PL_BLACK], PL_SOLID, -1, th->line * 0.8, 0},
		{PLUSMINUS "2s", pl_okabe_ito[PL_ORANGE], PL_DASHED, -1, th->line, 0},
		{PLUSMINUS "3s", pl_okabe_ito[PL_VERMILLION], PL_SOLID, -1, th->line, 0},
	};
	pl_fig_legend(f, it, MG_ARRAY_SIZE(it));
}

int rp_fig_control(pl_fig *f, const mg_plot_control *c, size_t n, int legend)
{
	if (!c || n == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "control chart: nothing to draw");
	for (size_t i = 0; i < n; i++)
		if (!c[i].value)
			return mg_fail(MG_ERR_ARG, RP_DOM, "control chart: no values");
	if (legend)
		rp_fig_control_legend(f);
	double top = f->top, each = (f->bottom - top) / (double)n;
	for (size_t i = 0; i < n; i++)
		draw_one(f, &c[i], f->x, top + each * (double)i, f->w, each - (n > 1 ? f->th.pad * 0.8 : 0));
	return MG_OK;
}

/* ---- the chart of a stored QC series ---------------------------------------------------------- */

void rp_ctl_clear(rp_ctl *c)
{
	free(c->v);
	free(c->f);
	free(c->b);
	memset(c, 0, sizeof(*c));
}

int rp_ctl_from_series(const mg_qc_series *s, rp_ctl *out)
{
	memset(out, 0, sizeof(*out));
	size_t n = s->npoints;
	out->v = malloc((n ? n : 1) * sizeof(double));
	out->f = malloc((n ? n : 1) * sizeof(unsigned));
	out->b = malloc((n ? n : 1) * sizeof(int));
	if (!out->v || !out->f || !out->b) {
		rp_ctl_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		out->v[i] = s->points[i].value;
		out->f[i] = s->points[i].flags;
		out->b[i] = s->points[i].in_batch;
	}
	int inst = s->instrument && *s->instrument;
	snprintf(out->label, sizeof(out->label), "%s%s%s", s->label ? s->label : "", inst ? " \xE2\x80\x94 " : "",
	         inst ? s->instrument : "");
	int bias = s->quantity && !strcmp(s->quantity, MG_QC_XRF_ICP_BIAS);
	out->c = (mg_plot_control){out->label, s->unit, n, out->v, out->f, out->b, s->has_limits ? s->mean : NAN,
	                           s->has_limits ? s->sd : NAN,
	                           bias ? "Batch, one point each (oldest \xE2\x86\x92 newest)" : NULL};
	return MG_OK;
}
