/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Offline reprocessing (include/magassay/reprocess.h, docs/reprocessing.md).
 *
 * One coordinator (the calling thread) owns the store handle: it walks the
 * selection by pages, decides per measurement (up to date, or to recompute),
 * hands work to a small ring of slots, and writes each finished result. The
 * workers never touch the database: they read and verify the spectrum file,
 * fit and quantify it with their own analyzers (plans cached per thread) and
 * quantification objects shared by all (built once per calibration and
 * instrument), and build the payload. Memory is the ring plus one page. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "magassay/format.h"
#include "magassay/version.h"
#include "reprocess_internal.h"

#define MAX_CALS 32
#define MAX_QUANTS 32
#define WORKER_ANALYZERS 4
#define DEFAULT_ELEMENTS "Fe,Co,Nd,Pr,Dy,Tb"

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

typedef struct cal_entry {
	long long id;
	int is_quant;                /* a quantification record (else: ignored, standardless) */
	mg_quant_calibration cal;
} cal_entry;

typedef struct quant_entry {
	long long cal_id;
	mg_instrument_desc ins;
	char elements[512];
	mg_quant *q;
} quant_entry;

enum { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

typedef struct slot {
	int state;
	unsigned long long seq;
	/* the work */
	long long mid;
	char uuid[MG_UUID_SIZE];
	char batch[MG_ID_MAX + 1], sample[MG_ID_MAX + 1];
	char *file;                  /* relative */
	char *path;                  /* absolute */
	char sha[MG_SHA256_HEX_SIZE];
	long long cal_id;
	char key[MG_SHA256_HEX_SIZE];
	int prev_version;
	rp_values prev;              /* the latest result's values (prev_version > 0) */
	/* the outcome */
	int rc;
	char err[400];
	char *payload;
	rp_values now;
} slot;

typedef struct run {
	const mg_reprocess_config *cfg;
	char *dir;
	/* settings */
	mg_instrument_desc ins_file; /* from instrument_path or <dir>/instrument.ini */
	int have_ins_file;
	mg_grade_table *grades;
	int have_energy;             /* an energy/resolution record for every spectrum */
	mg_energy_cal ecal;
	mg_detector_model edet;
	long long quant_cal_id;      /* the run's quantification record (0: per measurement) */
	char elements[MG_ANALYSIS_ELEMENTS_LEN];
	char settings[1024];
	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	slot *slots;
	int nslots;
	unsigned long long seq_next;
	int quit;
	cal_entry cals[MAX_CALS];
	int ncals;
	quant_entry quants[MAX_QUANTS];
	int nquants;
	mg_plan_cache *plans;        /* the analysis plans, shared by the workers */
} run;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the work of one spectrum (worker threads) ----------------------------- */

typedef struct analyzer_entry {
	const mg_quant *q;
	mg_analysis_config cfg;
	mg_quant_analyzer *a;
} analyzer_entry;

typedef struct worker {
	run *r;
	analyzer_entry an[WORKER_ANALYZERS];
	int nan_used;
	mg_quant_result res;
	mg_quant_kratio kr[MG_QUANT_MAX_EL];
	mg_instrument_conflict conf[MG_INSTR_NFIELDS];
} worker;

/* The calibration entry for an id (lock held). */
static const cal_entry *cal_find(run *r, long long id)
{
	for (int i = 0; i < r->ncals; i++)
		if (r->cals[i].id == id)
			return &r->cals[i];
	return NULL;
}

/* "Fe:Ka+Kb,Nd" → "Fe,Nd": the element symbols of an analysis element list. */
static void strip_families(const char *in, char *out, size_t size)
{
	snprintf(out, size, "%s", in);
	for (char *p = out; *p; p++)
		if (*p == ':') {
			char *e = p;
			while (*e && *e != ',')
				e++;
			memmove(p, e, strlen(e) + 1);
		}
}

/* The instrument and the engine configuration for a calibration (cal may be NULL). */
static void setup_for(const run *r, const mg_quant_calibration *cal, mg_instrument_desc *ins, mg_analysis_config *ac)
{
	if (r->have_ins_file)
		*ins = r->ins_file;
	else if (cal)
		*ins = cal->instrument;
	else
		mg_instrument_desc_default(ins);
	mg_analysis_config_default(ac);
	snprintf(ac->elements, sizeof ac->elements, "%s", r->elements);
	mg_instrument_desc_to_analysis(ins, ac);
}

/* The shared quantification for (calibration, instrument): built once. */
static int quant_get(run *r, long long cal_id, const mg_instrument_desc *ins, const char *fit_elements,
                     const mg_quant **out, char *err, size_t errsize)
{
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	const cal_entry *ce = cal_id ? cal_find(r, cal_id) : NULL;
	const mg_quant_calibration *cal = ce && ce->is_quant ? &ce->cal : NULL;
	char elements[512];
	strip_families(fit_elements, elements, sizeof elements);
	if (cal && strlen(elements) + strlen(cal->elements) + 2 < sizeof elements) {
		strcat(elements, ",");
		strcat(elements, cal->elements);
	}
	if (strlen(elements) + 3 < sizeof elements)
		strcat(elements, ",B");
	for (int i = 0; i < r->nquants; i++) {
		quant_entry *e = &r->quants[i];
		if (e->cal_id == cal_id && memcmp(&e->ins, ins, sizeof *ins) == 0 && strcmp(e->elements, elements) == 0) {
			*out = e->q;
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
	}
	if (r->nquants >= MAX_QUANTS) {
		snprintf(err, errsize, "more than %d distinct instrument settings and calibrations in one run", MAX_QUANTS);
		pthread_mutex_unlock(&r->lock);
		return MG_ERR_UNSUPPORTED;
	}
	mg_quant_options o;
	mg_quant_options_default(&o);
	o.grades = r->grades;
	o.method = cal && cal->nlines ? MG_QUANT_EMPIRICAL : MG_QUANT_FP;
	quant_entry *e = &r->quants[r->nquants];
	memset(e, 0, sizeof *e);
	rc = mg_quant_new(ins, elements, &o, NULL, 0, cal, &e->q);
	if (rc < 0) {
		snprintf(err, errsize, "quantification: %s", mg_error_detail());
	} else {
		e->cal_id = cal_id;
		e->ins = *ins;
		snprintf(e->elements, sizeof e->elements, "%s", elements);
		r->nquants++;
		*out = e->q;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* This worker's analyzer for (quantification, engine configuration). */
static mg_quant_analyzer *analyzer_get(worker *w, const mg_quant *q, const mg_analysis_config *ac, int *rc)
{
	for (int i = 0; i < w->nan_used; i++)
		if (w->an[i].q == q && memcmp(&w->an[i].cfg, ac, sizeof *ac) == 0)
			return w->an[i].a;
	/* a new one (the oldest goes when full) */
	analyzer_entry *e = &w->an[w->nan_used < WORKER_ANALYZERS ? w->nan_used++ : 0];
	if (w->nan_used == WORKER_ANALYZERS && e == &w->an[0]) {
		mg_quant_analyzer_free(e->a);
		memmove(&w->an[0], &w->an[1], (WORKER_ANALYZERS - 1) * sizeof w->an[0]);
		e = &w->an[WORKER_ANALYZERS - 1];
	}
	memset(e, 0, sizeof *e);
	if ((*rc = mg_quant_analyzer_new_shared(q, ac, 0, w->r->plans, &e->a)) < 0) {
		w->nan_used--;
		return NULL;
	}
	e->q = q;
	e->cfg = *ac;
	return e->a;
}

static int read_all(const char *path, unsigned char **data, size_t *len, char *err, size_t errsize)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? MG_ERR_NOT_FOUND : MG_ERR_IO;
	}
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 || sb.st_size > (64 << 20)) {
		fclose(f);
		snprintf(err, errsize, "%s: not a readable spectrum file (or larger than 64 MiB)", path);
		return MG_ERR_IO;
	}
	unsigned char *d = malloc((size_t)sb.st_size + 1);
	size_t n = d ? fread(d, 1, (size_t)sb.st_size, f) : 0;
	int bad = !d || n != (size_t)sb.st_size || ferror(f);
	fclose(f);
	if (bad) {
		free(d);
		snprintf(err, errsize, "%s: read failed", path);
		return MG_ERR_IO;
	}
	*data = d;
	*len = n;
	return 0;
}

static void process(worker *w, slot *sl)
{
	run *r = w->r;
	unsigned char *data = NULL;
	size_t len = 0;
	mg_spectrum *s = NULL;
	char sha[MG_SHA256_HEX_SIZE];
	sl->rc = read_all(sl->path, &data, &len, sl->err, sizeof sl->err);
	if (sl->rc < 0)
		return;
	if (mg_sha256_mem(data, len, sha) < 0 || strcmp(sha, sl->sha) != 0) {
		snprintf(sl->err, sizeof sl->err,
		         "%s: the file changed since it was registered (SHA-256 %.12s…, registered %.12s…): not used",
		         sl->file, sha, sl->sha);
		sl->rc = MG_ERR_CHECKSUM;
		goto out;
	}
	if ((sl->rc = mg_spectrum_read_mem(data, len, sl->file, NULL, &s)) < 0) {
		snprintf(sl->err, sizeof sl->err, "%s", mg_error_detail());
		goto out;
	}
	/* the calibration, instrument and configuration of this spectrum */
	pthread_mutex_lock(&r->lock);
	const cal_entry *ce = sl->cal_id ? cal_find(r, sl->cal_id) : NULL;
	const mg_quant_calibration *cal = ce && ce->is_quant ? &ce->cal : NULL;
	mg_instrument_desc ins;
	mg_analysis_config ac;
	setup_for(r, cal, &ins, &ac);
	pthread_mutex_unlock(&r->lock);
	ac.nchan = s->nchan;
	ac.cal.valid = 0;
	(void)mg_analysis_config_from_spectrum(&ac, s); /* what the file knows (not always a calibration) */
	if (r->have_energy) {
		ac.cal = r->ecal;
		ac.det.noise_kev = r->edet.noise_kev;
		ac.det.fano = r->edet.fano;
	} else if (!ac.cal.valid) {
		/* neither the file nor the run gives one: find it from the peaks (a plan per spectrum) */
		mg_energy_cal found;
		if ((sl->rc = mg_analysis_auto_cal(&ac, s->counts, s->nchan, 0, 0, &found, NULL)) < 0) {
			snprintf(sl->err, sizeof sl->err, "%s: no energy calibration in the file, none given (--calib "
			         "energy:NAME), and none found from the peaks: %s", sl->file, mg_error_detail());
			goto out;
		}
		ac.cal = found;
	}
	int nconf = mg_instrument_desc_apply_spectrum(&ins, s, w->conf, MG_INSTR_NFIELDS);
	if (nconf < 0)
		nconf = 0;
	const mg_quant *q = NULL;
	if ((sl->rc = quant_get(r, sl->cal_id, &ins, ac.elements, &q, sl->err, sizeof sl->err)) < 0)
		goto out;
	mg_quant_analyzer *an = analyzer_get(w, q, &ac, &sl->rc);
	if (!an) {
		snprintf(sl->err, sizeof sl->err, "%s", mg_error_detail());
		goto out;
	}
	size_t nk = 0;
	double ua = isfinite(s->acq.tube_ua) ? s->acq.tube_ua : NAN;
	sl->rc = mg_quant_analyzer_run(an, s->counts, s->nchan, s->live_time_s, ua, sl->sample, NULL,
	                               r->cfg->refine, NULL, &w->res, w->kr, MG_QUANT_MAX_EL, &nk);
	if (sl->rc < 0) {
		snprintf(sl->err, sizeof sl->err, "%s: %s", sl->file, mg_error_detail());
		goto out;
	}
	rp_output o = {
		.fit = mg_quant_analyzer_last_fit(an),
		.live_time_s = s->live_time_s,
		.q = &w->res,
		.kr = w->kr,
		.nk = nk,
		.conf = w->conf,
		.nconf = nconf < (int)MG_INSTR_NFIELDS ? nconf : (int)MG_INSTR_NFIELDS,
		.file = sl->file,
		.sample_id = sl->sample,
		.key = sl->key,
		.settings = r->settings,
	};
	sl->payload = rp_payload(&o);
	if (!sl->payload) {
		snprintf(sl->err, sizeof sl->err, "out of memory");
		sl->rc = MG_ERR_NOMEM;
		goto out;
	}
	rp_values_read(sl->payload, &sl->now);
out:
	mg_spectrum_free(s);
	free(data);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	run *r = w->r;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		slot *next = NULL;
		for (int i = 0; i < r->nslots; i++)
			if (r->slots[i].state == SLOT_QUEUED && (!next || r->slots[i].seq < next->seq))
				next = &r->slots[i];
		if (!next) {
			if (r->quit)
				break;
			pthread_cond_wait(&r->work, &r->lock);
			continue;
		}
		next->state = SLOT_RUNNING;
		pthread_mutex_unlock(&r->lock);
		process(w, next);
		pthread_mutex_lock(&r->lock);
		next->state = SLOT_DONE;
		pthread_cond_signal(&r->done);
	}
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < w->nan_used; i++)
		mg_quant_analyzer_free(w->an[i].a);
	return NULL;
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
		int e = mg_store_result_add(c->st, sl->mid, sl->cal_id > 0 && cal_find(c->r, sl->cal_id) ? sl->cal_id : 0,
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

/* Load a calibration record into the table (coordinator; the store is read here). */
static int cal_load(coord *c, long long id, const char *ref, long long *id_out, int energy, char *kind_out)
{
	run *r = c->r;
	if (id > 0) {
		pthread_mutex_lock(&r->lock);
		int have = cal_find(r, id) != NULL;
		pthread_mutex_unlock(&r->lock);
		if (have) {
			*id_out = id;
			return 0;
		}
	}
	char idref[32];
	if (!ref) {
		snprintf(idref, sizeof idref, "%lld", id);
		ref = idref;
	}
	mg_calib_record rec;
	int rc = mg_calib_record_load(c->st, ref, &rec);
	if (rc < 0)
		return rc;
	cal_entry e;
	memset(&e, 0, sizeof e);
	e.id = rec.id;
	if (kind_out)
		snprintf(kind_out, 16, "%s", rec.kind);
	if (strcmp(rec.kind, "energy") == 0 || strcmp(rec.kind, "resolution") == 0) {
		/* the run's energy calibration: not a table entry */
		if (!energy) {
			mg_calib_record_clear(&rec);
			*id_out = e.id;
			return 0;
		}
		mg_analysis_config d;
		mg_analysis_config_default(&d);
		r->edet = d.det;
		rc = mg_analysis_calib_parse(rec.payload_json, strlen(rec.payload_json), ref, &r->ecal, &r->edet);
		r->have_energy = rc == 0;
		mg_calib_record_clear(&rec);
		*id_out = e.id;
		return rc;
	}
	if (strcmp(rec.kind, "quant") == 0) {
		rc = mg_quant_calibration_from_json(rec.payload_json, strlen(rec.payload_json), ref, &e.cal);
		if (rc == 0) {
			snprintf(e.cal.name, sizeof e.cal.name, "%s", rec.name);
			e.cal.version = rec.version;
			e.cal.id = rec.id;
			e.is_quant = 1;
		}
	}
	mg_calib_record_clear(&rec);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&r->lock);
	if (r->ncals >= MAX_CALS) {
		pthread_mutex_unlock(&r->lock);
		mg_quant_calibration_clear(&e.cal);
		return mg_fail(MG_ERR_UNSUPPORTED, RP_DOM, "more than %d calibrations in one run: select fewer measurements",
		               MAX_CALS);
	}
	if (!cal_find(r, e.id))
		r->cals[r->ncals++] = e;
	else
		mg_quant_calibration_clear(&e.cal);
	pthread_mutex_unlock(&r->lock);
	*id_out = e.id;
	return 0;
}

