/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The batch at a glance: one panel per element (Nd, Pr, Dy, Tb first, then
 * Fe, Co, B, ...; at most six), the samples along x, XRF and ICP-OES values
 * side by side with ±2u error bars. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

static const char *const element_order[] = {"Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B", "Cu", "Ni", "Al", "Ga"};

static int element_rank(const char *e)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(element_order); i++)
		if (strcmp(e, element_order[i]) == 0)
			return (int)i;
	return 100;
}

static int el_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = element_rank(x), ry = element_rank(y);
	return rx != ry ? rx - ry : strcmp(x, y);
}

static size_t index_of(const char *const *v, size_t n, const char *s)
{
	size_t k;
	for (k = 0; k < n && strcmp(v[k], s) != 0; k++)
		;
	return k;
}

static void draw_element(pl_fig *f, const rp_batch_point *pts, size_t n, const char *el, const char *const *smp,
                         size_t ns, double cx, double cy, double cw, double ch, int bottom_row, int left_col)
{
	const pl_theme *th = &f->th;
	pl_font(f, 0.95, 1);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	pl_text(f, cx + th->pad, cy, el, 0, PL_TOP);
	double lh = pl_line_height(f) + th->pad * 0.2;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pts[i].element, el) != 0 || !isfinite(pts[i].wt))
			continue;
		double u2 = isfinite(pts[i].u) ? 2 * pts[i].u : 0;
		lo = fmin(lo, pts[i].wt - u2);
		hi = fmax(hi, pts[i].wt + u2);
	}
	if (!isfinite(lo)) {
		lo = 0;
		hi = 1;
	}
	double span = hi - lo;
	if (!(span > 0))
		span = fabs(hi) * 0.1 + 0.1;
	pl_panel p = {.x = {.min = -0.5, .max = ns - 0.5, .label = bottom_row ? "Sample" : NULL, .cat = smp, .ncat = ns},
	              .y = {.min = lo - span * 0.12, .max = hi + span * 0.12, .label = left_col ? "Mass fraction (wt %)" : NULL},
	              .xlabels = 1};
	pl_panel_place(f, &p, cx, cy + lh, cw - th->pad, ch - lh);
	pl_panel_axes(f, &p);
	pl_panel_clip(f, &p);
	double off = ns > 1 ? 0.14 : 0.08;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pts[i].element, el) != 0 || !isfinite(pts[i].wt))
			continue;
		double x = (double)index_of(smp, ns, pts[i].sample) + (pts[i].icp ? off : -off);
		pl_rgb c = pl_okabe_ito[pts[i].icp ? PL_ORANGE : PL_BLUE];
		if (isfinite(pts[i].u) && pts[i].u > 0)
			pl_errorbar(f, &p, x, pts[i].wt - 2 * pts[i].u, pts[i].wt + 2 * pts[i].u, th->font * 0.25, c,
			            th->line * 0.9);
		pl_marker(f->cr, pl_px(&p, x), pl_py(&p, pts[i].wt), th->font * 0.28, pts[i].icp ? PL_DIAMOND : PL_CIRCLE,
		          c, 1);
	}
	pl_panel_unclip(f);
}

int rp_fig_batch(pl_fig *f, const rp_batch_point *pts, size_t n)
{
	const pl_theme *th = &f->th;
	if (n == 0) {
		pl_font(f, 1, 0);
		pl_set(f->cr, pl_grey);
		pl_text(f, f->x + f->w / 2, (f->top + f->bottom) / 2, "No composition results in this batch yet", 0.5, 0.5);
		pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
		return MG_OK;
	}
	/* elements (in the usual order) and samples (in order of appearance) */
	const char **els = malloc(n * sizeof(*els)), **smp = malloc(n * sizeof(*smp));
	if (!els || !smp) {
		free(els);
		free(smp);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	size_t nel = 0, ns = 0;
	for (size_t i = 0; i < n; i++) {
		if (index_of(els, nel, pts[i].element) == nel)
			els[nel++] = pts[i].element;
		if (index_of(smp, ns, pts[i].sample) == ns)
			smp[ns++] = pts[i].sample;
	}
	qsort(els, nel, sizeof(*els), el_cmp);
	if (nel > 6)
		nel = 6;
	pl_legend_item it[] = {
		{"XRF", pl_okabe_ito[PL_BLUE], -1, PL_CIRCLE, th->line, 0},
		{"ICP-OES", pl_okabe_ito[PL_ORANGE], -1, PL_DIAMOND, th->line, 0},
		{"bars: \xC2\xB1" "2u (k = 2)", pl_grey, PL_SOLID, -1, th->line, 0},
	};
	pl_fig_legend(f, it, MG_ARRAY_SIZE(it));
	size_t cols, rows;
	double top = f->top, h = f->bottom - top;
	pl_grid(nel, f->w, h, &cols, &rows);
	double cw = f->w / (double)cols, ch = h / (double)rows;
	for (size_t k = 0; k < nel; k++)
		draw_element(f, pts, n, els[k], smp, ns, f->x + (double)(k % cols) * cw, top + (double)(k / cols) * ch, cw,
		             ch, k + cols >= nel, k % cols == 0);
	free(els);
	free(smp);
	return MG_OK;
}
