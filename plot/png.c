/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PNG with text chunks, written by libpng (not cairo's writer) so that the
 * file says what it shows and where it comes from; encoded in memory and
 * written atomically. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <png.h>

#include "engine.h"
#include "internal.h"
#include "magassay/buf.h"
#include "magassay/fileio.h"
#include "magassay/version.h"

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
	mg_fail(MG_ERR_INTERNAL, PL_DOM, "libpng: %s", msg);
	png_longjmp(png, 1);
}

static void png_warn_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	mg_dbg(PL_DOM, "libpng: %s", msg);
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

/* ISO 8601 UTC with milliseconds. */
static void now_utc(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int pl_png_write(cairo_surface_t *surf, const char *path, const char *kind, const mg_plot_meta *meta)
{
	if (!surf || !path || !*path)
		return mg_fail(MG_ERR_ARG, PL_DOM, "PNG: no image or no path");
	cairo_surface_flush(surf);
	png_job j;
	memset(&j, 0, sizeof(j));
	j.w = cairo_image_surface_get_width(surf);
	j.h = cairo_image_surface_get_height(surf);
	j.stride = cairo_image_surface_get_stride(surf);
	j.data = cairo_image_surface_get_data(surf);
	if (!j.data || j.w <= 0 || j.h <= 0)
		return mg_fail(MG_ERR_ARG, PL_DOM, "PNG: not an image surface");

	char software[64], created[64];
	snprintf(software, sizeof(software), "magassay %s", MAGASSAY_VERSION_STRING);
	now_utc(created, sizeof(created));
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
	int rc = !j.row || !j.png || !j.info ? mg_fail(MG_ERR_NOMEM, PL_DOM, "PNG: out of memory") : encode(&j);
	png_destroy_write_struct(j.png ? &j.png : NULL, j.info ? &j.info : NULL);
	free(j.row);
	if (rc == MG_OK)
		rc = mg_buf_status(&j.b);
	if (rc == MG_OK)
		rc = mg_file_write_atomic(path, j.b.data, j.b.len);
	mg_buf_free(&j.b);
	return rc;
}
