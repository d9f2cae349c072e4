/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Analysis plans shared by the analyzers of several threads (plan once,
 * execute many, across threads): a plan is immutable once built, and
 * mg_analysis_execute runs on it concurrently with one context per thread.
 * Entries are keyed by the whole engine configuration and counted: an entry
 * in use is never dropped; past the capacity, the least recently used unused
 * one goes (and when every entry is in use the cache grows, then shrinks back
 * to its capacity as plans are released). Plans are built outside the lock (they take milliseconds); when
 * two threads build the same plan at once, the second copy is discarded. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

typedef struct pc_entry {
	mg_analysis_config cfg;
	mg_analysis_plan *plan;
	int refs;
	unsigned long used;
} pc_entry;

struct mg_plan_cache {
	pthread_mutex_t lock;
	size_t cap, n, alloc; /* capacity asked for; entries; entries allocated (>= cap) */
	unsigned long tick;
	pc_entry *e;
	unsigned long built, hits;
};

int mg_plan_cache_new(size_t capacity, mg_plan_cache **out)
{
	if (!out || capacity < 1 || capacity > 4096)
		return mg_fail(MG_ERR_ARG, QDOM, "plan cache: capacity 1..4096");
	mg_plan_cache *c = calloc(1, sizeof *c);
	pc_entry *e = calloc(capacity, sizeof *e);
	if (!c || !e) {
		free(c);
		free(e);
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	}
	pthread_mutex_init(&c->lock, NULL);
	c->cap = c->alloc = capacity;
	c->e = e;
	*out = c;
	return 0;
}

void mg_plan_cache_free(mg_plan_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		mg_analysis_plan_free(c->e[i].plan);
	pthread_mutex_destroy(&c->lock);
	free(c->e);
	free(c);
}

void mg_plan_cache_stats(mg_plan_cache *c, unsigned long *built, unsigned long *hits)
{
	pthread_mutex_lock(&c->lock);
	if (built)
		*built = c->built;
	if (hits)
		*hits = c->hits;
	pthread_mutex_unlock(&c->lock);
}

/* An entry with this configuration (lock held), or NULL. */
static pc_entry *find(mg_plan_cache *c, const mg_analysis_config *cfg)
{
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(&c->e[i].cfg, cfg, sizeof *cfg) == 0)
			return &c->e[i];
	return NULL;
}

int q_plan_cache_acquire(mg_plan_cache *c, const mg_analysis_config *cfg, const mg_analysis_plan **out)
{
	/* the key compares whole structs: make the unused bytes of the strings equal */
	mg_analysis_config k;
	memcpy(&k, cfg, sizeof k);
	size_t ne = strnlen(k.elements, sizeof k.elements), nm = strnlen(k.matrix, sizeof k.matrix);
	memset(k.elements + ne, 0, sizeof k.elements - ne);
	memset(k.matrix + nm, 0, sizeof k.matrix - nm);
	pthread_mutex_lock(&c->lock);
	pc_entry *e = find(c, &k);
	if (e) {
		e->refs++;
		e->used = ++c->tick;
		c->hits++;
		*out = e->plan;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	pthread_mutex_unlock(&c->lock);
	mg_analysis_plan *p = NULL;
	int rc = mg_analysis_plan_new(&k, &p);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if ((e = find(c, &k)) != NULL) { /* another thread was quicker */
		mg_analysis_plan_free(p);
	} else {
		if (c->n < c->cap) {
			e = &c->e[c->n++];
		} else {
			for (size_t i = 0; i < c->n; i++)
				if (c->e[i].refs == 0 && (!e || c->e[i].used < e->used))
					e = &c->e[i];
			if (!e) { /* every entry in use: grow past the capacity rather than fail */
				if (c->n == c->alloc) {
					pc_entry *grown = realloc(c->e, (c->alloc + 8) * sizeof *grown);
					if (!grown) {
						pthread_mutex_unlock(&c->lock);
						mg_analysis_plan_free(p);
						return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
					}
					c->e = grown;
					c->alloc += 8;
				}
				e = &c->e[c->n++];
			} else {
				mg_analysis_plan_free(e->plan);
			}
		}
		memset(e, 0, sizeof *e);
		e->cfg = k;
		e->plan = p;
		c->built++;
	}
	e->refs++;
	e->used = ++c->tick;
	*out = e->plan;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void q_plan_cache_release(mg_plan_cache *c, const mg_analysis_plan *plan)
{
	if (!c || !plan)
		return;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].plan == plan && c->e[i].refs > 0) {
			/* past the capacity (it grew while every entry was in use): drop it when unused */
			if (--c->e[i].refs == 0 && c->n > c->cap) {
				mg_analysis_plan_free(c->e[i].plan);
				c->e[i] = c->e[--c->n];
			}
			break;
		}
	pthread_mutex_unlock(&c->lock);
}
