/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text through Pango (pangocairo): one font set (DejaVu Sans, the system's
 * sans-serif after it), measured before it is placed, so margins can be made
 * to fit it; accents, Greek and real superscripts (markup) render properly.
 * Every text drawn can be recorded as a box on the device, for the test that
 * nothing leaves the picture. Text from outside (sample names) is made valid
 * UTF-8 first and markup is parsed before use, so Pango never warns: the
 * library does not print. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "engine.h"
#include "internal.h"

#define FAMILY "DejaVu Sans, sans-serif"

struct pl_text {
	PangoLayout *layout;
	PangoFontDescription *desc;
	double size;
	int bold;
	double cap_size;   /* the size and weight cap was measured for */
	int cap_bold;
	double cap;        /* height of the capitals */
};

/* ---- state ------------------------------------------------------------------------- */

int pl_text_init(pl_fig *f)
{
	struct pl_text *t = calloc(1, sizeof(*t));
	if (!t)
		return mg_fail(MG_ERR_NOMEM, PL_DOM, "plot: out of memory");
	t->layout = pango_cairo_create_layout(f->cr);
	t->desc = pango_font_description_from_string(FAMILY);
	if (!t->layout || !t->desc) {
		if (t->layout)
			g_object_unref(t->layout);
		if (t->desc)
			pango_font_description_free(t->desc);
		free(t);
		return mg_fail(MG_ERR_NOMEM, PL_DOM, "plot: cannot set up the text (Pango)");
	}
	/* Unhinted metrics and unrounded positions: the same layout on a
	 * 150 dpi canvas and on a PDF page, and widths that scale. */
	PangoContext *pc = pango_layout_get_context(t->layout);
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	pango_cairo_context_set_font_options(pc, fo);
	cairo_font_options_destroy(fo);
	pango_context_set_round_glyph_positions(pc, FALSE);
	pango_layout_context_changed(t->layout);
	t->cap_size = -1;
	f->text = t;
	pl_font(f, 1, 0);
	return MG_OK;
}

void pl_text_free(pl_fig *f)
{
	struct pl_text *t = f->text;
	if (!t)
		return;
	g_object_unref(t->layout);
	pango_font_description_free(t->desc);
	free(t);
	f->text = NULL;
}

void pl_font(pl_fig *f, double scale, int bold)
{
	struct pl_text *t = f->text;
	t->size = f->th.font * scale;
	t->bold = bold;
	pango_font_description_set_absolute_size(t->desc, t->size * PANGO_SCALE);
	pango_font_description_set_weight(t->desc, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(t->layout, t->desc);
	if (t->cap_size != t->size || t->cap_bold != t->bold) {
		/* the height of the capitals, for aligning on them */
		pango_layout_set_attributes(t->layout, NULL);
		pango_layout_set_width(t->layout, -1);
		pango_layout_set_text(t->layout, "H", 1);
		PangoRectangle ink;
		pango_layout_get_extents(t->layout, &ink, NULL);
		t->cap = ink.height / (double)PANGO_SCALE;
		t->cap_size = t->size;
		t->cap_bold = t->bold;
	}
}

double pl_font_size(const pl_fig *f)
{
	return f->text->size;
}

/* ---- loading a layout ------------------------------------------------------------------ */

/* The layout for the current transformation, reset (no width, no wrap). */
static PangoLayout *fresh(pl_fig *f)
{
	PangoLayout *l = f->text->layout;
	pango_cairo_update_layout(f->cr, l);
	pango_layout_set_width(l, -1);
	pango_layout_set_height(l, -1);
	pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_NONE);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD);
	pango_layout_set_attributes(l, NULL);
	return l;
}

static void set_plain(PangoLayout *l, const char *s)
{
	if (!s)
		s = "";
	if (g_utf8_validate(s, -1, NULL)) {
		pango_layout_set_text(l, s, -1);
		return;
	}
	gchar *v = g_utf8_make_valid(s, -1);
	pango_layout_set_text(l, v, -1);
	g_free(v);
}

/* Superscripts and subscripts of the markup set at an absolute size and rise
 * from the current font: Pango scales <sup> from its default size, not from
 * an absolute one, which makes them too large on a page. */
