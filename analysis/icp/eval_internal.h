/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The evaluation of an ICP-OES run (icp_analysis.h, mg_icp_eval), private to
 * its files:
 *   eval.c            set-up, events, the QC check list, re-run flags, what
 *                     is final, the accessors
 *   eval_fit.c        readings matched to the configured lines, line fits,
 *                     reference shapes
 *   eval_values.c     responses, concentrations, IEC, result flags, solids
 *   eval_checks.c     the QC checks of each item and the brackets
 *   eval_calibrate.c  curves and the calibration checks; the end of a run
 *   eval_csv.c        a vendor CSV's rows matched to items and lines */
#ifndef MAGASSAY_EVAL_INTERNAL_H
#define MAGASSAY_EVAL_INTERNAL_H

#include <stddef.h>

#include "icp_internal.h"

#define EVAL_DOM "icp-run"
#define NOITEM ((size_t)-1)

typedef struct icp_item_data {
	int have;                     /* readings present */
	size_t nrep;
	double net[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES];  /* net intensities (before the IS) */
	double conc[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES]; /* vendor concentrations (CSV) */
	int fit_status[MG_ICP_MAX_LINES];
	double resp[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES]; /* IS-corrected responses */
	mg_icp_measurement *raw;      /* calibration items: kept until the reference shapes are known */
	size_t csv_first, csv_count;  /* CSV rows of this item (indexes into the evaluation's row list) */
} icp_item_data;

struct mg_icp_eval {
	const mg_icp_sequence *seq;
	const mg_icp_method *m;
	const mg_icp_qc_profile *q;
	mg_icp_event_cb cb;
	void *ud;
	mg_icp_recorder rec;
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
	/* the instrument's line order (from the last readings accepted) */
	size_t map[MG_ICP_MAX_LINES];
	int have_map;
	/* per item */
	icp_item_data *data;
	mg_icp_item_result *res;
	int *final;                   /* handed to the recorder */
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
	/* QC */
	mg_icp_check *checks;
	size_t nchecks, capchecks;
	mg_icp_bracket ccv, ccb;
	/* CSV import */
	const mg_icp_csv *csv;
	size_t *csv_rows;             /* row indexes grouped per item */
	/* state */
	int finishing;                /* in mg_icp_eval_finish(): stop requests are ignored */
};

static inline int eval_is_cal(mg_icp_item_type t)
{
	return t == MG_ICP_ITEM_CAL_BLANK || t == MG_ICP_ITEM_CAL_STD;
}

/* eval.c */
/* Send an event (it and res filled in); non-zero: the callback asks to stop. */
int eval_emit(mg_icp_eval *e, mg_icp_event *ev);
/* A check for item (analyte -1: item-wide), outcome NA, values NAN. */
void eval_check_init(const mg_icp_eval *e, mg_icp_check *c, mg_icp_check_type t, size_t item, int analyte);
/* Append a judged check and send its event (MG_ERR_INTERRUPTED on a stop). */
int eval_add_check(mg_icp_eval *e, const mg_icp_check *c);
/* Re-run flags from a bracket (mg_icp_flag_cb); ud: an eval_flagctx. */
typedef struct eval_flagctx {
	mg_icp_eval *e;
	int ccb;
	int stop;
} eval_flagctx;
void eval_on_flag(size_t item, size_t analyte, mg_icp_flag_reason why, size_t check_item, void *ud);
/* An item's result is final: to the recorder, once. */
int eval_final(mg_icp_eval *e, size_t item);

/* eval_fit.c */
/* Net intensities of every line and replicate of a measured item. */
void eval_fit_item(mg_icp_eval *e, size_t i, const mg_icp_measurement *m, const size_t *map);
/* The reference shape of each line, from the calibration readings. */
void eval_reference_shapes(mg_icp_eval *e, const size_t *map);

/* eval_values.c */
/* The LLOQ of an analyte: the method's, else the LOQ of its curve (NAN). */
double eval_lloq(const mg_icp_eval *e, int analyte);
/* The method's solution of an item (by name, or the check's default name). */
const mg_icp_solution *eval_item_solution(const mg_icp_eval *e, size_t i, int kind);
/* Responses (IS-corrected), replicate statistics, concentrations, IEC, flags, solid. */
void eval_compute_values(mg_icp_eval *e, size_t i);

/* eval_checks.c */
/* Everything about a measured item after its nets are known: values, its
 * QC checks, the MEASURED event, and the results it makes final. */
int eval_evaluate_item(mg_icp_eval *e, size_t i);

/* eval_calibrate.c */
/* Curves and the calibration checks, after the last calibration item (map:
 * the instrument's line order, NULL for CSV data). */
int eval_calibrate(mg_icp_eval *e, const size_t *map);

#endif
