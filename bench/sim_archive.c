/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated archive (sim_archive.h): the simulator's forward model of the
 * DP5 and tube, Poisson counts per measurement, files written and registered
 * through the store's public API, as `magassay acquire` does. */
#include "sim_archive.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/spectrum.h"
#include "magassay/xrfsim.h"

static const char *const materials[] = {"ndfeb", "ndfeb-dy", "ndfeb-tb"};
#define NMAT ((int)(sizeof materials / sizeof materials[0]))

struct sim_archive_models {
	mg_xrfsim_model *m[NMAT];
};

int sim_archive_open(sim_archive *a)
{
	memset(a, 0, sizeof *a);
	a->models = calloc(1, sizeof *a->models);
	if (!a->models)
		return MG_ERR_NOMEM;
	for (int i = 0; i < NMAT; i++) {
		mg_xrfsim_config sc;
		mg_xrfsim_config_default(&sc);
		int rc = mg_xrfsim_sample_lookup(materials[i], &sc.sample);
		if (rc < 0 || (rc = mg_xrfsim_model_new(&sc, &a->models->m[i])) < 0) {
			sim_archive_close(a);
			return rc;
		}
		a->nchan = (int)sc.axis.nchan;
	}
	a->nmodels = NMAT;
	return 0;
}

void sim_archive_close(sim_archive *a)
{
	if (a->models)
		for (int i = 0; i < NMAT; i++)
			mg_xrfsim_model_free(a->models->m[i]);
	free(a->models);
	memset(a, 0, sizeof *a);
}

static int one(sim_archive *a, mg_store *st, const char *batch, const char *sample, int mat, double live_s,
               uint64_t seed, mg_spectrum *s, long long *id)
{
	const mg_xrfsim_model *m = a->models->m[mat];
	const mg_xrfsim_config *sc = mg_xrfsim_model_config(m);
	memset(s->counts, 0, s->nchan * sizeof(double));
	mg_xrfsim_rng *rng = mg_xrfsim_rng_new(seed);
	if (!rng)
		return MG_ERR_NOMEM;
	mg_xrfsim_counters c = {0};
	int rc = mg_xrfsim_acquire_f64(m, &c, mg_xrfsim_real_for_live(m, live_s), rng, s->counts, s->nchan);
	mg_xrfsim_rng_free(rng);
	if (rc < 0)
		return rc;
	s->live_time_s = c.live_s;
	s->real_time_s = c.real_s;
	s->cal = (mg_energy_cal){.valid = 1, .offset_kev = sc->axis.offset_kev, .gain_kev = sc->axis.gain_kev};
	s->acq.tube_kv = sc->tube.kv;
	s->acq.tube_ua = sc->tube.current_ua;
	mg_str_set(&s->acq.anode, sc->tube.anode);
	mg_str_set(&s->sample.sample_id, sample);
	mg_str_set(&s->sample.batch_id, batch);
	char uuid[MG_UUID_SIZE], *path = NULL;
	if ((rc = mg_uuid_generate(uuid)) < 0 || (rc = mg_store_sample_ensure(st, sample, batch, NULL, NULL)) < 0 ||
	    (rc = mg_store_spectrum_path(st, batch, sample, uuid, NULL, &path)) < 0)
		return rc;
	if ((rc = mg_spectrum_write_file(s, path, mg_format_by_name("mca"))) == 0) {
		mg_new_measurement nm;
		mg_new_measurement_init(&nm);
		nm.uuid = uuid;
		nm.sample_id = sample;
		nm.batch_id = batch;
		nm.kind = "xrf";
		nm.file = path;
		nm.instrument_model = "DP5 (simulated)";
		nm.instrument_serial = "SIM-0001";
		nm.live_time_s = c.live_s;
		nm.real_time_s = c.real_s;
		nm.operator_name = "bench";
		rc = mg_store_measurement_add(st, &nm, id, NULL);
	}
	free(path);
	return rc;
}

int sim_archive_add(sim_archive *a, mg_store *st, const char *batch, long n, int per_sample, double live_s,
                    uint64_t seed, long long *first_id, void (*progress)(long done, void *ud), void *ud)
{
	if (per_sample < 1)
		per_sample = 1;
	int rc = mg_store_batch_ensure(st, batch, "bench", NULL);
	if (rc < 0)
		return rc;
	mg_spectrum *s = mg_spectrum_new((size_t)a->nchan);
	if (!s)
		return MG_ERR_NOMEM;
	for (long i = 0; i < n && rc == 0; i++) {
		char sample[MG_ID_MAX + 1];
		long k = i / per_sample;
		snprintf(sample, sizeof sample, "%s-%ld", batch, k + 1);
		long long id = 0;
		rc = one(a, st, batch, sample, (int)(k % NMAT), live_s, seed + (uint64_t)i, s, &id);
		if (rc == 0 && i == 0 && first_id)
			*first_id = id;
		if (progress && rc == 0)
			progress(i + 1, ud);
	}
	mg_spectrum_free(s);
	return rc;
}
