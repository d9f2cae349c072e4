/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Spectrum → composition, with the matrix fed back to the fit.
 *
 * The analysis engine's line ratios (absorption in the matrix) and its split
 * of major elements (≥ 3 wt%: free Kα/Kβ and L1/L2/L3 intensities) depend on
 * the composition it is told (cfg.matrix). A magnet with 2 wt% Pr fitted with
 * the default N42-type matrix (Pr 6 wt%) gets free Pr L sub-shells and a Pr area
 * 4–5 % low; told its own composition, within 0.5 %. So, as PyMca iterates fit
 * and concentrations: fit with the configured matrix, quantify, fit again with
 * the quantified composition (rounded: 0.5 wt% steps above 2 wt%, 0.1 below, so
 * similar samples share plans), quantify again. Standards are fitted with their
 * known composition as the matrix.
 *
 * Plans are cached per matrix (8, least recently used): a batch of similar
 * samples costs one plan or two. Not thread-safe: one analyzer per thread (the
 * mg_quant it uses may be shared). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib-lines.h>

#include "internal.h"
#include "magassay/quant.h"
#include "magassay/xray.h"
#include "quant_internal.h"

#define NSLOT 8

typedef struct slot {
	char key[MG_ANALYSIS_ELEMENTS_LEN];
	const mg_analysis_plan *plan; /* owned, or from the shared cache */
	mg_analysis_ctx *ctx;
	mg_analysis_result *res;
	unsigned long used;
} slot;

struct mg_quant_analyzer {
	const mg_quant *q;
	mg_analysis_config cfg;
	unsigned flags;
	mg_plan_cache *cache;           /* shared plans (NULL: the analyzer's own) */
	slot s[NSLOT];
	unsigned long tick;
	const mg_analysis_result *last; /* the last fit (a slot's result, or refined) */
	mg_analysis_result *refined;    /* the last refined fit (owned) */
};

int mg_quant_analyzer_new(const mg_quant *q, const mg_analysis_config *cfg, unsigned flags,
                          mg_quant_analyzer **out)
{
	if (!cfg || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "analyzer: NULL argument");
	mg_quant_analyzer *a = calloc(1, sizeof *a);
	if (!a)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	a->q = q;
	a->cfg = *cfg;
	a->flags = flags;
	*out = a;
	return 0;
}

int mg_quant_analyzer_new_shared(const mg_quant *q, const mg_analysis_config *cfg, unsigned flags,
                                 mg_plan_cache *cache, mg_quant_analyzer **out)
{
	int rc = mg_quant_analyzer_new(q, cfg, flags, out);
	if (rc == 0)
		(*out)->cache = cache;
	return rc;
}

static void slot_clear(mg_quant_analyzer *a, slot *s)
{
	mg_analysis_result_free(s->res);
	mg_analysis_ctx_free(s->ctx);
	if (a->cache)
		q_plan_cache_release(a->cache, s->plan);
	else
		mg_analysis_plan_free((mg_analysis_plan *)s->plan);
	memset(s, 0, sizeof *s);
}

void mg_quant_analyzer_set_quant(mg_quant_analyzer *a, const mg_quant *q)
{
	if (a)
		a->q = q;
}

void mg_quant_analyzer_free(mg_quant_analyzer *a)
{
	if (!a)
		return;
	for (int i = 0; i < NSLOT; i++)
		slot_clear(a, &a->s[i]);
	mg_analysis_result_free(a->refined);
	free(a);
}

const mg_analysis_result *mg_quant_analyzer_last_fit(const mg_quant_analyzer *a)
{
	return a ? a->last : NULL;
}

/* The engine treats every element of >= 3 wt% in its matrix as major (free
 * sub-shell intensities). For an element whose main lines sit within 150 eV of
 * a main line of an element ten times more abundant (Dy Lα 91 eV and Tb Lα
 * 131 eV from Fe Kα, Co Kα 128 eV from Fe Kβ), free sub-shells are not
 * determined by the data below ~6 wt% and bias its area (Dy at 3 wt%: +3.5 %,
 * Tb +8 %, measured on the test generator's spectra); such an element is told
 * to the engine as 2.9 wt% (fixed line ratios) until it reaches 6 wt%. */
#define MAJOR_PCT 3.0
#define FREE_OK_PCT 6.0

static const int main_lines[] = {KL3_LINE, KM3_LINE, L3M5_LINE, L2M4_LINE};

static int buried(const mg_quant_comp *c, size_t i)
{
	for (size_t j = 0; j < c->n; j++) {
		if (j == i || !(c->w[j] >= 10 * c->w[i]))
			continue;
		for (size_t a = 0; a < MG_ARRAY_SIZE(main_lines); a++) {
			double ea = mg_xrf_line_energy(c->z[i], main_lines[a]);
			if (!(ea > 1))
				continue;
			for (size_t b = 0; b < MG_ARRAY_SIZE(main_lines); b++) {
				double eb = mg_xrf_line_energy(c->z[j], main_lines[b]);
				if (eb > 1 && fabs(ea - eb) < 0.15)
					return 1;
			}
		}
	}
	return 0;
}

