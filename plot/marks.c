/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Labelled line markers (element lines over a spectrum): the labels sit in
 * rows in a band above the plot area, each in the first row where it touches
 * no other (at most max_rows; a marker without room keeps its guide, in grey),
 * and a dotted guide runs from the top of the plot area down to the peak. */
#include <math.h>
#include <stdlib.h>

#include "engine.h"
#include "internal.h"

#define MAX_ROWS 8

typedef struct slot {
	const pl_mark *m;
	double x;       /* user units */
	double l, r;    /* the label's extent */
	int row;        /* -1: no room */
} slot;

static int slot_cmp(const void *a, const void *b)
{
	const slot *x = a, *y = b;
	return (x->x > y->x) - (x->x < y->x);
}

/* The slots of the marks inside the x range, sorted, with their rows;
 * returns the number of slots (*rows: rows used). NULL *out on no memory. */
static size_t layout(pl_fig *f, const pl_panel *p, const pl_mark *m, size_t n, int max_rows, slot **out,
                     int *rows)
{
	*rows = 0;
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	slot *s = *out;
	if (!s)
		return 0;
	double lo = fmin(p->x.min, p->x.max), hi = fmax(p->x.min, p->x.max);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (m[i].x >= lo && m[i].x <= hi && m[i].label && *m[i].label)
			s[k++] = (slot){&m[i], pl_px(p, m[i].x), 0, 0, -1};
	qsort(s, k, sizeof(*s), slot_cmp);
	if (max_rows > MAX_ROWS)
		max_rows = MAX_ROWS;
	double last[MAX_ROWS];
	for (int r = 0; r < MAX_ROWS; r++)
		last[r] = -INFINITY;
	pl_font(f, 0.8, 0);
	double sep = f->th.font * 0.35, xmin = p->x0, xmax = p->x0 + p->w;
	for (size_t i = 0; i < k; i++) {
		double w = pl_text_width(f, s[i].m->label);
		double l = s[i].x - w / 2, r = s[i].x + w / 2;
		if (l < xmin) {
			r += xmin - l;
			l = xmin;
		}
		if (r > xmax) {
			l -= r - xmax;
			r = xmax;
		}
		for (int row = 0; row < max_rows; row++)
			if (l > last[row] + sep) {
				s[i].row = row;
				s[i].l = l;
				s[i].r = r;
				last[row] = r;
				if (row + 1 > *rows)
					*rows = row + 1;
				break;
			}
	}
	return k;
}

static double band_of(pl_fig *f, int rows)
{
	pl_font(f, 0.8, 0);
	return rows ? rows * pl_line_height(f) + f->th.pad * 0.5 : f->th.pad * 0.3;
}

double pl_marks_band(pl_fig *f, const pl_panel *p, const pl_mark *m, size_t n, int max_rows)
{
	slot *s;
	int rows;
	layout(f, p, m, n, max_rows, &s, &rows);
	free(s);
	return band_of(f, rows);
}

void pl_marks(pl_fig *f, const pl_panel *p, const pl_mark *m, size_t n, int max_rows)
{
	cairo_t *cr = f->cr;
	const pl_theme *th = &f->th;
	slot *s;
	int rows;
	size_t k = layout(f, p, m, n, max_rows, &s, &rows);
	pl_font(f, 0.8, 0);
	double lh = pl_line_height(f);
	for (size_t i = 0; i < k; i++) {
		const pl_mark *mk = s[i].m;
		if (s[i].row >= 0) {
			/* row 0 nearest the plot area */
			pl_set(cr, pl_ink(mk->c));
			pl_text(f, (s[i].l + s[i].r) / 2, p->y0 - th->pad * 0.3 - s[i].row * lh, mk->label, 0.5, PL_BOTTOM);
		}
		double yp = isfinite(mk->peak) ? pl_py(p, mk->peak) - th->pad : p->y0 + p->h;
		if (yp < p->y0 + th->pad)
			yp = p->y0 + th->pad;
		cairo_move_to(cr, s[i].x, p->y0);
		cairo_line_to(cr, s[i].x, yp);
		pl_set(cr, s[i].row >= 0 ? mk->c : pl_grey);
		cairo_set_line_width(cr, th->line * 0.6);
		pl_set_dash(cr, PL_DOTTED, th->line * 0.6);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	free(s);
}
