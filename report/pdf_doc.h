/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A small flowing-document layer for the PDF reports (pdf_doc.c): A4 pages
 * with a header and a "page x of y" footer, a cursor that moves down and
 * breaks pages, headings, wrapped paragraphs, key/value grids, tables whose
 * cells wrap and whose header repeats after a page break, QC badges, and
 * boxes for plots. A document is rendered twice (the first pass counts the
 * pages); the file is written atomically. */
#ifndef MAGASSAY_REPORT_PDF_DOC_H
#define MAGASSAY_REPORT_PDF_DOC_H

#include "report_internal.h"

typedef struct rp_doc {
	cairo_surface_t *surf;
	cairo_t *cr;
	double pw, ph;             /* page size, pt (A4) */
	double ml, mr, mt, mb;     /* margins */
	double y;                  /* cursor */
	double cw;                 /* content width */
	int page, total;           /* total: 0 in the counting pass */
	pl_theme th;               /* page sizes (8.5 pt), as the figures' page size */
	const char *head_left, *head_right, *foot_left;
} rp_doc;

typedef int (*rp_doc_fn)(rp_doc *d, void *ud);

/* Render fn twice (count, then write path). title/subject/keywords go into
 * the PDF metadata. */
int rp_doc_render(const char *path, const char *title, const char *subject, const char *keywords,
                  const char *head_left, const char *head_right, const char *foot_left, rp_doc_fn fn, void *ud);

/* The page's own text (headings, tables, paragraphs): cairo's text API,
 * DejaVu Sans. Alignment: ha 0 = left, 0.5 = centre, 1 = right; va 0 = top
 * of the capitals at y, 0.5 = centred, 1 = baseline at y. The figures on
 * the page are drawn by the plot engine (Pango). */
void rp_font(cairo_t *cr, double size, int bold);
double rp_text(cairo_t *cr, double x, double y, const char *s, double ha, double va);
double rp_text_width(cairo_t *cr, const char *s);
/* Text cut with "…" to fit max_w. Returns the width drawn. */
double rp_text_fit(cairo_t *cr, double x, double y, const char *s, double max_w, double ha, double va);

/* Break the page unless h pt are left. */
void rp_doc_need(rp_doc *d, double h);
void rp_doc_space(rp_doc *d, double h);
void rp_doc_new_page(rp_doc *d);
void rp_doc_heading(rp_doc *d, const char *text, int level);
/* Wrapped text; size 0 = the body size. Returns the height used. */
double rp_doc_paragraph(rp_doc *d, const char *text, double size, pl_rgb c);
void rp_doc_bullets(rp_doc *d, char *const *items, size_t n, size_t max, pl_rgb c);
/* Key/value pairs in two columns (keys grey, values black, wrapped). */
void rp_doc_kv(rp_doc *d, const char *const *keys, const char *const *vals, size_t n);
/* A table: widths are fractions of the content width; align 'l' or 'r' per
 * column; cells NULL = empty. Rows wrap; the header repeats on new pages. */
typedef struct rp_table {
	size_t ncol;
	const char *const *head;
	const double *width;
	const char *align;
	double font;               /* 0 = body size */
} rp_table;
void rp_doc_table_head(rp_doc *d, const rp_table *t);
/* bold: row in bold (totals); shade: a light background. */
void rp_doc_table_row(rp_doc *d, const rp_table *t, const char *const *cells, int bold, int shade);
void rp_doc_table_end(rp_doc *d);
/* A QC state badge followed by text on the same line. */
void rp_doc_badge(rp_doc *d, mg_qc_state s, const char *text);
/* Reserve a box of height h for a drawing (page break first if needed); the
 * box's top-left is (d->ml, *y). */
void rp_doc_box(rp_doc *d, double h, double *y);
/* A figure of the plot engine in a box of height h across the content width
 * (reserved with rp_doc_box); pl_fig_end when drawn. */
int rp_doc_figure(rp_doc *d, double h, pl_fig *f);

/* wt% and its standard uncertainty rounded together: u to 2 significant
 * digits, the value to the same decimal place. */
void rp_fmt_value(char *vb, size_t vcap, char *ub, size_t ucap, double v, double u);
/* A detection limit with two significant digits, fixed notation ("0.050", "0.000040"). */
void rp_fmt_lod(char *b, size_t cap, double lod);

#endif
