/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_multifit.h>

#include "internal.h"
#include "magassay/spectrum.h"

/* ---- key/value list -------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int mg_kvlist_add(mg_kvlist *l, const char *key, const char *value, const char *comment)
{
	if (!key)
		return mg_fail(MG_ERR_ARG, "spectrum", "key/value entry without a key");
	if (l->count == l->capacity) {
		size_t cap = l->capacity ? l->capacity * 2 : 16;
		mg_kv *p = realloc(l->items, cap * sizeof(*p));
		if (!p)
			return mg_fail(MG_ERR_NOMEM, "spectrum", "out of memory");
		l->items = p;
		l->capacity = cap;
	}
	mg_kv *kv = &l->items[l->count];
	kv->key = strdup(key);
	kv->value = strdup(value ? value : "");
	kv->comment = dup_or_null(comment);
	if (!kv->key || !kv->value || (comment && !kv->comment)) {
		free(kv->key);
		free(kv->value);
		free(kv->comment);
		return mg_fail(MG_ERR_NOMEM, "spectrum", "out of memory");
	}
	l->count++;
	return MG_OK;
}

int mg_kvlist_set(mg_kvlist *l, const char *key, const char *value, const char *comment)
{
	for (size_t i = 0; i < l->count; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			char *v = strdup(value ? value : "");
			char *c = dup_or_null(comment);
			if (!v || (comment && !c)) {
				free(v);
				free(c);
				return mg_fail(MG_ERR_NOMEM, "spectrum", "out of memory");
			}
			free(l->items[i].value);
			free(l->items[i].comment);
			l->items[i].value = v;
			l->items[i].comment = c;
			return MG_OK;
		}
	}
	return mg_kvlist_add(l, key, value, comment);
}

const mg_kv *mg_kvlist_find(const mg_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return &l->items[i];
	return NULL;
}

const char *mg_kvlist_get(const mg_kvlist *l, const char *key)
{
	const mg_kv *kv = mg_kvlist_find(l, key);
	return kv ? kv->value : NULL;
}

void mg_kvlist_clear(mg_kvlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
		free(l->items[i].comment);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int mg_kvlist_copy(mg_kvlist *dst, const mg_kvlist *src)
{
	mg_kvlist_clear(dst);
	for (size_t i = 0; i < src->count; i++) {
		int rc = mg_kvlist_add(dst, src->items[i].key, src->items[i].value, src->items[i].comment);
		if (rc != MG_OK) {
			mg_kvlist_clear(dst);
			return rc;
		}
	}
	return MG_OK;
}

/* ---- spectrum -------------------------------------------------------- */

int mg_str_set(char **field, const char *value)
{
	char *v = NULL;
	if (value && !(v = strdup(value)))
		return mg_fail(MG_ERR_NOMEM, "spectrum", "out of memory");
	free(*field);
	*field = v;
	return MG_OK;
}

mg_spectrum *mg_spectrum_new(size_t nchan)
{
	if (nchan < 1 || nchan > MG_SPECTRUM_MAX_CHANNELS) {
		mg_fail(MG_ERR_ARG, "spectrum", "%zu channels is outside 1..%d", nchan,
		        MG_SPECTRUM_MAX_CHANNELS);
		return NULL;
	}
	mg_spectrum *s = calloc(1, sizeof(*s));
	if (s)
		s->counts = calloc(nchan, sizeof(double));
	if (!s || !s->counts) {
		free(s);
		mg_fail(MG_ERR_NOMEM, "spectrum", "out of memory");
		return NULL;
	}
	s->nchan = nchan;
	s->live_time_s = NAN;
	s->real_time_s = NAN;
	s->acq.tube_kv = NAN;
	s->acq.tube_ua = NAN;
	s->acq.peaking_time_us = NAN;
	s->acq.preset_time_s = NAN;
	s->acq.preset_real_s = NAN;
	s->acq.preset_counts = NAN;
	s->acq.takeoff_deg = NAN;
	s->acq.incidence_deg = NAN;
	return s;
}

int mg_spectrum_resize(mg_spectrum *s, size_t nchan)
{
	if (nchan < 1 || nchan > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail(MG_ERR_ARG, "spectrum", "%zu channels is outside 1..%d", nchan,
		               MG_SPECTRUM_MAX_CHANNELS);
	double *c = realloc(s->counts, nchan * sizeof(double));
	if (!c)
		return mg_fail(MG_ERR_NOMEM, "spectrum", "out of memory");
	for (size_t i = s->nchan; i < nchan; i++)
		c[i] = 0;
	s->counts = c;
	s->nchan = nchan;
	return MG_OK;
}

/* The string fields, listed once for free and dup. */
#define SPECTRUM_STRINGS(s)                                                                  \
	&(s)->instrument.model, &(s)->instrument.serial, &(s)->instrument.firmware,           \
	&(s)->instrument.detector, &(s)->acq.anode, &(s)->acq.filter, &(s)->acq.atmosphere,   \
	&(s)->sample.sample_id, &(s)->sample.batch_id, &(s)->sample.operator_name,            \
	&(s)->sample.description

void mg_spectrum_free(mg_spectrum *s)
{
	if (!s)
		return;
	char **fields[] = {SPECTRUM_STRINGS(s)};
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++)
		free(*fields[i]);
	mg_kvlist_clear(&s->meta);
	free(s->counts);
	free(s);
}

