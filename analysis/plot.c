/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The fit as a picture: log-scale spectrum, fit, each family's contribution
 * on the background, the background, element markers, and a residual panel,
 * drawn with cairo on an image surface and written as PNG with libpng (so
 * the file carries tEXt chunks: sample id, calibration, software), through
 * an atomic write. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <png.h>

#include "xrf/an.h"
#include "internal.h"
#include "magassay/buf.h"
#include "magassay/fileio.h"
#include "magassay/version.h"

typedef struct frame {
	double x0, y0, w, h;     /* panel in pixels */
	double emin, emax;       /* x axis, keV */
	double lmin, lmax;       /* log10 counts (top) or residual range (bottom) */
} frame;

static double px(const frame *f, double e)
{
	return f->x0 + (e - f->emin) / (f->emax - f->emin) * f->w;
}

static double py_log(const frame *f, double v)
{
	double l = log10(v > 0.5 ? v : 0.5);
	if (l < f->lmin)
		l = f->lmin;
	if (l > f->lmax)
		l = f->lmax;
	return f->y0 + f->h - (l - f->lmin) / (f->lmax - f->lmin) * f->h;
}

static double py_lin(const frame *f, double v)
{
	if (v < f->lmin)
		v = f->lmin;
	if (v > f->lmax)
		v = f->lmax;
	return f->y0 + f->h - (v - f->lmin) / (f->lmax - f->lmin) * f->h;
}

static const double palette[][3] = {
	{0.00, 0.45, 0.70}, {0.90, 0.60, 0.00}, {0.00, 0.62, 0.45}, {0.80, 0.40, 0.00},
	{0.35, 0.70, 0.90}, {0.80, 0.47, 0.65}, {0.60, 0.30, 0.80}, {0.40, 0.55, 0.10},
	{0.55, 0.35, 0.25}, {0.20, 0.20, 0.60},
};

static void text(cairo_t *cr, double x, double y, const char *s, double align)
{
	cairo_text_extents_t ex;
	cairo_text_extents(cr, s, &ex);
	cairo_move_to(cr, x - align * ex.width, y);
	cairo_show_text(cr, s);
}

static void axes_x(cairo_t *cr, const frame *f, int labels)
{
	double span = f->emax - f->emin;
	double step = span > 30 ? 5 : span > 12 ? 2 : span > 5 ? 1 : 0.5;
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 1);
	char buf[32];
	for (double e = ceil(f->emin / step) * step; e <= f->emax + 1e-9; e += step) {
		double x = px(f, e);
		cairo_move_to(cr, x, f->y0 + f->h);
		cairo_line_to(cr, x, f->y0 + f->h + 5);
		cairo_stroke(cr);
		if (labels) {
			snprintf(buf, sizeof(buf), "%g", e);
			text(cr, x, f->y0 + f->h + 18, buf, 0.5);
		}
	}
}

/* Write ARGB32 surface rows to PNG in memory with text chunks. */
typedef struct png_mem {
	mg_buf *b;
} png_mem;

static void png_write_cb(png_structp png, png_bytep data, png_size_t len)
{
	png_mem *m = png_get_io_ptr(png);
	mg_buf_append(m->b, data, len);
}

static void png_flush_cb(png_structp png)
{
	(void)png;
}

static int write_png(cairo_surface_t *surf, const char *path, const char *sample,
                     const char *calib)
{
	int w = cairo_image_surface_get_width(surf), h = cairo_image_surface_get_height(surf);
	int stride = cairo_image_surface_get_stride(surf);
	cairo_surface_flush(surf);
	const unsigned char *data = cairo_image_surface_get_data(surf);
	mg_buf b;
	mg_buf_init(&b);
	png_mem mem = {&b};
	unsigned char *row = malloc((size_t)w * 3);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!row || !png || !info) {
		free(row);
		png_destroy_write_struct(&png, info ? &info : NULL);
		mg_buf_free(&b);
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "plot: out of memory");
	}
	if (setjmp(png_jmpbuf(png))) {
		free(row);
		png_destroy_write_struct(&png, &info);
		mg_buf_free(&b);
		return mg_fail(MG_ERR_INTERNAL, AN_DOM, "plot: libpng failed");
	}
	png_set_write_fn(png, &mem, png_write_cb, png_flush_cb);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	char software[64];
	snprintf(software, sizeof(software), "magassay %s", MAGASSAY_VERSION_STRING);
	png_text t[3];
	memset(t, 0, sizeof(t));
	t[0].compression = t[1].compression = t[2].compression = PNG_TEXT_COMPRESSION_NONE;
	t[0].key = (png_charp) "Sample ID";
	t[0].text = (png_charp)(sample ? sample : "");
	t[1].key = (png_charp) "Calibration";
	t[1].text = (png_charp)calib;
	t[2].key = (png_charp) "Software";
	t[2].text = software;
	png_set_text(png, info, t, 3);
	png_write_info(png, info);
	for (int y = 0; y < h; y++) {
		const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			uint32_t v = src[x];
			row[3 * x] = (unsigned char)(v >> 16);
			row[3 * x + 1] = (unsigned char)(v >> 8);
			row[3 * x + 2] = (unsigned char)v;
		}
		png_write_row(png, row);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	int rc = mg_buf_status(&b);
	if (rc == 0)
		rc = mg_file_write_atomic(path, b.data, b.len);
	mg_buf_free(&b);
	return rc;
}

