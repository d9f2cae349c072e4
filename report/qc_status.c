/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Control charts and the QC state of a batch. For each QC series with a value
 * in the batch (check-standard peak position, FWHM, intensity, per
 * instrument), the control limits are the mean and standard deviation of the
 * series' most recent values before the batch (the baseline); the Westgard
 * rules run over baseline + batch in time order. The XRF-ICP bias per element
 * is a derived series, one point per batch (batches in creation order): the
 * mean relative difference (XRF − ICP)/ICP over the batch's samples assayed
 * both ways. ICP run QC checks recorded in the batch's ICP results (ICV, CCV,
 * blanks, ...) that failed block the batch too. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "report_internal.h"

void mg_qc_options_default(mg_qc_options *o)
{
	if (!o)
		return;
	o->min_history = 8;
	o->max_history = 50;
	o->rules = MG_WG_ALL;
	o->bias_min_wt_pct = 0.1;
}

const char *mg_qc_state_name(mg_qc_state s)
{
	switch (s) {
	case MG_QC_PASS:
		return "pass";
	case MG_QC_WARNING:
		return "warning";
	case MG_QC_FAIL:
		return "fail";
	case MG_QC_NO_DATA:
		return "no-data";
	}
	return "?";
}

/* ---- freeing ------------------------------------------------------------------------------ */

static void series_clear(mg_qc_series *s)
{
	free(s->quantity);
	free(s->target);
	free(s->instrument);
	free(s->unit);
	free(s->label);
	for (size_t i = 0; i < s->npoints; i++) {
		free(s->points[i].batch_id);
		free(s->points[i].at);
	}
	free(s->points);
	memset(s, 0, sizeof(*s));
}

void mg_qc_series_free(mg_qc_series *s)
{
	if (!s)
		return;
	series_clear(s);
	free(s);
}

void mg_qc_status_free(mg_qc_status *s)
{
	if (!s)
		return;
	free(s->batch_id);
	for (size_t i = 0; i < s->nseries; i++)
		series_clear(&s->series[i]);
	free(s->series);
	for (size_t i = 0; i < s->nchecks; i++) {
		free(s->checks[i].name);
		free(s->checks[i].outcome);
		free(s->checks[i].detail);
	}
	free(s->checks);
	for (size_t i = 0; i < s->nnotes; i++)
		free(s->notes[i]);
	free(s->notes);
	free(s->released_by);
	free(s->released_at);
	free(s->release_state);
	free(s->override_by);
	free(s->override_reason);
	free(s);
}

