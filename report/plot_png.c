/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A small plotting layer on cairo: panels with linear or log axes, nice ticks
 * with labels that never overlap, axis labels with units, legends laid out in
 * rows, the Okabe–Ito palette, two sizes (screen and report page), and PNG
 * output written with libpng (not cairo's writer) so the file carries text
 * chunks with its provenance. The same drawing code serves the PDF reports:
 * everything draws into a box of any cairo context. */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <png.h>

#include "internal.h"
#include "magassay/buf.h"
#include "magassay/fileio.h"
#include "magassay/version.h"
#include "report_internal.h"

/* ---- colours ----------------------------------------------------------------- */

const rp_rgb rp_okabe_ito[RP_NCOLOURS] = {
	[RP_BLACK] = {0, 0, 0},
	[RP_ORANGE] = {0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0},
	[RP_SKY] = {0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0},
	[RP_GREEN] = {0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0},
	[RP_YELLOW] = {0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0},
	[RP_BLUE] = {0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0},
	[RP_VERMILLION] = {0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0},
	[RP_PURPLE] = {0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0},
};
const rp_rgb rp_grey = {0.45, 0.45, 0.45};
const rp_rgb rp_light_grey = {0.88, 0.88, 0.88};

/* Series colours: strong ones first; yellow last (weak on white). */
static const int series_order[] = {RP_ORANGE, RP_SKY, RP_GREEN, RP_PURPLE, RP_BLUE, RP_YELLOW};

rp_rgb rp_series_colour(size_t i)
{
	return rp_okabe_ito[series_order[i % MG_ARRAY_SIZE(series_order)]];
}

int rp_series_dash(size_t i)
{
	return (int)((i / MG_ARRAY_SIZE(series_order)) % 4);
}

/* ---- theme and text ------------------------------------------------------------ */

void rp_theme_for(mg_plot_size size, rp_theme *th)
{
	if (size == MG_PLOT_PAGE) {
		th->font = 8.5;
		th->line = 0.8;
		th->pad = 4.5;
	} else {
		th->font = 15;
		th->line = 1.4;
		th->pad = 8;
	}
}

void rp_font(cairo_t *cr, double size, int bold)
{
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

void rp_set(cairo_t *cr, rp_rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

double rp_text_width(cairo_t *cr, const char *s)
{
	cairo_text_extents_t ex;
	cairo_text_extents(cr, s ? s : "", &ex);
	return ex.x_advance;
}

static double cap_height(cairo_t *cr)
{
	cairo_font_extents_t fe;
	cairo_font_extents(cr, &fe);
	return fe.ascent * 0.76; /* DejaVu: capitals ≈ 0.73 em, ascent ≈ 0.93 em */
}

double rp_text(cairo_t *cr, double x, double y, const char *s, double ha, double va)
{
	if (!s || !*s)
		return 0;
	double w = rp_text_width(cr, s), ch = cap_height(cr);
	cairo_move_to(cr, x - ha * w, y + (1 - va) * ch);
	cairo_show_text(cr, s);
	cairo_new_path(cr);
	return w;
}

double rp_text_fit(cairo_t *cr, double x, double y, const char *s, double max_w, double ha, double va)
{
	if (!s || !*s)
		return 0;
	if (rp_text_width(cr, s) <= max_w)
		return rp_text(cr, x, y, s, ha, va);
	size_t n = strlen(s);
	char *b = malloc(n + 4);
	if (!b)
		return 0;
	/* Cut at UTF-8 character boundaries until it fits with the ellipsis. */
	while (n > 0) {
		do
			n--;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80);
		memcpy(b, s, n);
		memcpy(b + n, "\xE2\x80\xA6", 4);
		if (rp_text_width(cr, b) <= max_w)
			break;
	}
	double w = rp_text(cr, x, y, b, ha, va);
	free(b);
	return w;
}

/* ---- coordinates ------------------------------------------------------------------ */

static double axis_frac(const rp_axis *a, double v)
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

double rp_px(const rp_panel *p, double x)
{
	return p->x0 + clampf(axis_frac(&p->x, x)) * p->w;
}

double rp_py(const rp_panel *p, double y)
{
	return p->y0 + p->h - clampf(axis_frac(&p->y, y)) * p->h;
}

/* ---- ticks -------------------------------------------------------------------------- */

static double nice_step(double span, int target)
{
	if (!(span > 0) || target < 1)
		return 1;
	double raw = span / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
	return n * mag;
}

size_t rp_ticks(double min, double max, int target, double *out, size_t max_ticks, double *step_out)
{
	double step = nice_step(max - min, target);
	if (step_out)
		*step_out = step;
	size_t n = 0;
	double first = ceil(min / step - 1e-9);
	for (double k = first; n < max_ticks; k++) {
		double v = k * step;
		if (v > max + step * 1e-9)
			break;
		if (fabs(v) < step * 1e-9)
			v = 0;
		out[n++] = v;
	}
	return n;
}

void rp_tick_label(char *buf, size_t cap, double v, double step)
{
	double av = fabs(v);
	if (av >= 1e6 || (av > 0 && av < 1e-4)) {
		snprintf(buf, cap, "%.3g", v);
		return;
	}
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
	if (dec > 6)
		dec = 6;
	snprintf(buf, cap, "%.*f", dec, v);
	/* "−" (U+2212) reads better than a hyphen on an axis. */
	if (buf[0] == '-' && strlen(buf) + 3 < cap) {
		memmove(buf + 3, buf + 1, strlen(buf));
		memcpy(buf, "\xE2\x88\x92", 3);
	}
}

/* "10⁴" with Unicode superscripts; 1 and 10 plain. */
static void pow10_label(char *buf, size_t cap, int k)
{
	static const char *const sup[] = {"\xE2\x81\xB0", "\xC2\xB9", "\xC2\xB2", "\xC2\xB3", "\xE2\x81\xB4",
	                                  "\xE2\x81\xB5", "\xE2\x81\xB6", "\xE2\x81\xB7", "\xE2\x81\xB8",
	                                  "\xE2\x81\xB9"};
	if (k == 0) {
		snprintf(buf, cap, "1");
		return;
	}
	if (k == 1) {
		snprintf(buf, cap, "10");
		return;
	}
	char digits[16];
	snprintf(digits, sizeof(digits), "%d", k < 0 ? -k : k);
	size_t len = (size_t)snprintf(buf, cap, "10%s", k < 0 ? "\xE2\x81\xBB" : "");
	for (const char *d = digits; *d && len + 4 < cap; d++) {
		size_t sl = strlen(sup[*d - '0']);
		memcpy(buf + len, sup[*d - '0'], sl);
		len += sl;
	}
	buf[len] = '\0';
}

#define MAX_TICKS 64

typedef struct tickset {
	size_t n;
	double v[MAX_TICKS];
	int labelled[MAX_TICKS];
	char label[MAX_TICKS][24];
	size_t nminor;
	double minor[MAX_TICKS];
} tickset;

static void log_ticks(const rp_axis *a, int max_labels, tickset *t)
{
	memset(t, 0, sizeof(*t));
	int lo = (int)ceil(log10(a->min) - 1e-9), hi = (int)floor(log10(a->max) + 1e-9);
	int ndec = hi - lo + 1, every = 1;
	while (ndec / every > max_labels)
		every++;
	for (int k = (int)floor(log10(a->min)); k <= hi && t->n < MAX_TICKS; k++) {
		double d = pow(10, k);
		if (k >= lo && (k - lo) % every == 0) {
			t->v[t->n] = d;
			t->labelled[t->n] = 1;
			pow10_label(t->label[t->n], sizeof(t->label[0]), k);
			t->n++;
		}
		for (int m = 2; m <= 9 && t->nminor < MAX_TICKS; m++) {
			double v = m * d;
			if (v < a->min || v > a->max)
				continue;
			if (ndec < 2 && (m == 2 || m == 5) && t->n < MAX_TICKS) {
				/* Less than two decades: label 2× and 5× too. */
				t->v[t->n] = v;
				t->labelled[t->n] = 1;
				snprintf(t->label[t->n], sizeof(t->label[0]), "%g", v);
				t->n++;
			} else if (every == 1) {
				t->minor[t->nminor++] = v;
			}
		}
	}
}

static void lin_ticks(const rp_axis *a, int target, tickset *t)
{
	memset(t, 0, sizeof(*t));
	double step;
	t->n = rp_ticks(a->min, a->max, target, t->v, MAX_TICKS, &step);
	for (size_t i = 0; i < t->n; i++) {
		t->labelled[i] = 1;
		rp_tick_label(t->label[i], sizeof(t->label[0]), t->v[i], step);
	}
}

static double widest(cairo_t *cr, const tickset *t)
{
	double w = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->labelled[i]) {
			double x = rp_text_width(cr, t->label[i]);
			if (x > w)
				w = x;
		}
	return w;
}

/* Ticks for an axis of length len (user units): as many as fit without labels
 * touching (x: side by side; y: stacked). */
static void axis_ticks(cairo_t *cr, const rp_theme *th, const rp_axis *a, double len, int horizontal, tickset *t)
{
	if (a->log) {
		int maxl = (int)(len / (horizontal ? 3.5 * th->font : 1.8 * th->font));
		log_ticks(a, maxl < 2 ? 2 : maxl, t);
		return;
	}
	int target = horizontal ? 10 : 8;
	for (; target >= 2; target--) {
		lin_ticks(a, target, t);
		double need = horizontal ? t->n * (widest(cr, t) + 1.5 * th->font) : t->n * 1.9 * th->font;
		if (need <= len)
			return;
	}
	lin_ticks(a, 2, t);
}

/* ---- panels --------------------------------------------------------------------------- */

double rp_panel_left_margin(cairo_t *cr, const rp_theme *th, const rp_panel *p)
{
	tickset t;
	rp_font(cr, th->font * 0.9, 0);
	axis_ticks(cr, th, &p->y, p->h > 0 ? p->h : 10 * th->font, 0, &t);
	double m = widest(cr, &t) + th->pad * 0.8 + th->pad * 0.6; /* labels + tick + gap */
	if (p->y.label && *p->y.label)
		m += th->font * 1.1 + th->pad * 0.8;
	return m + th->pad * 0.5;
}

static double bottom_margin(const rp_theme *th, const rp_panel *p, int xlabels)
{
	if (!xlabels)
		return th->pad * 0.6;
	double m = th->pad * 0.6 + th->font * 0.9 + th->pad * 0.8;
	if (p->x.label && *p->x.label)
		m += th->font * 1.1 + th->pad * 0.4;
	return m;
}

void rp_panel_layout_left(cairo_t *cr, const rp_theme *th, rp_panel *p, double left, double bx, double by,
                          double bw, double bh, int xlabels)
{
	double right = th->pad * 1.2 + th->font * 1.2; /* half of the last x tick label; the same for stacked panels */
	double bottom = bottom_margin(th, p, xlabels);
	double top = th->pad * 0.5;
	p->x0 = bx + left;
	p->y0 = by + top;
	p->w = bw - left - right;
	p->h = bh - top - bottom;
	if (p->w < 10)
		p->w = 10;
	if (p->h < 10)
		p->h = 10;
}

void rp_panel_layout(cairo_t *cr, const rp_theme *th, rp_panel *p, double bx, double by, double bw, double bh,
                     int xlabels)
{
	/* The y tick count depends on the height, which does not depend on the
	 * left margin: compute the height first. */
	p->h = bh - th->pad * 0.5 - bottom_margin(th, p, xlabels);
	double left = rp_panel_left_margin(cr, th, p);
	rp_panel_layout_left(cr, th, p, left, bx, by, bw, bh, xlabels);
}

void rp_panel_clip(cairo_t *cr, const rp_panel *p)
{
	cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
	cairo_clip(cr);
}

void rp_panel_axes(cairo_t *cr, const rp_theme *th, const rp_panel *p, int xlabels)
{
	tickset tx, ty;
	double tick = th->pad * 0.6;
	rp_font(cr, th->font * 0.9, 0);
	axis_ticks(cr, th, &p->x, p->w, 1, &tx);
	axis_ticks(cr, th, &p->y, p->h, 0, &ty);

	/* grid */
	cairo_set_line_width(cr, th->line * 0.5);
	rp_set(cr, rp_light_grey);
	for (size_t i = 0; i < ty.n; i++) {
		double y = rp_py(p, ty.v[i]);
		if (y < p->y0 + 0.5 || y > p->y0 + p->h - 0.5)
			continue;
		cairo_move_to(cr, p->x0, y);
		cairo_line_to(cr, p->x0 + p->w, y);
	}
	for (size_t i = 0; i < tx.n; i++) {
		double x = rp_px(p, tx.v[i]);
		if (x < p->x0 + 0.5 || x > p->x0 + p->w - 0.5)
			continue;
		cairo_move_to(cr, x, p->y0);
		cairo_line_to(cr, x, p->y0 + p->h);
	}
	cairo_stroke(cr);

	/* frame and ticks */
	rp_set(cr, rp_okabe_ito[RP_BLACK]);
	cairo_set_line_width(cr, th->line * 0.7);
	cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
	cairo_stroke(cr);
	for (size_t i = 0; i < tx.n; i++) {
		double x = rp_px(p, tx.v[i]);
		cairo_move_to(cr, x, p->y0 + p->h);
		cairo_line_to(cr, x, p->y0 + p->h + tick);
	}
	for (size_t i = 0; i < tx.nminor; i++) {
		double x = rp_px(p, tx.minor[i]);
		cairo_move_to(cr, x, p->y0 + p->h);
		cairo_line_to(cr, x, p->y0 + p->h + tick * 0.5);
	}
	for (size_t i = 0; i < ty.n; i++) {
		double y = rp_py(p, ty.v[i]);
		cairo_move_to(cr, p->x0 - tick, y);
		cairo_line_to(cr, p->x0, y);
	}
	for (size_t i = 0; i < ty.nminor; i++) {
		double y = rp_py(p, ty.minor[i]);
		cairo_move_to(cr, p->x0 - tick * 0.5, y);
		cairo_line_to(cr, p->x0, y);
	}
	cairo_stroke(cr);

	/* tick labels */
	double ylw = 0;
	for (size_t i = 0; i < ty.n; i++) {
		double w = rp_text(cr, p->x0 - tick - th->pad * 0.6, rp_py(p, ty.v[i]), ty.label[i], 1, 0.5);
		if (w > ylw)
			ylw = w;
	}
	if (xlabels)
		for (size_t i = 0; i < tx.n; i++)
			rp_text(cr, rp_px(p, tx.v[i]), p->y0 + p->h + tick + th->pad * 0.6, tx.label[i], 0.5, 0);

	/* axis labels */
	rp_font(cr, th->font, 0);
	if (xlabels && p->x.label)
		rp_text(cr, p->x0 + p->w / 2, p->y0 + p->h + tick + th->pad * 1.4 + th->font * 0.9, p->x.label, 0.5, 0);
	if (p->y.label) {
		cairo_save(cr);
		double xl = p->x0 - tick - th->pad * 0.6 - ylw - th->pad * 0.8;
		cairo_translate(cr, xl, p->y0 + p->h / 2);
		cairo_rotate(cr, -M_PI / 2);
		/* a long label on a short panel: smaller first, cut last */
		double room = p->h + 2 * th->pad, lw = rp_text_width(cr, p->y.label);
		if (lw > room)
			rp_font(cr, th->font * (lw * 0.7 > room ? 0.7 : room / lw), 0);
		rp_text_fit(cr, 0, 0, p->y.label, room, 0.5, 1);
		cairo_restore(cr);
	}
}

void rp_set_dash(cairo_t *cr, int dash, double width)
{
	double u = width < 0.5 ? 0.5 : width;
	double d1[] = {5 * u, 3 * u}, d2[] = {1.2 * u, 2.2 * u}, d3[] = {6 * u, 2.5 * u, 1.2 * u, 2.5 * u};
	switch (dash) {
	case 1:
		cairo_set_dash(cr, d1, 2, 0);
		break;
	case 2:
		cairo_set_dash(cr, d2, 2, 0);
		break;
	case 3:
		cairo_set_dash(cr, d3, 4, 0);
		break;
	default:
		cairo_set_dash(cr, NULL, 0, 0);
	}
}

void rp_polyline(cairo_t *cr, const rp_panel *p, const double *x, const double *y, size_t n, rp_rgb c,
                 double width, int dash, double floor)
{
	if (!x || !y)
		return;
	int pen = 0;
	for (size_t i = 0; i < n; i++) {
		double v = y[i];
		if (p->y.log && isfinite(v) && v <= 0)
			v = floor > 0 ? floor : NAN; /* zero counts on a log axis: at the floor (NAN stays a gap) */
		if (!isfinite(v) || !isfinite(x[i])) {
			pen = 0;
			continue;
		}
		double px = rp_px(p, x[i]), py = rp_py(p, v);
		if (!pen)
			cairo_move_to(cr, px, py);
		else
			cairo_line_to(cr, px, py);
		pen = 1;
	}
	rp_set(cr, c);
	cairo_set_line_width(cr, width);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	rp_set_dash(cr, dash, width);
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
}

void rp_hline(cairo_t *cr, const rp_panel *p, double y, rp_rgb c, double width, int dash)
{
	if (!isfinite(y))
		return;
	double py = rp_py(p, y);
	cairo_move_to(cr, p->x0, py);
	cairo_line_to(cr, p->x0 + p->w, py);
	rp_set(cr, c);
	cairo_set_line_width(cr, width);
	rp_set_dash(cr, dash, width);
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
}

void rp_marker(cairo_t *cr, double x, double y, double r, int shape, rp_rgb c, int filled)
{
	switch (shape) {
	case RP_SQUARE:
		cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r);
		break;
	case RP_DIAMOND:
		cairo_move_to(cr, x, y - r * 1.2);
		cairo_line_to(cr, x + r * 1.2, y);
		cairo_line_to(cr, x, y + r * 1.2);
		cairo_line_to(cr, x - r * 1.2, y);
		cairo_close_path(cr);
		break;
	case RP_TRIANGLE:
		cairo_move_to(cr, x, y - r * 1.2);
		cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
		cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
		cairo_close_path(cr);
		break;
	default:
		cairo_new_sub_path(cr);
		cairo_arc(cr, x, y, r, 0, 2 * M_PI);
	}
	rp_set(cr, c);
	if (filled) {
		cairo_fill_preserve(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, r * 0.25);
		cairo_stroke(cr);
	} else {
		cairo_set_line_width(cr, r * 0.35);
		cairo_stroke(cr);
	}
}

