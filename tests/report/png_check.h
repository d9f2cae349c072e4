/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Decode a PNG with libpng (every row) and collect its text chunks (tEXt,
 * zTXt and iTXt), for the report tests. Header-only. */
#ifndef MG_TEST_PNG_CHECK_H
#define MG_TEST_PNG_CHECK_H

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PNGC_MAX_TEXT 16

typedef struct pngc {
	int ok;
	unsigned width, height;
	int ntext;
	char key[PNGC_MAX_TEXT][80];
	char text[PNGC_MAX_TEXT][1024];
	double ink;    /* fraction of pixels that are not white */
	int colours;   /* distinct non-grey colours seen (capped at 64) */
} pngc;

static inline int pngc_read(const char *path, pngc *out)
{
	memset(out, 0, sizeof(*out));
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	png_bytep row = NULL;
	if (!png || !info) {
		fclose(fp);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, NULL);
		fclose(fp);
		free(row);
		return -1;
	}
	png_init_io(png, fp);
	png_read_info(png, info);
	out->width = png_get_image_width(png, info);
	out->height = png_get_image_height(png, info);
	png_set_strip_16(png);
	png_set_palette_to_rgb(png);
	png_set_gray_to_rgb(png);
	png_set_strip_alpha(png);
	png_read_update_info(png, info);
	size_t rb = png_get_rowbytes(png, info);
	row = malloc(rb);
	unsigned long ink = 0;
	unsigned cols[64];
	int ncol = 0;
	for (unsigned y = 0; y < out->height; y++) {
		png_read_row(png, row, NULL);
		for (unsigned x = 0; x < out->width; x++) {
			unsigned r = row[3 * x], g = row[3 * x + 1], b = row[3 * x + 2];
			if (r < 250 || g < 250 || b < 250)
				ink++;
			int grey = abs((int)r - (int)g) < 12 && abs((int)g - (int)b) < 12;
			if (!grey && ncol < 64) {
				unsigned c = (r >> 4) << 8 | (g >> 4) << 4 | (b >> 4);
				int seen = 0;
				for (int k = 0; k < ncol; k++)
					if (cols[k] == c)
						seen = 1;
				if (!seen)
					cols[ncol++] = c;
			}
		}
	}
	png_read_end(png, info);
	png_textp t;
	int nt = 0;
	if (png_get_text(png, info, &t, &nt) > 0)
		for (int i = 0; i < nt && out->ntext < PNGC_MAX_TEXT; i++) {
			snprintf(out->key[out->ntext], sizeof(out->key[0]), "%s", t[i].key);
			snprintf(out->text[out->ntext], sizeof(out->text[0]), "%s", t[i].text ? t[i].text : "");
			out->ntext++;
		}
	png_destroy_read_struct(&png, &info, NULL);
	free(row);
	fclose(fp);
	out->ink = (double)ink / ((double)out->width * out->height);
	out->colours = ncol;
	out->ok = 1;
	return 0;
}

static inline const char *pngc_text(const pngc *p, const char *key)
{
	for (int i = 0; i < p->ntext; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->text[i];
	return NULL;
}

#endif