typedef struct scripts {
	size_t n;
	struct {
		guint a, b;
		int up;
	} r[16];
} scripts;

static gboolean take_script(PangoAttribute *a, gpointer ud)
{
	scripts *s = ud;
	int up;
	switch ((int)a->klass->type) {
#if PANGO_VERSION_CHECK(1, 50, 0)
	case PANGO_ATTR_BASELINE_SHIFT:
		up = ((PangoAttrInt *)a)->value != PANGO_BASELINE_SHIFT_SUBSCRIPT && ((PangoAttrInt *)a)->value >= 0;
		break;
	case PANGO_ATTR_FONT_SCALE:
#endif
	case PANGO_ATTR_SCALE:
		return TRUE;
	case PANGO_ATTR_RISE:
		up = ((PangoAttrInt *)a)->value >= 0;
		break;
	default:
		return FALSE;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].a == a->start_index && s->r[i].b == a->end_index)
			return TRUE;
	if (s->n < MG_ARRAY_SIZE(s->r)) {
		s->r[s->n].a = a->start_index;
		s->r[s->n].b = a->end_index;
		s->r[s->n].up = up;
		s->n++;
	}
	return TRUE;
}

static void set_markup(pl_fig *f, PangoLayout *l, const char *m)
{
	PangoAttrList *attrs = NULL;
	char *text = NULL;
	if (!m || !pango_parse_markup(m, -1, 0, &attrs, &text, NULL, NULL)) {
		set_plain(l, m); /* not markup after all: shown as it is */
		return;
	}
	scripts s = {0};
	PangoAttrList *gone = pango_attr_list_filter(attrs, take_script, &s);
	if (gone)
		pango_attr_list_unref(gone);
	double size = f->text->size;
	for (size_t i = 0; i < s.n; i++) {
		PangoAttribute *sz = pango_attr_size_new_absolute((int)(size * 0.7 * PANGO_SCALE));
		PangoAttribute *rise = pango_attr_rise_new((int)(size * (s.r[i].up ? 0.42 : -0.15) * PANGO_SCALE));
		sz->start_index = rise->start_index = s.r[i].a;
		sz->end_index = rise->end_index = s.r[i].b;
		pango_attr_list_insert(attrs, sz);
		pango_attr_list_insert(attrs, rise);
	}
	pango_layout_set_text(l, text, -1);
	pango_layout_set_attributes(l, attrs);
	pango_attr_list_unref(attrs);
	g_free(text);
}

/* ---- measuring and placing ----------------------------------------------------------------- */

static double cap_height(pl_fig *f)
{
	return f->text->cap;
}

double pl_line_height(pl_fig *f)
{
	PangoLayout *l = fresh(f);
	pango_layout_set_text(l, "Hg", 2);
	PangoRectangle lr;
	pango_layout_get_extents(l, NULL, &lr);
	return lr.height / (double)PANGO_SCALE;
}

static void record(pl_fig *f, double x0, double y0, double x1, double y1)
{
	if (!f->record)
		return;
	double xs[4] = {x0, x1, x1, x0}, ys[4] = {y0, y0, y1, y1};
	pl_textbox b = {INFINITY, INFINITY, -INFINITY, -INFINITY, {0}, {0}};
	for (int i = 0; i < 4; i++) {
		cairo_user_to_device(f->cr, &xs[i], &ys[i]);
		b.qx[i] = xs[i];
		b.qy[i] = ys[i];
		b.x0 = fmin(b.x0, xs[i]);
		b.y0 = fmin(b.y0, ys[i]);
		b.x1 = fmax(b.x1, xs[i]);
		b.y1 = fmax(b.y1, ys[i]);
	}
	if (f->nboxes == f->capboxes) {
		size_t nc = f->capboxes ? 2 * f->capboxes : 64;
		pl_textbox *n = realloc(f->boxes, nc * sizeof(*n));
		if (!n)
			return;
		f->boxes = n;
		f->capboxes = nc;
	}
	f->boxes[f->nboxes++] = b;
}

