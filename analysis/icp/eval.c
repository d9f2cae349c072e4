/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES run: a validated sequence measured item by item on a source (an
 * instrument, or a test double), or taken from a vendor CSV export, with QC
 * evaluated as the run goes.
 *
 * Order of work:
 *  1. the calibration block is measured and its raw readings kept; after the
 *     last standard the reference shape of every line (centre, FWHM, η) is
 *     fitted freely on the standard that has most of the analyte (the IS on
 *     the calibration blank), then every reading is fitted with that shape —
 *     the same estimator for standards, blanks and samples;
 *  2. curves per line from the IS-corrected mean responses; LOD/LOQ from the
 *     calibration blank's replicates; the calibration is judged (r, residuals)
 *     and stored (kind "icp", name = the method's name, a new version);
 *  3. every later item: fits, IS correction (recovery checked), inverse
 *     prediction per replicate, IEC, solid mass fractions, the QC checks of
 *     its type; CCVs and CCBs close brackets: a failure flags every sample
 *     since the last passing check (mg_icp_bracket);
 *  4. results go to the store as soon as nothing can change them: QC items
 *     at once, samples when their closing CCV/CCB has been judged, everything
 *     left when the run ends or stops (then flagged unbracketed).
 * An error (instrument, store) stops the run: what was measured is kept,
 * evaluated and stored, and the error is reported with the item. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_internal.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/icp_device.h"
#include "magassay/store.h"

#define DOM "icp-run"
#define NOITEM ((size_t)-1)

static int is_cal(mg_icp_item_type t)
{
	return t == MG_ICP_ITEM_CAL_BLANK || t == MG_ICP_ITEM_CAL_STD;
}

/* ---- set-up ---------------------------------------------------------------- */

int mg_icp_run_new(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                   mg_icp_problems *problems, mg_icp_run **out)
{
	if (!s || !m || !q || !out)
		return mg_fail(MG_ERR_ARG, DOM, "a run needs a sequence, a method and a QC profile");
	*out = NULL;
	mg_icp_problems local;
	mg_icp_problems *p = problems ? problems : &local;
	int np = mg_icp_sequence_validate(s, m, q, p);
	if (np < 0)
		return np;
	if (np > 0)
		return MG_ERR_FORMAT; /* detail set by validate */
	mg_icp_run *r = calloc(1, sizeof(*r));
	if (!r)
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
	r->seq = s;
	r->m = m;
	r->q = q;
	r->error_item = NOITEM;
	r->is_line = -1;
	r->is_ref = NAN;
	r->is_ref_item = NOITEM;
	snprintf(r->operator_name, sizeof(r->operator_name), "%s", s->operator_name);
	int nl = mg_icp_method_lines(m, r->lines, MG_ICP_MAX_LINES);
	if (nl < 0) {
		free(r);
		return nl;
	}
	r->nlines = (size_t)nl;
	size_t k = 0;
	for (size_t a = 0; a < m->nanalytes; a++) {
		r->line_analyte[k] = (int)a;
		r->line_primary[k] = 1;
		r->line_fit[k] = &m->analyte[a].fit;
		r->primary[a] = k++;
	}
	for (size_t a = 0; a < m->nanalytes; a++)
		for (size_t j = 0; j < m->analyte[a].nalt; j++) {
			r->line_analyte[k] = (int)a;
			r->line_primary[k] = 0;
			r->line_fit[k] = &m->analyte[a].fit;
			k++;
		}
	if (m->has_is) {
		r->line_analyte[k] = -1;
		r->line_primary[k] = 0;
		r->line_fit[k] = &m->is_fit;
		r->is_line = (int)k;
		k++;
	}
	size_t n = s->nitems;
	r->data = calloc(n, sizeof(*r->data));
	r->res = calloc(n, sizeof(*r->res));
	r->stored = calloc(n, sizeof(*r->stored));
	if (!r->data || !r->res || !r->stored) {
		mg_icp_run_free(r);
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory for %zu items", n);
	}
	for (size_t i = 0; i < n; i++) {
		mg_icp_item_result *res = &r->res[i];
		res->item = i;
		res->is_recovery_pct = NAN;
		res->total_pct = NAN;
		for (size_t l = 0; l < MG_ICP_MAX_LINES; l++) {
			mg_icp_value *v = &res->line[l];
			v->net = v->net_rsd_pct = v->conc = v->u_conc = v->sd = v->rsd_pct = v->w_pct = v->u_w_pct = NAN;
		}
		for (size_t l = 0; l < MG_ICP_MAX_LINES; l++)
			for (size_t k2 = 0; k2 < MG_ICP_MAX_REPLICATES; k2++)
				r->data[i].net[l][k2] = r->data[i].conc[l][k2] = r->data[i].resp[l][k2] = NAN;
	}
	while (r->cal_end < n && is_cal(s->items[r->cal_end].type))
		r->cal_end++;
	mg_icp_bracket_init(&r->ccv, m->nanalytes);
	mg_icp_bracket_init(&r->ccb, m->nanalytes);
	*out = r;
	return MG_OK;
}

void mg_icp_run_free(mg_icp_run *r)
{
	if (!r)
		return;
	if (r->data)
		for (size_t i = 0; i < r->seq->nitems; i++)
			free(r->data[i].raw);
	free(r->data);
	free(r->res);
	free(r->stored);
	free(r->checks);
	free(r->csv_rows);
	mg_icp_bracket_clear(&r->ccv);
	mg_icp_bracket_clear(&r->ccb);
	free(r);
}

void mg_icp_run_set_events(mg_icp_run *r, mg_icp_event_cb cb, void *userdata)
{
	r->cb = cb;
	r->ud = userdata;
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

/* ---- events, checks, flags ---------------------------------------------- */

static int emit(mg_icp_run *r, mg_icp_event *ev)
{
	if (!r->cb)
		return 0;
	if (ev->item < r->seq->nitems) {
		ev->it = &r->seq->items[ev->item];
		if (!ev->res)
			ev->res = &r->res[ev->item];
	}
	int stop = r->cb(ev, r->ud);
	/* once the run is ending, a stop request cannot cut short what is left
	 * (evaluating and storing what was measured) */
	return r->finishing ? 0 : stop;
}

static int add_check(mg_icp_run *r, const mg_icp_check *c)
{
	if (r->nchecks == r->capchecks) {
		size_t cap = r->capchecks ? 2 * r->capchecks : 64;
		mg_icp_check *p = realloc(r->checks, cap * sizeof(*p));
		if (!p)
			return mg_fail(MG_ERR_NOMEM, DOM, "no memory for QC checks");
		r->checks = p;
		r->capchecks = cap;
	}
	r->checks[r->nchecks] = *c;
	mg_icp_event ev = {.kind = MG_ICP_EV_CHECK, .item = c->item, .check = &r->checks[r->nchecks]};
	r->nchecks++;
	if (emit(r, &ev))
		return MG_ERR_INTERRUPTED;
	return MG_OK;
}

static void check_init(const mg_icp_run *r, mg_icp_check *c, mg_icp_check_type t, size_t item, int analyte)
{
	memset(c, 0, sizeof(*c));
	c->type = t;
	c->item = item;
	c->value = c->lo = c->hi = c->measured = c->expected = NAN;
	c->outcome = MG_ICP_NA;
	if (item < r->seq->nitems) {
		c->position = r->seq->items[item].position;
		snprintf(c->label, sizeof(c->label), "%s", r->seq->items[item].label);
	}
	if (analyte >= 0) {
		snprintf(c->element, sizeof(c->element), "%s", r->m->analyte[analyte].element);
		snprintf(c->line, sizeof(c->line), "%s", r->m->analyte[analyte].line.label);
	}
}

typedef struct flagctx {
	mg_icp_run *r;
	int ccb;
	int stop;
} flagctx;

static void on_flag(size_t item, size_t a, mg_icp_flag_reason why, size_t check_item, void *ud)
{
	flagctx *fc = ud;
	mg_icp_run *r = fc->r;
	if (item >= r->seq->nitems)
		return;
	unsigned bit = why == MG_ICP_FLAG_UNBRACKETED ? MG_ICP_RF_UNBRACKETED
	               : fc->ccb                      ? MG_ICP_RF_RERUN_CCB
	                                              : MG_ICP_RF_RERUN_CCV;
	mg_icp_item_result *res = &r->res[item];
	int fresh = 0;
	for (size_t l = 0; l < r->nlines; l++)
		if (r->line_analyte[l] == (int)a) {
			fresh |= !(res->line[l].flags & bit);
			res->line[l].flags |= bit;
		}
	if (!fresh)
		return;
	mg_icp_event ev = {.kind = MG_ICP_EV_FLAGGED, .item = check_item < r->seq->nitems ? check_item : item,
	                   .flag_item = item, .analyte = a, .reason = why};
	ev.res = &r->res[item];
	if (emit(r, &ev))
		fc->stop = 1;
}

/* ---- the store -------------------------------------------------------------- */

void icp_store_sample_id(const mg_icp_run *r, size_t item, char *out, size_t cap)
{
	const mg_icp_item *it = &r->seq->items[item];
	if (it->type == MG_ICP_ITEM_SAMPLE || it->type == MG_ICP_ITEM_DUPLICATE || it->type == MG_ICP_ITEM_SPIKE)
		snprintf(out, cap, "%s", it->label);
	else
		snprintf(out, cap, "%s.%s", r->seq->batch, it->label);
}

static int store_begin(mg_icp_run *r)
{
	if (!r->st)
		return MG_OK;
	return mg_store_batch_ensure(r->st, r->seq->batch, r->operator_name[0] ? r->operator_name : NULL, NULL);
}

static int store_measurement(mg_icp_run *r, size_t i, const char *raw_json)
{
	if (!r->st)
		return MG_OK;
	const mg_icp_item *it = &r->seq->items[i];
	mg_icp_item_result *res = &r->res[i];
	char sid[MG_ID_MAX + 8], desc[200];
	icp_store_sample_id(r, i, sid, sizeof(sid));
	switch (it->type) {
	case MG_ICP_ITEM_DUPLICATE:
		snprintf(desc, sizeof(desc), "duplicate digest of %s", it->of);
		break;
	case MG_ICP_ITEM_SPIKE:
		snprintf(desc, sizeof(desc), "matrix spike of %s (%s)", it->of, it->solution);
		break;
	case MG_ICP_ITEM_SAMPLE:
		snprintf(desc, sizeof(desc), "%s", it->notes[0] ? it->notes : "ICP-OES digest");
		break;
	default:
		snprintf(desc, sizeof(desc), "ICP-OES %s %s", mg_icp_item_type_name(it->type),
		         it->solution[0] ? it->solution : it->label);
	}
	int rc = mg_store_sample_ensure(r->st, sid, r->seq->batch, desc, NULL);
	if (rc != MG_OK)
		return rc;
	char uuid[MG_UUID_SIZE], *path = NULL;
	if ((rc = mg_uuid_generate(uuid)) != MG_OK)
		return rc;
	if ((rc = mg_store_spectrum_path(r->st, r->seq->batch, sid, uuid, "json", &path)) != MG_OK)
		return rc;
	rc = mg_file_write_atomic(path, raw_json, strlen(raw_json));
	if (rc != MG_OK) {
		free(path);
		return rc;
	}
	char *settings = icp_json_settings(r, i);
	char notes[200];
	snprintf(notes, sizeof(notes), "ICP-OES %s at position %d, sequence line %ld", mg_icp_item_type_name(it->type),
	         it->position, it->line);
	mg_new_measurement nm;
	mg_new_measurement_init(&nm);
	nm.uuid = uuid;
	nm.sample_id = sid;
	nm.batch_id = r->seq->batch;
	nm.kind = "icp";
	nm.file = path;
	nm.instrument_model = r->model[0] ? r->model : NULL;
	nm.instrument_serial = r->serial[0] ? r->serial : NULL;
	nm.instrument_firmware = r->firmware[0] ? r->firmware : NULL;
	nm.settings_json = settings;
	nm.started_at = res->start_time[0] ? res->start_time : NULL;
	nm.real_time_s = r->m->integration_s * (double)(res->nreplicates ? res->nreplicates : 1);
	nm.operator_name = r->operator_name[0] ? r->operator_name : NULL;
	nm.status = "complete";
	nm.replicate = 0;
	nm.notes = notes;
	long long id = 0;
	rc = mg_store_measurement_add(r->st, &nm, &id, NULL);
	free(settings);
	free(path);
	if (rc != MG_OK)
		return rc;
	snprintf(res->uuid, sizeof(res->uuid), "%s", uuid);
	res->measurement_id = id;
	return MG_OK;
}

static int store_result(mg_icp_run *r, size_t i)
{
	if (r->stored[i] || !r->res[i].measured)
		return MG_OK;
	r->stored[i] = 1;
	if (!r->st || !r->res[i].measurement_id)
		return MG_OK;
	char *payload = icp_json_result(r, i);
	if (!payload)
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory for a result");
	int ver = 0;
	long long rid = 0;
	int rc = mg_store_result_add(r->st, r->res[i].measurement_id, r->cal_id, NULL, payload, &ver, &rid);
	free(payload);
	if (rc != MG_OK)
		return rc;
	r->res[i].result_id = rid;
	r->res[i].result_version = ver;
	mg_icp_event ev = {.kind = MG_ICP_EV_STORED, .item = i};
	if (emit(r, &ev))
		return MG_ERR_INTERRUPTED;
	return MG_OK;
}

static int store_calibration(mg_icp_run *r)
{
	if (!r->st)
		return MG_OK;
	int any = 0;
	for (size_t l = 0; l < r->nlines; l++)
		any |= r->curve_ok[l];
	if (!any)
		return MG_OK;
	char *payload = icp_json_calibration(r), *prov = icp_json_calibration_provenance(r);
	int rc = MG_OK;
	if (!payload || !prov) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "no memory for the calibration");
	} else {
		mg_new_calibration c = {.kind = "icp",
		                        .name = r->m->name,
		                        .operator_name = r->operator_name[0] ? r->operator_name : NULL,
		                        .provenance_json = prov,
		                        .payload_json = payload};
		rc = mg_store_calibration_add(r->st, &c, &r->cal_version, &r->cal_id);
	}
	free(payload);
	free(prov);
	return rc;
}

