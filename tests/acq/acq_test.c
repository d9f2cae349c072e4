/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "acq_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/log.h"

static void log_to_stderr(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "[%d %s] %s\n", level, domain, msg);
}

void acqt_log_init(void)
{
	const char *v = getenv("MG_ACQ_VERBOSE");
	mg_log_set_handler(log_to_stderr, NULL);
	mg_log_set_level(v ? atoi(v) : MG_LOG_ERR);
}

double acqt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *acqt_fresh_dir(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", mg_test_tmpdir(), name);
	mkdir(path, 0750);
	return path;
}

mg_store *acqt_store(const char *dir)
{
	mg_store *st = NULL;
	int rc = mg_store_open(dir, &st);
	CHECK_MSG(rc == MG_OK, "store %s: %s", dir, mg_error_detail());
	return st;
}

void acqt_profile(mg_acq_profile *p, double checkpoint_s)
{
	char buf[64];
	CHECK_RC(mg_acq_profile_init(p), MG_OK);
	CHECK_RC(mg_acq_profile_set(p, "acquisition.poll_ms=1"), MG_OK);
	snprintf(buf, sizeof(buf), "acquisition.checkpoint_s=%g", checkpoint_s);
	CHECK_RC(mg_acq_profile_set(p, buf), MG_OK);
	CHECK_RC(mg_acq_profile_set(p, "acquisition.reconnect_wait_ms=1"), MG_OK);
	CHECK_RC(mg_acq_profile_set(p, "acquisition.reconnect_attempts=2"), MG_OK);
	CHECK_RC(mg_acq_profile_set(p, "acquisition.timeout_ms=2000"), MG_OK);
}

void acqt_events_init(acqt_events *e)
{
	memset(e, 0, sizeof(*e));
}

int acqt_on_event(const mg_acq_event *ev, void *userdata)
{
	acqt_events *e = userdata;
	int stop = 0;
	if ((int)ev->type >= 0 && (int)ev->type < 8)
		e->n[ev->type]++;
	if (ev->replicate < 0 || ev->replicate > ev->replicates)
		e->replicate_mismatch++;
	CHECK(ev->sample_id != NULL && ev->batch_id != NULL);
	switch (ev->type) {
	case MG_ACQ_EV_STARTED:
		CHECK(ev->uuid && mg_uuid_validate(ev->uuid) == MG_OK);
		CHECK_MSG(ev->started_at && strlen(ev->started_at) == 24 && ev->started_at[23] == 'Z', "started_at '%s'",
		          ev->started_at ? ev->started_at : "(null)");
		CHECK(ev->device && ev->device->serial);
		break;
	case MG_ACQ_EV_PROGRESS:
		CHECK(ev->status != NULL);
		if (e->stop_at_progress && e->n[MG_ACQ_EV_PROGRESS] == e->stop_at_progress) {
			e->checkpoints_seen_at_stop = e->n[MG_ACQ_EV_CHECKPOINT];
			stop = 1;
		}
		if (e->flag && e->flag_at_progress && e->n[MG_ACQ_EV_PROGRESS] == e->flag_at_progress) {
			e->checkpoints_seen_at_stop = e->n[MG_ACQ_EV_CHECKPOINT];
			*e->flag = 1;
		}
		break;
	case MG_ACQ_EV_SAVED:
		CHECK(ev->file && ev->sha256 && strlen(ev->sha256) == 64 && ev->measurement_id > 0);
		if (e->nsaved < ACQT_MAX_SAVED) {
			snprintf(e->saved_status[e->nsaved], sizeof(e->saved_status[0]), "%s", ev->result);
			e->saved_id[e->nsaved] = ev->measurement_id;
		}
		e->nsaved++;
		break;
	case MG_ACQ_EV_ERROR:
		CHECK(ev->message && *ev->message && ev->error < 0);
		snprintf(e->last_error, sizeof(e->last_error), "%s", ev->message ? ev->message : "");
		if (ev->fatal)
			e->fatal++;
		break;
	case MG_ACQ_EV_CHECKPOINT:
		CHECK(ev->file != NULL);
		break;
	case MG_ACQ_EV_RESUMED:
		CHECK(ev->message != NULL);
		break;
	}
	if (e->hook)
		e->hook(ev, e);
	return stop;
}

