/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Offline reprocessing (include/magassay/reprocess.h, docs/reprocessing.md).
 *
 * One coordinator (the calling thread) owns the store handle: it walks the
 * selection by pages, decides per measurement (up to date, or to recompute),
 * hands work to a small ring of slots, and writes each finished result. The
 * workers never touch the database: they read and verify the spectrum file,
 * fit and quantify it with their own analyzers (plans cached per thread) and
 * quantification objects shared by all (built once per calibration and
 * instrument), and build the payload. Memory is the ring plus one page.
 *
 * Here: the shards, the coordinator and the walk. The workers are in
 * worker.c, the calibration table in calibrations.c, the settings text and
 * the idempotence keys in keys.c, the payload and the change report's
 * comparison in payload.c. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reprocess_internal.h"

/* ---- shards ---------------------------------------------------------------- */

int mg_reprocess_parse_shard(const char *s, int *k, int *n)
{
	char *end;
	if (!s || !k || !n)
		return mg_fail(MG_ERR_ARG, RP_DOM, "--shard: no value");
	errno = 0;
	long a = strtol(s, &end, 10);
	if (end == s || *end != '/')
		goto bad;
	const char *t = end + 1;
	long b = strtol(t, &end, 10);
	if (end == t || *end || errno || b < 1 || b > 100000 || a < 1 || a > b)
		goto bad;
	*k = (int)a;
	*n = (int)b;
	return MG_OK;
bad:
	return mg_fail(MG_ERR_ARG, RP_DOM, "--shard wants K/N with 1 <= K <= N <= 100000 (e.g. 3/8), got '%s'", s);
}

int mg_reprocess_in_shard(const char *uuid, int k, int n)
{
	if (n <= 1)
		return 1;
	/* FNV-1a 64 of the canonical (lowercase) UUID text: stable across
	 * machines, backends and releases */
	unsigned long long h = 1469598103934665603ULL;
	for (const char *p = uuid; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 'A' && c <= 'F')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= 1099511628211ULL;
	}
	return (int)(h % (unsigned long long)n) == k - 1;
}

void mg_reprocess_config_init(mg_reprocess_config *c)
{
	memset(c, 0, sizeof *c);
	c->jobs = 1;
}

/* ---- shared state ---------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the coordinator ------------------------------------------------------- */

typedef struct coord {
	run *r;
	mg_store *st;
	mg_reprocess_summary *sum;
	mg_reprocess_progress prog;
	double t0, last_progress;
	int store_error;             /* a negative code: stop */
	int nthreads;
	worker *workers;
} coord;

static void progress(coord *c, int force)
{
	const mg_reprocess_config *cfg = c->r->cfg;
	double t = now_s();
	if (!cfg->on_progress || (!force && t - c->last_progress < 0.1))
		return;
	c->last_progress = t;
	mg_reprocess_progress *p = &c->prog;
	p->elapsed_s = t - c->t0;
	p->rate = p->elapsed_s > 0 ? (double)p->recomputed / p->elapsed_s : 0;
	long long left = p->total - p->done;
	p->eta_s = p->rate > 0 ? (double)left / p->rate : left == 0 ? 0 : NAN;
	cfg->on_progress(p, cfg->userdata);
}

static void report_change(coord *c, long long mid, const char *uuid, const char *batch, const char *sample,
                          int old_v, int new_v, const rp_values *o, const rp_values *n)
{
	int what = rp_compare(c->sum, mid, o, n);
	const mg_reprocess_config *cfg = c->r->cfg;
	if (!what || !cfg->on_change)
		return;
	mg_reprocess_change ch = {
		.measurement_id = mid,
		.uuid = uuid,
		.batch_id = batch,
		.sample_id = sample,
		.old_version = old_v,
		.new_version = new_v,
		.old_grade = o->grade,
		.new_grade = n->grade,
		.old_flags = o->flags,
		.new_flags = n->flags,
		.grade_changed = what & 1,
		.qc_changed = (what & 2) != 0,
	};
	cfg->on_change(&ch, cfg->userdata);
}

