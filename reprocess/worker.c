/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The work of one spectrum (worker threads): read and verify the file, find
 * its calibration and instrument, fit and quantify it with this worker's
 * analyzers (plans cached per thread) and the quantifications shared by all
 * (built once per calibration and instrument), build the payload. Workers
 * never touch the database. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "magassay/format.h"
#include "reprocess_internal.h"


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
	const cal_entry *ce = cal_id ? rp_cal_find(r, cal_id) : NULL;
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
	const cal_entry *ce = sl->cal_id ? rp_cal_find(r, sl->cal_id) : NULL;
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

void *rp_worker_main(void *arg)
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