/* ---- fitting ------------------------------------------------------------------ */

static void fit_opts_for(const mg_icp_run *r, size_t l, mg_icp_fit_opts *o)
{
	*o = *r->line_fit[l];
	if (r->shape_ok[l]) {
		o->fix_width = 1;
		o->fwhm_nm = r->shape_w[l];
		o->eta = r->shape_eta[l];
		o->centre_nm = r->shape_c[l];
		if (o->shift_max_nm < 0.002)
			o->shift_max_nm = 0.002;
	}
}

/* Net intensities of every line and replicate of a measured item. */
static void fit_item(mg_icp_run *r, size_t i, const mg_icp_measurement *m, const size_t *map)
{
	icp_item_data *d = &r->data[i];
	d->nrep = m->nreplicates;
	for (size_t l = 0; l < r->nlines; l++) {
		mg_icp_fit_opts o;
		fit_opts_for(r, l, &o);
		d->fit_status[l] = MG_OK;
		for (size_t k = 0; k < m->nreplicates; k++) {
			mg_icp_linefit lf;
			int rc = mg_icp_fit_line(&m->replicate[k].window[map[l]], r->lines[l].wavelength_nm, &o, &lf);
			d->net[l][k] = rc == MG_OK ? lf.net : NAN;
			if (rc != MG_OK) {
				d->fit_status[l] = rc;
				mg_warn(DOM, "%s, %s replicate %zu: %s", r->seq->items[i].label, r->lines[l].label, k + 1,
				        mg_error_detail());
			}
		}
	}
	d->have = 1;
}

/* The reference shape of each line: a free fit of the replicate-mean window
 * of the standard richest in the analyte (the IS: the calibration blank). */