/* A finished slot: write its result, account, report. */
static void finish(coord *c, slot *sl)
{
	const mg_reprocess_config *cfg = c->r->cfg;
	int version = 0;
	if (sl->rc >= 0 && !cfg->dry_run && c->store_error == 0) {
		int e = mg_store_result_add(c->st, sl->mid, sl->cal_id > 0 && rp_cal_find(c->r, sl->cal_id) ? sl->cal_id : 0,
		                            NULL, sl->payload, &version, NULL);
		if (e < 0) {
			/* the store is the problem, not the spectrum: stop the run */
			c->store_error = e;
			snprintf(sl->err, sizeof sl->err, "saving the result of measurement %lld: %s", sl->mid, mg_error_detail());
			sl->rc = e;
		}
	}
	if (sl->rc >= 0) {
		if (!isfinite(c->sum->first_result_s))
			c->sum->first_result_s = now_s() - c->t0;
		c->prog.recomputed++;
		if (sl->prev_version > 0 && sl->prev.quantified && sl->now.quantified)
			report_change(c, sl->mid, sl->uuid, sl->batch, sl->sample, sl->prev_version, version, &sl->prev, &sl->now);
	} else {
		c->prog.failed++;
		if (cfg->on_failure)
			cfg->on_failure(sl->mid, sl->uuid, sl->err, cfg->userdata);
	}
	c->prog.done++;
	free(sl->file);
	free(sl->path);
	free(sl->payload);
	sl->file = sl->path = sl->payload = NULL;
	pthread_mutex_lock(&c->r->lock);
	sl->state = SLOT_FREE;
	pthread_mutex_unlock(&c->r->lock);
	progress(c, 0);
}

/* Collect finished slots; with wait_for_free, block until a slot is free;
 * with drain, until every slot is free. Lock not held on entry. */
static void collect(coord *c, int wait_for_free, int drain)
{
	run *r = c->r;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		int nfree = 0, busy = 0;
		slot *done = NULL;
		for (int i = 0; i < r->nslots; i++) {
			if (r->slots[i].state == SLOT_FREE)
				nfree++;
			else if (r->slots[i].state == SLOT_DONE && (!done || r->slots[i].seq < done->seq))
				done = &r->slots[i];
			else
				busy++;
		}
		if (done) {
			pthread_mutex_unlock(&r->lock);
			finish(c, done); /* no lock: writes to the store */
			pthread_mutex_lock(&r->lock);
			continue;
		}
		if ((drain && busy == 0) || (!drain && (!wait_for_free || nfree > 0)))
			break;
		pthread_cond_wait(&r->done, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
}

/* A page of the selection, copied so the listing statement is done before work starts. */
typedef struct page_item {
	long long id;
	char uuid[MG_UUID_SIZE];
	char batch[MG_ID_MAX + 1], sample[MG_ID_MAX + 1];
	char sha[MG_SHA256_HEX_SIZE];
	char *file;
} page_item;

typedef struct page {
	page_item *it;
	int n, cap;
	long long last_id;
	int count_only;
	long long counted;
	const mg_reprocess_config *cfg;
} page;

static int page_cb(const mg_measurement *m, void *ud)
{
	page *p = ud;
	p->last_id = m->id;
	if (!mg_reprocess_in_shard(m->uuid, p->cfg->shard_k, p->cfg->shard_n))
		return 0;
	if (p->count_only) {
		p->counted++;
		return 0;
	}
	page_item *it = &p->it[p->n];
	it->id = m->id;
	snprintf(it->uuid, sizeof it->uuid, "%s", m->uuid);
	snprintf(it->batch, sizeof it->batch, "%s", m->batch_id);
	snprintf(it->sample, sizeof it->sample, "%s", m->sample_id);
	snprintf(it->sha, sizeof it->sha, "%s", m->sha256);
	it->file = strdup(m->file);
	if (!it->file)
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	p->n++;
	return 0;
}

/* Decide about one measurement: up to date (account and compare now) or queue it. */
static int consider(coord *c, page_item *it)
{
	run *r = c->r;
	mg_result latest;
	memset(&latest, 0, sizeof latest);
	int e = mg_store_result_get(c->st, it->id, 0, &latest);
	if (e < 0 && e != MG_ERR_NOT_FOUND)
		return e;
	/* the calibration: the run's, else the one the latest result used */
	long long cal_id = 0;
	if (r->quant_cal_id)
		cal_id = r->quant_cal_id;
	else if (e == 0 && latest.calibration_id > 0 &&
	         (e = rp_cal_load(r, c->st, latest.calibration_id, NULL, &cal_id, 0, NULL)) < 0) {
		mg_result_clear(&latest);
		return e;
	}
	char key[MG_SHA256_HEX_SIZE];
	rp_make_key(r, cal_id, it->sha, key);
	rp_values now; /* the latest result: its key, and what the change report compares */
	rp_values_read(latest.payload_json, &now);
	if (strcmp(now.key, key) == 0) {
		/* up to date: this run's result is there already (an earlier, interrupted
		 * run or shard made it); report it against the version before */
		c->prog.up_to_date++;
		c->prog.done++;
		if (latest.version > 1) {
			mg_result before;
			memset(&before, 0, sizeof before);
			if ((e = mg_store_result_get(c->st, it->id, latest.version - 1, &before)) == 0) {
				rp_values o;
				rp_values_read(before.payload_json, &o);
				if (o.quantified && now.quantified)
					report_change(c, it->id, it->uuid, it->batch, it->sample, latest.version - 1, latest.version, &o,
					              &now);
			}
			mg_result_clear(&before);
		}
		mg_result_clear(&latest);
		progress(c, 0);
		return 0;
	}
	/* to recompute: wait for a free slot */
	collect(c, 1, 0);
	pthread_mutex_lock(&r->lock);
	slot *sl = NULL;
	for (int i = 0; i < r->nslots && !sl; i++)
		if (r->slots[i].state == SLOT_FREE)
			sl = &r->slots[i];
	pthread_mutex_unlock(&r->lock);
	/* only the coordinator frees slots, and collect() left one */
	memset(sl, 0, sizeof *sl);
	sl->mid = it->id;
	memcpy(sl->uuid, it->uuid, sizeof sl->uuid);
	memcpy(sl->batch, it->batch, sizeof sl->batch);
	memcpy(sl->sample, it->sample, sizeof sl->sample);
	memcpy(sl->sha, it->sha, sizeof sl->sha);
	memcpy(sl->key, key, sizeof sl->key);
	sl->cal_id = cal_id;
	sl->file = it->file;
	it->file = NULL;
	if ((e = mg_store_abspath(c->st, sl->file, &sl->path)) < 0) {
		free(sl->file);
		sl->file = NULL;
		mg_result_clear(&latest);
		return e;
	}
	if (latest.version > 0) {
		sl->prev_version = latest.version;
		sl->prev = now;
	}
	mg_result_clear(&latest);
	pthread_mutex_lock(&r->lock);
	sl->seq = r->seq_next++;
	sl->state = SLOT_QUEUED;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->lock);
	return 0;
}


