/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The evaluation of an ICP-OES run (icp_analysis.h): its set-up from the
 * sequence, method and QC profile, the readings handed in item by item, the
 * events, the list of QC checks, re-run flags, the results made final (to
 * the recorder), and what it found. The order of work is in
 * icp_analysis.h; the work itself in eval_*.c (eval_internal.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "internal.h"

/* ---- set-up ---------------------------------------------------------------- */

int mg_icp_eval_new(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                    mg_icp_problems *problems, mg_icp_eval **out)
{
	if (!s || !m || !q || !out)
		return mg_fail(MG_ERR_ARG, EVAL_DOM, "a run needs a sequence, a method and a QC profile");
	*out = NULL;
	mg_icp_problems local;
	mg_icp_problems *p = problems ? problems : &local;
	int np = mg_icp_sequence_validate(s, m, q, p);
	if (np < 0)
		return np;
	if (np > 0)
		return MG_ERR_FORMAT; /* detail set by validate */
	mg_icp_eval *e = calloc(1, sizeof(*e));
	if (!e)
		return mg_fail(MG_ERR_NOMEM, EVAL_DOM, "no memory");
	e->seq = s;
	e->m = m;
	e->q = q;
	e->is_line = -1;
	e->is_ref = NAN;
	e->is_ref_item = NOITEM;
	int nl = mg_icp_method_lines(m, e->lines, MG_ICP_MAX_LINES);
	if (nl < 0) {
		free(e);
		return nl;
	}
	e->nlines = (size_t)nl;
	size_t k = 0;
	for (size_t a = 0; a < m->nanalytes; a++) {
		e->line_analyte[k] = (int)a;
		e->line_primary[k] = 1;
		e->line_fit[k] = &m->analyte[a].fit;
		e->primary[a] = k++;
	}
	for (size_t a = 0; a < m->nanalytes; a++)
		for (size_t j = 0; j < m->analyte[a].nalt; j++) {
			e->line_analyte[k] = (int)a;
			e->line_primary[k] = 0;
			e->line_fit[k] = &m->analyte[a].fit;
			k++;
		}
	if (m->has_is) {
		e->line_analyte[k] = -1;
		e->line_primary[k] = 0;
		e->line_fit[k] = &m->is_fit;
		e->is_line = (int)k;
		k++;
	}
	size_t n = s->nitems;
	e->data = calloc(n, sizeof(*e->data));
	e->res = calloc(n, sizeof(*e->res));
	e->final = calloc(n, sizeof(*e->final));
	if (!e->data || !e->res || !e->final) {
		mg_icp_eval_free(e);
		return mg_fail(MG_ERR_NOMEM, EVAL_DOM, "no memory for %zu items", n);
	}
	for (size_t i = 0; i < n; i++) {
		mg_icp_item_result *res = &e->res[i];
		res->item = i;
		res->is_recovery_pct = NAN;
		res->total_pct = NAN;
		for (size_t l = 0; l < MG_ICP_MAX_LINES; l++) {
			mg_icp_value *v = &res->line[l];
			v->net = v->net_rsd_pct = v->conc = v->u_conc = v->sd = v->rsd_pct = v->w_pct = v->u_w_pct = NAN;
		}
		for (size_t l = 0; l < MG_ICP_MAX_LINES; l++)
			for (size_t k2 = 0; k2 < MG_ICP_MAX_REPLICATES; k2++)
				e->data[i].net[l][k2] = e->data[i].conc[l][k2] = e->data[i].resp[l][k2] = NAN;
	}
	while (e->cal_end < n && eval_is_cal(s->items[e->cal_end].type))
		e->cal_end++;
	mg_icp_bracket_init(&e->ccv, m->nanalytes);
	mg_icp_bracket_init(&e->ccb, m->nanalytes);
	*out = e;
	return MG_OK;
}

void mg_icp_eval_free(mg_icp_eval *e)
{
	if (!e)
		return;
	if (e->data)
		for (size_t i = 0; i < e->seq->nitems; i++)
			free(e->data[i].raw);
	free(e->data);
	free(e->res);
	free(e->final);
	free(e->checks);
	free(e->csv_rows);
	mg_icp_bracket_clear(&e->ccv);
	mg_icp_bracket_clear(&e->ccb);
	free(e);
}

void mg_icp_eval_set_events(mg_icp_eval *e, mg_icp_event_cb cb, void *userdata)
{
	e->cb = cb;
	e->ud = userdata;
}

void mg_icp_eval_set_recorder(mg_icp_eval *e, const mg_icp_recorder *rec)
{
	if (rec)
		e->rec = *rec;
	else
		memset(&e->rec, 0, sizeof(e->rec));
}

/* ---- events, checks, flags, final results --------------------------------- */

int eval_emit(mg_icp_eval *e, mg_icp_event *ev)
{
	if (!e->cb)
		return 0;
	if (ev->item < e->seq->nitems) {
		ev->it = &e->seq->items[ev->item];
		if (!ev->res)
			ev->res = &e->res[ev->item];
	}
	int stop = e->cb(ev, e->ud);
	/* once the run is ending, a stop request cannot cut short what is left
	 * (evaluating and recording what was measured) */
	return e->finishing ? 0 : stop;
}

int eval_add_check(mg_icp_eval *e, const mg_icp_check *c)
{
	if (e->nchecks == e->capchecks) {
		size_t cap = e->capchecks ? 2 * e->capchecks : 64;
		mg_icp_check *p = realloc(e->checks, cap * sizeof(*p));
		if (!p)
			return mg_fail(MG_ERR_NOMEM, EVAL_DOM, "no memory for QC checks");
		e->checks = p;
		e->capchecks = cap;
	}
	e->checks[e->nchecks] = *c;
	mg_icp_event ev = {.kind = MG_ICP_EV_CHECK, .item = c->item, .check = &e->checks[e->nchecks]};
	e->nchecks++;
	if (eval_emit(e, &ev))
		return MG_ERR_INTERRUPTED;
	return MG_OK;
}

void eval_check_init(const mg_icp_eval *e, mg_icp_check *c, mg_icp_check_type t, size_t item, int analyte)
{
	memset(c, 0, sizeof(*c));
	c->type = t;
	c->item = item;
	c->value = c->lo = c->hi = c->measured = c->expected = NAN;
	c->outcome = MG_ICP_NA;
	if (item < e->seq->nitems) {
		c->position = e->seq->items[item].position;
		snprintf(c->label, sizeof(c->label), "%s", e->seq->items[item].label);
	}
	if (analyte >= 0) {
		snprintf(c->element, sizeof(c->element), "%s", e->m->analyte[analyte].element);
		snprintf(c->line, sizeof(c->line), "%s", e->m->analyte[analyte].line.label);
	}
}

void eval_on_flag(size_t item, size_t a, mg_icp_flag_reason why, size_t check_item, void *ud)
{
	eval_flagctx *fc = ud;
	mg_icp_eval *e = fc->e;
	if (item >= e->seq->nitems)
		return;
	unsigned bit = why == MG_ICP_FLAG_UNBRACKETED ? MG_ICP_RF_UNBRACKETED
	               : fc->ccb                      ? MG_ICP_RF_RERUN_CCB
	                                              : MG_ICP_RF_RERUN_CCV;
	mg_icp_item_result *res = &e->res[item];
	int fresh = 0;
	for (size_t l = 0; l < e->nlines; l++)
		if (e->line_analyte[l] == (int)a) {
			fresh |= !(res->line[l].flags & bit);
			res->line[l].flags |= bit;
		}
	if (!fresh)
		return;
	mg_icp_event ev = {.kind = MG_ICP_EV_FLAGGED, .item = check_item < e->seq->nitems ? check_item : item,
	                   .flag_item = item, .analyte = a, .reason = why};
	ev.res = &e->res[item];
	if (eval_emit(e, &ev))
		fc->stop = 1;
}

int eval_final(mg_icp_eval *e, size_t i)
{
	if (e->final[i] || !e->res[i].measured)
		return MG_OK;
	e->final[i] = 1;
	return e->rec.result ? e->rec.result(e->rec.ctx, e, i) : MG_OK;
}

/* ---- readings ---------------------------------------------------------------- */

/* Match the lines the instrument returned to the configured ones. */
static int match_lines(const mg_icp_eval *e, const mg_icp_measurement *m, size_t *map)
{
	if (m->nlines > MG_ICP_MAX_LINES || m->nreplicates < 1 || m->nreplicates > MG_ICP_MAX_REPLICATES)
		return mg_fail(MG_ERR_PROTOCOL, EVAL_DOM, "the instrument returned %zu lines and %zu replicates", m->nlines,
		               m->nreplicates);
	for (size_t l = 0; l < e->nlines; l++) {
		map[l] = NOITEM;
		for (size_t j = 0; j < m->nlines; j++)
			if (strcmp(m->line[j].element, e->lines[l].element) == 0 &&
			    fabs(m->line[j].wavelength_nm - e->lines[l].wavelength_nm) < 0.005)
				map[l] = j;
		if (map[l] == NOITEM)
			return mg_fail(MG_ERR_PROTOCOL, EVAL_DOM, "the instrument returned no window for %s", e->lines[l].label);
	}
	for (size_t k = 0; k < m->nreplicates; k++)
		for (size_t j = 0; j < m->nlines; j++)
			if (m->replicate[k].window[j].npix > MG_ICP_MAX_PIXELS)
				return mg_fail(MG_ERR_PROTOCOL, EVAL_DOM, "a window of %zu pixels", m->replicate[k].window[j].npix);
	return MG_OK;
}

int mg_icp_eval_accept(mg_icp_eval *e, size_t i, const mg_icp_measurement *m)
{
	if (!e || i >= e->seq->nitems)
		return mg_fail(MG_ERR_ARG, EVAL_DOM, "no evaluation or no such item");
	mg_icp_item_result *res = &e->res[i];
	if (m) {
		/* a failed match leaves the line order of the last good readings */
		size_t map[MG_ICP_MAX_LINES];
		int rc = match_lines(e, m, map);
		if (rc < 0) {
			res->status = rc;
			return rc;
		}
		memcpy(e->map, map, sizeof(map));
		e->have_map = 1;
		res->measured = 1;
		res->nreplicates = m->nreplicates;
		snprintf(res->start_time, sizeof(res->start_time), "%s", m->start_time);
	} else {
		if (!e->csv)
			return mg_fail(MG_ERR_ARG, EVAL_DOM, "no readings and no CSV");
		res->measured = 1;
		res->nreplicates = e->data[i].nrep;
	}
	return MG_OK;
}

int mg_icp_eval_item(mg_icp_eval *e, size_t i, const mg_icp_measurement *m)
{
	if (!e || i >= e->seq->nitems || !e->res[i].measured)
		return mg_fail(MG_ERR_ARG, EVAL_DOM, "no evaluation, or the item's readings were not accepted");
	const size_t *map = m ? e->map : NULL;
	if (eval_is_cal(e->seq->items[i].type)) {
		if (m) {
			/* kept until the reference shapes are known */
			mg_icp_measurement *raw = malloc(sizeof(*raw));
			if (!raw)
				return mg_fail(MG_ERR_NOMEM, EVAL_DOM, "no memory for a measurement");
			memcpy(raw, m, sizeof(*raw));
			free(e->data[i].raw);
			e->data[i].raw = raw;
			e->data[i].nrep = m->nreplicates;
		}
		return i + 1 == e->cal_end ? eval_calibrate(e, map) : MG_OK;
	}
	if (m)
		eval_fit_item(e, i, m, map);
	return eval_evaluate_item(e, i);
}

void mg_icp_eval_item_failed(mg_icp_eval *e, size_t i, int rc)
{
	if (e && i < e->seq->nitems)
		e->res[i].status = rc;
}

void mg_icp_eval_note_measurement(mg_icp_eval *e, size_t i, const char *uuid, long long measurement_id)
{
	if (!e || i >= e->seq->nitems)
		return;
	snprintf(e->res[i].uuid, sizeof(e->res[i].uuid), "%s", uuid ? uuid : "");
	e->res[i].measurement_id = measurement_id;
}

void mg_icp_eval_note_result(mg_icp_eval *e, size_t i, long long result_id, int version)
{
	if (!e || i >= e->seq->nitems)
		return;
	e->res[i].result_id = result_id;
	e->res[i].result_version = version;
}

/* ---- what the evaluation found ---------------------------------------------- */

size_t mg_icp_eval_nlines(const mg_icp_eval *e)
{
	return e->nlines;
}

const mg_icp_line *mg_icp_eval_line(const mg_icp_eval *e, size_t i)
{
	return i < e->nlines ? &e->lines[i] : NULL;
}

int mg_icp_eval_line_analyte(const mg_icp_eval *e, size_t i)
{
	return i < e->nlines ? e->line_analyte[i] : -1;
}

mg_icp_line_role mg_icp_eval_line_role(const mg_icp_eval *e, size_t i)
{
	if (i >= e->nlines || e->line_analyte[i] < 0)
		return MG_ICP_ROLE_INTERNAL_STD;
	return e->line_primary[i] ? MG_ICP_ROLE_REPORT : MG_ICP_ROLE_ALTERNATIVE;
}

int mg_icp_eval_internal_standard(const mg_icp_eval *e, double *ref)
{
	if (ref)
		*ref = e->is_ref;
	return e->is_line;
}

int mg_icp_eval_shape(const mg_icp_eval *e, size_t l, double *centre_nm, double *fwhm_nm, double *eta)
{
	if (l >= e->nlines || !e->shape_ok[l])
		return 0;
	if (centre_nm)
		*centre_nm = e->shape_c[l];
	if (fwhm_nm)
		*fwhm_nm = e->shape_w[l];
	if (eta)
		*eta = e->shape_eta[l];
	return e->shape_ok[l];
}

int mg_icp_eval_calibrated(const mg_icp_eval *e)
{
	return e->calibrated;
}

int mg_icp_eval_vendor_concentrations(const mg_icp_eval *e)
{
	return e->conc_mode;
}

const mg_icp_curve *mg_icp_eval_curve(const mg_icp_eval *e, size_t line)
{
	return line < e->nlines && e->curve_ok[line] ? &e->curve[line] : NULL;
}

const char *mg_icp_eval_curve_error(const mg_icp_eval *e, size_t line)
{
	return line < e->nlines ? e->curve_err[line] : "";
}

size_t mg_icp_eval_nchecks(const mg_icp_eval *e)
{
	return e->nchecks;
}

const mg_icp_check *mg_icp_eval_check(const mg_icp_eval *e, size_t i)
{
	return i < e->nchecks ? &e->checks[i] : NULL;
}

size_t mg_icp_eval_count(const mg_icp_eval *e, mg_icp_outcome o)
{
	size_t n = 0;
	for (size_t i = 0; i < e->nchecks; i++)
		n += e->checks[i].outcome == o;
	return n;
}

const mg_icp_item_result *mg_icp_eval_result(const mg_icp_eval *e, size_t item)
{
	return item < e->seq->nitems ? &e->res[item] : NULL;
}

size_t mg_icp_eval_csv_rows(const mg_icp_eval *e, size_t item, const size_t **rows)
{
	if (!e->csv || !e->csv_rows || item >= e->seq->nitems) {
		if (rows)
			*rows = NULL;
		return 0;
	}
	if (rows)
		*rows = e->csv_rows + e->data[item].csv_first;
	return e->data[item].csv_count;
}
