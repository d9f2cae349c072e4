/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The run of an ICP-OES sequence (sequence.h): item by item, the readings
 * come from a source (an instrument, or a test double) or from an imported
 * vendor CSV; each is recorded (icp_record.c) and handed to the evaluation
 * (icp_analysis.h), which reports through the same event callback and tells
 * the recorder what has become final. An error (instrument, store) stops the
 * run: what was measured is kept, evaluated and stored, and the error is
 * reported with the item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_run_internal.h"
#include "internal.h"

/* ---- set-up ---------------------------------------------------------------- */

int mg_icp_run_new(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                   mg_icp_problems *problems, mg_icp_run **out)
{
	if (!s || !m || !q || !out)
		return mg_fail(MG_ERR_ARG, RUN_DOM, "a run needs a sequence, a method and a QC profile");
	*out = NULL;
	mg_icp_eval *ev;
	int rc = mg_icp_eval_new(s, m, q, problems, &ev);
	if (rc != MG_OK)
		return rc;
	mg_icp_run *r = calloc(1, sizeof(*r));
	if (!r) {
		mg_icp_eval_free(ev);
		return mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory");
	}
	r->seq = s;
	r->m = m;
	r->q = q;
	r->ev = ev;
	r->error_item = NOITEM;
	snprintf(r->operator_name, sizeof(r->operator_name), "%s", s->operator_name);
	icp_record_attach(r);
	*out = r;
	return MG_OK;
}

void mg_icp_run_free(mg_icp_run *r)
{
	if (!r)
		return;
	mg_icp_eval_free(r->ev);
	free(r);
}

void mg_icp_run_set_events(mg_icp_run *r, mg_icp_event_cb cb, void *userdata)
{
	r->cb = cb;
	r->ud = userdata;
	mg_icp_eval_set_events(r->ev, cb, userdata);
}

void mg_icp_run_set_store(mg_icp_run *r, struct mg_store *st, const char *operator_name)
{
	r->st = st;
	if (operator_name && *operator_name)
		snprintf(r->operator_name, sizeof(r->operator_name), "%s", operator_name);
}

void mg_icp_run_set_origin(mg_icp_run *r, const char *sequence_path, const char *source_text)
{
	if (sequence_path)
		snprintf(r->seq_path, sizeof(r->seq_path), "%s", sequence_path);
	if (source_text)
		snprintf(r->source_text, sizeof(r->source_text), "%s", source_text);
}

/* ---- events, errors, the end ------------------------------------------------- */

int icp_run_emit(mg_icp_run *r, mg_icp_event *ev)
{
	if (!r->cb)
		return 0;
	if (ev->item < r->seq->nitems) {
		ev->it = &r->seq->items[ev->item];
		if (!ev->res)
			ev->res = mg_icp_eval_result(r->ev, ev->item);
	}
	int stop = r->cb(ev, r->ud);
	/* once the run is ending, a stop request cannot cut short what is left
	 * (evaluating and storing what was measured) */
	return r->finishing ? 0 : stop;
}

static void record_error(mg_icp_run *r, int rc, size_t i, const char *what)
{
	char detail[700];
	const char *d = mg_error_detail();
	/* a source that returned an error without recording a detail */
	snprintf(detail, sizeof(detail), "%s", strcmp(d, "no error detail recorded") == 0 ? mg_strerror(rc) : d);
	if (i < r->seq->nitems) {
		const mg_icp_item *it = &r->seq->items[i];
		snprintf(r->error, sizeof(r->error), "%.60s %s at position %d (sequence line %ld): %s", what, it->label,
		         it->position, it->line, detail);
	} else {
		snprintf(r->error, sizeof(r->error), "%.60s: %s", what, detail);
	}
	r->status = rc;
	r->error_item = i;
}

/* End of the run (complete or not): the evaluation finished (unbracketed
 * flags, every result stored), the error reported. */
static int finish(mg_icp_run *r, int rc)
{
	r->finishing = 1;
	int rc2 = mg_icp_eval_finish(r->ev);
	if (rc == MG_OK && rc2 < 0) {
		rc = rc2;
		record_error(r, rc, NOITEM, "storing the results");
	}
	if (rc < 0) {
		if (!r->error[0])
			record_error(r, rc, r->error_item, "the run stopped");
		mg_icp_event ev = {.kind = MG_ICP_EV_ERROR, .item = r->error_item, .error = rc, .message = r->error};
		icp_run_emit(r, &ev);
		mg_fail(rc, RUN_DOM, "%s", r->error);
	}
	r->status = rc;
	return rc;
}

static int is_cal(const mg_icp_item *it)
{
	return it->type == MG_ICP_ITEM_CAL_BLANK || it->type == MG_ICP_ITEM_CAL_STD;
}

/* ---- from a source ------------------------------------------------------------ */

