/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated spectrometer's acquisition: Poisson counts per channel over
 * time from a model's recorded spectrum, the DP5-style counters (real and
 * live time, fast and slow counts) and the time presets. Reference:
 * xrf-physics.md §3.6. */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "internal.h"
#include "magassay/xrfsim.h"

#define DOM "xrfsim"

struct mg_xrfsim_rng {
	gsl_rng *r;
};

mg_xrfsim_rng *mg_xrfsim_rng_new(uint64_t seed)
{
	mg_xrfsim_rng *g = malloc(sizeof *g);
	if (!g)
		return NULL;
	g->r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!g->r) {
		free(g);
		return NULL;
	}
	/* mt19937 takes 32 bits of seed: fold the 64 */
	gsl_rng_set(g->r, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	return g;
}

void mg_xrfsim_rng_free(mg_xrfsim_rng *rng)
{
	if (!rng)
		return;
	gsl_rng_free(rng->r);
	free(rng);
}

static uint64_t poisson(gsl_rng *r, double mu)
{
	if (!(mu > 0))
		return 0;
	if (mu < 1e8)
		return gsl_ran_poisson(r, mu);
	double v = mu + sqrt(mu) * gsl_ran_gaussian_ziggurat(r, 1.0);
	return v > 0 ? (uint64_t)llround(v) : 0;
}

static int acquire(const mg_xrfsim_model *m, mg_xrfsim_counters *c, double dt, mg_xrfsim_rng *rng,
                   uint32_t *u32, double *f64, size_t nchan)
{
	if (!m || !c || !rng || (!u32 && !f64))
		return mg_fail(MG_ERR_ARG, DOM, "acquire: NULL argument");
	size_t n;
	const double *recorded = mg_xrfsim_model_spectrum(m, MG_XRFSIM_RECORDED, &n);
	mg_xrfsim_rates r;
	mg_xrfsim_model_rates(m, &r);
	if (nchan != n)
		return mg_fail(MG_ERR_ARG, DOM, "acquire: %zu channels, the model has %zu", nchan, n);
	if (!(dt >= 0) || !isfinite(dt))
		return mg_fail(MG_ERR_ARG, DOM, "acquire: time step %g s", dt);
	if (dt == 0)
		return 0;
	uint64_t added = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = poisson(rng->r, recorded[i] * dt);
		if (!k)
			continue;
		added += k;
		if (u32)
			u32[i] = (uint64_t)u32[i] + k > UINT32_MAX ? UINT32_MAX : (uint32_t)(u32[i] + k);
		else
			f64[i] += (double)k;
	}
	/* fast-channel events that did not reach the spectrum: dead-time losses
	 * and accepted events above the last channel */
	uint64_t lost = poisson(rng->r, (r.fast - r.slow) * dt);
	c->slow += added;
	c->fast += added + lost;
	c->real_s += dt;
	c->live_s += dt * r.live_fraction;
	return 0;
}

int mg_xrfsim_acquire(const mg_xrfsim_model *m, mg_xrfsim_counters *c, double dt_real_s,
                      mg_xrfsim_rng *rng, uint32_t *counts, size_t nchan)
{
	if (!counts)
		return mg_fail(MG_ERR_ARG, DOM, "acquire: NULL counts");
	return acquire(m, c, dt_real_s, rng, counts, NULL, nchan);
}

int mg_xrfsim_acquire_f64(const mg_xrfsim_model *m, mg_xrfsim_counters *c, double dt_real_s,
                          mg_xrfsim_rng *rng, double *counts, size_t nchan)
{
	if (!counts)
		return mg_fail(MG_ERR_ARG, DOM, "acquire: NULL counts");
	return acquire(m, c, dt_real_s, rng, NULL, counts, nchan);
}

double mg_xrfsim_real_for_live(const mg_xrfsim_model *m, double live_s)
{
	mg_xrfsim_rates r;
	mg_xrfsim_model_rates(m, &r);
	if (!m || !(r.live_fraction > 0))
		return INFINITY;
	return live_s / r.live_fraction;
}

double mg_xrfsim_real_for_counts(const mg_xrfsim_model *m, double slow_counts)
{
	mg_xrfsim_rates r;
	mg_xrfsim_model_rates(m, &r);
	if (!m || !(r.slow > 0))
		return INFINITY;
	return slow_counts / r.slow;
}