static void reference_shapes(mg_icp_run *r, const size_t *map)
{
	const mg_icp_method *m = r->m;
	for (size_t l = 0; l < r->nlines; l++) {
		r->shape_ok[l] = 0;
		int a = r->line_analyte[l];
		size_t best = NOITEM;
		double bestv = 0;
		for (size_t i = 0; i < r->cal_end; i++) {
			const mg_icp_item *it = &r->seq->items[i];
			if (!r->data[i].raw)
				continue;
			if (a < 0) {
				if (best == NOITEM || it->type == MG_ICP_ITEM_CAL_BLANK)
					best = best == NOITEM || r->seq->items[best].type != MG_ICP_ITEM_CAL_BLANK ? i : best;
				continue;
			}
			if (it->type != MG_ICP_ITEM_CAL_STD)
				continue;
			const mg_icp_solution *so = mg_icp_method_solution(m, it->solution[0] ? it->solution : it->label,
			                                                   MG_ICP_SOL_STANDARD);
			if (so && isfinite(so->value[a]) && so->value[a] > bestv) {
				bestv = so->value[a];
				best = i;
			}
		}
		if (best == NOITEM)
			continue;
		const mg_icp_measurement *raw = r->data[best].raw;
		mg_icp_window mean = raw->replicate[0].window[map[l]];
		for (size_t p = 0; p < mean.npix && p < MG_ICP_MAX_PIXELS; p++) {
			double s = 0;
			for (size_t k = 0; k < raw->nreplicates; k++)
				s += raw->replicate[k].window[map[l]].intensity[p];
			mean.intensity[p] = s / (double)raw->nreplicates;
		}
		mg_icp_fit_opts o = *r->line_fit[l];
		o.fix_width = 0;
		o.fix_centre = 0;
		o.centre_free_snr = 0;
		mg_icp_linefit lf;
		if (mg_icp_fit_line(&mean, r->lines[l].wavelength_nm, &o, &lf) == MG_OK && lf.net > 0 &&
		    lf.net > 10 * lf.net_u) {
			r->shape_ok[l] = 1;
			r->shape_c[l] = lf.centre_nm;
			r->shape_w[l] = lf.fwhm_nm;
			r->shape_eta[l] = lf.eta;
			mg_dbg(DOM, "%s: reference shape from %s: centre %.4f nm, FWHM %.4f nm, eta %.2f", r->lines[l].label,
			       r->seq->items[best].label, lf.centre_nm, lf.fwhm_nm, lf.eta);
		} else {
			mg_dbg(DOM, "%s: no reference shape from %s (the line is weak or overlapped)", r->lines[l].label,
			       r->seq->items[best].label);
		}
	}
	/* lines without a shape of their own borrow one: FWHM linear in the
	 * wavelength and the median η of the lines that have one, centred on
	 * the line's wavelength shifted by the median offset seen */
	double sx = 0, sy = 0, sxx = 0, sxy = 0, etas[MG_ICP_MAX_LINES], offs[MG_ICP_MAX_LINES];
	size_t ng = 0;
	for (size_t l = 0; l < r->nlines; l++)
		if (r->shape_ok[l] == 1) {
			double x = r->lines[l].wavelength_nm, y = r->shape_w[l];
			sx += x;
			sy += y;
			sxx += x * x;
			sxy += x * y;
			etas[ng] = r->shape_eta[l];
			offs[ng] = r->shape_c[l] - x;
			ng++;
		}
	if (ng == 0)
		return;
	double det = (double)ng * sxx - sx * sx;
	double b = ng >= 2 && fabs(det) > 1e-12 ? ((double)ng * sxy - sx * sy) / det : 0, a = (sy - b * sx) / (double)ng;
	for (size_t i = 1; i < ng; i++) /* insertion sort, small */
		for (size_t j = i; j > 0 && etas[j] < etas[j - 1]; j--) {
			double t = etas[j];
			etas[j] = etas[j - 1];
			etas[j - 1] = t;
		}
	for (size_t i = 1; i < ng; i++)
		for (size_t j = i; j > 0 && offs[j] < offs[j - 1]; j--) {
			double t = offs[j];
			offs[j] = offs[j - 1];
			offs[j - 1] = t;
		}
	for (size_t l = 0; l < r->nlines; l++) {
		if (r->shape_ok[l])
			continue;
		double w = a + b * r->lines[l].wavelength_nm;
		if (!(w > 0))
			w = sy / (double)ng;
		r->shape_ok[l] = 2;
		r->shape_w[l] = w;
		r->shape_eta[l] = etas[ng / 2];
		r->shape_c[l] = r->lines[l].wavelength_nm + offs[ng / 2];
		mg_info(DOM, "%s: shape borrowed from the other lines (FWHM %.4f nm, eta %.2f)", r->lines[l].label, w,
		        r->shape_eta[l]);
	}
}

/* ---- evaluation ---------------------------------------------------------------- */

static double lloq_of(const mg_icp_run *r, int a)
{
	const mg_icp_analyte *an = &r->m->analyte[a];
	if (isfinite(an->lloq))
		return an->lloq;
	size_t l = r->primary[a];
	return r->curve_ok[l] ? r->curve[l].loq : NAN;
}

static const mg_icp_solution *item_solution(const mg_icp_run *r, size_t i, int kind)
{
	const mg_icp_item *it = &r->seq->items[i];
	const char *name = it->solution;
	if (!name[0])
		name = it->type == MG_ICP_ITEM_ICV ? "ICV" : it->type == MG_ICP_ITEM_CCV ? "CCV"
		       : it->type == MG_ICP_ITEM_LLOQ ? "LLOQ" : it->label;
	return mg_icp_method_solution(r->m, name, kind);
}

