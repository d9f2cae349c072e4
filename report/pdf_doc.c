/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The flowing A4 document behind the PDF reports (see pdf_doc.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>

#include "internal.h"
#include "magassay/buf.h"
#include "magassay/fileio.h"
#include "magassay/version.h"
#include "pdf_doc.h"

#define A4_W 595.276
#define A4_H 841.890

/* ---- the page's text ------------------------------------------------------------------ */

void rp_font(cairo_t *cr, double size, int bold)
{
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
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

/* ---- the page ---------------------------------------------------------------------------- */

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
	mg_buf *b = closure;
	if (!b)
		return CAIRO_STATUS_SUCCESS; /* the counting pass discards */
	return mg_buf_append(b, data, len) == MG_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static void header_footer(rp_doc *d)
{
	cairo_t *cr = d->cr;
	rp_font(cr, 7.5, 0);
	pl_set(cr, pl_grey);
	rp_text_fit(cr, d->ml, d->mt - 22, d->head_left, d->cw * 0.6, 0, 1);
	rp_text_fit(cr, d->pw - d->mr, d->mt - 22, d->head_right, d->cw * 0.38, 1, 1);
	cairo_move_to(cr, d->ml, d->mt - 16);
	cairo_line_to(cr, d->pw - d->mr, d->mt - 16);
	cairo_move_to(cr, d->ml, d->ph - d->mb + 14);
	cairo_line_to(cr, d->pw - d->mr, d->ph - d->mb + 14);
	cairo_set_line_width(cr, 0.5);
	cairo_stroke(cr);
	char pg[64];
	if (d->total > 0)
		snprintf(pg, sizeof(pg), "page %d of %d", d->page, d->total);
	else
		snprintf(pg, sizeof(pg), "page %d", d->page);
	rp_text_fit(cr, d->ml, d->ph - d->mb + 26, d->foot_left, d->cw * 0.8, 0, 0);
	rp_text(cr, d->pw - d->mr, d->ph - d->mb + 26, pg, 1, 0);
	pl_set(cr, pl_okabe_ito[PL_BLACK]);
}

static void begin_page(rp_doc *d)
{
	d->page++;
	d->y = d->mt;
	header_footer(d);
}

void rp_doc_new_page(rp_doc *d)
{
	cairo_show_page(d->cr);
	begin_page(d);
}

void rp_doc_need(rp_doc *d, double h)
{
	if (d->y + h > d->ph - d->mb && d->y > d->mt + 1)
		rp_doc_new_page(d);
}

void rp_doc_space(rp_doc *d, double h)
{
	d->y += h;
}

void rp_doc_heading(rp_doc *d, const char *text, int level)
{
	double size = level <= 1 ? 15 : level == 2 ? 11.5 : 9.5;
	rp_doc_need(d, size * 1.6 + 40); /* never a heading alone at the bottom */
	d->y += level <= 1 ? 0 : size * 0.6;
	rp_font(d->cr, size, 1);
	pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
	rp_text_fit(d->cr, d->ml, d->y, text, d->cw, 0, 0);
	d->y += size * 1.35;
	if (level == 2) {
		cairo_move_to(d->cr, d->ml, d->y - size * 0.3);
		cairo_line_to(d->cr, d->ml + d->cw, d->y - size * 0.3);
		cairo_set_line_width(d->cr, 0.6);
		pl_set(d->cr, pl_light_grey);
		cairo_stroke(d->cr);
		d->y += 2;
	}
}

/* Break text into lines of at most w (at spaces; a word too long is cut).
 * Calls emit for each line; returns the number of lines. */
typedef void (*line_fn)(void *ud, const char *line, int i);

static int wrap(cairo_t *cr, const char *text, double w, line_fn emit, void *ud)
{
	if (!text || !*text)
		return 0;
	size_t n = strlen(text);
	char *buf = malloc(n + 1);
	if (!buf)
		return 0;
	int lines = 0;
	const char *p = text;
	while (*p) {
		if (*p == '\n') {
			p++;
			continue;
		}
		/* grow the line word by word */
		size_t best = 0, i = 0;
		for (;;) {
			size_t j = i;
			while (p[j] == ' ')
				j++;
			while (p[j] && p[j] != ' ' && p[j] != '\n')
				j++;
			memcpy(buf, p, j);
			buf[j] = '\0';
			if (rp_text_width(cr, buf) > w && best > 0)
				break;
			best = j;
			i = j;
			if (!p[j] || p[j] == '\n')
				break;
		}
		if (best == 0)
			best = strlen(p);
		memcpy(buf, p, best);
		buf[best] = '\0';
		/* a single word wider than w: cut by characters */
		while (rp_text_width(cr, buf) > w && best > 1) {
			do
				best--;
			while (best > 1 && ((unsigned char)p[best] & 0xC0) == 0x80);
			buf[best] = '\0';
		}
		if (emit)
			emit(ud, buf, lines);
		lines++;
		p += best;
		while (*p == ' ')
			p++;
	}
	free(buf);
	return lines;
}

typedef struct para_ctx {
	rp_doc *d;
	double x, y, lh;
	double ha;
} para_ctx;

static void para_line(void *ud, const char *line, int i)
{
	para_ctx *c = ud;
	rp_text(c->d->cr, c->x, c->y + i * c->lh, line, c->ha, 0);
}

double rp_doc_paragraph(rp_doc *d, const char *text, double size, pl_rgb col)
{
	if (!text || !*text)
		return 0;
	if (size <= 0)
		size = d->th.font;
	rp_font(d->cr, size, 0);
	int n = wrap(d->cr, text, d->cw, NULL, NULL);
	double lh = size * 1.3;
	/* Paragraphs taller than a page would break inside; ours are short. */
	rp_doc_need(d, n * lh);
	pl_set(d->cr, col);
	para_ctx c = {d, d->ml, d->y, lh, 0};
	wrap(d->cr, text, d->cw, para_line, &c);
	pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
	d->y += n * lh + size * 0.3;
	return n * lh;
}

void rp_doc_bullets(rp_doc *d, char *const *items, size_t n, size_t max, pl_rgb col)
{
	double size = d->th.font, lh = size * 1.3;
	for (size_t i = 0; i < n && i < max; i++) {
		rp_font(d->cr, size, 0);
		int k = wrap(d->cr, items[i], d->cw - 12, NULL, NULL);
		rp_doc_need(d, k * lh);
		pl_set(d->cr, col);
		rp_text(d->cr, d->ml + 3, d->y, "\xE2\x80\xA2", 0, 0);
		para_ctx c = {d, d->ml + 12, d->y, lh, 0};
		wrap(d->cr, items[i], d->cw - 12, para_line, &c);
		d->y += k * lh + 1.5;
	}
	if (n > max) {
		char more[64];
		snprintf(more, sizeof(more), "\xE2\x80\xA6 and %zu more", n - max);
		rp_doc_paragraph(d, more, size, pl_grey);
	}
	pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
}

static void kv_row(rp_doc *d, const char *const *keys, const char *const *vals, size_t n, double kw, double colw)
{
	double size = d->th.font, lh = size * 1.3;
	int h = 1;
	rp_font(d->cr, size, 0);
	for (size_t j = 0; j < n; j++) {
		int k = wrap(d->cr, vals[j] && *vals[j] ? vals[j] : "\xE2\x80\x93", colw - kw - 10, NULL, NULL);
		if (k > h)
			h = k;
	}
	rp_doc_need(d, h * lh);
	for (size_t j = 0; j < n; j++) {
		double x = d->ml + j * colw;
		rp_font(d->cr, size, 0);
		pl_set(d->cr, pl_grey);
		rp_text_fit(d->cr, x, d->y, keys[j], kw - 4, 0, 0);
		pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
		para_ctx c = {d, x + kw, d->y, lh, 0};
		wrap(d->cr, vals[j] && *vals[j] ? vals[j] : "\xE2\x80\x93", colw - kw - 10, para_line, &c);
	}
	d->y += h * lh + 1;
}

void rp_doc_kv(rp_doc *d, const char *const *keys, const char *const *vals, size_t n)
{
	double size = d->th.font;
	double colw = d->cw / 2, kw = 0;
	rp_font(d->cr, size, 0);
	for (size_t i = 0; i < n; i++) {
		double w = rp_text_width(d->cr, keys[i]);
		if (w > kw)
			kw = w;
	}
	kw = kw + 8 < colw * 0.42 ? kw + 8 : colw * 0.42;
	/* pairs side by side; a value too long for half the width gets a row of its own */
	size_t pend = n;
	for (size_t i = 0; i < n; i++) {
		const char *v = vals[i] && *vals[i] ? vals[i] : "\xE2\x80\x93";
		int wide = rp_text_width(d->cr, v) > colw - kw - 10;
		if (wide) {
			if (pend < n)
				kv_row(d, &keys[pend], &vals[pend], 1, kw, colw);
			pend = n;
			kv_row(d, &keys[i], &vals[i], 1, kw, d->cw);
			rp_font(d->cr, size, 0);
			continue;
		}
		if (pend == n) {
			pend = i;
			continue;
		}
		const char *k2[2] = {keys[pend], keys[i]}, *v2[2] = {vals[pend], vals[i]};
		kv_row(d, k2, v2, 2, kw, colw);
		rp_font(d->cr, size, 0);
		pend = n;
	}
	if (pend < n)
		kv_row(d, &keys[pend], &vals[pend], 1, kw, colw);
	d->y += size * 0.4;
}

/* ---- tables ------------------------------------------------------------------------------ */

static double tfont(const rp_doc *d, const rp_table *t)
{
	return t->font > 0 ? t->font : d->th.font;
}

static void draw_row(rp_doc *d, const rp_table *t, const char *const *cells, int bold, int shade, int head)
{
	double size = tfont(d, t), lh = size * 1.28, padx = 3, pady = 2.2;
	rp_font(d->cr, size, bold || head);
	int lines = 1;
	for (size_t c = 0; c < t->ncol; c++) {
		int k = wrap(d->cr, cells[c] ? cells[c] : "", t->width[c] * d->cw - 2 * padx, NULL, NULL);
		if (k > lines)
			lines = k;
	}
	double h = lines * lh + 2 * pady;
	if (!head && d->y + h > d->ph - d->mb) {
		rp_doc_new_page(d);
		draw_row(d, t, t->head, 0, 0, 1);
		rp_font(d->cr, size, bold);
	}
	if (shade || head) {
		cairo_rectangle(d->cr, d->ml, d->y, d->cw, h);
		if (head)
			cairo_set_source_rgb(d->cr, 0.90, 0.92, 0.95);
		else
			cairo_set_source_rgb(d->cr, 0.965, 0.965, 0.965);
		cairo_fill(d->cr);
	}
	double x = d->ml;
	pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
	for (size_t c = 0; c < t->ncol; c++) {
		double w = t->width[c] * d->cw;
		int right = t->align && t->align[c] == 'r';
		para_ctx pc = {d, right ? x + w - padx : x + padx, d->y + pady, lh, right ? 1 : 0};
		wrap(d->cr, cells[c] ? cells[c] : "", w - 2 * padx, para_line, &pc);
		x += w;
	}
	d->y += h;
	cairo_move_to(d->cr, d->ml, d->y);
	cairo_line_to(d->cr, d->ml + d->cw, d->y);
	cairo_set_line_width(d->cr, head ? 0.8 : 0.3);
	pl_set(d->cr, head ? pl_grey : pl_light_grey);
	cairo_stroke(d->cr);
	pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
}

void rp_doc_table_head(rp_doc *d, const rp_table *t)
{
	rp_doc_need(d, tfont(d, t) * 1.28 * 4 + 12);
	draw_row(d, t, t->head, 0, 0, 1);
}

void rp_doc_table_row(rp_doc *d, const rp_table *t, const char *const *cells, int bold, int shade)
{
	draw_row(d, t, cells, bold, shade, 0);
}

void rp_doc_table_end(rp_doc *d)
{
	d->y += d->th.font * 0.8;
}

void rp_doc_badge(rp_doc *d, mg_qc_state s, const char *text)
{
	static const char *const names[] = {"PASS", "WARNING", "FAIL", "NO DATA"};
	pl_rgb bg = s == MG_QC_PASS      ? pl_okabe_ito[PL_GREEN]
	            : s == MG_QC_WARNING ? pl_okabe_ito[PL_ORANGE]
	            : s == MG_QC_FAIL    ? pl_okabe_ito[PL_VERMILLION]
	                                 : pl_grey;
	double size = d->th.font + 1, h = size * 1.6;
	rp_doc_need(d, h + 4);
	rp_font(d->cr, size, 1);
	const char *name = names[s <= MG_QC_NO_DATA ? s : MG_QC_NO_DATA];
	double w = rp_text_width(d->cr, name) + 14;
	double x = d->ml, y = d->y, r = 3;
	cairo_new_sub_path(d->cr);
	cairo_arc(d->cr, x + w - r, y + r, r, -M_PI / 2, 0);
	cairo_arc(d->cr, x + w - r, y + h - r, r, 0, M_PI / 2);
	cairo_arc(d->cr, x + r, y + h - r, r, M_PI / 2, M_PI);
	cairo_arc(d->cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
	cairo_close_path(d->cr);
	pl_set(d->cr, bg);
	cairo_fill(d->cr);
	/* black on orange reads better than white */
	if (s == MG_QC_WARNING)
		pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
	else
		cairo_set_source_rgb(d->cr, 1, 1, 1);
	rp_text(d->cr, x + w / 2, y + h / 2, name, 0.5, 0.5);
	rp_font(d->cr, d->th.font, 0);
	pl_set(d->cr, pl_okabe_ito[PL_BLACK]);
	rp_text_fit(d->cr, x + w + 8, y + h / 2, text, d->cw - w - 8, 0, 0.5);
	d->y += h + 5;
}

void rp_doc_box(rp_doc *d, double h, double *y)
{
	rp_doc_need(d, h);
	*y = d->y;
	d->y += h;
}

int rp_doc_figure(rp_doc *d, double h, pl_fig *f)
{
	double y;
	rp_doc_box(d, h, &y);
	return pl_fig_in(f, d->cr, MG_PLOT_PAGE, d->ml, y, d->cw, h);
}

void rp_fmt_value(char *vb, size_t vcap, char *ub, size_t ucap, double v, double u)
{
	if (!isfinite(v)) {
		snprintf(vb, vcap, "\xE2\x80\x93");
		snprintf(ub, ucap, "\xE2\x80\x93");
		return;
	}
	if (isfinite(u) && u > 0) {
		int dec = 1 - (int)floor(log10(u)); /* 2 significant digits of u */
		if (dec < 0)
			dec = 0;
		if (dec > 6)
			dec = 6;
		snprintf(vb, vcap, "%.*f", dec, v);
		snprintf(ub, ucap, "%.*f", dec, u);
	} else {
		snprintf(vb, vcap, fabs(v) >= 10 ? "%.2f" : "%.3f", v);
		snprintf(ub, ucap, "\xE2\x80\x93");
	}
}

void rp_fmt_lod(char *b, size_t cap, double lod)
{
	if (!isfinite(lod) || lod <= 0) {
		snprintf(b, cap, "\xE2\x80\x93");
		return;
	}
	int dec = 1 - (int)floor(log10(lod));
	if (dec < 0)
		dec = 0;
	if (dec > 7)
		dec = 7;
	snprintf(b, cap, "%.*f", dec, lod);
}

/* ---- rendering ------------------------------------------------------------------------------ */

static int pass(rp_doc *d, mg_buf *out, const char *title, const char *subject, const char *keywords,
                rp_doc_fn fn, void *ud)
{
	d->surf = cairo_pdf_surface_create_for_stream(sink_write, out, A4_W, A4_H);
	if (cairo_surface_status(d->surf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(d->surf);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "PDF: cannot create the surface");
	}
	char creator[64];
	snprintf(creator, sizeof(creator), "magassay %s", MAGASSAY_VERSION_STRING);
	cairo_pdf_surface_set_metadata(d->surf, CAIRO_PDF_METADATA_TITLE, title ? title : "");
	cairo_pdf_surface_set_metadata(d->surf, CAIRO_PDF_METADATA_CREATOR, creator);
	if (subject)
		cairo_pdf_surface_set_metadata(d->surf, CAIRO_PDF_METADATA_SUBJECT, subject);
	if (keywords)
		cairo_pdf_surface_set_metadata(d->surf, CAIRO_PDF_METADATA_KEYWORDS, keywords);
	d->cr = cairo_create(d->surf);
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_set_font_options(d->cr, fo);
	cairo_font_options_destroy(fo);
	d->page = 0;
	begin_page(d);
	int e = fn(d, ud);
	cairo_show_page(d->cr);
	cairo_status_t cs = cairo_status(d->cr);
	cairo_destroy(d->cr);
	cairo_surface_finish(d->surf);
	if (cs == CAIRO_STATUS_SUCCESS)
		cs = cairo_surface_status(d->surf);
	cairo_surface_destroy(d->surf);
	d->cr = NULL;
	d->surf = NULL;
	if (e == MG_OK && cs != CAIRO_STATUS_SUCCESS)
		e = mg_fail(cs == CAIRO_STATUS_WRITE_ERROR ? MG_ERR_NOMEM : MG_ERR_INTERNAL, RP_DOM, "PDF: cairo: %s",
		            cairo_status_to_string(cs));
	return e;
}

int rp_doc_render(const char *path, const char *title, const char *subject, const char *keywords,
                  const char *head_left, const char *head_right, const char *foot_left, rp_doc_fn fn, void *ud)
{
	if (!path || !*path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "PDF: no output path");
	rp_doc d;
	memset(&d, 0, sizeof(d));
	d.pw = A4_W;
	d.ph = A4_H;
	d.ml = d.mr = 50;
	d.mt = 62;
	d.mb = 56;
	d.cw = d.pw - d.ml - d.mr;
	pl_theme_for(MG_PLOT_PAGE, &d.th);
	d.head_left = head_left;
	d.head_right = head_right;
	d.foot_left = foot_left;
	/* first pass: count the pages */
	int e = pass(&d, NULL, title, subject, keywords, fn, ud);
	if (e != MG_OK)
		return e;
	d.total = d.page;
	mg_buf b;
	mg_buf_init(&b);
	e = pass(&d, &b, title, subject, keywords, fn, ud);
	if (e == MG_OK)
		e = mg_buf_status(&b);
	if (e == MG_OK)
		e = mg_file_write_atomic(path, b.data, b.len);
	mg_buf_free(&b);
	return e;
}