/* ---- legend and title ------------------------------------------------------------- */

double rp_legend(cairo_t *cr, const rp_theme *th, double x, double y, double w, const rp_legend_item *it,
                 size_t n, int draw)
{
	rp_font(cr, th->font * 0.9, 0);
	double sample = th->font * 2.0, gap = th->font * 0.4, sep = th->font * 1.2, row = th->font * 1.35;
	double cx = x, cy = y;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		double iw = sample + gap + rp_text_width(cr, it[i].label);
		if (cx > x && cx + iw > x + w) {
			cx = x;
			cy += row;
		}
		if (draw) {
			double my = cy + row / 2;
			if (it[i].dash >= 0) {
				cairo_move_to(cr, cx, my);
				cairo_line_to(cr, cx + sample, my);
				rp_set(cr, it[i].c);
				double lw = it[i].width > 0 ? it[i].width : th->line;
				cairo_set_line_width(cr, lw);
				rp_set_dash(cr, it[i].dash, lw);
				cairo_stroke(cr);
				cairo_set_dash(cr, NULL, 0, 0);
			}
			if (it[i].marker >= 0)
				rp_marker(cr, cx + sample / 2, my, th->font * 0.3, it[i].marker, it[i].c, 1);
			rp_set(cr, rp_okabe_ito[RP_BLACK]);
			rp_text(cr, cx + sample + gap, my, it[i].label, 0, 0.5);
		}
		cx += iw + sep;
	}
	return cy - y + row;
}

