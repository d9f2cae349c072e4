/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The shared plan cache (analysis/quant/plan_cache.c): analyzers on two
 * threads drawing plans from one cache give results identical to an analyzer
 * with its own plans, build fewer plans than they use, and keep working when
 * the cache is smaller than the number of plans in use. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/instrument.h"
#include "magassay/quant.h"
#include "magassay/xrfsim.h"

#define NSPEC 12
#define NCH 2048

static double *spec[NSPEC];
static double live[NSPEC];
static mg_quant *q;
static mg_analysis_config ac;

typedef struct job {
	mg_plan_cache *cache; /* NULL: own plans */
	int first, step;
	double nd[NSPEC];
	int rc;
} job;

static void *work(void *arg)
{
	job *j = arg;
	mg_quant_analyzer *a = NULL;
	j->rc = j->cache ? mg_quant_analyzer_new_shared(q, &ac, 0, j->cache, &a) : mg_quant_analyzer_new(q, &ac, 0, &a);
	mg_quant_result *res = calloc(1, sizeof *res);
	for (int i = j->first; j->rc == 0 && i < NSPEC; i += j->step) {
		size_t nk;
		mg_quant_kratio kr[MG_QUANT_MAX_EL];
		j->rc = mg_quant_analyzer_run(a, spec[i], NCH, live[i], 20, "t", NULL, 0, NULL, res, kr, MG_QUANT_MAX_EL, &nk);
		const mg_quant_element *nd = mg_quant_result_find(res, 60);
		j->nd[i] = nd ? nd->wt_pct : -1;
	}
	free(res);
	mg_quant_analyzer_free(a);
	return NULL;
}

int main(void)
{
	static const char *const mats[] = {"ndfeb", "ndfeb-dy", "ndfeb-tb"};
	for (int i = 0; i < NSPEC; i++) {
		mg_xrfsim_config sc;
		mg_xrfsim_config_default(&sc);
		CHECK_RC(mg_xrfsim_sample_lookup(mats[i % 3], &sc.sample), 0);
		mg_xrfsim_model *m = NULL;
		CHECK_RC(mg_xrfsim_model_new(&sc, &m), 0);
		spec[i] = calloc(NCH, sizeof(double));
		mg_xrfsim_rng *rng = mg_xrfsim_rng_new(10 + (uint64_t)i);
		mg_xrfsim_counters c = {0};
		mg_xrfsim_acquire_f64(m, &c, mg_xrfsim_real_for_live(m, 20), rng, spec[i], NCH);
		live[i] = c.live_s;
		mg_xrfsim_rng_free(rng);
		mg_xrfsim_model_free(m);
	}
	mg_instrument_desc ins;
	mg_instrument_desc_default(&ins);
	mg_analysis_config_default(&ac);
	snprintf(ac.elements, sizeof ac.elements, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu");
	mg_instrument_desc_to_analysis(&ins, &ac);
	ac.nchan = NCH;
	ac.cal = (mg_energy_cal){.valid = 1, .offset_kev = 0, .gain_kev = 0.02};
	ac.det.noise_kev = 0.08;
	mg_quant_options o;
	mg_quant_options_default(&o);
	CHECK_RC(mg_quant_new(&ins, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu,B", &o, NULL, 0, NULL, &q), 0);

	job own = {.first = 0, .step = 1};
	work(&own);
	CHECK_RC(own.rc, 0);
	for (size_t cap = 1; cap <= 32; cap += 31) {
		mg_plan_cache *cache = NULL;
		CHECK_RC(mg_plan_cache_new(cap, &cache), 0);
		unsigned long built = 0, hits = 0, built1 = 0;
		/* twice over the same spectra: the second pass finds its plans (with room for them) */
		for (int pass = 0; pass < 2; pass++) {
			job t[2] = {{.cache = cache, .first = 0, .step = 2}, {.cache = cache, .first = 1, .step = 2}};
			pthread_t th[2];
			for (int k = 0; k < 2; k++)
				pthread_create(&th[k], NULL, work, &t[k]);
			for (int k = 0; k < 2; k++)
				pthread_join(th[k], NULL);
			for (int k = 0; k < 2; k++)
				CHECK_RC(t[k].rc, 0);
			for (int i = 0; i < NSPEC; i++)
				CHECK_MSG(t[i % 2].nd[i] == own.nd[i], "spectrum %d: Nd %.6f shared, %.6f own", i, t[i % 2].nd[i],
				          own.nd[i]);
			mg_plan_cache_stats(cache, &built, &hits);
			printf("capacity %zu, pass %d: %lu plans built, %lu found in the cache\n", cap, pass + 1, built, hits);
			if (pass == 0)
				built1 = built;
		}
		CHECK(built1 >= 1 && built1 + hits >= NSPEC); /* at least one plan per spectrum was asked for */
		if (cap == 32)
			CHECK(built == built1 && hits >= NSPEC); /* nothing rebuilt */
		else
			CHECK(built > built1); /* one plan kept: the others were built again */
		mg_plan_cache_free(cache);
	}
	CHECK_RC(mg_plan_cache_new(0, &(mg_plan_cache *){NULL}), MG_ERR_ARG);
	mg_quant_free(q);
	for (int i = 0; i < NSPEC; i++)
		free(spec[i]);
	return mg_test_finish("test_plan_cache");
}