int mg_icp_run_source(mg_icp_run *r, const mg_icp_source *src)
{
	if (!r || !src || !src->measure)
		return mg_fail(MG_ERR_ARG, RUN_DOM, "no run or no source");
	if (r->ran)
		return mg_fail(MG_ERR_ARG, RUN_DOM, "a run is used once");
	r->ran = 1;
	snprintf(r->model, sizeof(r->model), "%s", src->model ? src->model : "");
	snprintf(r->serial, sizeof(r->serial), "%s", src->serial ? src->serial : "");
	snprintf(r->firmware, sizeof(r->firmware), "%s", src->firmware ? src->firmware : "");
	if (!r->source_text[0] && src->uri)
		snprintf(r->source_text, sizeof(r->source_text), "%s", src->uri);
	int rc = icp_record_begin(r);
	if (rc < 0) {
		record_error(r, rc, NOITEM, "opening the batch in the store");
		return finish(r, rc);
	}
	if (src->configure) {
		size_t nlines = mg_icp_eval_nlines(r->ev);
		mg_icp_line lines[MG_ICP_MAX_LINES];
		for (size_t l = 0; l < nlines; l++)
			lines[l] = *mg_icp_eval_line(r->ev, l);
		rc = src->configure(src->ctx, lines, nlines, r->m->integration_s, r->m->replicates);
		if (rc < 0) {
			record_error(r, rc, NOITEM, "configuring the instrument");
			return finish(r, rc);
		}
	}
	const mg_icp_sequence *s = r->seq;
	for (size_t i = 0; i < s->nitems; i++) {
		mg_icp_event ev = {.kind = MG_ICP_EV_MEASURING, .item = i};
		if (icp_run_emit(r, &ev)) {
			rc = MG_ERR_INTERRUPTED;
			record_error(r, rc, i, "stopped on request before");
			break;
		}
		mg_icp_measurement *m = calloc(1, sizeof(*m));
		if (!m) {
			rc = mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory for a measurement");
			record_error(r, rc, i, "measuring");
			break;
		}
		mg_error_clear();
		rc = src->measure(src->ctx, &s->items[i], m);
		if (rc < 0)
			mg_icp_eval_item_failed(r->ev, i, rc);
		else
			rc = mg_icp_eval_accept(r->ev, i, m);
		if (rc < 0) {
			record_error(r, rc, i, "measuring");
			free(m);
			break;
		}
		char *raw = icp_json_raw_measurement(r, i, m);
		rc = raw ? icp_record_measurement(r, i, raw) : mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory");
		free(raw);
		if (rc < 0) {
			record_error(r, rc, i, "storing the measurement of");
			free(m);
			break;
		}
		rc = mg_icp_eval_item(r->ev, i, m);
		free(m);
		if (rc < 0) {
			const char *what = rc == MG_ERR_INTERRUPTED ? "stopped on request at" : "evaluating";
			record_error(r, rc, i, is_cal(&s->items[i]) ? "calibrating after" : what);
			break;
		}
	}
	return finish(r, rc);
}

/* ---- from a vendor CSV ---------------------------------------------------------- */

int mg_icp_run_csv(mg_icp_run *r, const mg_icp_csv *csv, const char *csv_path)
{
	if (!r || !csv)
		return mg_fail(MG_ERR_ARG, RUN_DOM, "no run or no CSV");
	if (r->ran)
		return mg_fail(MG_ERR_ARG, RUN_DOM, "a run is used once");
	r->ran = 1;
	r->csv = csv;
	snprintf(r->csv_path, sizeof(r->csv_path), "%s", csv_path ? csv_path : "");
	if (!r->source_text[0])
		snprintf(r->source_text, sizeof(r->source_text), "csv:%s", csv_path ? csv_path : "");
	snprintf(r->model, sizeof(r->model), "vendor CSV export");
	int rc = mg_icp_eval_csv(r->ev, csv);
	if (rc < 0) {
		record_error(r, rc, NOITEM, "reading the CSV");
		r->status = rc;
		return rc;
	}
	if ((rc = icp_record_begin(r)) < 0) {
		record_error(r, rc, NOITEM, "opening the batch in the store");
		return finish(r, rc);
	}
	const mg_icp_sequence *s = r->seq;
	for (size_t i = 0; i < s->nitems; i++) {
		if ((rc = mg_icp_eval_accept(r->ev, i, NULL)) < 0) {
			record_error(r, rc, i, "reading the CSV rows of");
			break;
		}
		char *raw = icp_json_raw_csv(r, i);
		rc = raw ? icp_record_measurement(r, i, raw) : mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory");
		free(raw);
		if (rc < 0) {
			record_error(r, rc, i, "storing the measurement of");
			break;
		}
		if ((rc = mg_icp_eval_item(r->ev, i, NULL)) < 0) {
			record_error(r, rc, i, is_cal(&s->items[i]) ? "calibrating after" : "evaluating");
			break;
		}
	}
	return finish(r, rc);
}

/* ---- what a run found ------------------------------------------------------------ */

const mg_icp_eval *mg_icp_run_eval(const mg_icp_run *r)
{
	return r->ev;
}

size_t mg_icp_run_nlines(const mg_icp_run *r)
{
	return mg_icp_eval_nlines(r->ev);
}

const mg_icp_line *mg_icp_run_line(const mg_icp_run *r, size_t i)
{
	return mg_icp_eval_line(r->ev, i);
}

int mg_icp_run_line_analyte(const mg_icp_run *r, size_t i)
{
	return mg_icp_eval_line_analyte(r->ev, i);
}

const mg_icp_curve *mg_icp_run_curve(const mg_icp_run *r, size_t line)
{
	return mg_icp_eval_curve(r->ev, line);
}

size_t mg_icp_run_nchecks(const mg_icp_run *r)
{
	return mg_icp_eval_nchecks(r->ev);
}

const mg_icp_check *mg_icp_run_check(const mg_icp_run *r, size_t i)
{
	return mg_icp_eval_check(r->ev, i);
}

const mg_icp_item_result *mg_icp_run_result(const mg_icp_run *r, size_t item)
{
	return mg_icp_eval_result(r->ev, item);
}

size_t mg_icp_run_count(const mg_icp_run *r, mg_icp_outcome o)
{
	return mg_icp_eval_count(r->ev, o);
}

void mg_icp_run_calibration(const mg_icp_run *r, long long *id, int *version)
{
	if (id)
		*id = r->cal_id;
	if (version)
		*version = r->cal_version;
}