/* Draw the loaded layout aligned at (x, y); returns its width. */
static double place(pl_fig *f, double x, double y, double ha, double va)
{
	PangoLayout *l = f->text->layout;
	PangoRectangle ink, lr;
	pango_layout_get_extents(l, &ink, &lr);
	double w = lr.width / (double)PANGO_SCALE, h = lr.height / (double)PANGO_SCALE;
	double base = pango_layout_get_baseline(l) / (double)PANGO_SCALE;
	double dy = va == PL_TOP ? 0 : va == PL_BOTTOM ? h : base - (1 - va) * cap_height(f);
	double lx = x - ha * w - lr.x / (double)PANGO_SCALE, ly = y - dy;
	cairo_move_to(f->cr, lx, ly);
	pango_cairo_show_layout(f->cr, l);
	cairo_new_path(f->cr);
	/* the union of the line box and the ink (accents, descenders) */
	double x0 = fmin(lr.x, ink.x) / PANGO_SCALE, x1 = fmax(lr.x + lr.width, ink.x + ink.width) / PANGO_SCALE;
	double y0 = fmin(lr.y, ink.y) / PANGO_SCALE, y1 = fmax(lr.y + lr.height, ink.y + ink.height) / PANGO_SCALE;
	record(f, lx + x0, ly + y0, lx + x1, ly + y1);
	return w;
}

static double width_of(PangoLayout *l)
{
	PangoRectangle lr;
	pango_layout_get_extents(l, NULL, &lr);
	return lr.width / (double)PANGO_SCALE;
}

/* ---- the text functions ------------------------------------------------------------------------ */

double pl_text(pl_fig *f, double x, double y, const char *s, double ha, double va)
{
	if (!s || !*s)
		return 0;
	set_plain(fresh(f), s);
	return place(f, x, y, ha, va);
}

double pl_markup(pl_fig *f, double x, double y, const char *markup, double ha, double va)
{
	if (!markup || !*markup)
		return 0;
	set_markup(f, fresh(f), markup);
	return place(f, x, y, ha, va);
}

double pl_text_width(pl_fig *f, const char *s)
{
	if (!s || !*s)
		return 0;
	PangoLayout *l = fresh(f);
	set_plain(l, s);
	return width_of(l);
}

double pl_markup_width(pl_fig *f, const char *markup)
{
	if (!markup || !*markup)
		return 0;
	PangoLayout *l = fresh(f);
	set_markup(f, l, markup);
	return width_of(l);
}

double pl_text_fit(pl_fig *f, double x, double y, const char *s, double max_w, double ha, double va, int middle)
{
	if (!s || !*s || !(max_w > 0))
		return 0;
	PangoLayout *l = fresh(f);
	set_plain(l, s);
	if (width_of(l) > max_w) {
		pango_layout_set_width(l, (int)floor(max_w * PANGO_SCALE));
		pango_layout_set_ellipsize(l, middle ? PANGO_ELLIPSIZE_MIDDLE : PANGO_ELLIPSIZE_END);
	}
	return place(f, x, y, ha, va);
}

void pl_text_up(pl_fig *f, double x, double y, const char *s, double max_len)
{
	if (!s || !*s || !(max_len > 0))
		return;
	double size = f->text->size;
	int bold = f->text->bold;
	cairo_save(f->cr);
	cairo_translate(f->cr, x, y);
	cairo_rotate(f->cr, -M_PI / 2);
	/* a long label on a short panel: smaller first (down to 3/4), cut last */
	double w = pl_text_width(f, s);
	if (w > max_len)
		pl_font(f, size / f->th.font * fmax(0.75, max_len / w), bold);
	pl_text_fit(f, 0, 0, s, max_len, 0.5, PL_BOTTOM, 0);
	cairo_restore(f->cr);
	pl_font(f, size / f->th.font, bold);
}

double pl_text_wrap(pl_fig *f, double x, double y, const char *s, double w, int max_lines)
{
	if (!s || !*s || !(w > 0))
		return 0;
	PangoLayout *l = fresh(f);
	set_plain(l, s);
	pango_layout_set_width(l, (int)floor(w * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_height(l, -(max_lines > 0 ? max_lines : 1));
	pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
	PangoRectangle lr;
	pango_layout_get_extents(l, NULL, &lr);
	place(f, x, y, 0, PL_TOP);
	return lr.height / (double)PANGO_SCALE;
}
