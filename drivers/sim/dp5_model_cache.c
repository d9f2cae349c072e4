/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Physics models for the simulated DP5, kept in a small process-wide cache
 * keyed by the whole model configuration: they take 50-300 ms to build and
 * are read-only once built, so simulators of one configuration share one. */
#include <pthread.h>
#include <string.h>

#include "drivers/sim/dp5_sim.h"

#define CACHE_SLOTS 8

struct cache_slot {
	mg_xrfsim_config cfg;
	mg_xrfsim_model *model;
	int refs;
	uint64_t used;
};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_slot cache[CACHE_SLOTS];
static uint64_t cache_clock;

/* A model for cfg (which must be memset-clean: compared bytewise). *built is
 * set when it had to be built. Release with dp5sim_model_release(). */
int dp5sim_model_get(const mg_xrfsim_config *cfg, mg_xrfsim_model **out, int *built)
{
	*built = 0;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].model && !memcmp(&cache[i].cfg, cfg, sizeof(*cfg))) {
			cache[i].refs++;
			cache[i].used = ++cache_clock;
			*out = cache[i].model;
			pthread_mutex_unlock(&cache_lock);
			return MG_OK;
		}
	/* Build under the lock: two simulators wanting the same model build it once. */
	mg_xrfsim_model *m = NULL;
	int rc = mg_xrfsim_model_new(cfg, &m);
	if (rc < 0) {
		pthread_mutex_unlock(&cache_lock);
		return rc;
	}
	*built = 1;
	int slot = -1;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (!cache[i].model) {
			slot = i;
			break;
		}
		if (cache[i].refs == 0 && (slot < 0 || cache[i].used < cache[slot].used))
			slot = i;
	}
	if (slot >= 0) {
		if (cache[slot].model)
			mg_xrfsim_model_free(cache[slot].model);
		memcpy(&cache[slot].cfg, cfg, sizeof(*cfg));
		cache[slot].model = m;
		cache[slot].refs = 1;
		cache[slot].used = ++cache_clock;
	} else {
		mg_dbg(DOM, "model cache full: this model is not shared");
	}
	pthread_mutex_unlock(&cache_lock);
	*out = m;
	return MG_OK;
}

void dp5sim_model_release(mg_xrfsim_model *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].model == m) {
			cache[i].refs--;
			pthread_mutex_unlock(&cache_lock);
			return;
		}
	pthread_mutex_unlock(&cache_lock);
	mg_xrfsim_model_free(m); /* an unshared one */
}
