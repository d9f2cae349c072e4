/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The acquisition loop over a real pseudo-terminal (the termios path of a
 * serial line): the simulated DP5 served by tests/harness/ptysim.c. Presets
 * honoured; a line that falls silent (timeouts) and comes back: reconnected
 * and resumed, since the instrument still holds the spectrum; a line that is
 * hung up for good: the last good spectrum saved as device_lost. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "acq_test.h"
#include "check.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "mg_harness.h"

/* The simulator behind a switch that swallows answers. */
struct quiet {
	pthread_mutex_t lock;
	mg_dp5sim *sim;
	int silent; /* swallow the next N answers */
	unsigned swallowed;
};

static void quiet_serve(const uint8_t *in, size_t n, mg_buf *out, void *userdata)
{
	struct quiet *q = userdata;
	mg_buf tmp;
	mg_buf_init(&tmp);
	pthread_mutex_lock(&q->lock);
	mg_dp5sim_feed(q->sim, in, n, &tmp);
	if (tmp.len && q->silent > 0) {
		q->silent--;
		q->swallowed++;
	} else if (tmp.len) {
		mg_buf_append(out, tmp.data, tmp.len);
	}
	pthread_mutex_unlock(&q->lock);
	mg_buf_free(&tmp);
}

static struct quiet quiet;
static mg_ptysim *pty_now;

/* At the second checkpoint, the line goes silent for one request and its retries. */
static void go_silent(const mg_acq_event *ev, acqt_events *e)
{
	if (ev->type == MG_ACQ_EV_CHECKPOINT && e->n[MG_ACQ_EV_CHECKPOINT] == 2) {
		pthread_mutex_lock(&quiet.lock);
		quiet.silent = 4; /* 1 + the driver's 3 retries */
		pthread_mutex_unlock(&quiet.lock);
	}
}

/* At the second checkpoint, the line is hung up for good. */
static void hang_up(const mg_acq_event *ev, acqt_events *e)
{
	if (ev->type == MG_ACQ_EV_CHECKPOINT && e->n[MG_ACQ_EV_CHECKPOINT] == 2)
		mg_ptysim_hangup(pty_now);
}

static mg_acq_request request(const char *uri, const char *sample, const mg_acq_profile *prof,
                              const mg_acq_presets *p, acqt_events *ev)
{
	mg_acq_request r;
	memset(&r, 0, sizeof(r));
	r.device_uri = uri;
	r.sample_id = sample;
	r.batch_id = "LOT-PTY";
	r.profile = prof;
	r.presets = p;
	r.replicates = 1;
	r.on_event = acqt_on_event;
	r.userdata = ev;
	return r;
}

int main(void)
{
	acqt_log_init();
	double t0 = acqt_now_ms();
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", acqt_fresh_dir("pty"));
	mg_store *st = acqt_store(dir);
	mg_dp5sim *sim = NULL;
	CHECK_RC(mg_dp5sim_new("serial=4711&sample=fe&speed=" ACQT_SPEED, &sim), MG_OK);
	if (!st || !sim)
		return mg_test_finish("test_acq_pty");
	pthread_mutex_init(&quiet.lock, NULL);
	quiet.sim = sim;
	mg_ptysim *pty = mg_ptysim_start(quiet_serve, &quiet);
	CHECK(pty != NULL);
	mg_acq_profile prof;
	acqt_profile(&prof, 5);
	CHECK_RC(mg_acq_profile_set(&prof, "acquisition.timeout_ms=100"), MG_OK);
	mg_acq_result res;
	acqt_events ev;
	if (pty) {
		/* presets over the line */
		mg_acq_presets pret = {10.0, NAN, NAN}, prec = {NAN, NAN, 20000};
		acqt_events_init(&ev);
		mg_acq_request r = request(mg_ptysim_uri(pty), "pty-pret", &prof, &pret, &ev);
		CHECK_MSG(mg_acq_run(st, &r, &res) == MG_OK, "%s", mg_error_detail());
		acqt_check_measurement(st, res.last_measurement_id, "complete", &pret, "pty PRET");
		acqt_events_init(&ev);
		r = request(mg_ptysim_uri(pty), "pty-prec", &prof, &prec, &ev);
		CHECK_MSG(mg_acq_run(st, &r, &res) == MG_OK, "%s", mg_error_detail());
		acqt_check_measurement(st, res.last_measurement_id, "complete", &prec, "pty PREC");

		/* silent, then back: reconnected and resumed to the preset */
		mg_acq_presets long_pret = {300.0, NAN, NAN};
		acqt_events_init(&ev);
		ev.hook = go_silent;
		r = request(mg_ptysim_uri(pty), "pty-silent", &prof, &long_pret, &ev);
		CHECK_MSG(mg_acq_run(st, &r, &res) == MG_OK, "%s", mg_error_detail());
		CHECK_MSG(quiet.swallowed == 4, "%u answers swallowed", quiet.swallowed);
		CHECK(ev.n[MG_ACQ_EV_ERROR] == 1 && ev.fatal == 0 && strstr(ev.last_error, "reconnecting"));
		CHECK(strstr(ev.last_error, "no answer") != NULL);
		CHECK(ev.n[MG_ACQ_EV_RESUMED] == 1 && res.complete == 1);
		acqt_check_measurement(st, res.last_measurement_id, "complete", &long_pret, "pty silent, resumed");
		mg_ptysim_stop(pty);
	}

	/* hung up for good (the adapter pulled): device_lost with the last checkpoint */
	pty_now = mg_ptysim_start(quiet_serve, &quiet);
	CHECK(pty_now != NULL);
	if (pty_now) {
		mg_acq_presets long_pret = {300.0, NAN, NAN};
		acqt_events_init(&ev);
		ev.hook = hang_up;
		mg_acq_request r = request(mg_ptysim_uri(pty_now), "pty-gone", &prof, &long_pret, &ev);
		double t1 = acqt_now_ms();
		CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_DISCONNECTED);
		CHECK_MSG(acqt_now_ms() - t1 < 10000, "took %.0f ms", acqt_now_ms() - t1);
		CHECK(res.device_lost == 1 && ev.fatal == 1 && ev.n[MG_ACQ_EV_ERROR] == 2);
		acqt_check_measurement(st, res.last_measurement_id, "device_lost", &long_pret, "pty hung up");
		mg_ptysim_stop(pty_now);
	}
	CHECK(acqt_checkpoint_files(dir) == 0);
	acqt_check_store(st, "pty");
	mg_acq_profile_clear(&prof);
	mg_store_close(st);
	mg_dp5sim_free(sim);
	pthread_mutex_destroy(&quiet.lock);
	fprintf(stderr, "test_acq_pty: %.0f ms\n", acqt_now_ms() - t0);
	return mg_test_finish("test_acq_pty");
}
