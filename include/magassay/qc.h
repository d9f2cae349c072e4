/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — batch QC: Westgard rules on control charts, the QC state of a
 * batch and its release (docs/qc.md).
 *
 * QC quantities are series of values in time order: check-standard peak
 * position (energy drift), FWHM at a reference line (resolution) and
 * intensity (cps), stored per instrument (store_qc.h), and the XRF-vs-ICP
 * bias per element, one point per batch, derived from the results. Control
 * limits come from history: the mean and standard deviation of the series'
 * values before the batch (mean ± 2s warning, ± 3s action). The Westgard
 * rules run over the whole series, so a pattern that starts in earlier
 * batches and completes in this one counts; only points of the batch decide
 * its state.
 *
 * A batch is released only when no rejection rule fires on its points (and no
 * ICP run QC check of the batch failed), or when an override with who and
 * why is recorded.
 *
 * Ownership: _get/_new give objects released with the matching _free; strings
 * in them are owned. Errors: 0 = OK, negative enum mg_err with mg_error_detail(). */
#ifndef MAGASSAY_QC_H
#define MAGASSAY_QC_H

#include <stddef.h>

#include "magassay/store.h"
#include "magassay/store_qc.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* ---- Westgard rules on one series --------------------------------------- */

/* One bit per rule. z = (x − mean)/s; "beyond" is strict (> or <). */
enum mg_wg_rule {
	MG_WG_1_2S = 1u << 0, /* warning: this point beyond ±2s */
	MG_WG_1_3S = 1u << 1, /* this point beyond ±3s */
	MG_WG_2_2S = 1u << 2, /* this and the previous point beyond 2s on the same side */
	MG_WG_R_4S = 1u << 3, /* this and the previous point beyond 2s on opposite sides (range > 4s) */
	MG_WG_4_1S = 1u << 4, /* this and the 3 previous points beyond 1s on the same side */
	MG_WG_10_X = 1u << 5, /* this and the 9 previous points on the same side of the mean */
	MG_WG_REJECT = MG_WG_1_3S | MG_WG_2_2S | MG_WG_R_4S | MG_WG_4_1S | MG_WG_10_X,
	MG_WG_ALL = MG_WG_REJECT | MG_WG_1_2S,
};

/* "1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x" for one bit; "?" otherwise. */
const char *mg_wg_rule_name(unsigned rule);
/* The rules in flags as "1-3s,2-2s" into buf (cap bytes, truncated safely);
 * "" for none. Returns buf. */
char *mg_wg_rules_format(unsigned flags, char *buf, size_t cap);
/* Parse a rule name ("1-3s", "13s", "R4s", "10x", case-insensitive) into its
 * bit; 0 if unknown. */
unsigned mg_wg_rule_parse(const char *name);

/* Evaluate the rules (a mask of MG_WG_*) on x[0..n-1] with the given mean and
 * sd > 0: flags[i] receives the rules that fire at point i (the point that
 * completes the pattern, and every later point while it holds). A NaN value
 * is skipped: its flags are 0 and it neither breaks nor extends a run.
 * 0, or MG_ERR_ARG (sd not > 0, non-finite mean, NULL arrays). */
int mg_westgard(const double *x, size_t n, double mean, double sd, unsigned rules, unsigned *flags);

/* Mean and sample standard deviation (n − 1) of the finite values of x.
 * MG_ERR_ARG with fewer than 2 finite values. */
int mg_qc_mean_sd(const double *x, size_t n, double *mean, double *sd);

/* ---- control charts and the QC state of a batch --------------------------- */

typedef struct mg_qc_options {
	size_t min_history;     /* values needed before the batch to set limits (default 8) */
	size_t max_history;     /* most recent values used for the limits (default 50) */
	unsigned rules;         /* rules evaluated (default MG_WG_ALL) */
	double bias_min_wt_pct; /* XRF-ICP bias only where ICP gives at least this (default 0.1 wt%) */
} mg_qc_options;

void mg_qc_options_default(mg_qc_options *o);

typedef struct mg_qc_point {
	double value;
	double z;                  /* (value − mean)/sd; NAN without limits */
	unsigned flags;            /* rules fired here (MG_WG_*) */
	int in_batch;              /* 1: a value of the batch being judged */
	int baseline;              /* 1: used for the control limits */
	char *batch_id;            /* NULL when not tied to a batch */
	char *at;                  /* when measured (ISO 8601), or the batch's creation for bias */
	long long measurement_id;  /* 0 when none */
	long long qc_value_id;     /* 0 for derived points (bias) */
	size_t n;                  /* bias: samples averaged; else 1 */
} mg_qc_point;

typedef enum mg_qc_state {
	MG_QC_PASS = 0,      /* limits set, no rule fired on the batch's points */
	MG_QC_WARNING = 1,   /* only the 1-2s warning fired, or too little history for limits */
	MG_QC_FAIL = 2,      /* a rejection rule fired on a point of the batch */
	MG_QC_NO_DATA = 3,   /* nothing to judge */
} mg_qc_state;

/* "pass", "warning", "fail", "no-data". */
const char *mg_qc_state_name(mg_qc_state s);