mg_spectrum *mg_spectrum_dup(const mg_spectrum *src)
{
	mg_spectrum *s = mg_spectrum_new(src->nchan);
	if (!s)
		return NULL;
	double *counts = s->counts;
	*s = *src;
	s->counts = counts;
	memcpy(s->counts, src->counts, src->nchan * sizeof(double));
	memset(&s->meta, 0, sizeof(s->meta));
	char **dst_f[] = {SPECTRUM_STRINGS(s)};
	char *const *src_f[] = {SPECTRUM_STRINGS(src)};
	for (size_t i = 0; i < MG_ARRAY_SIZE(dst_f); i++)
		*dst_f[i] = NULL;
	for (size_t i = 0; i < MG_ARRAY_SIZE(dst_f); i++) {
		if (mg_str_set(dst_f[i], *src_f[i]) != MG_OK) {
			mg_spectrum_free(s);
			return NULL;
		}
	}
	if (mg_kvlist_copy(&s->meta, &src->meta) != MG_OK) {
		mg_spectrum_free(s);
		return NULL;
	}
	return s;
}

double mg_spectrum_total(const mg_spectrum *s)
{
	double t = 0;
	for (size_t i = 0; i < s->nchan; i++)
		t += s->counts[i];
	return t;
}

double mg_spectrum_energy(const mg_spectrum *s, double ch)
{
	if (!s->cal.valid)
		return NAN;
	return s->cal.offset_kev + s->cal.gain_kev * ch + s->cal.quad_kev * ch * ch;
}

long mg_spectrum_channel(const mg_spectrum *s, double e)
{
	const mg_energy_cal *c = &s->cal;
	if (!c->valid || c->gain_kev == 0)
		return -1;
	double ch;
	if (c->quad_kev == 0) {
		ch = (e - c->offset_kev) / c->gain_kev;
	} else {
		/* the root of quad*x^2 + gain*x + (offset - e) = 0 nearest the linear one */
		double disc = c->gain_kev * c->gain_kev - 4 * c->quad_kev * (c->offset_kev - e);
		if (disc < 0)
			return -1;
		ch = (-c->gain_kev + sqrt(disc)) / (2 * c->quad_kev);
	}
	return lround(ch);
}

int mg_spectrum_validate(const mg_spectrum *s)
{
	if (s->nchan < 1 || s->nchan > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail(MG_ERR_FORMAT, "spectrum", "%zu channels is outside 1..%d", s->nchan,
		               MG_SPECTRUM_MAX_CHANNELS);
	for (size_t i = 0; i < s->nchan; i++) {
		if (!isfinite(s->counts[i]) || s->counts[i] < 0)
			return mg_fail(MG_ERR_FORMAT, "spectrum", "channel %zu holds %g counts", i, s->counts[i]);
	}
	if (!isnan(s->live_time_s) && (!isfinite(s->live_time_s) || s->live_time_s < 0))
		return mg_fail(MG_ERR_FORMAT, "spectrum", "live time %g s", s->live_time_s);
	if (!isnan(s->real_time_s) && (!isfinite(s->real_time_s) || s->real_time_s < 0))
		return mg_fail(MG_ERR_FORMAT, "spectrum", "real time %g s", s->real_time_s);
	if (s->cal.valid) {
		const mg_energy_cal *c = &s->cal;
		if (!isfinite(c->offset_kev) || !isfinite(c->gain_kev) || !isfinite(c->quad_kev) ||
		    c->gain_kev == 0)
			return mg_fail(MG_ERR_FORMAT, "spectrum", "unusable energy calibration (%g, %g, %g)",
			               c->offset_kev, c->gain_kev, c->quad_kev);
	}
	return MG_OK;
}

int mg_energy_cal_fit(mg_energy_cal *cal, const double *ch, const double *e, size_t n, int quadratic)
{
	size_t p = quadratic && n >= 3 ? 3 : 2;
	if (n < 2)
		return mg_fail(MG_ERR_ARG, "calibration", "a calibration needs at least two points");
	for (size_t i = 0; i < n; i++)
		if (!isfinite(ch[i]) || !isfinite(e[i]) || fabs(ch[i]) > 1e9 || fabs(e[i]) > 1e9)
			return mg_fail(MG_ERR_FORMAT, "calibration", "calibration point %zu (%g, %g) is not usable",
			               i, ch[i], e[i]);
	gsl_matrix *X = gsl_matrix_alloc(n, p);
	gsl_vector *y = gsl_vector_alloc(n), *c = gsl_vector_alloc(p);
	gsl_matrix *cov = gsl_matrix_alloc(p, p);
	gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, p);
	int rc = MG_OK;
	if (!X || !y || !c || !cov || !w) {
		rc = mg_fail(MG_ERR_NOMEM, "calibration", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		gsl_matrix_set(X, i, 0, 1.0);
		gsl_matrix_set(X, i, 1, ch[i]);
		if (p == 3)
			gsl_matrix_set(X, i, 2, ch[i] * ch[i]);
		gsl_vector_set(y, i, e[i]);
	}
	double chisq;
	size_t rank;
	if (gsl_multifit_linear_tsvd(X, y, 1e-12, c, cov, &chisq, &rank, w) != 0 || rank < p) {
		rc = mg_fail(MG_ERR_FORMAT, "calibration", "calibration points do not determine a line");
		goto out;
	}
	cal->valid = 1;
	cal->offset_kev = gsl_vector_get(c, 0);
	cal->gain_kev = gsl_vector_get(c, 1);
	cal->quad_kev = p == 3 ? gsl_vector_get(c, 2) : 0.0;
	if (!isfinite(cal->offset_kev) || !isfinite(cal->gain_kev) || cal->gain_kev == 0) {
		cal->valid = 0;
		rc = mg_fail(MG_ERR_FORMAT, "calibration", "calibration points do not determine a line");
	}
out:
	gsl_multifit_linear_free(w);
	gsl_matrix_free(cov);
	gsl_vector_free(c);
	gsl_vector_free(y);
	gsl_matrix_free(X);
	return rc;
}
