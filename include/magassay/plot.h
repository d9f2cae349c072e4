/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — what every figure shares (docs/reports.md#plots).
 *
 * Every figure of the suite (the fit of `analyze --plot`, stored spectra, ICP
 * windows, calibration curves, control charts, the batch chart, and the
 * figures inside the PDF reports) is drawn by one engine (plot/): cairo for
 * the drawing, Pango for the text, libpng for the PNG files. This header
 * holds the options and the provenance that every figure takes; the figures
 * themselves are in report.h. */
#ifndef MAGASSAY_PLOT_H
#define MAGASSAY_PLOT_H

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

typedef enum mg_plot_size {
	MG_PLOT_SCREEN = 0, /* 1200 × 750 px, 15 px text */
	MG_PLOT_PAGE = 1,   /* 480 × 300 pt (170 × 106 mm), 8.5 pt text, rendered at 150 dpi */
} mg_plot_size;

typedef struct mg_plot_opts {
	mg_plot_size size;
	int width_px;  /* 0 = the size's default; else the picture is scaled to this width (200 to 8000) */
	int log_y;     /* -1 = the plot kind's default (spectra: log), 0 = linear, 1 = log */
} mg_plot_opts;

/* Defaults: screen size, default axes. */
void mg_plot_opts_default(mg_plot_opts *o);

/* What the picture shows and where it comes from: the title (the sample or
 * the lot, never a file path) and subtitle are drawn at the top, the source in
 * small print at the bottom; all of them go into the PNG's text chunks. Any
 * field may be NULL. */
typedef struct mg_plot_meta {
	const char *title;
	const char *subtitle;
	const char *sample_id;
	const char *batch_id;
	const char *calibration; /* "quant/dp5-sn1234 v3 (#7)" */
	const char *source;      /* e.g. "measurement 3f9c2a1b-...", or the spectrum's file */
} mg_plot_meta;

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
