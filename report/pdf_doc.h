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
	rp_theme th;               /* page theme (8.5 pt) */
	const char *head_left, *head_right, *foot_left;
} rp_doc;

typedef int (*rp_doc_fn)(rp_doc *d, void *ud);

/* Render fn twice (count, then write path). title/subject/keywords go into
 * the PDF metadata. */
int rp_doc_render(const char *path, const char *title, const char *subject, const char *keywords,
                  const char *head_left, const char *head_right, const char *foot_left, rp_doc_fn fn, void *ud);

/* Break the page unless h pt are left. */
void rp_doc_need(rp_doc *d, double h);
void rp_doc_space(rp_doc *d, double h);
void rp_doc_new_page(rp_doc *d);
void rp_doc_heading(rp_doc *d, const char *text, int level);
/* Wrapped text; size 0 = the body size. Returns the height used. */
double rp_doc_paragraph(rp_doc *d, const char *text, double size, rp_rgb c);
void rp_doc_bullets(rp_doc *d, char *const *items, size_t n, size_t max, rp_rgb c);
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

/* wt% and its standard uncertainty rounded together: u to 2 significant
 * digits, the value to the same decimal place. */
void rp_fmt_value(char *vb, size_t vcap, char *ub, size_t ucap, double v, double u);
/* A detection limit with two significant digits, fixed notation ("0.050", "0.000040"). */
void rp_fmt_lod(char *b, size_t cap, double lod);

#endif