/* responses (IS-corrected), replicate statistics, concentrations, IEC, flags, solid */
static void compute_values(mg_icp_run *r, size_t i)
{
	const mg_icp_method *m = r->m;
	icp_item_data *d = &r->data[i];
	mg_icp_item_result *res = &r->res[i];
	size_t nrep = d->nrep;
	res->nreplicates = nrep;
	memcpy(res->net_rep, d->net, sizeof(res->net_rep));
	int is_bad = 0;
	/* the internal standard */
	if (r->is_line >= 0 && isfinite(r->is_ref) && !r->conc_mode) {
		double rec;
		for (size_t l = 0; l < r->nlines; l++)
			if ((int)l == r->is_line) {
				memcpy(d->resp[l], d->net[l], sizeof(d->resp[l])); /* the IS itself: its raw net */
			} else if (mg_icp_intstd_correct(d->net[l], d->net[r->is_line], nrep, r->is_ref, d->resp[l], &rec) !=
			           MG_OK) {
				is_bad = 1;
				memcpy(d->resp[l], d->net[l], sizeof(d->resp[l]));
			} else {
				res->is_recovery_pct = rec;
			}
	} else {
		for (size_t l = 0; l < r->nlines; l++)
			memcpy(d->resp[l], d->net[l], sizeof(d->resp[l]));
		if (r->is_line >= 0 && isfinite(r->is_ref)) {
			mg_icp_stats s;
			mg_icp_stats_compute(d->net[r->is_line], nrep, &s);
			res->is_recovery_pct = isfinite(s.mean) ? 100.0 * s.mean / r->is_ref : NAN;
		}
	}
	/* concentrations per line */
	double capp[MG_ICP_MAX_LINES], uapp[MG_ICP_MAX_LINES];
	for (size_t l = 0; l < r->nlines; l++) {
		mg_icp_value *v = &res->line[l];
		mg_icp_stats sr, sc;
		mg_icp_stats_compute(d->resp[l], nrep, &sr);
		v->net = sr.mean;
		v->net_rsd_pct = sr.rsd_pct;
		capp[l] = uapp[l] = NAN;
		if (d->fit_status[l] != MG_OK)
			v->flags |= MG_ICP_RF_FIT_FAIL;
		if (is_bad)
			v->flags |= MG_ICP_RF_IS_FAIL;
		if (r->line_analyte[l] < 0)
			continue;
		double cr[MG_ICP_MAX_REPLICATES];
		if (r->conc_mode) {
			for (size_t k = 0; k < nrep; k++)
				cr[k] = d->conc[l][k];
			mg_icp_stats_compute(cr, nrep, &sc);
			capp[l] = sc.mean;
			uapp[l] = sc.n >= 2 ? sc.sd / sqrt((double)sc.n) : NAN;
		} else if (r->curve_ok[l] && isfinite(sr.mean)) {
			for (size_t k = 0; k < nrep; k++)
				if (!isfinite(d->resp[l][k]) || mg_icp_curve_invert(&r->curve[l], d->resp[l][k], 0, &cr[k], NULL) != MG_OK)
					cr[k] = NAN;
			mg_icp_stats_compute(cr, nrep, &sc);
			double uy = sr.n >= 2 && isfinite(sr.sd) ? sr.sd / sqrt((double)sr.n) : r->curve[l].s_yx;
			if (mg_icp_curve_invert(&r->curve[l], sr.mean, uy, &capp[l], &uapp[l]) != MG_OK)
				capp[l] = uapp[l] = NAN;
		} else {
			mg_icp_stats_compute(cr, 0, &sc);
			if (r->calibrated)
				v->flags |= MG_ICP_RF_CAL_FAIL;
		}
		v->sd = sc.sd;
		v->rsd_pct = sc.rsd_pct;
	}
	/* inter-element corrections on the reporting lines (Jacobi iterations:
	 * an interferent may itself be corrected) */
	double cc[MG_ICP_MAX_LINES];
	memcpy(cc, capp, sizeof(cc));
	if (!r->conc_mode) {
		for (int iter = 0; iter < 6; iter++) {
			double nx[MG_ICP_MAX_LINES];
			memcpy(nx, cc, sizeof(nx));
			for (size_t a = 0; a < m->nanalytes; a++) {
				const mg_icp_analyte *an = &m->analyte[a];
				if (!an->niec)
					continue;
				double ci[MG_ICP_MAX_IEC], ui[MG_ICP_MAX_IEC];
				for (size_t j = 0; j < an->niec; j++) {
					int b = mg_icp_method_analyte(m, an->iec[j].element);
					ci[j] = b >= 0 ? cc[r->primary[b]] : NAN;
					ui[j] = b >= 0 ? uapp[r->primary[b]] : NAN;
				}
				size_t l = r->primary[a];
				double c, u;
				if (isfinite(capp[l]) && mg_icp_iec_apply(capp[l], uapp[l], an->iec, an->niec, ci, ui, &c, &u) == MG_OK) {
					nx[l] = c;
					if (iter == 5)
						uapp[l] = u;
				}
			}
			memcpy(cc, nx, sizeof(cc));
		}
	}
	mg_icp_digest dg;
	mg_icp_item_digest(r->seq, i, m, &dg);
	const mg_icp_item *it = &r->seq->items[i];
	int solid = mg_icp_item_is_sample(it->type) && dg.mass_g > 0 && dg.volume_ml > 0;
	for (size_t l = 0; l < r->nlines; l++) {
		int a = r->line_analyte[l];
		if (a < 0)
			continue;
		mg_icp_value *v = &res->line[l];
		v->conc = cc[l];
		v->u_conc = uapp[l];
		if (!isfinite(v->conc))
			continue;
		if (!r->conc_mode && r->curve_ok[l]) {
			const mg_icp_curve *cv = &r->curve[l];
			double loq = r->line_primary[l] ? lloq_of(r, a) : cv->loq;
			if (isfinite(cv->lod) && v->conc < cv->lod)
				v->flags |= MG_ICP_RF_BELOW_LOD;
			if (isfinite(loq) && v->conc < loq)
				v->flags |= MG_ICP_RF_BELOW_LOQ;
			double top = 0;
			for (size_t k = 0; k < cv->n; k++)
				top = fmax(top, cv->x[k]);
			if (isfinite(r->q->range_max_pct) && top > 0 && v->conc > top * r->q->range_max_pct / 100.0)
				v->flags |= MG_ICP_RF_OVER_RANGE;
		} else if (r->conc_mode && r->line_primary[l]) {
			double loq = lloq_of(r, a);
			if (isfinite(loq) && v->conc < loq)
				v->flags |= MG_ICP_RF_BELOW_LOQ;
		}
		if (isfinite(r->q->rsd_max_pct) && isfinite(v->rsd_pct) && v->rsd_pct > r->q->rsd_max_pct &&
		    !(v->flags & MG_ICP_RF_BELOW_LOQ))
			v->flags |= MG_ICP_RF_RSD;
		if (r->line_primary[l] && r->cal_failed[a])
			v->flags |= MG_ICP_RF_CAL_FAIL;
		if (r->icv_seen && r->icv_failed[a] && i >= r->cal_end)
			v->flags |= MG_ICP_RF_ICV_FAIL;
		if (!r->line_primary[l] && mg_icp_known_overlap(m->analyte[a].element, r->lines[l].wavelength_nm, NULL))
			v->flags |= MG_ICP_RF_INTERFERED;
		if (solid)
			mg_icp_solid(v->conc, v->u_conc, &dg, &v->w_pct, &v->u_w_pct);
	}
	if (solid && (it->type == MG_ICP_ITEM_SAMPLE || it->type == MG_ICP_ITEM_DUPLICATE || it->type == MG_ICP_ITEM_CRM)) {
		double t = m->total_other_pct;
		int any = 0;
		for (size_t a = 0; a < m->nanalytes; a++) {
			if (!m->analyte[a].in_total)
				continue;
			double w = res->line[r->primary[a]].w_pct;
			if (!isfinite(w)) {
				t = NAN;
				break;
			}
			t += w;
			any = 1;
		}
		res->total_pct = any ? t : NAN;
	}
}

static int check_blank(mg_icp_run *r, size_t i, mg_icp_check_type type, int *judged, int *failed)
{
	const mg_icp_method *m = r->m;
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report)
			continue;
		mg_icp_check c;
		check_init(r, &c, type, i, (int)a);
		double lloq = lloq_of(r, (int)a);
		double f = isfinite(r->q->blank_lloq_factor) ? r->q->blank_lloq_factor : NAN;
		c.value = c.measured = r->res[i].line[r->primary[a]].conc;
		snprintf(c.unit, sizeof(c.unit), "mg/L");
		if (isfinite(lloq) && isfinite(f)) {
			c.lo = -f * lloq;
			c.hi = f * lloq;
			c.outcome = mg_icp_judge(c.value, (mg_icp_limits){c.lo, c.hi});
			snprintf(c.note, sizeof(c.note), "|C| below %g × LLOQ (%.4g mg/L)", f, lloq);
		} else {
			snprintf(c.note, sizeof(c.note), "no LLOQ or no blank limit in the QC profile");
		}
		if (judged)
			judged[a] = c.outcome != MG_ICP_NA;
		if (failed)
			failed[a] = c.outcome == MG_ICP_FAIL;
		int rc = add_check(r, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}

