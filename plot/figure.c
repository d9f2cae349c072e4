/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A figure: its own canvas (an RGB image at the size asked, written as PNG)
 * or a box of a caller's context (a PDF page); the header (title, subtitle)
 * and the small print at the bottom take their room first, the panels get
 * what is left. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"

void mg_plot_opts_default(mg_plot_opts *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	o->size = MG_PLOT_SCREEN;
	o->log_y = -1;
}

static void frame(pl_fig *f, double x, double y, double w, double h)
{
	f->x = x;
	f->y = y;
	f->w = w;
	f->h = h;
	f->top = y;
	f->bottom = y + h;
}

int pl_fig_canvas(pl_fig *f, const mg_plot_opts *o, double h_units)
{
	mg_plot_opts def;
	if (!o) {
		mg_plot_opts_default(&def);
		o = &def;
	}
	memset(f, 0, sizeof(*f));
	f->size = o->size;
	pl_theme_for(o->size, &f->th);
	/* user units: px on screen, pt on a page (rendered at 150 dpi) */
	double w = o->size == MG_PLOT_PAGE ? 480 : 1200, h = o->size == MG_PLOT_PAGE ? 300 : 750;
	double scale = o->size == MG_PLOT_PAGE ? 150.0 / 72.0 : 1;
	if (h_units > 0)
		h = h_units;
	if (o->width_px > 0) {
		if (o->width_px < 200 || o->width_px > 8000)
			return mg_fail(MG_ERR_ARG, PL_DOM, "plot width %d px: use 200 to 8000", o->width_px);
		scale = o->width_px / w;
	}
	int wpx = (int)ceil(w * scale - 1e-6), hpx = (int)ceil(h * scale - 1e-6);
	if (hpx > 20000)
		return mg_fail(MG_ERR_ARG, PL_DOM, "plot too tall (%d px)", hpx);
	f->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, wpx, hpx);
	if (cairo_surface_status(f->surf) != CAIRO_STATUS_SUCCESS) {
		pl_fig_end(f);
		return mg_fail(MG_ERR_NOMEM, PL_DOM, "plot: cannot create a %d x %d image", wpx, hpx);
	}
	f->cr = cairo_create(f->surf);
	cairo_scale(f->cr, scale, scale);
	cairo_set_source_rgb(f->cr, 1, 1, 1);
	cairo_paint(f->cr);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	int e = pl_text_init(f);
	if (e != MG_OK) {
		pl_fig_end(f);
		return e;
	}
	frame(f, f->th.pad, f->th.pad * 0.5, w - 2 * f->th.pad, h - f->th.pad);
	return MG_OK;
}

int pl_fig_in(pl_fig *f, cairo_t *cr, mg_plot_size size, double x, double y, double w, double h)
{
	memset(f, 0, sizeof(*f));
	f->size = size;
	pl_theme_for(size, &f->th);
	f->cr = cr;
	cairo_save(cr);
	int e = pl_text_init(f);
	if (e != MG_OK) {
		cairo_restore(cr);
		f->cr = NULL;
		return e;
	}
	frame(f, x, y, w, h);
	return MG_OK;
}

void pl_fig_end(pl_fig *f)
{
	pl_text_free(f);
	if (f->surf) {
		if (f->cr)
			cairo_destroy(f->cr);
		cairo_surface_destroy(f->surf);
	} else if (f->cr) {
		pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
		cairo_restore(f->cr);
	}
	free(f->boxes);
	f->boxes = NULL;
	f->nboxes = f->capboxes = 0;
	f->cr = NULL;
	f->surf = NULL;
}

int pl_fig_write_png(pl_fig *f, const char *kind, const mg_plot_meta *meta, const char *path)
{
	if (!f->surf)
		return mg_fail(MG_ERR_ARG, PL_DOM, "plot: the figure has no canvas of its own");
	cairo_status_t cst = cairo_status(f->cr);
	if (cst != CAIRO_STATUS_SUCCESS)
		return mg_fail(MG_ERR_INTERNAL, PL_DOM, "plot: cairo: %s", cairo_status_to_string(cst));
	return pl_png_write(f->surf, path, kind, meta);
}

void pl_fig_record_text(pl_fig *f, int on)
{
	f->record = on;
}

/* ---- header and small print ------------------------------------------------------------ */

void pl_fig_space(pl_fig *f, double h)
{
	f->top += h;
}

void pl_fig_title(pl_fig *f, const char *title, const char *subtitle)
{
	if (title && *title) {
		pl_font(f, 1.15, 1);
		pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
		f->top += pl_text_wrap(f, f->x, f->top, title, f->w, 2);
	}
	if (subtitle && *subtitle) {
		pl_font(f, 0.85, 0);
		pl_set(f->cr, pl_grey);
		f->top += pl_text_wrap(f, f->x, f->top + f->th.pad * 0.1, subtitle, f->w, 2) + f->th.pad * 0.1;
	}
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
}

void pl_fig_footnote(pl_fig *f, const char *text)
{
	if (!text || !*text)
		return;
	pl_font(f, 0.75, 0);
	double lh = pl_line_height(f);
	pl_set(f->cr, pl_grey);
	/* a long path loses its middle, keeping the folder's start and the file name */
	pl_text_fit(f, f->x, f->bottom - lh, text, f->w, 0, PL_TOP, 1);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	f->bottom -= lh + f->th.pad * 0.3;
}

void pl_fig_header(pl_fig *f, const mg_plot_meta *meta)
{
	if (!meta)
		return;
	pl_fig_title(f, meta->title, meta->subtitle);
	if (meta->source && *meta->source) {
		char b[1200];
		snprintf(b, sizeof(b), "Source: %s", meta->source);
		pl_fig_footnote(f, b);
	}
}
