/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The look every figure shares: the Okabe–Ito palette (safe for every common
 * colour-vision deficiency), series told apart by dash once the colours
 * repeat, marker shapes, the two sizes (screen and report page), and the
 * grid of small panels. */
#include <math.h>

#include "engine.h"
#include "internal.h"

const pl_rgb pl_okabe_ito[PL_NCOLOURS] = {
	[PL_BLACK] = {0, 0, 0},
	[PL_ORANGE] = {0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0},
	[PL_SKY] = {0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0},
	[PL_GREEN] = {0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0},
	[PL_YELLOW] = {0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0},
	[PL_BLUE] = {0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0},
	[PL_VERMILLION] = {0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0},
	[PL_PURPLE] = {0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0},
};
const pl_rgb pl_grey = {0.45, 0.45, 0.45};
const pl_rgb pl_light_grey = {0.88, 0.88, 0.88};

/* Strong colours first; yellow last (weak on white). */
static const int series_order[] = {PL_ORANGE, PL_SKY, PL_GREEN, PL_PURPLE, PL_BLUE, PL_YELLOW};

pl_rgb pl_series_colour(size_t i)
{
	return pl_okabe_ito[series_order[i % MG_ARRAY_SIZE(series_order)]];
}

int pl_series_dash(size_t i)
{
	return (int)((i / MG_ARRAY_SIZE(series_order)) % 4);
}

pl_rgb pl_ink(pl_rgb c)
{
	double lum = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
	return lum > 0.7 ? pl_okabe_ito[PL_BLACK] : c;
}

void pl_set(cairo_t *cr, pl_rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

void pl_set_dash(cairo_t *cr, int dash, double width)
{
	double u = width < 0.5 ? 0.5 : width;
	double d1[] = {5 * u, 3 * u}, d2[] = {1.2 * u, 2.2 * u}, d3[] = {6 * u, 2.5 * u, 1.2 * u, 2.5 * u};
	switch (dash) {
	case PL_DASHED:
		cairo_set_dash(cr, d1, 2, 0);
		break;
	case PL_DOTTED:
		cairo_set_dash(cr, d2, 2, 0);
		break;
	case PL_DASHDOT:
		cairo_set_dash(cr, d3, 4, 0);
		break;
	default:
		cairo_set_dash(cr, NULL, 0, 0);
	}
}

void pl_marker(cairo_t *cr, double x, double y, double r, int shape, pl_rgb c, int filled)
{
	switch (shape) {
	case PL_SQUARE:
		cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r);
		break;
	case PL_DIAMOND:
		cairo_move_to(cr, x, y - r * 1.2);
		cairo_line_to(cr, x + r * 1.2, y);
		cairo_line_to(cr, x, y + r * 1.2);
		cairo_line_to(cr, x - r * 1.2, y);
		cairo_close_path(cr);
		break;
	case PL_TRIANGLE:
		cairo_move_to(cr, x, y - r * 1.2);
		cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
		cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
		cairo_close_path(cr);
		break;
	default:
		cairo_new_sub_path(cr);
		cairo_arc(cr, x, y, r, 0, 2 * M_PI);
	}
	pl_set(cr, c);
	cairo_set_dash(cr, NULL, 0, 0);
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

void pl_theme_for(mg_plot_size size, pl_theme *th)
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

void pl_grid(size_t n, double w, double h, size_t *cols, size_t *rows)
{
	size_t c = n <= 1 ? 1 : n == 3 && w > 1.3 * h ? 3 : n <= 4 ? 2 : 3;
	if (w < h && c > 2)
		c = 2;
	*cols = c;
	*rows = (n + c - 1) / c;
}