/* "Fe:66,Nd:24,..." rounded (see the header); 0 if nothing left. */
static int matrix_key(const mg_quant_comp *c, int cap, char *buf, size_t size)
{
	size_t pos = 0;
	buf[0] = 0;
	for (size_t i = 0; i < c->n; i++) {
		double w = 100 * c->w[i];
		if (!(w >= 0.05))
			continue;
		w = w >= 2 ? 0.5 * round(2 * w) : 0.1 * round(10 * w);
		if (cap && w >= MAJOR_PCT && w < FREE_OK_PCT && buried(c, i))
			w = MAJOR_PCT - 0.1;
		int n = snprintf(buf + pos, pos < size ? size - pos : 0, "%s%s:%g", pos ? "," : "", q_z_symbol(c->z[i]), w);
		if (n < 0 || pos + (size_t)n >= size)
			return mg_fail(MG_ERR_ARG, QDOM, "analyzer: matrix too long");
		pos += (size_t)n;
	}
	return pos > 0;
}

static slot *get_slot(mg_quant_analyzer *a, const char *key, int *rc)
{
	slot *lru = &a->s[0];
	for (int i = 0; i < NSLOT; i++) {
		if (a->s[i].plan && strcmp(a->s[i].key, key) == 0) {
			a->s[i].used = ++a->tick;
			return &a->s[i];
		}
		if (a->s[i].used < lru->used)
			lru = &a->s[i];
	}
	slot_clear(a, lru);
	mg_analysis_config c = a->cfg;
	snprintf(c.matrix, sizeof c.matrix, "%s", key);
	if (a->cache) {
		*rc = q_plan_cache_acquire(a->cache, &c, &lru->plan);
	} else {
		mg_analysis_plan *own = NULL;
		*rc = mg_analysis_plan_new(&c, &own);
		lru->plan = own;
	}
	if (*rc < 0)
		return NULL;
	lru->ctx = mg_analysis_ctx_new(lru->plan);
	lru->res = mg_analysis_result_new(lru->plan);
	if (!lru->ctx || !lru->res) {
		slot_clear(a, lru);
		*rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		return NULL;
	}
	snprintf(lru->key, sizeof lru->key, "%s", key);
	lru->used = ++a->tick;
	return lru;
}

/* One fit with matrix `key` → meas. */
static int fit(mg_quant_analyzer *a, const char *key, const double *counts, size_t nchan, double live_s,
               double current_ua, const char *name, unsigned refine, mg_quant_meas *meas)
{
	int rc = 0;
	if (refine) {
		mg_analysis_config c = a->cfg;
		snprintf(c.matrix, sizeof c.matrix, "%s", key);
		mg_analysis_result *res = NULL;
		a->last = NULL;
		if ((rc = mg_analysis_run(&c, counts, nchan, live_s, refine, &res, NULL)) < 0)
			return rc;
		mg_analysis_result_free(a->refined);
		a->last = a->refined = res;
		return mg_quant_meas_from_result(res, nchan, live_s, current_ua, name, meas);
	}
	a->last = NULL;
	slot *s = get_slot(a, key, &rc);
	if (!s)
		return rc;
	if ((rc = mg_analysis_execute(s->plan, s->ctx, counts, nchan, live_s, s->res)) < 0)
		return rc;
	a->last = s->res;
	return mg_quant_meas_from_result(s->res, nchan, live_s, current_ua, name, meas);
}

int mg_quant_analyzer_run(mg_quant_analyzer *a, const double *counts, size_t nchan, double live_s,
                          double current_ua, const char *name, const mg_quant_comp *known, unsigned refine,
                          mg_quant_meas *meas, mg_quant_result *res, mg_quant_kratio *kr, size_t maxk, size_t *nk)
{
	if (!a || !counts)
		return mg_fail(MG_ERR_ARG, QDOM, "analyzer: NULL argument");
	mg_quant_meas local;
	if (!meas)
		meas = &local;
	char key[MG_ANALYSIS_ELEMENTS_LEN];
	int rc;
	if (known) {
		if ((rc = matrix_key(known, 0, key, sizeof key)) < 0)
			return rc;
		if (!rc)
			return mg_fail(MG_ERR_ARG, QDOM, "analyzer: empty composition");
		return fit(a, key, counts, nchan, live_s, current_ua, name, refine, meas);
	}
	if (!a->q || !res)
		return mg_fail(MG_ERR_ARG, QDOM, "analyzer: no quantification to run");
	snprintf(key, sizeof key, "%s", a->cfg.matrix);
	int feedback = !(a->flags & MG_QA_NO_FEEDBACK);
	if ((rc = fit(a, key, counts, nchan, live_s, current_ua, name, refine, meas)) < 0 ||
	    (rc = q_quant_run(a->q, meas, res, kr, maxk, nk, feedback ? MG_QUANT_NO_MATRIX_U : 0, NULL)) < 0)
		return rc;
	if (!feedback)
		return 0;
	/* the first pass's composition: where the second pass's iterations start */
	mg_quant_comp c;
	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < res->n; i++)
		if (isfinite(res->el[i].wt_pct) && res->el[i].wt_pct > 0)
			mg_quant_comp_set(&c, res->el[i].z, res->el[i].wt_pct / 100, 0);
	/* the quantified composition as the engine's matrix (not a coated surface) */
	if (res->flags & MG_QS_COATING)
		return q_quant_run(a->q, meas, res, kr, maxk, nk, 0, &c);
	char key2[MG_ANALYSIS_ELEMENTS_LEN];
	if ((rc = matrix_key(&c, 1, key2, sizeof key2)) < 0)
		return rc;
	if (rc == 0 || strcmp(key2, key) == 0)
		return q_quant_run(a->q, meas, res, kr, maxk, nk, 0, &c);
	if ((rc = fit(a, key2, counts, nchan, live_s, current_ua, name, refine, meas)) < 0 ||
	    (rc = q_quant_run(a->q, meas, res, kr, maxk, nk, 0, &c)) < 0)
		return rc;
	q_note(res, "fitted with the quantified composition as the matrix: %s", key2);
	return 0;
}
