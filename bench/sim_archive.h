/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A spectrum archive of simulated NdFeB measurements, registered in a store as
 * acquisition would leave them (a .mca per measurement under spectra/, its
 * SHA-256 in the database). For the reprocessing benchmark and tests. */
#ifndef MAGASSAY_BENCH_SIM_ARCHIVE_H
#define MAGASSAY_BENCH_SIM_ARCHIVE_H

#include <stdint.h>

#include "magassay/store.h"

typedef struct sim_archive {
	struct sim_archive_models *models; /* one simulator model per material */
	int nmodels;
	int nchan;
} sim_archive;

/* Models of the materials "ndfeb", "ndfeb-dy", "ndfeb-tb" (2048 channels,
 * 0.02 keV/ch, Rh 40 kV 20 µA). 0 or a negative error. */
int sim_archive_open(sim_archive *a);
void sim_archive_close(sim_archive *a);

/* Register n measurements in batch `batch` (created when absent), samples
 * "<batch>-<k>" with `per_sample` replicates each, materials in turn; spectra
 * of live_s seconds drawn with seeds seed, seed+1, ... First measurement id in
 * *first_id (may be NULL). progress (may be NULL) gets the count so far.
 * 0 or a negative error. */
int sim_archive_add(sim_archive *a, mg_store *st, const char *batch, long n, int per_sample, double live_s,
                    uint64_t seed, long long *first_id, void (*progress)(long done, void *ud), void *ud);

#endif