double rp_title(cairo_t *cr, const rp_theme *th, double x, double y, double w, const char *title,
                const char *subtitle)
{
	double h = 0;
	if (title && *title) {
		rp_font(cr, th->font * 1.15, 1);
		rp_set(cr, rp_okabe_ito[RP_BLACK]);
		rp_text_fit(cr, x, y + th->pad * 0.5, title, w, 0, 0);
		h += th->pad * 0.5 + th->font * 1.15 * 1.25;
	}
	if (subtitle && *subtitle) {
		rp_font(cr, th->font * 0.85, 0);
		rp_set(cr, rp_grey);
		rp_text_fit(cr, x, y + h + th->pad * 0.2, subtitle, w, 0, 0);
		h += th->pad * 0.2 + th->font * 0.85 * 1.3;
	}
	rp_set(cr, rp_okabe_ito[RP_BLACK]);
	return h;
}

/* ---- canvases and PNG ------------------------------------------------------------- */

int rp_canvas_new(const mg_plot_opts *o, double h_units, rp_canvas *c)
{
	mg_plot_opts def;
	if (!o) {
		mg_plot_opts_default(&def);
		o = &def;
	}
	memset(c, 0, sizeof(*c));
	rp_theme_for(o->size, &c->th);
	double scale;
	if (o->size == MG_PLOT_PAGE) {
		c->w = 480;
		c->h = 300;
		scale = 150.0 / 72.0;
	} else {
		c->w = 1200;
		c->h = 750;
		scale = 1;
	}
	if (h_units > 0)
		c->h = h_units;
	if (o->width_px > 0) {
		if (o->width_px < 200 || o->width_px > 8000)
			return mg_fail(MG_ERR_ARG, RP_DOM, "plot width %d px: use 200 to 8000", o->width_px);
		scale = o->width_px / c->w;
	}
	int wpx = (int)ceil(c->w * scale - 1e-6), hpx = (int)ceil(c->h * scale - 1e-6);
	if (hpx > 20000)
		return mg_fail(MG_ERR_ARG, RP_DOM, "plot too tall (%d px)", hpx);
	c->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, wpx, hpx);
	if (cairo_surface_status(c->surf) != CAIRO_STATUS_SUCCESS) {
		rp_canvas_free(c);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "plot: cannot create a %d x %d image", wpx, hpx);
	}
	c->cr = cairo_create(c->surf);
	cairo_scale(c->cr, scale, scale);
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	cairo_set_font_options(c->cr, fo);
	cairo_font_options_destroy(fo);
	cairo_set_source_rgb(c->cr, 1, 1, 1);
	cairo_paint(c->cr);
	rp_set(c->cr, rp_okabe_ito[RP_BLACK]);
	return MG_OK;
}

