/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — reports and plots (docs/reports.md).
 *
 * The figures are drawn by the one plot engine (plot/, options and metadata
 * in magassay/plot.h) and written as PNG with libpng, carrying text chunks:
 * "Title", "Software", "Plot", "Sample ID", "Batch", "Calibration", "Source"
 * (tEXt for ASCII, iTXt for other UTF-8). The title names the sample or the
 * lot; the source is shown in small print. Colours are the Okabe–Ito palette
 * (safe for colour-blind readers), lines also differ by dash where colour
 * alone would carry the meaning. Two sizes: for a screen (1200 × 750 px) and
 * for a report page (170 × 106 mm at 150 dpi, 8.5 pt text).
 *
 * Reports read the store: per sample a PDF certificate of analysis and the
 * same content as JSON; per batch a PDF summary, a CSV for spreadsheets and
 * LIMS (RFC 4180, safe against formula injection) and JSON.
 *
 * Every function that writes a file writes it atomically. Errors: 0 = OK,
 * negative enum mg_err with mg_error_detail(). Strings handed in are
 * borrowed; text returned through char ** is malloc'ed (free()). */
#ifndef MAGASSAY_REPORT_H
#define MAGASSAY_REPORT_H

#include <stddef.h>

#include "magassay/analysis.h"
#include "magassay/buf.h"
#include "magassay/plot.h"
#include "magassay/qc.h"
#include "magassay/store.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* ---- plot kinds from data ------------------------------------------------ */

typedef struct mg_plot_curve {
	const char *label;  /* "Nd L" */
	const double *y;    /* one value per point of the plot's x axis */
} mg_plot_curve;

typedef struct mg_plot_marker {
	const char *label;  /* "Fe Kα" */
	double x;           /* keV or nm */
} mg_plot_marker;

/* An XRF spectrum: counts, and when a fit is known the fitted model, the
 * background, each family's contribution (drawn on the background) and a
 * residual panel ((counts − fit)/√fit). Element markers above the plot. */
typedef struct mg_plot_xrf {
	size_t n;
	const double *energy_kev;      /* n channel energies, increasing */
	const double *counts;          /* n */
	const double *fit;             /* n or NULL */
	const double *background;      /* n or NULL */
	size_t nfamilies;
	const mg_plot_curve *families; /* contributions without the background */
	size_t nmarkers;
	const mg_plot_marker *markers;
	double emin_kev, emax_kev;     /* x range; both 0 = from the data */
	const char *x_label;           /* NULL = "Energy (keV)" (e.g. "Channel" without a calibration) */
} mg_plot_xrf;

int mg_plot_xrf_png(const mg_plot_xrf *d, const mg_plot_meta *meta, const mg_plot_opts *o, const char *path);

/* ICP-OES: one small panel per line window, with the fitted profile and the
 * background when known and the line's wavelength marked. */
typedef struct mg_plot_icp_window {
	const char *label;             /* "Nd 406.109" */
	double line_nm;                /* NAN = not marked */
	size_t n;
	const double *wavelength_nm;   /* n, increasing */
	const double *intensity;       /* n */
	const double *fit;             /* n or NULL */
	const double *background;      /* n or NULL */
} mg_plot_icp_window;

int mg_plot_icp_png(const mg_plot_icp_window *w, size_t nwin, const mg_plot_meta *meta, const mg_plot_opts *o,
                    const char *path);

/* A calibration curve: the standards, the fitted curve y = c0 + c1·x + c2·x²
 * and a residual panel (standard − curve, in y units). One panel pair per curve. */
typedef struct mg_plot_calcurve {
	const char *label;   /* "Nd 406.109" */
	const char *x_label; /* "Concentration (mg/L)" */
	const char *y_label; /* "Net intensity (counts/s)" */
	size_t n;
	const double *x, *y;
	size_t ncoef;        /* 0 (no curve), 2 (linear) or 3 (quadratic) */
	double coef[3];
	double r;            /* correlation coefficient; NAN = computed from the points */
} mg_plot_calcurve;

int mg_plot_calibration_png(const mg_plot_calcurve *c, size_t ncurves, const mg_plot_meta *meta,
                            const mg_plot_opts *o, const char *path);

/* A control chart: values in time order, mean, ±2s and ±3s lines, the
 * baseline and the batch's points told apart, points where a rule fired marked
 * and labelled with the rule. */