/* The key of one measurement's result under this run. */
static void make_key(const run *r, long long cal_id, const char *spectrum_sha, char key[MG_SHA256_HEX_SIZE])
{
	char text[1200];
	int n = snprintf(text, sizeof text, "%s;calibration=%lld;spectrum=%s", r->settings, cal_id, spectrum_sha);
	mg_sha256_mem(text, n > 0 ? (size_t)n : 0, key);
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
	         (e = cal_load(c, latest.calibration_id, NULL, &cal_id, 0, NULL)) < 0) {
		mg_result_clear(&latest);
		return e;
	}
	char key[MG_SHA256_HEX_SIZE];
	make_key(r, cal_id, it->sha, key);
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

static int file_sha_or(const char *path, const char *absent, char *out, size_t size)
{
	char sha[MG_SHA256_HEX_SIZE];
	struct stat sb;
	if (!path || stat(path, &sb) != 0) {
		snprintf(out, size, "%s", absent);
		return 0;
	}
	int rc = mg_sha256_file(path, sha, NULL);
	if (rc < 0)
		return rc;
	snprintf(out, size, "sha256:%s", sha);
	return 0;
}

/* Read the run's settings: instrument, grades, elements; the settings text. */
static int settings(run *r, mg_store *st)
{
	const mg_reprocess_config *cfg = r->cfg;
	char ins_path[4096], grades_path[4096], ins_id[80], grades_id[80];
	int rc;
	if (cfg->instrument_path)
		snprintf(ins_path, sizeof ins_path, "%s", cfg->instrument_path);
	else
		snprintf(ins_path, sizeof ins_path, "%s/instrument.ini", mg_store_data_dir(st));
	struct stat sb;
	if (cfg->instrument_path || stat(ins_path, &sb) == 0) {
		if ((rc = mg_instrument_desc_read_file(ins_path, &r->ins_file)) < 0)
			return rc;
		r->have_ins_file = 1;
	}
	if ((rc = file_sha_or(r->have_ins_file ? ins_path : NULL, "calibration-or-default", ins_id, sizeof ins_id)) < 0)
		return rc;
	if (cfg->grades_path)
		snprintf(grades_path, sizeof grades_path, "%s", cfg->grades_path);
	else
		snprintf(grades_path, sizeof grades_path, "%s/grades.ini", mg_store_data_dir(st));
	int have_grades = cfg->grades_path || stat(grades_path, &sb) == 0;
	if (have_grades && (rc = mg_grade_table_read_file(grades_path, &r->grades)) < 0)
		return rc;
	if ((rc = file_sha_or(have_grades ? grades_path : NULL, "none", grades_id, sizeof grades_id)) < 0)
		return rc;
	const char *el = cfg->elements && *cfg->elements ? cfg->elements : DEFAULT_ELEMENTS;
	if (mg_analysis_elements_check(el) < 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "elements: %s", mg_error_detail());
	char all[MG_ANALYSIS_ELEMENTS_LEN];
	snprintf(all, sizeof all, "%s", el);
	/* the quantification needs the coating elements in the fit */
	if (!strstr(all, "Ni") && strlen(all) + 4 < sizeof all)
		strcat(all, ",Ni");
	if (!strstr(all, "Cu") && strlen(all) + 4 < sizeof all)
		strcat(all, ",Cu");
	snprintf(r->elements, sizeof r->elements, "%s", all);
	snprintf(r->settings, sizeof r->settings,
	         "magassay %s;elements=%s;refine=%u;instrument=%s;grades=%s;boron=nominal", MAGASSAY_VERSION_STRING,
	         r->elements, cfg->refine, ins_id, grades_id);
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
	if ((rc = settings(&r, c.st)) < 0 || (rc = mg_plan_cache_new(16 + 8 * (size_t)cfg->jobs, &r.plans)) < 0)
		goto out;
	long long energy_id = 0;
	for (int i = 0; i < 2 && cfg->calib_ref[i]; i++) {
		long long id = 0;
		char kind[16] = "";
		if ((rc = cal_load(&c, 0, cfg->calib_ref[i], &id, 1, kind)) < 0)
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
		if (pthread_create(&th[i], NULL, worker_main, &c.workers[i]) != 0)
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
