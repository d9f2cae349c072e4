/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The run of an ICP-OES sequence (sequence.h), private to its files:
 *   icp_run.c     the run: set-up, driving the source or taking the CSV,
 *                 the evaluation fed item by item, errors, the end
 *   icp_record.c  what the run produces, into the store
 *   icp_json.c    the JSON texts: raw readings, settings, result and
 *                 calibration payloads, the run report
 *   icp_source.c  an ICP-OES (icp_device.h) as a source */
#ifndef MAGASSAY_ICP_RUN_INTERNAL_H
#define MAGASSAY_ICP_RUN_INTERNAL_H

#include <stddef.h>

#include "magassay/sequence.h"

#define RUN_DOM "icp-run"
#define NOITEM ((size_t)-1)

struct mg_icp_run {
	const mg_icp_sequence *seq;
	const mg_icp_method *m;
	const mg_icp_qc_profile *q;
	mg_icp_eval *ev;              /* the analysis of what is measured */
	mg_icp_event_cb cb;
	void *ud;
	struct mg_store *st;
	char operator_name[MG_ICP_LABEL_SIZE];
	char seq_path[512];
	char source_text[256];
	char model[64], serial[64], firmware[64];
	/* CSV import */
	const mg_icp_csv *csv;
	char csv_path[512];
	/* the calibration in the store */
	long long cal_id;
	int cal_version;
	/* state */
	int ran;
	int finishing;                /* in finish(): stop requests are ignored */
	int status;
	char error[1024];
	size_t error_item;            /* NOITEM when not about an item */
};

/* icp_run.c: send one of the run's own events (MEASURING, STORED, ERROR);
 * non-zero: the callback asks to stop. */
int icp_run_emit(mg_icp_run *r, mg_icp_event *ev);

/* icp_record.c: the store side (each a no-op without a store) */
int icp_record_begin(mg_icp_run *r);
/* The raw readings (JSON) as a file in the archive, and the measurement. */
int icp_record_measurement(mg_icp_run *r, size_t item, const char *raw_json);
/* The recorder handed to the evaluation: calibration and results. */
void icp_record_attach(mg_icp_run *r);

/* icp_json.c: JSON texts (malloc'ed, NULL on no memory) */
char *icp_json_raw_measurement(const mg_icp_run *r, size_t item, const mg_icp_measurement *m);
char *icp_json_raw_csv(const mg_icp_run *r, size_t item);
char *icp_json_settings(const mg_icp_run *r, size_t item);
char *icp_json_result(const mg_icp_run *r, size_t item);
char *icp_json_calibration(const mg_icp_run *r);
char *icp_json_calibration_provenance(const mg_icp_run *r);

#endif