int mg_analysis_plot_png(const mg_analysis_plan *p, const double *counts, size_t nchan,
                         const mg_analysis_result *res, const char *sample_id, const char *title,
                         int width, int height, const char *path)
{
	if (!p || !counts || !res || !path || nchan != p->cfg.nchan || res->ncoef != p->design.p)
		return mg_fail(MG_ERR_ARG, AN_DOM, "plot: bad arguments");
	if (width < 320)
		width = 1200;
	if (height < 240)
		height = 800;
	cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "plot: cairo surface");
	}
	cairo_t *cr = cairo_create(surf);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 12);

	const size_t n = p->n, w0 = p->w0;
	double ml = 70, mr = 20, mt = 40, gap = 30, mb = 45;
	double ph = (height - mt - mb - gap) * 0.75, rh = (height - mt - mb - gap) * 0.25;
	frame top = {ml, mt, width - ml - mr, ph, p->edges[0], p->edges[n], 0, 1};
	frame bot = {ml, mt + ph + gap, width - ml - mr, rh, p->edges[0], p->edges[n], -5, 5};
	double ymax = 1;
	for (size_t i = 0; i < n; i++) {
		if (counts[w0 + i] > ymax)
			ymax = counts[w0 + i];
		if (res->model[w0 + i] > ymax)
			ymax = res->model[w0 + i];
	}
	top.lmin = -0.2;
	top.lmax = log10(ymax) + 0.3;

	/* frames */
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, top.x0, top.y0, top.w, top.h);
	cairo_rectangle(cr, bot.x0, bot.y0, bot.w, bot.h);
	cairo_stroke(cr);
	axes_x(cr, &top, 0);
	axes_x(cr, &bot, 1);
	char buf[256];
	for (int d = 0; d <= (int)top.lmax; d++) {
		double y = py_log(&top, pow(10, d));
		cairo_move_to(cr, top.x0 - 5, y);
		cairo_line_to(cr, top.x0, y);
		cairo_stroke(cr);
		snprintf(buf, sizeof(buf), "1e%d", d);
		text(cr, top.x0 - 8, y + 4, buf, 1.0);
	}
	for (int r = -4; r <= 4; r += 2) {
		double y = py_lin(&bot, r);
		snprintf(buf, sizeof(buf), "%d", r);
		text(cr, bot.x0 - 8, y + 4, buf, 1.0);
	}
	text(cr, top.x0 + top.w / 2, height - 8, "energy (keV)", 0.5);
	text(cr, 8, top.y0 - 8, "counts", 0);
	text(cr, 8, bot.y0 - 6, "(y - fit)/sqrt(fit)", 0);
	snprintf(buf, sizeof(buf), "%s%s%s   chi2_red %.2f", sample_id ? sample_id : "",
	         sample_id && title ? " - " : "", title ? title : "", res->chi2_reduced);
	cairo_set_font_size(cr, 14);
	text(cr, ml, 24, buf, 0);
	cairo_set_font_size(cr, 11);

	/* clip to the top panel */
	cairo_save(cr);
	cairo_rectangle(cr, top.x0, top.y0, top.w, top.h);
	cairo_clip(cr);
	/* data */
	cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
	for (size_t i = 0; i < n; i++) {
		double x = px(&top, p->ecent[i]), y = py_log(&top, counts[w0 + i]);
		cairo_rectangle(cr, x - 1, y - 1, 2, 2);
	}
	cairo_fill(cr);
	/* background */
	cairo_set_source_rgb(cr, 0.2, 0.4, 0.9);
	cairo_set_line_width(cr, 1.2);
	double dash[] = {5, 3};
	cairo_set_dash(cr, dash, 2, 0);
	for (size_t i = 0; i < n; i++) {
		double x = px(&top, p->ecent[i]), y = py_log(&top, res->background[w0 + i]);
		if (i == 0)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
	/* each family on the background */
	int colour = 0;
	for (size_t g = 0; g < p->ngroup; g++) {
		const an_group *gr = &p->groups[g];
		double tot = 0;
		for (size_t u = gr->u0; u < gr->u0 + gr->nu; u++)
			tot += res->coef[u];
		if (gr->kind == MG_FAMILY_PILEUP || !(tot > 0))
			continue;
		size_t lo = n, hi = 0;
		for (size_t u = gr->u0; u < gr->u0 + gr->nu; u++) {
			if (p->design.lo[u] < lo)
				lo = p->design.lo[u];
			if (p->design.hi[u] > hi)
				hi = p->design.hi[u];
		}
		const double *rgb = palette[colour++ % (int)MG_ARRAY_SIZE(palette)];
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		cairo_set_line_width(cr, 1.0);
		int pen = 0;
		for (size_t i = lo; i < hi; i++) {
			double v = 0;
			for (size_t u = gr->u0; u < gr->u0 + gr->nu; u++)
				v += res->coef[u] * p->design.cols[u][i];
			if (v < 0.05 * sqrt(res->background[w0 + i] + 1)) {
				pen = 0;
				continue;
			}
			double x = px(&top, p->ecent[i]), y = py_log(&top, v + res->background[w0 + i]);
			if (!pen)
				cairo_move_to(cr, x, y);
			else
				cairo_line_to(cr, x, y);
			pen = 1;
		}
		cairo_stroke(cr);
		/* marker */
		double e = gr->e_main;
		if (gr->kind == MG_FAMILY_ELEMENT && e > top.emin && e < top.emax) {
			double x = px(&top, e);
			size_t ci = 0;
			while (ci + 1 < n && p->ecent[ci] < e)
				ci++;
			double yt = py_log(&top, res->model[w0 + ci]) - 8;
			cairo_move_to(cr, x, yt);
			cairo_line_to(cr, x, yt - 14);
			cairo_stroke(cr);
			snprintf(buf, sizeof(buf), "%s %s", gr->element, gr->family);
			text(cr, x, yt - 18, buf, 0.5);
		}
	}
	/* fit */
	cairo_set_source_rgb(cr, 0.85, 0.1, 0.1);
	cairo_set_line_width(cr, 1.4);
	for (size_t i = 0; i < n; i++) {
		double x = px(&top, p->ecent[i]), y = py_log(&top, res->model[w0 + i]);
		if (i == 0)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_stroke(cr);
	cairo_restore(cr);

	/* residual panel */
	cairo_save(cr);
	cairo_rectangle(cr, bot.x0, bot.y0, bot.w, bot.h);
	cairo_clip(cr);
	cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
	cairo_set_line_width(cr, 0.8);
	for (int r = -3; r <= 3; r += 3) {
		cairo_move_to(cr, bot.x0, py_lin(&bot, r));
		cairo_line_to(cr, bot.x0 + bot.w, py_lin(&bot, r));
	}
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_set_line_width(cr, 1.0);
	for (size_t i = 0; i < n; i++) {
		double m = res->model[w0 + i];
		double r = (counts[w0 + i] - m) / sqrt(m > 1 ? m : 1);
		double x = px(&bot, p->ecent[i]), y = py_lin(&bot, r);
		if (i == 0)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_stroke(cr);
	cairo_restore(cr);

	cairo_status_t cst = cairo_status(cr);
	cairo_destroy(cr);
	if (cst != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surf);
		return mg_fail(MG_ERR_INTERNAL, AN_DOM, "plot: cairo: %s", cairo_status_to_string(cst));
	}
	char calib[256];
	snprintf(calib, sizeof(calib),
	         "offset_kev=%.6f gain_kev=%.8f quad_kev=%.3e noise_kev=%.5f fano=%.5f",
	         res->cal.offset_kev, res->cal.gain_kev, res->cal.quad_kev, res->noise_kev, res->fano);
	int rc = write_png(surf, path, sample_id, calib);
	cairo_surface_destroy(surf);
	return rc;
}