static int add_note(mg_qc_status *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_note(mg_qc_status *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char **n = realloc(s->notes, (s->nnotes + 1) * sizeof(*n));
	if (!n)
		return MG_ERR_NOMEM;
	s->notes = n;
	if (!(n[s->nnotes] = strdup(buf)))
		return MG_ERR_NOMEM;
	s->nnotes++;
	return MG_OK;
}

/* ---- series of stored QC values ------------------------------------------------------------ */

typedef struct vals {
	mg_qc_value *v;
	size_t n, cap;
} vals;

static int copy_value(const mg_qc_value *s, mg_qc_value *d)
{
	memset(d, 0, sizeof(*d));
	d->id = s->id;
	d->value = s->value;
	d->measurement_id = s->measurement_id;
	d->quantity = rp_strdup(s->quantity);
	d->target = rp_strdup(s->target);
	d->instrument = rp_strdup(s->instrument);
	d->unit = rp_strdup(s->unit);
	d->batch_id = rp_strdup(s->batch_id);
	d->measured_at = rp_strdup(s->measured_at);
	return d->quantity && d->target && d->instrument ? MG_OK : MG_ERR_NOMEM;
}

static int on_value(const mg_qc_value *v, void *ud)
{
	vals *x = ud;
	if (rp_grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != MG_OK)
		return MG_ERR_NOMEM;
	if (copy_value(v, &x->v[x->n]) != MG_OK) {
		mg_qc_value_clear(&x->v[x->n]);
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	}
	x->n++;
	return 0;
}

static void vals_free(vals *x)
{
	for (size_t i = 0; i < x->n; i++)
		mg_qc_value_clear(&x->v[i]);
	free(x->v);
	memset(x, 0, sizeof(*x));
}

static char *series_label(const char *quantity, const char *target)
{
	char t[96], b[200];
	snprintf(b, sizeof(b), "%s %s", rp_quantity_label(quantity), rp_line_label(target, t, sizeof(t)));
	return strdup(b);
}

/* Limits from the baseline points, then the rules over every point. */
static int evaluate(mg_qc_series *s, const mg_qc_options *o)
{
	double *x = malloc((s->npoints ? s->npoints : 1) * sizeof(double));
	unsigned *f = malloc((s->npoints ? s->npoints : 1) * sizeof(unsigned));
	if (!x || !f) {
		free(x);
		free(f);
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	}
	size_t nb = 0;
	for (size_t i = 0; i < s->npoints; i++)
		if (s->points[i].baseline)
			x[nb++] = s->points[i].value;
	s->n_baseline = nb;
	double mean = NAN, sd = NAN;
	s->has_limits = nb >= o->min_history && nb >= 2 && mg_qc_mean_sd(x, nb, &mean, &sd) == MG_OK && sd > 0;
	if (!s->has_limits)
		mg_error_clear();
	s->mean = s->has_limits ? mean : NAN;
	s->sd = s->has_limits ? sd : NAN;
	for (size_t i = 0; i < s->npoints; i++)
		x[i] = s->points[i].value;
	if (s->has_limits && mg_westgard(x, s->npoints, mean, sd, o->rules, f) == MG_OK) {
		for (size_t i = 0; i < s->npoints; i++) {
			s->points[i].flags = f[i];
			s->points[i].z = (x[i] - mean) / sd;
		}
	} else {
		for (size_t i = 0; i < s->npoints; i++) {
			s->points[i].flags = 0;
			s->points[i].z = NAN;
		}
	}
	s->batch_flags = 0;
	s->n_reject = s->n_warn = 0;
	int any = 0;
	for (size_t i = 0; i < s->npoints; i++) {
		if (!s->points[i].in_batch)
			continue;
		any = 1;
		s->batch_flags |= s->points[i].flags;
		if (s->points[i].flags & MG_WG_REJECT)
			s->n_reject++;
		else if (s->points[i].flags & MG_WG_1_2S)
			s->n_warn++;
	}
	s->state = !any ? MG_QC_NO_DATA : s->n_reject ? MG_QC_FAIL : (s->n_warn || !s->has_limits) ? MG_QC_WARNING
	                                                                                          : MG_QC_PASS;
	free(x);
	free(f);
	return MG_OK;
}

/* Points of a stored series for a batch: the baseline (the last max_history
 * values before the batch's first value) and every value from the batch's
 * first to its last (other batches' values in between included). */
static int build_stored(mg_store *st, const char *quantity, const char *target, const char *instrument,
                        const char *batch_id, const mg_qc_options *o, mg_qc_series *s)
{
	vals v = {0};
	int e = mg_store_qc_values_list(st, quantity, target, instrument, NULL, on_value, &v);
	if (e < 0) {
		vals_free(&v);
		return e;
	}
	size_t first = v.n, last = 0;
	for (size_t i = 0; i < v.n; i++)
		if (batch_id && v.v[i].batch_id && strcmp(v.v[i].batch_id, batch_id) == 0) {
			if (i < first)
				first = i;
			last = i;
		}
	size_t b0, end;
	if (!batch_id) { /* a chart of the whole series: the baseline is its start */
		first = 0;
		b0 = 0;
		end = v.n;
	} else if (first == v.n) {
		vals_free(&v);
		return MG_ERR_NOT_FOUND;
	} else {
		b0 = first > o->max_history ? first - o->max_history : 0;
		end = last + 1;
	}
	memset(s, 0, sizeof(*s));
	s->quantity = strdup(quantity);
	s->target = strdup(target);
	s->instrument = strdup(instrument ? instrument : "");
	s->label = series_label(quantity, target);
	const char *unit = NULL;
	for (size_t i = 0; i < v.n && !unit; i++)
		unit = v.v[i].unit;
	s->unit = strdup(unit ? unit : "");
	s->points = calloc(end - b0 ? end - b0 : 1, sizeof(*s->points));
	if (!s->quantity || !s->target || !s->instrument || !s->label || !s->unit || !s->points) {
		vals_free(&v);
		series_clear(s);
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	}
	size_t nbase = 0;
	for (size_t i = b0; i < end; i++) {
		mg_qc_point *p = &s->points[s->npoints++];
		p->value = v.v[i].value;
		p->in_batch = batch_id && v.v[i].batch_id && strcmp(v.v[i].batch_id, batch_id) == 0;
		p->baseline = batch_id ? i < first : nbase < o->max_history;
		if (p->baseline)
			nbase++;
		p->batch_id = v.v[i].batch_id;
		v.v[i].batch_id = NULL;
		p->at = v.v[i].measured_at;
		v.v[i].measured_at = NULL;
		p->measurement_id = v.v[i].measurement_id;
		p->qc_value_id = v.v[i].id;
		p->n = 1;
	}
	vals_free(&v);
	return evaluate(s, o);
}

int mg_qc_series_get(mg_store *st, const char *quantity, const char *target, const char *instrument,
                     const mg_qc_options *opt, mg_qc_series **out)
{
	mg_qc_options def;
	if (!opt) {
		mg_qc_options_default(&def);
		opt = &def;
	}
	if (!st || !quantity || !target || !out)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_series_get: bad arguments");
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	int e = build_stored(st, quantity, target, instrument ? instrument : "", NULL, opt, *out);
	if (e != MG_OK) {
		free(*out);
		*out = NULL;
	}
	return e;
}

/* ---- the series of a batch ----------------------------------------------------------------- */

typedef struct keyset {
	mg_qc_value *k;
	size_t n, cap;
} keyset;

static int on_batch_value(const mg_qc_value *v, void *ud)
{
	keyset *ks = ud;
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i].quantity, v->quantity) && !strcmp(ks->k[i].target, v->target) &&
		    !strcmp(ks->k[i].instrument, v->instrument))
			return 0;
	if (rp_grow((void **)&ks->k, &ks->cap, ks->n, sizeof(*ks->k)) != MG_OK)
		return MG_ERR_NOMEM;
	if (copy_value(v, &ks->k[ks->n]) != MG_OK) {
		mg_qc_value_clear(&ks->k[ks->n]);
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	}
	ks->n++;
	return 0;
}

