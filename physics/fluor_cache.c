/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fluorescence production cross sections on an energy grid: computed (the
 * simulator's emission, the FP model) or from a cache kept for the life of the
 * process (the analysis engine's plans). CS_FluorLine_Kissel_Cascade(z, line,
 * E) does not depend on the sample, so the plans that differ only by their
 * matrix (quantification feeds each spectrum's composition back into the fit:
 * a plan per composition) all need the same values; xraylib takes most of a
 * plan's build time computing them. Entries are keyed by (z, line, the grid)
 * and never freed; the cache is bounded (past its size, values are computed
 * and not kept). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "physics_internal.h"

#define NBUCKET 1024
#define MAX_ENTRIES 8192

typedef struct entry {
	struct entry *next;
	int z, line;
	size_t n;
	unsigned long long grid; /* fingerprint of the energies */
	double *e;               /* the grid itself (compared on a hit) */
	double q[];              /* n values */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *bucket[NBUCKET];
static size_t nentries;

unsigned long long mg_xrf_grid_hash(const double *g, size_t n)
{
	unsigned long long h = 1469598103934665603ULL ^ n;
	const unsigned char *p = (const unsigned char *)g;
	for (size_t i = 0; i < n * sizeof(double); i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void mg_xrf_fluor_table(int z, int line, double el, const double *g, size_t n, double *q)
{
	for (size_t i = 0; i < n; i++) {
		q[i] = g[i] > el ? CS_FluorLine_Kissel_Cascade(z, line, g[i], NULL) : 0;
		if (!(q[i] > 0) || !isfinite(q[i]))
			q[i] = 0;
	}
}

void mg_xrf_fluor_table_cached(int z, int line, double el, const double *g, size_t n,
                               unsigned long long grid, double *out)
{
	size_t k = ((unsigned)z * 131u + (unsigned)(-line) * 7u + (unsigned)(grid % 1021u)) % NBUCKET;
	pthread_mutex_lock(&lock);
	for (entry *e = bucket[k]; e; e = e->next)
		if (e->z == z && e->line == line && e->grid == grid && e->n == n &&
		    memcmp(e->e, g, n * sizeof(double)) == 0) {
			memcpy(out, e->q, n * sizeof(double));
			pthread_mutex_unlock(&lock);
			return;
		}
	pthread_mutex_unlock(&lock);
	/* not there: compute outside the lock, then keep it */
	mg_xrf_fluor_table(z, line, el, g, n, out);
	entry *e = nentries < MAX_ENTRIES ? malloc(sizeof *e + n * sizeof(double)) : NULL;
	double *grid_copy = e ? malloc((n ? n : 1) * sizeof(double)) : NULL;
	if (!e || !grid_copy) {
		free(e);
		free(grid_copy);
		return;
	}
	e->z = z;
	e->line = line;
	e->n = n;
	e->grid = grid;
	e->e = grid_copy;
	memcpy(e->e, g, n * sizeof(double));
	memcpy(e->q, out, n * sizeof(double));
	pthread_mutex_lock(&lock);
	if (nentries < MAX_ENTRIES) {
		e->next = bucket[k];
		bucket[k] = e;
		nentries++;
		e = NULL;
	}
	pthread_mutex_unlock(&lock);
	if (e) {
		free(e->e);
		free(e);
	}
}