void rp_canvas_free(rp_canvas *c)
{
	if (c->cr)
		cairo_destroy(c->cr);
	if (c->surf)
		cairo_surface_destroy(c->surf);
	c->cr = NULL;
	c->surf = NULL;
}

int rp_canvas_finish(rp_canvas *c, const char *kind, const mg_plot_meta *meta, const char *path)
{
	cairo_status_t cst = cairo_status(c->cr);
	if (cst != CAIRO_STATUS_SUCCESS) {
		rp_canvas_free(c);
		return mg_fail(MG_ERR_INTERNAL, RP_DOM, "plot: cairo: %s", cairo_status_to_string(cst));
	}
	int rc = rp_png_write(c->surf, path, kind, meta);
	rp_canvas_free(c);
	return rc;
}

typedef struct png_sink {
	mg_buf *b;
} png_sink;

static void png_write_cb(png_structp png, png_bytep data, png_size_t len)
{
	png_sink *s = png_get_io_ptr(png);
	mg_buf_append(s->b, data, len);
}

static void png_flush_cb(png_structp png)
{
	(void)png;
}

static void png_error_cb(png_structp png, png_const_charp msg)
{
	mg_fail(MG_ERR_INTERNAL, RP_DOM, "libpng: %s", msg);
	png_longjmp(png, 1);
}