static int check_recovery(mg_icp_run *r, size_t i, mg_icp_check_type type, mg_icp_limits lim, int *judged,
                          int *failed)
{
	const mg_icp_method *m = r->m;
	const mg_icp_solution *so = item_solution(r, i, MG_ICP_SOL_CHECK);
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (judged)
			judged[a] = 0;
		if (failed)
			failed[a] = 0;
		if (!m->analyte[a].report || !so || !isfinite(so->value[a]))
			continue;
		mg_icp_check c;
		check_init(r, &c, type, i, (int)a);
		c.measured = r->res[i].line[r->primary[a]].conc;
		c.expected = so->value[a];
		c.value = mg_icp_recovery_pct(c.measured, c.expected);
		c.lo = lim.lo;
		c.hi = lim.hi;
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.outcome = mg_icp_judge(c.value, lim);
		snprintf(c.note, sizeof(c.note), "%.5g of %.5g mg/L (%s)", c.measured, c.expected, so->name);
		if (judged)
			judged[a] = c.outcome != MG_ICP_NA;
		if (failed)
			failed[a] = c.outcome == MG_ICP_FAIL;
		int rc = add_check(r, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}

static int check_duplicate(mg_icp_run *r, size_t i)
{
	const mg_icp_method *m = r->m;
	size_t p = r->seq->items[i].parent;
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report)
			continue;
		mg_icp_check c;
		check_init(r, &c, MG_ICP_CHECK_DUPLICATE, i, (int)a);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.hi = r->q->dup_rpd_max;
		size_t l = r->primary[a];
		if (p == NOITEM || !r->res[p].measured) {
			snprintf(c.note, sizeof(c.note), "the original sample was not measured");
		} else {
			const mg_icp_value *va = &r->res[p].line[l], *vb = &r->res[i].line[l];
			int solid = isfinite(va->w_pct) && isfinite(vb->w_pct);
			c.measured = solid ? vb->w_pct : vb->conc;
			c.expected = solid ? va->w_pct : va->conc;
			c.value = mg_icp_rpd_pct(c.expected, c.measured);
			double lloq = lloq_of(r, (int)a), f = r->q->dup_min_lloq_factor;
			if (isfinite(lloq) && isfinite(f) && (va->conc < f * lloq || vb->conc < f * lloq)) {
				snprintf(c.note, sizeof(c.note), "below %g × LLOQ (%.4g mg/L): RPD not judged", f, lloq);
				c.value = NAN;
			} else {
				c.outcome = mg_icp_judge(c.value, (mg_icp_limits){NAN, c.hi});
				snprintf(c.note, sizeof(c.note), "%.40s %.5g vs %.40s %.5g %s", r->seq->items[p].label, c.expected,
				         r->seq->items[i].label, c.measured, solid ? "wt%" : "mg/L");
			}
		}
		int rc = add_check(r, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}

static int check_spike(mg_icp_run *r, size_t i)
{
	const mg_icp_method *m = r->m;
	size_t p = r->seq->items[i].parent;
	const mg_icp_solution *so = item_solution(r, i, MG_ICP_SOL_SPIKE);
	mg_icp_digest dg;
	mg_icp_item_digest(r->seq, i, m, &dg);
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report || !so || !isfinite(so->value[a]))
			continue;
		mg_icp_check c;
		check_init(r, &c, MG_ICP_CHECK_SPIKE, i, (int)a);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.lo = r->q->spike.lo;
		c.hi = r->q->spike.hi;
		size_t l = r->primary[a];
		double added = so->value[a];
		c.measured = r->res[i].line[l].conc;
		if (p == NOITEM || !r->res[p].measured) {
			snprintf(c.note, sizeof(c.note), "the unspiked sample was not measured");
		} else {
			const mg_icp_value *vp = &r->res[p].line[l];
			/* the unspiked contribution in this solution: via the parent's mass fraction */
			double unsp = isfinite(vp->w_pct) ? mg_icp_solution_conc(vp->w_pct, &dg) : vp->conc;
			c.expected = unsp + added;
			c.value = mg_icp_spike_recovery_pct(c.measured, unsp, added);
			double f = r->q->spike_max_ratio;
			if (isfinite(f) && isfinite(unsp) && unsp > f * added)
				snprintf(c.note, sizeof(c.note), "the sample (%.4g mg/L) exceeds %g × the spike (%.4g): not judged",
				         unsp, f, added);
			else {
				c.outcome = mg_icp_judge(c.value, r->q->spike);
				snprintf(c.note, sizeof(c.note), "(%.5g − %.5g) / %.5g mg/L added (%s)", c.measured, unsp, added,
				         so->name);
			}
		}
		int rc = add_check(r, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}

static int check_crm(mg_icp_run *r, size_t i)
{
	const mg_icp_method *m = r->m;
	const mg_icp_solution *so = item_solution(r, i, MG_ICP_SOL_CRM);
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report || !so || !isfinite(so->value[a]))
			continue;
		mg_icp_check c;
		check_init(r, &c, MG_ICP_CHECK_CRM, i, (int)a);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.measured = r->res[i].line[r->primary[a]].w_pct;
		c.expected = so->value[a];
		c.value = mg_icp_recovery_pct(c.measured, c.expected);
		mg_icp_limits lim = r->q->crm;
		if (isnan(lim.lo) && isnan(lim.hi) && isfinite(so->u[a]) && so->value[a] > 0) {
			lim.lo = 100.0 * (1 - so->u[a] / so->value[a]);
			lim.hi = 100.0 * (1 + so->u[a] / so->value[a]);
			snprintf(c.note, sizeof(c.note), "%.5g of %.5g ± %.3g wt%% (%s, certified U)", c.measured, c.expected,
			         so->u[a], so->name);
		} else {
			snprintf(c.note, sizeof(c.note), "%.5g of %.5g wt%% (%s)", c.measured, c.expected, so->name);
		}
		c.lo = lim.lo;
		c.hi = lim.hi;
		c.outcome = mg_icp_judge(c.value, lim);
		int rc = add_check(r, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}

/* Bracket bookkeeping after a CCV or CCB was judged. */
static int bracket(mg_icp_run *r, size_t i, int ccb, const int *judged, const int *failed)
{
	unsigned need = ccb ? MG_ICP_RERUN_CCB : MG_ICP_RERUN_CCV;
	if (!(r->q->rerun_on & need))
		return MG_OK;
	flagctx fc = {.r = r, .ccb = ccb};
	mg_icp_bracket_check(ccb ? &r->ccb : &r->ccv, i, judged, failed, on_flag, &fc);
	return fc.stop ? MG_ERR_INTERRUPTED : MG_OK;
}

/* Everything about a measured item after its nets are known. */
static int evaluate_item(mg_icp_run *r, size_t i)
{
	const mg_icp_item *it = &r->seq->items[i];
	mg_icp_item_result *res = &r->res[i];
	compute_values(r, i);
	int rc = MG_OK;
	int judged[MG_ICP_MAX_ANALYTES] = {0}, failed[MG_ICP_MAX_ANALYTES] = {0};
	/* the internal standard */
	if (r->is_line >= 0 && i != r->is_ref_item && isfinite(r->is_ref)) {
		mg_icp_check c;
		check_init(r, &c, MG_ICP_CHECK_INTERNAL_STD, i, -1);
		snprintf(c.element, sizeof(c.element), "%s", r->lines[r->is_line].element);
		snprintf(c.line, sizeof(c.line), "%s", r->lines[r->is_line].label);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.value = res->is_recovery_pct;
		mg_icp_stats is;
		mg_icp_stats_compute(r->data[i].net[r->is_line], r->data[i].nrep, &is);
		c.measured = is.mean;
		c.expected = r->is_ref;
		c.lo = r->q->is_recovery.lo;
		c.hi = r->q->is_recovery.hi;
		c.outcome = mg_icp_judge(c.value, r->q->is_recovery);
		snprintf(c.note, sizeof(c.note), "of the calibration blank");
		if (c.outcome == MG_ICP_FAIL)
			for (size_t l = 0; l < r->nlines; l++)
				res->line[l].flags |= MG_ICP_RF_IS_FAIL;
		if ((rc = add_check(r, &c)) < 0)
			return rc;
	}
	switch (it->type) {
	case MG_ICP_ITEM_ICV:
		rc = check_recovery(r, i, MG_ICP_CHECK_ICV, r->q->icv, judged, failed);
		r->icv_seen = 1;
		for (size_t a = 0; a < r->m->nanalytes; a++) {
			r->icv_failed[a] = failed[a];
			if (failed[a])
				for (size_t l = 0; l < r->nlines; l++)
					if (r->line_analyte[l] == (int)a)
						res->line[l].flags |= MG_ICP_RF_ICV_FAIL;
		}
		break;
	case MG_ICP_ITEM_ICB:
		rc = check_blank(r, i, MG_ICP_CHECK_ICB, NULL, NULL);
		break;
	case MG_ICP_ITEM_METHOD_BLANK:
		if ((rc = mg_icp_bracket_add_sample(&r->ccv, i)) == MG_OK && (rc = mg_icp_bracket_add_sample(&r->ccb, i)) == MG_OK)
			rc = check_blank(r, i, MG_ICP_CHECK_METHOD_BLANK, NULL, NULL);
		break;
	case MG_ICP_ITEM_LLOQ:
		rc = check_recovery(r, i, MG_ICP_CHECK_LLOQ, r->q->lloq_check, NULL, NULL);
		break;
	case MG_ICP_ITEM_CCV:
		if ((rc = check_recovery(r, i, MG_ICP_CHECK_CCV, r->q->ccv, judged, failed)) == MG_OK)
			rc = bracket(r, i, 0, judged, failed);
		break;
	case MG_ICP_ITEM_CCB:
		if ((rc = check_blank(r, i, MG_ICP_CHECK_CCB, judged, failed)) == MG_OK)
			rc = bracket(r, i, 1, judged, failed);
		break;
	case MG_ICP_ITEM_SAMPLE:
	case MG_ICP_ITEM_DUPLICATE:
	case MG_ICP_ITEM_SPIKE:
	case MG_ICP_ITEM_CRM:
		if ((rc = mg_icp_bracket_add_sample(&r->ccv, i)) < 0 || (rc = mg_icp_bracket_add_sample(&r->ccb, i)) < 0)
			break;
		if (it->type == MG_ICP_ITEM_DUPLICATE)
			rc = check_duplicate(r, i);
		else if (it->type == MG_ICP_ITEM_SPIKE)
			rc = check_spike(r, i);
		else if (it->type == MG_ICP_ITEM_CRM)
			rc = check_crm(r, i);
		break;
	default:
		break;
	}
	if (rc < 0)
		return rc;
	if (isfinite(res->total_pct) && !(isnan(r->q->total.lo) && isnan(r->q->total.hi))) {
		mg_icp_check c;
		check_init(r, &c, MG_ICP_CHECK_TOTAL, i, -1);
		snprintf(c.unit, sizeof(c.unit), "wt%%");
		c.value = c.measured = res->total_pct;
		c.lo = r->q->total.lo;
		c.hi = r->q->total.hi;
		c.outcome = mg_icp_judge(c.value, r->q->total);
		if (r->m->total_other_pct > 0)
			snprintf(c.note, sizeof(c.note), "measured analytes + %g wt%% not measured", r->m->total_other_pct);
		if ((rc = add_check(r, &c)) < 0)
			return rc;
	}
	mg_icp_event ev = {.kind = MG_ICP_EV_MEASURED, .item = i};
	if (emit(r, &ev))
		return MG_ERR_INTERRUPTED;
	/* results that nothing can change any more */
	if (!mg_icp_item_is_sample(it->type))
		if ((rc = store_result(r, i)) < 0)
			return rc;
	int closes = it->type == MG_ICP_ITEM_CCB ||
	             (it->type == MG_ICP_ITEM_CCV && (i + 1 >= r->seq->nitems || r->seq->items[i + 1].type != MG_ICP_ITEM_CCB));
	if (closes)
		for (size_t k = 0; k < i; k++)
			if (r->res[k].measured && !r->stored[k] && (rc = store_result(r, k)) < 0)
				return rc;
	return MG_OK;
}

/* Curves and the calibration checks, after the last calibration item. */
static int calibrate(mg_icp_run *r, const size_t *map)
{
	const mg_icp_method *m = r->m;
	if (map)
		reference_shapes(r, map);
	for (size_t i = 0; i < r->cal_end; i++) {
		if (!r->data[i].raw)
			continue;
		fit_item(r, i, r->data[i].raw, map);
		free(r->data[i].raw);
		r->data[i].raw = NULL;
	}
	/* the IS reference: the first calibration blank measured */
	for (size_t i = 0; i < r->cal_end && r->is_ref_item == NOITEM; i++)
		if (r->seq->items[i].type == MG_ICP_ITEM_CAL_BLANK && r->data[i].have)
			r->is_ref_item = i;
	if (r->is_line >= 0 && r->is_ref_item != NOITEM) {
		mg_icp_stats s;
		mg_icp_stats_compute(r->data[r->is_ref_item].net[r->is_line], r->data[r->is_ref_item].nrep, &s);
		r->is_ref = s.mean > 0 ? s.mean : NAN;
		if (!isfinite(r->is_ref) && !r->conc_mode)
			mg_warn(DOM, "the calibration blank has no internal standard signal: no IS correction");
	}
	/* responses of the calibration items */
	for (size_t i = 0; i < r->cal_end; i++)
		if (r->data[i].have)
			compute_values(r, i);
	if (!r->conc_mode) {
		for (size_t l = 0; l < r->nlines; l++) {
			int a = r->line_analyte[l];
			r->curve_ok[l] = 0;
			if (a < 0)
				continue;
			double x[MG_ICP_MAX_CAL_POINTS], y[MG_ICP_MAX_CAL_POINTS];
			size_t n = 0;
			for (size_t i = 0; i < r->cal_end && n < MG_ICP_MAX_CAL_POINTS; i++) {
				const mg_icp_item *it = &r->seq->items[i];
				if (!r->data[i].have)
					continue;
				double conc = 0;
				if (it->type == MG_ICP_ITEM_CAL_STD) {
					const mg_icp_solution *so = item_solution(r, i, MG_ICP_SOL_STANDARD);
					if (!so || !isfinite(so->value[a]))
						continue; /* not in this standard */
					conc = so->value[a];
				}
				double yv = r->res[i].line[l].net;
				if (!isfinite(yv))
					continue;
				x[n] = conc;
				y[n++] = yv;
			}
			mg_icp_curve *cv = &r->curve[l];
			if (mg_icp_curve_fit(m->analyte[a].curve, x, y, n, cv) != MG_OK) {
				snprintf(r->curve_err[l], sizeof(r->curve_err[l]), "%s", mg_error_detail());
				mg_warn(DOM, "%s: no calibration curve: %s", r->lines[l].label, r->curve_err[l]);
				continue;
			}
			r->curve_ok[l] = 1;
			if (r->is_ref_item != NOITEM) {
				const icp_item_data *bd = &r->data[r->is_ref_item];
				if (mg_icp_curve_limits(cv, bd->resp[l], bd->nrep, 3, 10) != MG_OK)
					mg_dbg(DOM, "%s: no LOD/LOQ: %s", r->lines[l].label, mg_error_detail());
			}
		}
	}
	r->calibrated = 1;
	/* judge the calibration of each reporting line */
	int rc = MG_OK;
	size_t last = r->cal_end ? r->cal_end - 1 : 0;
	for (size_t a = 0; a < m->nanalytes && !r->conc_mode; a++) {
		size_t l = r->primary[a];
		mg_icp_check c;
		check_init(r, &c, MG_ICP_CHECK_CALIBRATION, last, (int)a);
		snprintf(c.label, sizeof(c.label), "calibration");
		snprintf(c.unit, sizeof(c.unit), "r");
		c.lo = r->q->cal_r_min;
		if (!r->curve_ok[l]) {
			c.outcome = MG_ICP_FAIL;
			snprintf(c.note, sizeof(c.note), "no curve: %.100s", r->curve_err[l]);
		} else {
			const mg_icp_curve *cv = &r->curve[l];
			c.value = cv->r;
			c.outcome = mg_icp_judge(c.value, (mg_icp_limits){r->q->cal_r_min, NAN});
			/* back-calculated standards: ±limit, the lowest one ±its own (near the LLOQ) */
			double xlow = INFINITY, worst = 0, bad = 0, badlim = 0;
			for (size_t k = 0; k < cv->n; k++)
				if (cv->x[k] > 0 && cv->x[k] < xlow)
					xlow = cv->x[k];
			for (size_t k = 0; k < cv->n; k++) {
				if (!isfinite(cv->resid_pct[k]))
					continue;
				if (fabs(cv->resid_pct[k]) > fabs(worst))
					worst = cv->resid_pct[k];
				double lim = cv->x[k] == xlow && isfinite(r->q->cal_resid_low_max_pct) ? r->q->cal_resid_low_max_pct
				                                                                        : r->q->cal_resid_max_pct;
				if (isfinite(lim) && fabs(cv->resid_pct[k]) > lim && fabs(cv->resid_pct[k]) - lim > fabs(bad) - badlim) {
					bad = cv->resid_pct[k];
					badlim = lim;
				}
			}
			if (bad != 0) {
				c.outcome = MG_ICP_FAIL;
				snprintf(c.note, sizeof(c.note), "%zu points; back-calculated residual %+.1f %% exceeds ±%g %%", cv->n,
				         bad, badlim);
			} else {
				snprintf(c.note, sizeof(c.note), "%zu points, largest back-calculated residual %+.2f %%", cv->n, worst);
			}
		}
		r->cal_failed[a] = c.outcome == MG_ICP_FAIL;
		if ((rc = add_check(r, &c)) < 0)
			return rc;
	}
	if ((rc = store_calibration(r)) < 0)
		return rc;
	mg_icp_event ev = {.kind = MG_ICP_EV_CALIBRATED, .item = last};
	if (emit(r, &ev))
		return MG_ERR_INTERRUPTED;
	for (size_t i = 0; i < r->cal_end; i++) {
		if (!r->data[i].have)
			continue;
		if ((rc = evaluate_item(r, i)) < 0) /* with the curves: back-calculated concentrations */
			return rc;
	}
	return MG_OK;
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

/* End of the run (complete or not): unbracketed flags, every result stored. */
static int finish(mg_icp_run *r, int rc, const size_t *map)
{
	int rc2 = MG_OK;
	r->finishing = 1;
	if (!r->calibrated) {
		int any = 0;
		for (size_t i = 0; i < r->cal_end; i++)
			any |= r->data[i].raw != NULL || r->data[i].have;
		if (any)
			rc2 = calibrate(r, map);
	}
	flagctx fc = {.r = r, .ccb = 0};
	if (r->q->rerun_on & MG_ICP_RERUN_CCV)
		mg_icp_bracket_end(&r->ccv, on_flag, &fc);
	fc.ccb = 1;
	if (r->q->rerun_on & MG_ICP_RERUN_CCB)
		mg_icp_bracket_end(&r->ccb, on_flag, &fc);
	for (size_t i = 0; i < r->seq->nitems && rc2 >= 0; i++)
		if (r->res[i].measured && !r->stored[i])
			rc2 = store_result(r, i);
	if (rc == MG_OK && rc2 < 0) {
		rc = rc2;
		record_error(r, rc, NOITEM, "storing the results");
	}
	if (rc < 0) {
		if (!r->error[0])
			record_error(r, rc, r->error_item, "the run stopped");
		mg_icp_event ev = {.kind = MG_ICP_EV_ERROR, .item = r->error_item, .error = rc, .message = r->error};
		emit(r, &ev);
		mg_fail(rc, DOM, "%s", r->error);
	}
	r->status = rc;
	return rc;
}

/* Match the lines the instrument returned to the configured ones. */
static int map_lines(const mg_icp_run *r, const mg_icp_measurement *m, size_t *map)
{
	if (m->nlines > MG_ICP_MAX_LINES || m->nreplicates < 1 || m->nreplicates > MG_ICP_MAX_REPLICATES)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "the instrument returned %zu lines and %zu replicates", m->nlines,
		               m->nreplicates);
	for (size_t l = 0; l < r->nlines; l++) {
		map[l] = NOITEM;
		for (size_t j = 0; j < m->nlines; j++)
			if (strcmp(m->line[j].element, r->lines[l].element) == 0 &&
			    fabs(m->line[j].wavelength_nm - r->lines[l].wavelength_nm) < 0.005)
				map[l] = j;
		if (map[l] == NOITEM)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "the instrument returned no window for %s", r->lines[l].label);
	}
	for (size_t k = 0; k < m->nreplicates; k++)
		for (size_t j = 0; j < m->nlines; j++)
			if (m->replicate[k].window[j].npix > MG_ICP_MAX_PIXELS)
				return mg_fail(MG_ERR_PROTOCOL, DOM, "a window of %zu pixels", m->replicate[k].window[j].npix);
	return MG_OK;
}

