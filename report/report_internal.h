/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The report module's private parts: the figures (fig_*.c, drawn by the plot
 * engine, for the PNG files and the PDF reports), the report model read from
 * the store (model.c, result.c), the plot data built from it, and small
 * helpers. */
#ifndef MAGASSAY_REPORT_INTERNAL_H
#define MAGASSAY_REPORT_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "magassay/analysis.h"
#include "magassay/qc.h"
#include "magassay/report.h"
#include "magassay/store.h"
#include "plot/engine.h"

#define RP_DOM "report"
#define RP_QC_DOM "qc"

/* ---- the figures, drawn by the plot engine (plot/engine.h) --------------------- */

/* Each draws into what is left of a figure after its header (title and small
 * print, pl_fig_header), on a PNG canvas or in a box of a PDF page: its own
 * legend first, then its panels. MG_ERR_ARG when there is nothing to draw. */
int rp_fig_xrf(pl_fig *f, const mg_plot_xrf *d, int log_y);                  /* fig_xrf.c */
int rp_fig_icp(pl_fig *f, const mg_plot_icp_window *win, size_t nwin);        /* fig_icp.c */
int rp_fig_calibration(pl_fig *f, const mg_plot_calcurve *c, size_t n);       /* fig_calibration.c */
/* Control charts stacked in the figure, with the legend when legend is set;
 * rp_fig_control_legend draws the legend alone (a PDF page: once for all). */
int rp_fig_control(pl_fig *f, const mg_plot_control *c, size_t n, int legend); /* fig_control.c */
void rp_fig_control_legend(pl_fig *f);

/* The batch chart: elements × samples, XRF and ICP values with 2u bars (fig_batch.c). */
typedef struct rp_batch_point {
	const char *sample;
	const char *element;
	int icp;             /* 0 XRF, 1 ICP */
	double wt, u;        /* wt%, standard uncertainty (NAN when unknown) */
} rp_batch_point;

int rp_fig_batch(pl_fig *f, const rp_batch_point *pts, size_t n);

/* ---- the report model (result.c, model.c) ---------------------------------------- */

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

/* Tolerant JSON readers (json_read.c). */
double rp_jnum(const json_t *o, const char *const *keys);   /* first numeric key, else NAN */
const char *rp_jstr(const json_t *o, const char *const *keys);
/* A flags value (string or array of strings) joined with ", " (malloc'ed or NULL). */
char *rp_jflags(const json_t *v);
/* The keys that may name an element: "element", "el", "symbol", "analyte". */
extern const char *const rp_keys_element[];
/* The first numeric array under one of the keys (its first replicate when it
 * is an array of arrays; non-numbers as NAN), malloc'ed, *n its length; NULL
 * when none. */
double *rp_jarray(const json_t *o, const char *const *keys, size_t *n);
/* Append an owned array (freed on failure) or a copy of a label to a list. */
int rp_keep_array(double ***arr, size_t *n, double *v);
const char *rp_keep_label(char ***arr, size_t *n, const char *s);

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

/* XRF plot data (xrf_fit.c): a spectrum with the fit of the analysis engine
 * (model, background, each family's curve, markers at the fitted families),
 * the fit computed now or re-computed from a stored result. */
typedef struct rp_xrf {
	mg_plot_xrf d;
	double *energy, *counts, *fit, *background; /* owned arrays behind d */
	double **famy;
	size_t nfamy;
	mg_plot_curve *fam;
	mg_plot_marker *mk;
	char **labels;
	size_t nlabels;
	char calib[200];
	int fitted;
} rp_xrf;
/* From an analysis: the plan, the spectrum it was fitted to (counts[nchan])
 * and the result; calib gets the energy calibration and resolution used. */
int rp_xrf_from_fit(const mg_analysis_plan *plan, const double *counts, size_t nchan, const mg_analysis_result *res,
                    rp_xrf *out);
/* A stored measurement: its spectrum file, and the fit re-computed when its
 * latest result names a calibration and the fitted elements; else markers at
 * the lines of the elements it names. */
int rp_xrf_load(mg_store *st, const rp_result *r, rp_xrf *out);
void rp_xrf_clear(rp_xrf *x);

/* ICP windows for a figure (icp_windows.c): carried by a result payload. */
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

/* Calibration curves of a calibration record payload (cal_curves.c). */
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

/* Control-chart inputs of a QC series (arrays owned by out; fig_control.c). */
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
