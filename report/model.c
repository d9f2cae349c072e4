/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The report model: a sample (its measurements, each with its latest result:
 * result.c) or a batch (its samples and its QC status) read from the store;
 * the XRF/ICP pairs of a batch for the bias; the points of the batch chart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

/* ---- samples and batches ---------------------------------------------------------- */

typedef struct ids {
	long long *v;
	size_t n, cap;
} ids;

static int on_meas_id(const mg_measurement *m, void *ud)
{
	ids *x = ud;
	if (rp_grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != MG_OK)
		return MG_ERR_NOMEM;
	x->v[x->n++] = m->id;
	return 0;
}

static int res_cmp(const void *a, const void *b)
{
	const rp_result *x = a, *y = b;
	int xi = x->m.kind && strcmp(x->m.kind, "icp") == 0, yi = y->m.kind && strcmp(y->m.kind, "icp") == 0;
	if (xi != yi)
		return yi - xi; /* ICP first: the certified number */
	return (x->m.id > y->m.id) - (x->m.id < y->m.id);
}

void rp_sample_clear(rp_sample *s)
{
	if (!s)
		return;
	mg_sample_clear(&s->s);
	for (size_t i = 0; i < s->nres; i++)
		rp_result_clear(&s->res[i]);
	free(s->res);
	memset(s, 0, sizeof(*s));
}

int rp_sample_load(mg_store *st, const char *sample_id, rp_sample *out)
{
	memset(out, 0, sizeof(*out));
	int e = mg_store_sample_get(st, sample_id, &out->s);
	if (e != MG_OK)
		return e;
	ids x = {0};
	e = mg_store_measurements_list(st, NULL, sample_id, on_meas_id, &x);
	if (e < 0) {
		free(x.v);
		rp_sample_clear(out);
		return e;
	}
	out->res = x.n ? calloc(x.n, sizeof(*out->res)) : NULL;
	if (x.n && !out->res) {
		free(x.v);
		rp_sample_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; i < x.n; i++) {
		mg_measurement m;
		if ((e = mg_store_measurement_get(st, x.v[i], &m)) != MG_OK)
			break;
		e = rp_result_load(st, &m, &out->res[out->nres]);
		mg_measurement_clear(&m);
		if (e != MG_OK)
			break;
		out->nres++;
	}
	free(x.v);
	if (e < 0) {
		rp_sample_clear(out);
		return e;
	}
	qsort(out->res, out->nres, sizeof(*out->res), res_cmp);
	return MG_OK;
}

typedef struct sids {
	char **v;
	size_t n, cap;
} sids;

static int on_sample_id(const mg_sample *s, void *ud)
{
	sids *x = ud;
	if (rp_grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != MG_OK)
		return MG_ERR_NOMEM;
	if (!(x->v[x->n] = strdup(s->id)))
		return MG_ERR_NOMEM;
	x->n++;
	return 0;
}

static void sids_free(sids *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i]);
	free(x->v);
}

void rp_batch_clear(rp_batch *b)
{
	if (!b)
		return;
	mg_batch_clear(&b->b);
	for (size_t i = 0; i < b->nsamples; i++)
		rp_sample_clear(&b->samples[i]);
	free(b->samples);
	mg_qc_status_free(b->qc);
	memset(b, 0, sizeof(*b));
}

int rp_batch_load(mg_store *st, const char *batch_id, const mg_qc_options *qo, rp_batch *out)
{
	memset(out, 0, sizeof(*out));
	int e = mg_store_batch_get(st, batch_id, &out->b);
	if (e != MG_OK)
		return e;
	sids x = {0};
	e = mg_store_samples_list(st, batch_id, on_sample_id, &x);
	if (e >= 0 && x.n) {
		out->samples = calloc(x.n, sizeof(*out->samples));
		if (!out->samples)
			e = mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; e >= 0 && i < x.n; i++) {
		if ((e = rp_sample_load(st, x.v[i], &out->samples[out->nsamples])) == MG_OK)
			out->nsamples++;
	}
	sids_free(&x);
	if (e >= 0)
		e = mg_qc_status_get(st, batch_id, qo, &out->qc);
	if (e < 0) {
		rp_batch_clear(out);
		return e;
	}
	return MG_OK;
}

/* ---- XRF / ICP pairs for the bias --------------------------------------------------- */

void rp_pairs_free(rp_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].sample);
	free(p);
}

int rp_batch_pairs(mg_store *st, const char *batch_id, rp_pair **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	sids x = {0};
	int e = mg_store_samples_list(st, batch_id, on_sample_id, &x);
	rp_pair *p = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; e >= 0 && i < x.n; i++) {
		rp_sample s;
		if ((e = rp_sample_load(st, x.v[i], &s)) != MG_OK)
			break;
		/* elements with both methods: the mean over each method's measurements */
		for (size_t a = 0; a < s.nres; a++) {
			for (size_t c = 0; c < s.res[a].ncomp; c++) {
				const char *el = s.res[a].comp[c].element;
				int done = 0;
				for (size_t k = 0; k < n; k++)
					if (strcmp(p[k].sample, s.s.id) == 0 && strcmp(p[k].element, el) == 0)
						done = 1;
				if (done)
					continue;
				double sx = 0, si = 0, lod = NAN;
				int nx = 0, ni = 0;
				for (size_t b = 0; b < s.nres; b++) {
					const rp_comp *v = rp_result_comp(&s.res[b], el);
					if (!v || !isfinite(v->wt))
						continue;
					if (s.res[b].m.kind && strcmp(s.res[b].m.kind, "icp") == 0) {
						si += v->wt;
						ni++;
						if (isfinite(v->lod))
							lod = v->lod;
					} else {
						sx += v->wt;
						nx++;
					}
				}
				if (!nx || !ni)
					continue;
				if (rp_grow((void **)&p, &cap, n, sizeof(*p)) != MG_OK) {
					e = MG_ERR_NOMEM;
					break;
				}
				p[n].sample = strdup(s.s.id);
				snprintf(p[n].element, sizeof(p[n].element), "%s", el);
				p[n].xrf = sx / nx;
				p[n].icp = si / ni;
				p[n].icp_lod = lod;
				n++;
			}
		}
		rp_sample_clear(&s);
	}
	sids_free(&x);
	if (e < 0) {
		rp_pairs_free(p, n);
		return e;
	}
	*out = p;
	*nout = n;
	return MG_OK;
}

/* ---- batch chart points ------------------------------------------------------------- */

int rp_batch_points(const rp_batch *b, rp_batch_point **out, size_t *nout)
{
	size_t n = 0, cap = 0;
	rp_batch_point *p = NULL;
	for (size_t i = 0; i < b->nsamples; i++)
		for (size_t r = 0; r < b->samples[i].nres; r++) {
			const rp_result *res = &b->samples[i].res[r];
			for (size_t c = 0; c < res->ncomp; c++) {
				if (rp_grow((void **)&p, &cap, n, sizeof(*p)) != MG_OK) {
					free(p);
					return MG_ERR_NOMEM;
				}
				p[n++] = (rp_batch_point){b->samples[i].s.id, res->comp[c].element,
				                          res->m.kind && strcmp(res->m.kind, "icp") == 0, res->comp[c].wt,
				                          res->comp[c].sigma};
			}
		}
	*out = p;
	*nout = n;
	return MG_OK;
}