static void png_warn_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	mg_dbg(RP_DOM, "libpng: %s", msg);
}

static int ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

#define MAX_CHUNKS 10

/* libpng keeps pointers into these until png_write_info: the strings must
 * outlive the png struct, so they live on the caller's stack. */
static void add_text(png_text *t, int *n, const char *key, const char *value)
{
	if (!value || !*value || *n >= MAX_CHUNKS)
		return;
	png_text *x = &t[(*n)++];
	memset(x, 0, sizeof(*x));
	x->key = (png_charp)key;
	x->text = (png_charp)value;
	x->text_length = strlen(value);
	if (ascii_printable(value)) {
		x->compression = PNG_TEXT_COMPRESSION_NONE; /* tEXt (Latin-1; ASCII is safe) */
	} else {
		x->compression = PNG_ITXT_COMPRESSION_NONE; /* iTXt: UTF-8 */
		x->lang = (png_charp) "";
		x->lang_key = (png_charp) "";
		x->itxt_length = x->text_length;
		x->text_length = 0;
	}
}

typedef struct png_job {
	const unsigned char *data;
	int w, h, stride;
	png_text t[MAX_CHUNKS];
	int nt;
	mg_buf b;
	unsigned char *row;
	png_structp png;
	png_infop info;
} png_job;