static int add_series(mg_qc_status *s, mg_qc_series *x)
{
	mg_qc_series *n = realloc(s->series, (s->nseries + 1) * sizeof(*n));
	if (!n)
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	s->series = n;
	s->series[s->nseries++] = *x;
	return MG_OK;
}

/* ---- XRF-ICP bias -------------------------------------------------------------------------- */

typedef struct batch_list {
	char **id, **at;
	size_t n, cap;
} batch_list;

static int on_batch(const mg_batch *b, void *ud)
{
	batch_list *l = ud;
	if (rp_grow((void **)&l->id, &l->cap, l->n, sizeof(char *)) != MG_OK)
		return MG_ERR_NOMEM;
	char **at = realloc(l->at, l->cap * sizeof(char *));
	if (!at)
		return MG_ERR_NOMEM;
	l->at = at;
	l->id[l->n] = strdup(b->id);
	l->at[l->n] = strdup(b->created_at ? b->created_at : "");
	l->n++;
	return 0;
}

static void batch_list_free(batch_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->id[i]);
		free(l->at[i]);
	}
	free(l->id);
	free(l->at);
}

/* Mean relative bias (%) of element el over the pairs; NAN when none qualifies. */
static double pair_bias(const rp_pair *p, size_t n, const char *el, const mg_qc_options *o, size_t *count)
{
	double s = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(p[i].element, el) != 0 || !(p[i].icp >= o->bias_min_wt_pct) ||
		    (isfinite(p[i].icp_lod) && !(p[i].icp > p[i].icp_lod)))
			continue;
		s += 100.0 * (p[i].xrf - p[i].icp) / p[i].icp;
		k++;
	}
	*count = k;
	return k ? s / (double)k : NAN;
}