typedef struct mg_plot_control {
	const char *label;       /* "Peak position Cu Kα" */
	const char *unit;        /* "keV" */
	size_t n;
	const double *value;
	const unsigned *flags;   /* MG_WG_* per point, or NULL */
	const int *in_batch;     /* 1 for the batch's points, or NULL */
	double mean, sd;         /* NAN: no limits yet */
	const char *x_label;     /* NULL = "QC measurement (oldest → newest)" */
} mg_plot_control;

int mg_plot_control_png(const mg_plot_control *c, size_t ncharts, const mg_plot_meta *meta,
                        const mg_plot_opts *o, const char *path);

/* The fit of an XRF analysis (`magassay analyze --plot`): the spectrum
 * (counts[nchan], as fitted), the model, the background, each family's curve
 * on the background, markers at the fitted families and the residual panel,
 * from the plan and the result (include/magassay/analysis.h). meta: the title
 * is the sample (never a file path; the file may be the source, in small
 * print); a NULL subtitle becomes the fit's χ²; a NULL calibration becomes
 * the energy calibration and resolution used ("offset_kev=… gain_kev=…
 * quad_kev=… noise_kev=… fano=…"). */
int mg_report_plot_fit_png(const mg_analysis_plan *plan, const double *counts, size_t nchan,
                           const mg_analysis_result *res, const mg_plot_meta *meta, const mg_plot_opts *o,
                           const char *path);

/* ---- plots of stored data ---------------------------------------------------- */

/* A measurement: XRF — its spectrum with the fit re-computed from its latest
 * result (calibration and elements), or with element markers only when no
 * fit can be made; ICP — the line windows its latest result carries. */
int mg_report_plot_measurement_png(mg_store *st, long long measurement_id, const mg_plot_opts *o,
                                   const char *path);
/* A stored calibration's curves (standards, fit, residuals). */
int mg_report_plot_calibration_png(mg_store *st, long long calibration_id, const mg_plot_opts *o,
                                   const char *path);
/* The control charts of a batch's QC series; quantity / target NULL = all. */
int mg_report_plot_qc_png(mg_store *st, const char *batch_id, const char *quantity, const char *target,
                          const mg_qc_options *qo, const mg_plot_opts *o, const char *path);
/* The batch at a glance: wt% per sample for each element, XRF and ICP side by
 * side with their expanded uncertainties. */
int mg_report_plot_batch_png(mg_store *st, const char *batch_id, const mg_plot_opts *o, const char *path);

/* ---- reports ------------------------------------------------------------------ */

typedef struct mg_report_opts {
	const char *laboratory;       /* printed in the header; NULL = "magassay laboratory" */
	const char *generated_at;     /* ISO 8601; NULL = now (fix it for reproducible files) */
	const mg_qc_options *qc;      /* NULL = defaults */
} mg_report_opts;

/* Certificate of analysis of one sample (A4 PDF): sample, lot, instrument,
 * operator, method, calibration versions, composition with uncertainties and
 * LODs, flags, the QC state of its batch, the spectrum plot. */
int mg_report_sample_pdf(mg_store *st, const char *sample_id, const mg_report_opts *o, const char *path);
/* The same content as JSON (docs/reports.md), malloc'ed text. */
int mg_report_sample_json(mg_store *st, const char *sample_id, const mg_report_opts *o, char **out);

/* Batch summary (A4 PDF): the lot, its QC state and release, its control
 * charts, a composition table of every sample, XRF-vs-ICP bias. */
int mg_report_batch_pdf(mg_store *st, const char *batch_id, const mg_report_opts *o, const char *path);
/* One row per sample, measurement and element (docs/reports.md), RFC 4180
 * with CRLF, UTF-8; text cells that a spreadsheet would run as a formula are
 * neutralised. out receives malloc'ed text (NUL-terminated), len its length. */
int mg_report_batch_csv(mg_store *st, const char *batch_id, const mg_report_opts *o, char **out, size_t *len);
/* The batch summary as JSON, malloc'ed text. */
int mg_report_batch_json(mg_store *st, const char *batch_id, const mg_report_opts *o, char **out);

/* Append one CSV text cell: a cell beginning with '=', '+', '-', '@', TAB or
 * CR gets a leading apostrophe (so no spreadsheet runs it as a formula), then
 * RFC 4180 quoting when it holds a comma, quote, CR or LF. NULL = empty cell. */
int mg_csv_append_text(mg_buf *b, const char *text);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