/* The libpng part, on its own so that nothing live across setjmp is a local. */
static int encode(png_job *j)
{
	png_sink sink = {&j->b};
	if (setjmp(png_jmpbuf(j->png)))
		return MG_ERR_INTERNAL; /* detail recorded by png_error_cb */
	png_set_write_fn(j->png, &sink, png_write_cb, png_flush_cb);
	png_set_IHDR(j->png, j->info, (png_uint_32)j->w, (png_uint_32)j->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(j->png, 9);
	if (j->nt > 0)
		png_set_text(j->png, j->info, j->t, j->nt);
	png_write_info(j->png, j->info);
	for (int y = 0; y < j->h; y++) {
		const uint32_t *src = (const uint32_t *)(const void *)(j->data + (size_t)y * (size_t)j->stride);
		for (int x = 0; x < j->w; x++) {
			uint32_t v = src[x];
			j->row[3 * x] = (unsigned char)(v >> 16);
			j->row[3 * x + 1] = (unsigned char)(v >> 8);
			j->row[3 * x + 2] = (unsigned char)v;
		}
		png_write_row(j->png, j->row);
	}
	png_write_end(j->png, j->info);
	return MG_OK;
}

int rp_png_write(cairo_surface_t *surf, const char *path, const char *kind, const mg_plot_meta *meta)
{
	if (!surf || !path || !*path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "PNG: no image or no path");
	cairo_surface_flush(surf);
	png_job j;
	memset(&j, 0, sizeof(j));
	j.w = cairo_image_surface_get_width(surf);
	j.h = cairo_image_surface_get_height(surf);
	j.stride = cairo_image_surface_get_stride(surf);
	j.data = cairo_image_surface_get_data(surf);
	if (!j.data || j.w <= 0 || j.h <= 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "PNG: not an image surface");

	char software[64], created[40];
	snprintf(software, sizeof(software), "magassay %s", MAGASSAY_VERSION_STRING);
	rp_now(created, sizeof(created));
	static const mg_plot_meta none = {0};
	if (!meta)
		meta = &none;
	add_text(j.t, &j.nt, "Title", meta->title);
	add_text(j.t, &j.nt, "Software", software);
	add_text(j.t, &j.nt, "Plot", kind);
	add_text(j.t, &j.nt, "Sample ID", meta->sample_id);
	add_text(j.t, &j.nt, "Batch", meta->batch_id);
	add_text(j.t, &j.nt, "Calibration", meta->calibration);
	add_text(j.t, &j.nt, "Source", meta->source);
	add_text(j.t, &j.nt, "Description", meta->subtitle);
	add_text(j.t, &j.nt, "Creation Time", created);

	mg_buf_init(&j.b);
	j.row = malloc((size_t)j.w * 3);
	j.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_cb, png_warn_cb);
	j.info = j.png ? png_create_info_struct(j.png) : NULL;
	int rc = !j.row || !j.png || !j.info ? mg_fail(MG_ERR_NOMEM, RP_DOM, "PNG: out of memory") : encode(&j);
	png_destroy_write_struct(j.png ? &j.png : NULL, j.info ? &j.info : NULL);
	free(j.row);
	if (rc == MG_OK)
		rc = mg_buf_status(&j.b);
	if (rc == MG_OK)
		rc = mg_file_write_atomic(path, j.b.data, j.b.len);
	mg_buf_free(&j.b);
	return rc;
}