static int bias_series(mg_store *st, const char *batch_id, const mg_qc_options *o, mg_qc_status *out)
{
	rp_pair *mine = NULL;
	size_t nmine = 0;
	int e = rp_batch_pairs(st, batch_id, &mine, &nmine);
	if (e != MG_OK)
		return e;
	if (nmine == 0)
		return MG_OK;
	/* the elements of this batch with a usable bias */
	char els[24][8];
	size_t nel = 0;
	for (size_t i = 0; i < nmine && nel < 24; i++) {
		size_t c, k;
		for (k = 0; k < nel && strcmp(els[k], mine[i].element) != 0; k++)
			;
		if (k < nel || !isfinite(pair_bias(mine, nmine, mine[i].element, o, &c)))
			continue;
		snprintf(els[nel++], sizeof(els[0]), "%s", mine[i].element);
	}
	rp_pairs_free(mine, nmine);
	if (nel == 0)
		return MG_OK;
	batch_list bl = {0};
	if ((e = mg_store_batches_list(st, on_batch, &bl)) < 0) {
		batch_list_free(&bl);
		return e;
	}
	e = MG_OK;
	size_t me = bl.n;
	for (size_t i = 0; i < bl.n; i++)
		if (strcmp(bl.id[i], batch_id) == 0)
			me = i;
	/* per batch up to this one, the bias of each element (oldest first) */
	double *bias = calloc((me + 1) * nel, sizeof(double));
	size_t *cnt = calloc((me + 1) * nel, sizeof(size_t));
	if (!bias || !cnt)
		e = mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	for (size_t b = 0; e == MG_OK && b <= me && b < bl.n; b++) {
		rp_pair *p = NULL;
		size_t np = 0;
		if ((e = rp_batch_pairs(st, bl.id[b], &p, &np)) != MG_OK)
			break;
		for (size_t k = 0; k < nel; k++)
			bias[b * nel + k] = pair_bias(p, np, els[k], o, &cnt[b * nel + k]);
		rp_pairs_free(p, np);
	}
	for (size_t k = 0; e == MG_OK && k < nel && me < bl.n; k++) {
		mg_qc_series s = {0};
		s.quantity = strdup(MG_QC_XRF_ICP_BIAS);
		s.target = strdup(els[k]);
		s.instrument = strdup("");
		s.unit = strdup("%");
		s.label = series_label(MG_QC_XRF_ICP_BIAS, els[k]);
		s.points = calloc(me + 1, sizeof(*s.points));
		if (!s.quantity || !s.target || !s.instrument || !s.unit || !s.label || !s.points) {
			series_clear(&s);
			e = mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
			break;
		}
		size_t nbefore = 0;
		for (size_t b = 0; b < me; b++)
			if (isfinite(bias[b * nel + k]))
				nbefore++;
		size_t skip = nbefore > o->max_history ? nbefore - o->max_history : 0, seen = 0;
		for (size_t b = 0; b <= me; b++) {
			double v = bias[b * nel + k];
			if (!isfinite(v))
				continue;
			if (b < me && seen++ < skip)
				continue;
			mg_qc_point *p = &s.points[s.npoints++];
			p->value = v;
			p->in_batch = b == me;
			p->baseline = b < me;
			p->batch_id = strdup(bl.id[b]);
			p->at = strdup(bl.at[b]);
			p->n = cnt[b * nel + k];
		}
		if ((e = evaluate(&s, o)) == MG_OK)
			e = add_series(out, &s);
		if (e != MG_OK)
			series_clear(&s);
	}
	free(bias);
	free(cnt);
	batch_list_free(&bl);
	return e;
}

/* ---- ICP run checks in the batch's ICP results --------------------------------------------- */

typedef struct icp_ctx {
	mg_store *st;
	mg_qc_status *s;
	long long *ids;
	size_t n, cap;
} icp_ctx;

static int on_icp_meas(const mg_measurement *m, void *ud)
{
	icp_ctx *c = ud;
	if (!m->kind || strcmp(m->kind, "icp") != 0)
		return 0;
	if (rp_grow((void **)&c->ids, &c->cap, c->n, sizeof(*c->ids)) != MG_OK)
		return MG_ERR_NOMEM;
	c->ids[c->n++] = m->id;
	return 0;
}

static int check_failed(const json_t *x, const char *outcome)
{
	static const char *const bad[] = {"fail", "failed", "failure", "out", "reject", "rejected", "error", NULL};
	if (outcome)
		for (size_t i = 0; bad[i]; i++)
			if (strcasecmp(outcome, bad[i]) == 0)
				return 1;
	static const char *const pk[] = {"pass", "passed", "ok", NULL};
	for (size_t i = 0; pk[i]; i++) {
		json_t *v = json_object_get(x, pk[i]);
		if (json_is_boolean(v))
			return json_is_false(v);
	}
	return 0;
}

