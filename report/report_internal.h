/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The report module's private parts: the plotting layer on cairo (plot_png.c),
 * the plot kinds drawn into any cairo context (plot_kinds.c, used by the PNG
 * writers and the PDF reports), and the report model read from the store
 * (model.c). */
#ifndef MAGASSAY_REPORT_INTERNAL_H
#define MAGASSAY_REPORT_INTERNAL_H

#include <cairo.h>
#include <jansson.h>
#include <stddef.h>

#include "magassay/qc.h"
#include "magassay/report.h"
#include "magassay/store.h"

#define RP_DOM "report"
#define RP_QC_DOM "qc"

/* ---- colours: Okabe & Ito (2008), "Color Universal Design" ---------------- */

typedef struct rp_rgb {
	double r, g, b;
} rp_rgb;

enum {
	RP_BLACK,
	RP_ORANGE,
	RP_SKY,
	RP_GREEN,
	RP_YELLOW,
	RP_BLUE,
	RP_VERMILLION,
	RP_PURPLE,
	RP_NCOLOURS
};
extern const rp_rgb rp_okabe_ito[RP_NCOLOURS];
/* Colours for a sequence of series (families, elements): skips black and the
 * pale yellow; i-th entry, cycling. */
rp_rgb rp_series_colour(size_t i);
/* Dash pattern index for the i-th series once the colours cycle (0 = solid). */
int rp_series_dash(size_t i);
extern const rp_rgb rp_grey, rp_light_grey;

/* ---- the plotting layer ------------------------------------------------------ */

/* Sizes in user units (px for the screen, pt for a page). */
typedef struct rp_theme {
	double font;   /* base text size */
	double line;   /* base line width */
	double pad;    /* spacing unit */
} rp_theme;

void rp_theme_for(mg_plot_size size, rp_theme *th);

typedef struct rp_axis {
	double min, max;
	int log;             /* log10 axis (min, max > 0) */
	const char *label;   /* with its unit: "Energy (keV)" */
} rp_axis;

typedef struct rp_panel {
	double x0, y0, w, h; /* the plot area */
	rp_axis x, y;
} rp_panel;

/* Data → user coordinates (clamped far outside so cairo never sees infinities). */
double rp_px(const rp_panel *p, double x);
double rp_py(const rp_panel *p, double y);

/* Text with alignment: ha 0 = left, 0.5 = centre, 1 = right; va 0 = top of
 * the capitals at y, 0.5 = centred, 1 = baseline at y. Returns the width. */
double rp_text(cairo_t *cr, double x, double y, const char *s, double ha, double va);
double rp_text_width(cairo_t *cr, const char *s);
void rp_font(cairo_t *cr, double size, int bold);
void rp_set(cairo_t *cr, rp_rgb c);
/* Text cut with "…" to fit max_w. Returns the width drawn. */
double rp_text_fit(cairo_t *cr, double x, double y, const char *s, double max_w, double ha, double va);

/* Place the plot area inside the box (bx, by, bw, bh), leaving room for the
 * tick labels and axis labels (x tick labels only when xlabels). p->x and
 * p->y must be set (ranges, log, labels). */
void rp_panel_layout(cairo_t *cr, const rp_theme *th, rp_panel *p, double bx, double by, double bw, double bh,
                     int xlabels);
/* Same, with the left edge of the plot area imposed (to align stacked panels). */
void rp_panel_layout_left(cairo_t *cr, const rp_theme *th, rp_panel *p, double left, double bx, double by,
                          double bw, double bh, int xlabels);
/* The left margin (from the box edge) rp_panel_layout would use for p->y. */
double rp_panel_left_margin(cairo_t *cr, const rp_theme *th, const rp_panel *p);
/* Frame, grid, ticks, tick labels and axis labels. */
void rp_panel_axes(cairo_t *cr, const rp_theme *th, const rp_panel *p, int xlabels);
/* Clip to the plot area (cairo_save first; cairo_restore after). */
void rp_panel_clip(cairo_t *cr, const rp_panel *p);
/* A polyline through (x[i], y[i]); breaks at non-finite values (and, on a log
 * axis, at values <= 0 unless floor > 0, which replaces them). dash: 0 solid,
 * 1 dashed, 2 dotted, 3 dash-dot. */
void rp_polyline(cairo_t *cr, const rp_panel *p, const double *x, const double *y, size_t n, rp_rgb c,
                 double width, int dash, double floor);