typedef struct mg_qc_series {
	char *quantity;            /* MG_QC_PEAK_POSITION, MG_QC_FWHM, MG_QC_INTENSITY, MG_QC_XRF_ICP_BIAS, ... */
	char *target;              /* "Cu Ka", "Nd" */
	char *instrument;          /* "" when not known */
	char *unit;                /* "keV", "eV", "cps", "%" */
	char *label;               /* "Peak position Cu Ka" */
	int has_limits;            /* enough history: mean and sd set */
	double mean, sd;
	size_t n_baseline;         /* values the limits come from */
	size_t npoints;
	mg_qc_point *points;       /* time order: history, then the batch (and anything interleaved) */
	unsigned batch_flags;      /* OR of the flags of the batch's points */
	size_t n_reject;           /* batch points where a rejection rule fired */
	size_t n_warn;             /* batch points with the 1-2s warning only */
	mg_qc_state state;
} mg_qc_series;

/* An ICP run QC check recorded in an ICP result of the batch (ICV, CCV, ...). */
typedef struct mg_qc_check {
	char *name;                /* "CCV 2", "ICB" */
	char *outcome;             /* "pass", "fail", or what the payload said */
	char *detail;              /* "Nd 112.3 % (90-110)" or NULL */
	long long measurement_id;
	int failed;
} mg_qc_check;

typedef struct mg_qc_status {
	char *batch_id;
	mg_qc_state state;         /* the worst of the series and checks */
	size_t nseries;
	mg_qc_series *series;
	size_t nchecks;
	mg_qc_check *checks;
	size_t n_violations;       /* blocking: batch points with rejection rules + failed checks */
	size_t n_warnings;
	size_t nnotes;
	char **notes;              /* plain sentences: "XRF-ICP bias for Nd beyond its limits: ..." */
	mg_qc_watermark watermark; /* the data this judgement was made on */
	/* the release, when there is one */
	int released;
	char *released_by, *released_at, *release_state; /* "pass" or "override" */
	char *override_by, *override_reason;
} mg_qc_status;

/* Judge a batch: every QC series with a value in the batch (and the XRF-ICP
 * bias per element when the batch has samples assayed both ways), limits from
 * history, the rules, the ICP run checks, the release. opt NULL = defaults.
 * MG_ERR_NOT_FOUND for an unknown batch. Free with mg_qc_status_free. */
int mg_qc_status_get(mg_store *st, const char *batch_id, const mg_qc_options *opt, mg_qc_status **out);
void mg_qc_status_free(mg_qc_status *s);

/* The status as a JSON object (docs/commands/qc.md), malloc'ed text. */
int mg_qc_status_json(const mg_qc_status *s, char **out);

/* One series as a control chart outside any batch: every value of
 * (quantity, target, instrument), limits from the first min_history..max_history
 * values. Free with mg_qc_series_free. */
int mg_qc_series_get(mg_store *st, const char *quantity, const char *target, const char *instrument,
                     const mg_qc_options *opt, mg_qc_series **out);
void mg_qc_series_free(mg_qc_series *s);

/* Release a batch. Judges it (as mg_qc_status_get) and records the release
 * only if no violation blocks it, or if override_by and reason are given (the
 * override is recorded with the violations it accepts). released_by NULL =
 * the OS user. Returns 0 when released, a positive count (the blocking
 * violations; nothing written; mg_error_detail() says why) when refused, or
 * a negative error
 * (MG_ERR_EXISTS when released already, MG_ERR_BUSY when QC data changed
 * meanwhile). status_out (may be NULL) receives the judgement. */
int mg_qc_release(mg_store *st, const char *batch_id, const char *released_by, const char *override_by,
                  const char *reason, const mg_qc_options *opt, mg_qc_status **status_out);

/* ---- check standards -------------------------------------------------------- */

/* The three QC values of a check-standard measurement from its XRF analysis
 * result (payload of `magassay analyze --json`, issue 5): FWHM (eV) at
 * line_kev from the fitted resolution (calibration.noise_kev, fano); the
 * line's count rate from families[element].cps; the peak position (keV) on
 * the reference energy calibration `ref` (e.g. the instrument's stored one):
 * the channel where the fitted calibration puts line_kev, read on `ref` — the
 * energy drift. Values that cannot be derived are NAN (ref NULL: no position).
 * A payload "qc" object {peak_kev, fwhm_ev, cps} wins where present. */
typedef struct mg_qc_check_values {
	double peak_kev, fwhm_ev, cps;
} mg_qc_check_values;

int mg_qc_check_standard_values(const char *payload_json, const char *element, double line_kev,
                                const double ref_cal[3] /* offset, gain, quad keV; NULL = none */,
                                mg_qc_check_values *out);

/* Derive and record the check-standard values of a measurement (its latest
 * result) as QC values of series (quantity, "<element> <line>", instrument
 * serial) in its batch. Returns the number of values recorded. */
int mg_qc_record_check_standard(mg_store *st, long long measurement_id, const char *standard,
                                const char *element, const char *line, double line_kev,
                                const double ref_cal[3], const char *operator_name);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