static int add_check(mg_qc_status *s, long long mid, const json_t *x)
{
	const char *type = rp_jstr(x, (const char *const[]){"type", "check", NULL});
	const char *lab = rp_jstr(x, (const char *const[]){"label", "name", "id", NULL});
	char nb[160];
	if (type && lab && strcmp(type, lab) != 0)
		snprintf(nb, sizeof(nb), "%s %s", type, lab);
	else
		snprintf(nb, sizeof(nb), "%s", type ? type : lab ? lab : "check");
	const char *name = nb;
	const char *outcome = rp_jstr(x, (const char *const[]){"outcome", "result", "status", NULL});
	int failed = check_failed(x, outcome);
	double v = rp_jnum(x, (const char *const[]){"value", "recovery_pct", "rpd_pct", "measured", NULL});
	double lo = rp_jnum(x, (const char *const[]){"lo", "low", "min", "lower", NULL});
	double hi = rp_jnum(x, (const char *const[]){"hi", "high", "max", "upper", NULL});
	json_t *lim = json_object_get(x, "limits");
	if (json_is_array(lim) && json_array_size(lim) == 2) {
		lo = json_number_value(json_array_get(lim, 0));
		hi = json_number_value(json_array_get(lim, 1));
	} else if (json_is_object(lim)) {
		lo = rp_jnum(lim, (const char *const[]){"low", "min", "lower", NULL});
		hi = rp_jnum(lim, (const char *const[]){"high", "max", "upper", NULL});
	}
	const char *el = rp_jstr(x, (const char *const[]){"line", "element", "analyte", NULL});
	const char *unit = rp_jstr(x, (const char *const[]){"unit", NULL});
	char det[200] = "";
	if (isfinite(v)) {
		int k = snprintf(det, sizeof(det), "%s%s%g%s%s", el ? el : "", el ? " " : "", v, unit ? " " : "",
		                 unit ? unit : "");
		if (k > 0 && (size_t)k < sizeof(det) && isfinite(lo) && isfinite(hi))
			snprintf(det + k, sizeof(det) - (size_t)k, " (limits %g to %g)", lo, hi);
		else if (k > 0 && (size_t)k < sizeof(det) && isfinite(hi))
			snprintf(det + k, sizeof(det) - (size_t)k, " (limit %g)", hi);
	}
	mg_qc_check *n = realloc(s->checks, (s->nchecks + 1) * sizeof(*n));
	if (!n)
		return MG_ERR_NOMEM;
	s->checks = n;
	mg_qc_check *c = &s->checks[s->nchecks++];
	c->name = strdup(name);
	c->outcome = strdup(outcome ? outcome : failed ? "fail" : "pass");
	c->detail = det[0] ? strdup(det) : NULL;
	c->measurement_id = mid;
	c->failed = failed;
	return c->name && c->outcome ? MG_OK : MG_ERR_NOMEM;
}

static int icp_checks(mg_store *st, const char *batch_id, mg_qc_status *s)
{
	icp_ctx c = {st, s, NULL, 0, 0};
	int e = mg_store_measurements_list(st, batch_id, NULL, on_icp_meas, &c);
	for (size_t i = 0; e >= 0 && i < c.n; i++) {
		mg_result r;
		int g = mg_store_result_get(st, c.ids[i], 0, &r);
		if (g == MG_ERR_NOT_FOUND) {
			mg_error_clear();
			continue;
		}
		if (g != MG_OK) {
			e = g;
			break;
		}
		json_t *p = json_loads(r.payload_json ? r.payload_json : "null", JSON_DECODE_ANY, NULL);
		json_t *a = json_object_get(p, "checks"); /* ICP analysis (issue 7) */
		if (!a)
			a = json_object_get(p, "qc_checks");
		if (!a)
			a = json_object_get(p, "qc");
		if (json_is_object(a))
			a = json_object_get(a, "checks");
		if (json_is_array(a)) {
			size_t k;
			json_t *x;
			json_array_foreach(a, k, x)
			{
				if (json_is_object(x) && (e = add_check(s, c.ids[i], x)) != MG_OK)
					break;
			}
		}
		json_decref(p);
		mg_result_clear(&r);
	}
	free(c.ids);
	return e < 0 ? e : MG_OK;
}

/* ---- the status ----------------------------------------------------------------------------- */

static const char *series_advice(const char *q)
{
	if (!strcmp(q, MG_QC_PEAK_POSITION))
		return "energy calibration drift: recalibrate the energy axis";
	if (!strcmp(q, MG_QC_FWHM))
		return "resolution out of control: check the detector cooling and the pulse processor";
	if (!strcmp(q, MG_QC_INTENSITY))
		return "intensity out of control: check the tube, the window and the sample position";
	if (!strcmp(q, MG_QC_XRF_ICP_BIAS))
		return "the XRF results drift from ICP: recalibrate the XRF quantification";
	return "investigate before release";
}