/* Horizontal line across the panel at data y. */
void rp_hline(cairo_t *cr, const rp_panel *p, double y, rp_rgb c, double width, int dash);
void rp_set_dash(cairo_t *cr, int dash, double width);
/* Marker shapes. */
enum { RP_CIRCLE, RP_SQUARE, RP_DIAMOND, RP_TRIANGLE };
void rp_marker(cairo_t *cr, double x, double y, double r, int shape, rp_rgb fill, int filled);
/* Nice tick positions for [min, max]: fills up to max_ticks values, returns
 * the count and the step (linear axes). */
size_t rp_ticks(double min, double max, int target, double *out, size_t max_ticks, double *step);
/* Format a tick value with the decimals the step needs. */
void rp_tick_label(char *buf, size_t cap, double v, double step);

typedef struct rp_legend_item {
	const char *label;
	rp_rgb c;
	int dash;        /* -1: no line */
	int marker;      /* -1: no marker, else RP_CIRCLE... */
	double width;
} rp_legend_item;

/* A legend laid out in rows inside width w from (x, y) (top-left); returns
 * its height. draw = 0 only measures. */
double rp_legend(cairo_t *cr, const rp_theme *th, double x, double y, double w, const rp_legend_item *it,
                 size_t n, int draw);
/* Title (bold) and subtitle at the top of a box; returns the height used. */
double rp_title(cairo_t *cr, const rp_theme *th, double x, double y, double w, const char *title,
                const char *subtitle);

/* A PNG-backed canvas for a plot of the given size option. */
typedef struct rp_canvas {
	cairo_surface_t *surf;
	cairo_t *cr;
	double w, h;        /* user units */
	rp_theme th;
} rp_canvas;

/* h_units 0 = the size's default height; else user units (stacked charts grow). */
int rp_canvas_new(const mg_plot_opts *o, double h_units, rp_canvas *c);
/* Write the canvas as PNG with text chunks (kind: "xrf-spectrum", ...) and free it. */
int rp_canvas_finish(rp_canvas *c, const char *kind, const mg_plot_meta *meta, const char *path);
void rp_canvas_free(rp_canvas *c);

/* PNG with text chunks from an RGB24/ARGB32 image surface, written atomically. */
int rp_png_write(cairo_surface_t *surf, const char *path, const char *kind, const mg_plot_meta *meta);

/* ---- the plot kinds, drawn into a box of any cairo context ------------------ */

int rp_draw_xrf(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h, const mg_plot_xrf *d,
                const mg_plot_meta *meta, int log_y);
int rp_draw_icp(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                const mg_plot_icp_window *win, size_t nwin, const mg_plot_meta *meta);
int rp_draw_calibration(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                        const mg_plot_calcurve *c, size_t n, const mg_plot_meta *meta);
int rp_draw_control(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                    const mg_plot_control *c, const mg_plot_meta *meta);

/* The batch chart: elements × samples, XRF and ICP values with 2u bars. */
typedef struct rp_batch_point {
	const char *sample;
	const char *element;
	int icp;             /* 0 XRF, 1 ICP */
	double wt, u;        /* wt%, standard uncertainty (NAN when unknown) */
} rp_batch_point;

int rp_draw_batch(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                  const rp_batch_point *pts, size_t n, const mg_plot_meta *meta);

/* ---- the report model (model.c) ---------------------------------------------- */

typedef struct rp_comp {
	char *element;
	double wt, sigma, lod;  /* wt%; NAN when unknown */
	char *flags;            /* "below-lod, outside-range" or NULL */
} rp_comp;

typedef struct rp_family {
	char *element, *family, *status;
	double area, sigma, cps, energy_kev;
} rp_family;

typedef struct rp_calref {
	long long id;           /* 0 when only described */
	char *text;             /* "quant/dp5-sn1234 v3 (#7)" */
} rp_calref;

typedef struct rp_result {
	mg_measurement m;
	int has_result;
	mg_result r;
	json_t *payload;        /* parsed payload or NULL */
	char *method;           /* "ED-XRF, fundamental parameters" */
	size_t ncomp;
	rp_comp *comp;
	size_t nfam;
	rp_family *fam;
	size_t ncal;
	rp_calref *cal;
	size_t nflags;
	char **flags;           /* result-level flags and warnings */
	double total, tree, ndpr, dytb; /* NAN when unknown */
	char *grade;
	char *boron;            /* how boron is handled */
} rp_result;

typedef struct rp_sample {
	mg_sample s;
	size_t nres;
	rp_result *res;         /* ICP first, then XRF; by measurement id */
} rp_sample;

typedef struct rp_batch {
	mg_batch b;
	size_t nsamples;
	rp_sample *samples;
	mg_qc_status *qc;
} rp_batch;