static int open_store(const mg_reprocess_config *cfg, mg_store **st)
{
	unsigned flags = MG_STORE_NOCREATE | (cfg->dry_run ? MG_STORE_READONLY : 0);
	return mg_store_open_db(cfg->data_dir, cfg->db_url, flags, st);
}

int mg_reprocess_run(const mg_reprocess_config *cfg, mg_reprocess_summary *summary)
{
	mg_reprocess_summary local;
	if (!summary)
		summary = &local;
	memset(summary, 0, sizeof *summary);
	summary->first_result_s = NAN;
	if (!cfg || cfg->jobs < 1 || cfg->jobs > 256 || cfg->shard_n < 0 ||
	    (cfg->shard_n > 0 && (cfg->shard_k < 1 || cfg->shard_k > cfg->shard_n)) || cfg->page < 0 ||
	    cfg->page > 100000)
		return mg_fail(MG_ERR_ARG, RP_DOM, "reprocess: bad configuration (jobs 1..256, shard K/N, page)");
	run r;
	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	coord c;
	memset(&c, 0, sizeof c);
	c.r = &r;
	c.sum = summary;
	c.t0 = now_s();
	int rc = open_store(cfg, &c.st);
	if (rc < 0)
		return rc;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.work, NULL);
	pthread_cond_init(&r.done, NULL);
	page pg;
	memset(&pg, 0, sizeof pg);
	pg.cfg = cfg;
	pg.cap = cfg->page ? cfg->page : 512;
	mg_measurement_filter f = cfg->filter;
	f.kind = "xrf";
	if ((rc = rp_settings(&r, c.st)) < 0 || (rc = mg_plan_cache_new(16 + 8 * (size_t)cfg->jobs, &r.plans)) < 0)
		goto out;
	long long energy_id = 0;
	for (int i = 0; i < 2 && cfg->calib_ref[i]; i++) {
		long long id = 0;
		char kind[16] = "";
		if ((rc = rp_cal_load(&r, c.st, 0, cfg->calib_ref[i], &id, 1, kind)) < 0)
			goto out;
		if (strcmp(kind, "quant") == 0 && !r.quant_cal_id) {
			r.quant_cal_id = id;
		} else if ((strcmp(kind, "energy") == 0 || strcmp(kind, "resolution") == 0) && !energy_id) {
			energy_id = id;
		} else {
			rc = mg_fail(MG_ERR_ARG, RP_DOM,
			             "--calib %s: a %s record; give at most one quantification (quant) and one energy "
			             "or resolution record", cfg->calib_ref[i], kind);
			goto out;
		}
	}
	if (energy_id) { /* the key covers it */
		size_t n = strlen(r.settings);
		snprintf(r.settings + n, sizeof r.settings - n, ";energy=%lld", energy_id);
	}
	mg_sha256_mem(r.settings, strlen(r.settings), summary->key_settings);
	/* count the selection (ids only: cheap) */
	pg.count_only = 1;
	for (long long after = 0;;) {
		pg.last_id = after;
		int n = mg_store_measurements_scan(c.st, &f, after, 10000, page_cb, &pg);
		if (n < 0) {
			rc = n;
			goto out;
		}
		if (n == 0)
			break;
		after = pg.last_id;
	}
	c.prog.total = summary->total = pg.counted;
	pg.count_only = 0;
	pg.it = calloc((size_t)pg.cap, sizeof *pg.it);
	/* the workers and their slots */
	r.nslots = 2 * cfg->jobs + 2;
	r.slots = calloc((size_t)r.nslots, sizeof *r.slots);
	c.workers = calloc((size_t)cfg->jobs, sizeof *c.workers);
	pthread_t *th = calloc((size_t)cfg->jobs, sizeof *th);
	if (!pg.it || !r.slots || !c.workers || !th) {
		free(th);
		rc = mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
		goto out;
	}
	for (int i = 0; i < cfg->jobs; i++) {
		c.workers[i].r = &r;
		if (pthread_create(&th[i], NULL, rp_worker_main, &c.workers[i]) != 0)
			break;
		c.nthreads++;
	}
	if (c.nthreads == 0) {
		free(th);
		rc = mg_fail(MG_ERR_NOMEM, RP_DOM, "cannot start a worker thread");
		goto out;
	}
	progress(&c, 1);
	/* the walk: a page at a time, stop on request or on a store failure */
	long long after = 0;
	int stop = 0;
	while (!stop) {
		pg.n = 0;
		pg.last_id = after;
		int n = mg_store_measurements_scan(c.st, &f, after, pg.cap, page_cb, &pg);
		if (n < 0) {
			rc = n;
			break;
		}
		if (n == 0)
			break;
		after = pg.last_id;
		for (int i = 0; i < pg.n; i++) {
			if ((cfg->stop && *cfg->stop) || c.store_error) {
				stop = 1;
			} else if ((rc = consider(&c, &pg.it[i])) < 0) {
				stop = 1;
			}
			free(pg.it[i].file);
			pg.it[i].file = NULL;
		}
	}
	collect(&c, 0, 1);
	pthread_mutex_lock(&r.lock);
	r.quit = 1;
	pthread_cond_broadcast(&r.work);
	pthread_mutex_unlock(&r.lock);
	for (int i = 0; i < c.nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	if (rc >= 0 && c.store_error)
		rc = c.store_error;
	summary->interrupted = cfg->stop && *cfg->stop;
	progress(&c, 1);
out:
	summary->recomputed = c.prog.recomputed;
	summary->up_to_date = c.prog.up_to_date;
	summary->failed = c.prog.failed;
	summary->elapsed_s = now_s() - c.t0;
	for (int i = 0; pg.it && i < pg.cap; i++)
		free(pg.it[i].file);
	free(pg.it);
	free(r.slots);
	free(c.workers);
	for (int i = 0; i < r.nquants; i++)
		mg_quant_free(r.quants[i].q);
	for (int i = 0; i < r.ncals; i++)
		mg_quant_calibration_clear(&r.cals[i].cal);
	mg_grade_table_free(r.grades);
	mg_plan_cache_free(r.plans); /* the workers' analyzers are gone */
	pthread_cond_destroy(&r.work);
	pthread_cond_destroy(&r.done);
	pthread_mutex_destroy(&r.lock);
	mg_store_close(c.st);
	if (rc < 0)
		return rc;
	return summary->failed > 0 ? (int)(summary->failed < 1000000 ? summary->failed : 1000000) : 0;
}