int mg_qc_status_get(mg_store *st, const char *batch_id, const mg_qc_options *opt, mg_qc_status **out)
{
	mg_qc_options def;
	if (!opt) {
		mg_qc_options_default(&def);
		opt = &def;
	}
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_status_get: bad arguments");
	*out = NULL;
	int e;
	if ((e = mg_id_validate(batch_id)) != MG_OK)
		return e;
	mg_batch b;
	if ((e = mg_store_batch_get(st, batch_id, &b)) != MG_OK)
		return e;
	mg_batch_clear(&b);
	mg_qc_status *s = calloc(1, sizeof(*s));
	if (!s || !(s->batch_id = strdup(batch_id))) {
		free(s);
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	}
	/* The watermark first: anything arriving later makes a release retry. */
	e = mg_store_qc_watermark(st, &s->watermark);

	keyset ks = {0};
	if (e == MG_OK && (e = mg_store_qc_values_list(st, NULL, NULL, NULL, batch_id, on_batch_value, &ks)) > 0)
		e = MG_OK;
	for (size_t i = 0; e == MG_OK && i < ks.n; i++) {
		mg_qc_series x;
		e = build_stored(st, ks.k[i].quantity, ks.k[i].target, ks.k[i].instrument, batch_id, opt, &x);
		if (e == MG_OK && (e = add_series(s, &x)) != MG_OK)
			series_clear(&x);
	}
	for (size_t i = 0; i < ks.n; i++)
		mg_qc_value_clear(&ks.k[i]);
	free(ks.k);
	if (e == MG_OK)
		e = bias_series(st, batch_id, opt, s);
	if (e == MG_OK)
		e = icp_checks(st, batch_id, s);
	if (e < 0) {
		mg_qc_status_free(s);
		return e;
	}

	/* the verdict */
	int any = 0, warn = 0;
	for (size_t i = 0; i < s->nseries; i++) {
		mg_qc_series *x = &s->series[i];
		if (x->state == MG_QC_NO_DATA)
			continue;
		any = 1;
		s->n_violations += x->n_reject;
		s->n_warnings += x->n_warn;
		if (!x->has_limits) {
			warn = 1;
			add_note(s, "%s%s%s: only %zu earlier values (%zu needed): control limits not yet established",
			         x->label, *x->instrument ? " on " : "", x->instrument, x->n_baseline, opt->min_history);
		}
		if (x->n_reject) {
			char r[64];
			add_note(s, "%s%s%s: %s on %zu point(s) of the batch: %s", x->label, *x->instrument ? " on " : "",
			         x->instrument, mg_wg_rules_format(x->batch_flags & MG_WG_REJECT, r, sizeof(r)), x->n_reject,
			         series_advice(x->quantity));
		}
	}
	for (size_t i = 0; i < s->nchecks; i++) {
		any = 1;
		if (s->checks[i].failed) {
			s->n_violations++;
			add_note(s, "ICP run check %s failed%s%s", s->checks[i].name, s->checks[i].detail ? ": " : "",
			         s->checks[i].detail ? s->checks[i].detail : "");
		}
	}
	s->state = !any ? MG_QC_NO_DATA : s->n_violations ? MG_QC_FAIL : (s->n_warnings || warn) ? MG_QC_WARNING
	                                                                                     : MG_QC_PASS;
	if (!any)
		add_note(s, "no QC data for this batch: no check-standard values and no sample assayed by both XRF and ICP");

	mg_qc_release_record rel;
	e = mg_store_qc_release_get(st, batch_id, &rel);
	if (e == MG_OK) {
		s->released = 1;
		s->released_by = rel.released_by;
		s->released_at = rel.at;
		s->release_state = rel.qc_state;
		s->override_by = rel.override_by;
		s->override_reason = rel.reason;
		rel.released_by = rel.at = rel.qc_state = rel.override_by = rel.reason = NULL;
		mg_qc_release_record_clear(&rel);
	} else if (e == MG_ERR_NOT_FOUND) {
		mg_error_clear();
	} else {
		mg_qc_status_free(s);
		return e;
	}
	*out = s;
	return MG_OK;
}