int mg_icp_run_source(mg_icp_run *r, const mg_icp_source *src)
{
	if (!r || !src || !src->measure)
		return mg_fail(MG_ERR_ARG, DOM, "no run or no source");
	if (r->ran)
		return mg_fail(MG_ERR_ARG, DOM, "a run is used once");
	r->ran = 1;
	snprintf(r->model, sizeof(r->model), "%s", src->model ? src->model : "");
	snprintf(r->serial, sizeof(r->serial), "%s", src->serial ? src->serial : "");
	snprintf(r->firmware, sizeof(r->firmware), "%s", src->firmware ? src->firmware : "");
	if (!r->source_text[0] && src->uri)
		snprintf(r->source_text, sizeof(r->source_text), "%s", src->uri);
	size_t map[MG_ICP_MAX_LINES];
	int have_map = 0;
	int rc = store_begin(r);
	if (rc < 0) {
		record_error(r, rc, NOITEM, "opening the batch in the store");
		return finish(r, rc, NULL);
	}
	if (src->configure) {
		rc = src->configure(src->ctx, r->lines, r->nlines, r->m->integration_s, r->m->replicates);
		if (rc < 0) {
			record_error(r, rc, NOITEM, "configuring the instrument");
			return finish(r, rc, NULL);
		}
	}
	const mg_icp_sequence *s = r->seq;
	for (size_t i = 0; i < s->nitems; i++) {
		mg_icp_event ev = {.kind = MG_ICP_EV_MEASURING, .item = i};
		if (emit(r, &ev)) {
			rc = MG_ERR_INTERRUPTED;
			record_error(r, rc, i, "stopped on request before");
			break;
		}
		mg_icp_measurement *m = calloc(1, sizeof(*m));
		if (!m) {
			rc = mg_fail(MG_ERR_NOMEM, DOM, "no memory for a measurement");
			record_error(r, rc, i, "measuring");
			break;
		}
		mg_error_clear();
		rc = src->measure(src->ctx, &s->items[i], m);
		if (rc >= 0)
			rc = map_lines(r, m, map);
		if (rc < 0) {
			r->res[i].status = rc;
			record_error(r, rc, i, "measuring");
			free(m);
			break;
		}
		have_map = 1;
		mg_icp_item_result *res = &r->res[i];
		res->measured = 1;
		res->nreplicates = m->nreplicates;
		snprintf(res->start_time, sizeof(res->start_time), "%s", m->start_time);
		r->nmeasured++;
		char *raw = icp_json_raw_measurement(r, i, m);
		rc = raw ? store_measurement(r, i, raw) : mg_fail(MG_ERR_NOMEM, DOM, "no memory");
		free(raw);
		if (rc < 0) {
			record_error(r, rc, i, "storing the measurement of");
			free(m);
			break;
		}
		if (is_cal(s->items[i].type)) {
			r->data[i].raw = m;
			r->data[i].nrep = m->nreplicates;
			if (i + 1 == r->cal_end && (rc = calibrate(r, map)) < 0) {
				record_error(r, rc, i, "calibrating after");
				break;
			}
			continue;
		}
		fit_item(r, i, m, map);
		free(m);
		if ((rc = evaluate_item(r, i)) < 0) {
			record_error(r, rc, i, rc == MG_ERR_INTERRUPTED ? "stopped on request at" : "evaluating");
			break;
		}
	}
	return finish(r, rc, have_map ? map : NULL);
}