int rp_sample_load(mg_store *st, const char *sample_id, rp_sample *out);
void rp_sample_clear(rp_sample *s);
int rp_batch_load(mg_store *st, const char *batch_id, const mg_qc_options *qo, rp_batch *out);
void rp_batch_clear(rp_batch *b);
/* Fill a result from a measurement (latest result version). */
int rp_result_load(mg_store *st, const mg_measurement *m, rp_result *out);
void rp_result_clear(rp_result *r);
/* The composition entry of an element, or NULL. */
const rp_comp *rp_result_comp(const rp_result *r, const char *element);

/* Tolerant JSON readers. */
double rp_jnum(const json_t *o, const char *const *keys);   /* first numeric key, else NAN */
const char *rp_jstr(const json_t *o, const char *const *keys);
/* A flags value (string or array of strings) joined with ", " (malloc'ed or NULL). */
char *rp_jflags(const json_t *v);

/* Per-element means of the latest results of a batch's measurements, per
 * method: for each sample, the mean over its measurements of that kind; used
 * for the XRF-ICP bias. */
typedef struct rp_pair {
	char *sample;
	char element[8];
	double xrf, icp, icp_lod;
} rp_pair;
int rp_batch_pairs(mg_store *st, const char *batch_id, rp_pair **out, size_t *n);
void rp_pairs_free(rp_pair *p, size_t n);

/* The XRF plot data of a measurement: the spectrum, and the fit re-computed
 * when its result allows (xrf_fit.c). */
typedef struct rp_xrf {
	mg_plot_xrf d;
	double *energy, *counts, *fit, *background; /* owned arrays behind d */
	double **famy;
	mg_plot_curve *fam;
	mg_plot_marker *mk;
	char **labels;
	size_t nlabels;
	char calib[160];
	int fitted;
} rp_xrf;
int rp_xrf_load(mg_store *st, const rp_result *r, rp_xrf *out);
void rp_xrf_clear(rp_xrf *x);

/* ICP windows carried by a result payload (icp_windows in model.c). */
typedef struct rp_icp {
	size_t n;
	mg_plot_icp_window *w;
	double **arrays;
	size_t narrays;
	char **labels;
	size_t nlabels;
} rp_icp;
int rp_icp_from_payload(const json_t *payload, rp_icp *out);
/* The windows of an ICP measurement's file (format "magassay-icp-measurement",
 * first replicate), each line fitted with the ICP analysis' line fit (public
 * API) for the drawn profile and background; else the payload's windows. */
int rp_icp_load(mg_store *st, const rp_result *r, rp_icp *out);
void rp_icp_clear(rp_icp *x);

/* Calibration curves of a calibration record payload. */
typedef struct rp_cal {
	size_t n;
	mg_plot_calcurve *c;
	double **arrays;
	size_t narrays;
	char **labels;
	size_t nlabels;
} rp_cal;
int rp_cal_from_payload(const json_t *payload, rp_cal *out);
void rp_cal_clear(rp_cal *x);

/* Control-chart inputs of a QC series (arrays owned by out). */
typedef struct rp_ctl {
	mg_plot_control c;
	double *v;
	unsigned *f;
	int *b;
	char label[160];
} rp_ctl;
int rp_ctl_from_series(const mg_qc_series *s, rp_ctl *out);
void rp_ctl_clear(rp_ctl *c);

/* The batch chart points of a loaded batch (owned array of borrowed strings). */
int rp_batch_points(const rp_batch *b, rp_batch_point **out, size_t *n);

/* JSON of the report model (json.c). */
json_t *rp_result_json(mg_store *st, const rp_result *r);
json_t *rp_qc_status_json(const mg_qc_status *s);
json_t *rp_sample_json(mg_store *st, const rp_sample *s, const mg_qc_status *qc, const mg_report_opts *o);

/* "quant/dp5 v3 (#7)" for a calibration id, into buf. */
void rp_cal_text(mg_store *st, long long id, char *buf, size_t cap);
/* ISO 8601 UTC now, into buf (>= 32 bytes). */
void rp_now(char *buf, size_t cap);
/* Human label for a QC quantity: "Peak position", "FWHM", ... */
const char *rp_quantity_label(const char *quantity);
/* Greek line labels: "Ka" → "Kα" (into buf). */
const char *rp_line_label(const char *in, char *buf, size_t cap);

/* Duplicate or NULL. */
char *rp_strdup(const char *s);
/* Growable array helper: ensure room for n+1 items of size sz. */
int rp_grow(void **arr, size_t *cap, size_t n, size_t sz);

#endif
