/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private helpers of the ICP-OES analysis (analysis/icp/), not installed. */
#ifndef MAGASSAY_ICP_INTERNAL_H
#define MAGASSAY_ICP_INTERNAL_H

#include <stddef.h>

#include "magassay/icp_analysis.h"

/* ---- field readers (fields.c); the INI files go through core/inifile.h ---- */

/* View helpers */
int icp_view_eq(const char *s, size_t n, const char *word); /* case-insensitive */
/* Copy a view into a fixed buffer; MG_ERR_FORMAT if it does not fit. */
int icp_copy(char *dst, size_t cap, const char *s, size_t n);
/* Next comma-separated item of a list view into (item, item_len); advances (s, n).
 * 1 if an item was taken, 0 at the end. Items are trimmed. */
int icp_list_next(const char **s, size_t *n, const char **item, size_t *item_len);
/* "Nd" style element symbol (1 uppercase + 0..1 lowercase letters) from a view. */
int icp_parse_element(const char *s, size_t n, char out[4]);
/* "yes"/"no"/"true"/"false"/"on"/"off"/"1"/"0". */
int icp_parse_bool(const char *s, size_t n, int *out);
/* "90, 110" or "90-110" → limits; "none" → both NAN. */
int icp_parse_limits(const char *s, size_t n, mg_icp_limits *out);
/* "12.5", "12.5 ± 0.3", "12.5 +/- 0.3", "12.5 +- 0.3" */
int icp_parse_value_u(const char *s, size_t n, double *v, double *u);
/* "Y 371.030" → element and wavelength */
int icp_parse_line_spec(const char *s, size_t n, char el[4], double *nm);

/* Fill a line struct (label "Nd 430.358"). */
void icp_line_set(mg_icp_line *l, const char *el, double nm, int is_std);

/* Split one delimited record (CSV) into fields, quotes ("" escapes) allowed.
 * Fields are copied into buf (NUL-separated); starts/lens point into buf.
 * Returns the field count, or MG_ERR_FORMAT (unterminated quote, too many). */
int icp_csv_split(const char *line, size_t n, char sep, char *buf, size_t bufcap, const char **fields,
                  size_t maxfields);


/* ---- the run (runner.c), reported by report.c ---- */

typedef struct icp_item_data {
	int have;                     /* readings present */
	size_t nrep;
	double net[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES];  /* net intensities (before the IS) */
	double conc[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES]; /* vendor concentrations (CSV) */
	int fit_status[MG_ICP_MAX_LINES];
	double resp[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES]; /* IS-corrected responses */
	mg_icp_measurement *raw;      /* calibration items: kept until the reference shapes are known */
	size_t csv_first, csv_count;  /* CSV rows of this item (indexes into the run's row list) */
} icp_item_data;

struct mg_icp_run {
	const mg_icp_sequence *seq;
	const mg_icp_method *m;
	const mg_icp_qc_profile *q;
	mg_icp_event_cb cb;
	void *ud;
	struct mg_store *st;
	char operator_name[MG_ICP_LABEL_SIZE];
	char seq_path[512];
	char source_text[256];
	char model[64], serial[64], firmware[64];
	/* lines */
	size_t nlines;
	mg_icp_line lines[MG_ICP_MAX_LINES];
	int line_analyte[MG_ICP_MAX_LINES]; /* -1: the internal standard */
	int line_primary[MG_ICP_MAX_LINES];
	const mg_icp_fit_opts *line_fit[MG_ICP_MAX_LINES];
	int is_line;
	size_t primary[MG_ICP_MAX_ANALYTES];
	int shape_ok[MG_ICP_MAX_LINES];
	double shape_c[MG_ICP_MAX_LINES], shape_w[MG_ICP_MAX_LINES], shape_eta[MG_ICP_MAX_LINES];
	/* per item */
	icp_item_data *data;
	mg_icp_item_result *res;
	int *stored;
	/* calibration */
	int calibrated;
	size_t cal_end;
	size_t is_ref_item;
	double is_ref;
	mg_icp_curve curve[MG_ICP_MAX_LINES];
	int curve_ok[MG_ICP_MAX_LINES];
	char curve_err[MG_ICP_MAX_LINES][160];
	int cal_failed[MG_ICP_MAX_ANALYTES];
	int icv_failed[MG_ICP_MAX_ANALYTES];
	int icv_seen;
	int conc_mode;
	long long cal_id;
	int cal_version;
	/* QC */
	mg_icp_check *checks;
	size_t nchecks, capchecks;
	mg_icp_bracket ccv, ccb;
	/* CSV import */
	const mg_icp_csv *csv;
	char csv_path[512];
	size_t *csv_rows;             /* row indexes grouped per item */
	/* state */
	int ran;
	int finishing;                /* in finish(): stop requests are ignored */
	int status;
	char error[1024];
	size_t error_item;            /* (size_t)-1 when not about an item */
	size_t nmeasured;
};

/* report.c: JSON texts (malloc'ed, NULL on no memory) */
char *icp_json_raw_measurement(const mg_icp_run *r, size_t item, const mg_icp_measurement *m);
char *icp_json_raw_csv(const mg_icp_run *r, size_t item);
char *icp_json_settings(const mg_icp_run *r, size_t item);
char *icp_json_result(const mg_icp_run *r, size_t item);
char *icp_json_calibration(const mg_icp_run *r);
char *icp_json_calibration_provenance(const mg_icp_run *r);
/* the sample id of an item in the store */
void icp_store_sample_id(const mg_icp_run *r, size_t item, char *out, size_t cap);

#endif