/* ---- an ICP-OES through icp_device.h -------------------------------------- */

static int dev_configure(void *ctx, const mg_icp_line *lines, size_t n, double integration_s, int replicates)
{
	mg_icp_device *dev = ctx;
	mg_icp_plasma pl;
	int rc = mg_icp_plasma_status(dev, &pl);
	if (rc != MG_OK)
		return rc;
	if (!pl.lit)
		return mg_fail(MG_ERR_DEVICE, DOM, "the plasma is off: light it before running a sequence");
	return mg_icp_configure(dev, lines, n, integration_s, (unsigned)replicates);
}

static int dev_measure(void *ctx, const mg_icp_item *item, mg_icp_measurement *out)
{
	return mg_icp_measure(ctx, item->position, item->label, out);
}

void mg_icp_source_device(struct mg_icp_device *dev, const char *uri, mg_icp_source *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = dev;
	out->configure = dev_configure;
	out->measure = dev_measure;
	const mg_icp_identity *id = mg_icp_get_identity(dev);
	if (id) {
		out->model = id->model;
		out->serial = id->serial;
		out->firmware = id->firmware;
	}
	out->uri = uri;
}

/* ---- vendor CSV ----------------------------------------------------------- */

static int csv_line_index(const mg_icp_run *r, const mg_icp_csv_row *row)
{
	int best = -1;
	double bd = 1e9;
	for (size_t l = 0; l < r->nlines; l++) {
		if (strcmp(r->lines[l].element, row->element) != 0)
			continue;
		if (isnan(row->wavelength_nm)) {
			if (r->line_primary[l] || (int)l == r->is_line)
				return (int)l;
			continue;
		}
		double d = fabs(r->lines[l].wavelength_nm - row->wavelength_nm);
		if (d < 0.011 && d < bd) {
			bd = d;
			best = (int)l;
		}
	}
	return best;
}