void acqt_check_measurement(mg_store *st, long long id, const char *want_status, const mg_acq_presets *p,
                            const char *what)
{
	mg_measurement m;
	int rc = mg_store_measurement_get(st, id, &m);
	CHECK_MSG(rc == MG_OK, "%s: measurement %lld: %s", what, id, mg_error_detail());
	if (rc != MG_OK)
		return;
	CHECK_MSG(!strcmp(m.status, want_status), "%s: status %s, wanted %s", what, m.status, want_status);
	char got[MG_SHA256_HEX_SIZE];
	CHECK_MSG(mg_store_measurement_verify(st, &m, got) == MG_OK, "%s: verify: %s", what, mg_error_detail());
	CHECK(!strcmp(m.kind, "xrf"));
	char *abs = NULL;
	CHECK_RC(mg_store_abspath(st, m.file, &abs), MG_OK);
	mg_spectrum *s = NULL;
	if (abs)
		CHECK_RC(mg_spectrum_read_file(abs, NULL, &s), MG_OK);
	free(abs);
	if (s) {
		double total = mg_spectrum_total(s);
		CHECK_MSG(total == m.total_counts, "%s: file total %.0f, row %.0f", what, total, m.total_counts);
		const char *slow = mg_kvlist_get(&s->meta, "dp5.status.Slow Count");
		CHECK_MSG(slow && strtod(slow, NULL) == total, "%s: status slow count '%s' vs total %.0f", what,
		          slow ? slow : "(none)", total);
		CHECK_NEAR(s->live_time_s, m.live_time_s, 1e-9);
		CHECK_NEAR(s->real_time_s, m.real_time_s, 1e-9);
		CHECK_MSG(s->live_time_s <= s->real_time_s + 1e-9, "%s: live %g > real %g", what, s->live_time_s,
		          s->real_time_s);
		CHECK_MSG(m.started_at && !strcmp(s->start_time, m.started_at), "%s: start time '%s' vs row '%s'", what,
		          s->start_time, m.started_at ? m.started_at : "(null)");
		size_t sl = strlen(s->start_time);
		CHECK(sl > 0 && s->start_time[sl - 1] == 'Z');
		CHECK(m.ended_at && strcmp(m.ended_at, m.started_at) >= 0);
		CHECK(s->sample.sample_id && !strcmp(s->sample.sample_id, m.sample_id));
		CHECK(s->sample.batch_id && !strcmp(s->sample.batch_id, m.batch_id));
		CHECK(s->instrument.serial && m.instrument_serial && !strcmp(s->instrument.serial, m.instrument_serial));
		CHECK(s->instrument.model && m.instrument_model && !strcmp(s->instrument.model, m.instrument_model));
		const char *ms = mg_kvlist_get(&s->meta, "acq.status");
		CHECK_MSG(ms && !strcmp(ms, m.status), "%s: file says status '%s', row '%s'", what, ms ? ms : "(none)",
		          m.status);
		const char *mu = mg_kvlist_get(&s->meta, "acq.uuid");
		CHECK(mu && !strcmp(mu, m.uuid));
		CHECK_MSG(mg_kvlist_get(&s->meta, "dp5.config.MCAC") != NULL, "%s: no DP5 configuration in the file", what);
		CHECK(mg_kvlist_get(&s->meta, "dp5.config.TPEA") != NULL);
		if (p && !strcmp(want_status, "complete")) {
			if (!isnan(p->live_s) && isnan(p->real_s) && isnan(p->counts))
				CHECK_MSG(s->live_time_s == p->live_s, "%s: live time %.6f, preset %.1f", what, s->live_time_s,
				          p->live_s);
			if (!isnan(p->real_s) && isnan(p->live_s) && isnan(p->counts))
				CHECK_MSG(s->real_time_s == p->real_s, "%s: real time %.6f, preset %.1f", what, s->real_time_s,
				          p->real_s);
			if (!isnan(p->counts) && isnan(p->live_s) && isnan(p->real_s))
				CHECK_MSG(total == p->counts, "%s: %.0f counts, preset %.0f", what, total, p->counts);
		}
		if (m.settings_json)
			CHECK(strstr(m.settings_json, "\"dp5\"") != NULL);
		mg_spectrum_free(s);
	}
	mg_measurement_clear(&m);
}

static void check_cb(const mg_check_issue *issue, void *ud)
{
	fprintf(stderr, "%s: store check: %s (measurement %lld): %s\n", (const char *)ud, issue->what,
	        issue->measurement_id, issue->message);
}

void acqt_check_store(mg_store *st, const char *what)
{
	int n = mg_store_check(st, check_cb, (void *)what);
	CHECK_MSG(n == 0, "%s: mg_store_check found %d problem(s) (%s)", what, n, n < 0 ? mg_error_detail() : "");
}

static int count_cb(const mg_measurement *m, void *ud)
{
	(void)m;
	(*(int *)ud)++;
	return 0;
}

int acqt_count(mg_store *st, const char *sample)
{
	int n = 0;
	mg_store_measurements_list(st, NULL, sample, count_cb, &n);
	return n;
}

static int last_cb(const mg_measurement *m, void *ud)
{
	*(long long *)ud = m->id;
	return 0;
}

long long acqt_last_id(mg_store *st, const char *sample)
{
	long long id = 0;
	mg_store_measurements_list(st, NULL, sample, last_cb, &id);
	return id;
}

int acqt_checkpoint_files(const char *data_dir)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/checkpoints", data_dir);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