/* ---- small shared helpers ---------------------------------------------------------- */

char *rp_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int rp_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return MG_OK;
	size_t nc = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, nc * sz);
	if (!p)
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	*arr = p;
	*cap = nc;
	return MG_OK;
}

void rp_now(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

const char *rp_line_label(const char *in, char *buf, size_t cap)
{
	/* "Cu Ka" → "Cu Kα"; K/L/M followed by a/b/g. */
	size_t o = 0;
	if (!in) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	for (size_t i = 0; in[i] && o + 4 < cap; i++) {
		char c = in[i];
		int after_shell = i > 0 && (in[i - 1] == 'K' || in[i - 1] == 'L' || in[i - 1] == 'M') &&
		                  (i < 2 || in[i - 2] == ' ') && (in[i + 1] == '\0' || in[i + 1] == ' ' ||
		                                                  (in[i + 1] >= '0' && in[i + 1] <= '9'));
		const char *g = NULL;
		if (after_shell)
			g = c == 'a' ? "\xCE\xB1" : c == 'b' ? "\xCE\xB2" : c == 'g' ? "\xCE\xB3" : NULL;
		if (g) {
			memcpy(buf + o, g, 2);
			o += 2;
		} else {
			buf[o++] = c;
		}
	}
	buf[o] = '\0';
	return buf;
}