int mg_icp_run_csv(mg_icp_run *r, const mg_icp_csv *csv, const char *csv_path)
{
	if (!r || !csv)
		return mg_fail(MG_ERR_ARG, DOM, "no run or no CSV");
	if (r->ran)
		return mg_fail(MG_ERR_ARG, DOM, "a run is used once");
	r->ran = 1;
	r->csv = csv;
	snprintf(r->csv_path, sizeof(r->csv_path), "%s", csv_path ? csv_path : "");
	if (!r->source_text[0])
		snprintf(r->source_text, sizeof(r->source_text), "csv:%s", csv_path ? csv_path : "");
	snprintf(r->model, sizeof(r->model), "vendor CSV export");
	r->conc_mode = !csv->has_intensity;
	const mg_icp_sequence *s = r->seq;
	size_t nrows = csv->nrows;
	r->csv_rows = malloc((nrows ? nrows : 1) * sizeof(size_t));
	int *line_of = malloc((nrows ? nrows : 1) * sizeof(int));
	int *occ = malloc((nrows ? nrows : 1) * sizeof(int)); /* occurrence number of the label at this row */
	size_t *blocks = malloc((nrows ? nrows : 1) * sizeof(size_t)), nblocks = 0;
	if (!r->csv_rows || !line_of || !occ || !blocks) {
		free(line_of);
		free(occ);
		free(blocks);
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
	}
	/* occurrences: a label's rows form one measurement (a block) until another
	 * label comes between or a (line, replicate) repeats; the n-th block of a
	 * label is its n-th appearance in the sequence */
	size_t matched = 0, block_start = 0;
	for (size_t k = 0; k < nrows; k++) {
		const mg_icp_csv_row *row = &csv->rows[k];
		line_of[k] = csv_line_index(r, row);
		matched += line_of[k] >= 0;
		int newblock = k == 0 || strcmp(csv->rows[k - 1].label, row->label) != 0;
		for (size_t j = block_start; !newblock && j < k; j++) {
			const mg_icp_csv_row *o = &csv->rows[j];
			if (o->replicate == row->replicate && strcmp(o->element, row->element) == 0 &&
			    ((isnan(o->wavelength_nm) && isnan(row->wavelength_nm)) || o->wavelength_nm == row->wavelength_nm))
				newblock = 1;
		}
		if (newblock) {
			/* earlier blocks of the same label */
			int o = 0;
			for (size_t b = 0; b < nblocks; b++)
				if (strcmp(csv->rows[blocks[b]].label, row->label) == 0)
					o++;
			blocks[nblocks++] = k;
			block_start = k;
			occ[k] = o;
		} else {
			occ[k] = occ[k - 1];
		}
	}
	int rc = MG_OK;
	if (matched == 0)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "the CSV has no row for any line of the method %s", r->m->name);
	size_t used = 0;
	for (size_t i = 0; i < s->nitems && rc == MG_OK; i++) {
		int o = 0;
		for (size_t j = 0; j < i; j++)
			o += strcmp(s->items[j].label, s->items[i].label) == 0;
		icp_item_data *d = &r->data[i];
		d->csv_first = used;
		d->nrep = 0;
		for (size_t k = 0; k < nrows; k++) {
			const mg_icp_csv_row *row = &csv->rows[k];
			if (occ[k] != o || strcmp(row->label, s->items[i].label) != 0)
				continue;
			r->csv_rows[used++] = k;
			size_t rep = row->replicate > 0 ? (size_t)row->replicate : 1;
			if (rep > d->nrep)
				d->nrep = rep;
		}
		d->csv_count = used - d->csv_first;
		if (d->csv_count == 0) {
			rc = mg_fail(MG_ERR_FORMAT, DOM,
			             "the CSV has no rows for %s (sequence line %ld, occurrence %d of that label)",
			             s->items[i].label, s->items[i].line, o + 1);
			break;
		}
		for (size_t k = d->csv_first; k < used; k++) {
			const mg_icp_csv_row *row = &csv->rows[r->csv_rows[k]];
			int l = line_of[r->csv_rows[k]];
			if (l < 0)
				continue;
			size_t rep = row->replicate > 0 ? (size_t)row->replicate - 1 : 0;
			d->net[l][rep] = row->intensity;
			d->conc[l][rep] = row->conc;
		}
		for (size_t l = 0; l < r->nlines; l++) {
			d->fit_status[l] = MG_OK;
			int any = 0;
			for (size_t k = 0; k < d->nrep; k++)
				any |= r->conc_mode ? isfinite(d->conc[l][k]) : isfinite(d->net[l][k]);
			if (!any)
				d->fit_status[l] = MG_ERR_NOT_FOUND;
		}
		if (!r->conc_mode && r->is_line >= 0 && d->fit_status[r->is_line] != MG_OK) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "the CSV has no internal standard (%s) intensity for %s (sequence line %ld)",
			             r->lines[r->is_line].label, s->items[i].label, s->items[i].line);
			break;
		}
		d->have = 1;
	}
	free(line_of);
	free(occ);
	free(blocks);
	if (rc < 0) {
		record_error(r, rc, NOITEM, "reading the CSV");
		r->status = rc;
		return rc;
	}
	if ((rc = store_begin(r)) < 0) {
		record_error(r, rc, NOITEM, "opening the batch in the store");
		return finish(r, rc, NULL);
	}
	for (size_t i = 0; i < s->nitems; i++) {
		mg_icp_item_result *res = &r->res[i];
		res->measured = 1;
		res->nreplicates = r->data[i].nrep;
		r->nmeasured++;
		char *raw = icp_json_raw_csv(r, i);
		rc = raw ? store_measurement(r, i, raw) : mg_fail(MG_ERR_NOMEM, DOM, "no memory");
		free(raw);
		if (rc < 0) {
			record_error(r, rc, i, "storing the measurement of");
			break;
		}
		if (is_cal(s->items[i].type)) {
			if (i + 1 == r->cal_end && (rc = calibrate(r, NULL)) < 0) {
				record_error(r, rc, i, "calibrating after");
				break;
			}
			continue;
		}
		if ((rc = evaluate_item(r, i)) < 0) {
			record_error(r, rc, i, "evaluating");
			break;
		}
	}
	return finish(r, rc, NULL);
}

/* ---- accessors ------------------------------------------------------------ */

size_t mg_icp_run_nlines(const mg_icp_run *r)
{
	return r->nlines;
}

const mg_icp_line *mg_icp_run_line(const mg_icp_run *r, size_t i)
{
	return i < r->nlines ? &r->lines[i] : NULL;
}

int mg_icp_run_line_analyte(const mg_icp_run *r, size_t i)
{
	return i < r->nlines ? r->line_analyte[i] : -1;
}

const mg_icp_curve *mg_icp_run_curve(const mg_icp_run *r, size_t line)
{
	return line < r->nlines && r->curve_ok[line] ? &r->curve[line] : NULL;
}

size_t mg_icp_run_nchecks(const mg_icp_run *r)
{
	return r->nchecks;
}

const mg_icp_check *mg_icp_run_check(const mg_icp_run *r, size_t i)
{
	return i < r->nchecks ? &r->checks[i] : NULL;
}

const mg_icp_item_result *mg_icp_run_result(const mg_icp_run *r, size_t item)
{
	return item < r->seq->nitems ? &r->res[item] : NULL;
}

size_t mg_icp_run_count(const mg_icp_run *r, mg_icp_outcome o)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nchecks; i++)
		n += r->checks[i].outcome == o;
	return n;
}

void mg_icp_run_calibration(const mg_icp_run *r, long long *id, int *version)
{
	if (id)
		*id = r->cal_id;
	if (version)
		*version = r->cal_version;
}
