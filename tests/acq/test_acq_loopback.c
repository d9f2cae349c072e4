/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The acquisition loop end to end against the simulated DP5 in process
 * (sim:xrf through the loopback transport, with its fault injection):
 * presets honoured (PRET, PRER, PREC), spectrum total == status slow count,
 * file and database row consistent, replicates, stop on request, a device
 * that disconnects mid-run (saved as device_lost, never silently), a lost
 * device before any spectrum, an archive that cannot be written (the
 * spectrum kept at the checkpoint location, then recovered), bad requests. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acq_test.h"
#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

#define SIM "sim:xrf?speed=" ACQT_SPEED

static mg_acq_request request(const char *uri, const char *sample, const char *batch, const mg_acq_profile *prof,
                              const mg_acq_presets *presets, acqt_events *ev)
{
	mg_acq_request r;
	memset(&r, 0, sizeof(r));
	r.device_uri = uri;
	r.sample_id = sample;
	r.batch_id = batch;
	r.operator_name = "tester";
	r.profile = prof;
	r.presets = presets;
	r.replicates = 1;
	r.on_event = acqt_on_event;
	r.userdata = ev;
	return r;
}

static void test_presets(mg_store *st)
{
	mg_acq_profile prof;
	acqt_profile(&prof, 0);
	struct {
		const char *sample;
		mg_acq_presets p;
	} cases[] = {
		{"pret-1", {10.0, NAN, NAN}},
		{"prer-1", {NAN, 8.5, NAN}},
		{"prec-1", {NAN, NAN, 50000}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		acqt_events ev;
		acqt_events_init(&ev);
		mg_acq_request r = request(SIM "&sample=ndfeb", cases[i].sample, "LOT-P", &prof, &cases[i].p, &ev);
		mg_acq_result res;
		int rc = mg_acq_run(st, &r, &res);
		CHECK_MSG(rc == MG_OK, "%s: %s", cases[i].sample, mg_error_detail());
		CHECK(res.saved == 1 && res.complete == 1 && res.requested == 1);
		CHECK(ev.n[MG_ACQ_EV_STARTED] == 1 && ev.n[MG_ACQ_EV_SAVED] == 1 && ev.n[MG_ACQ_EV_ERROR] == 0);
		CHECK(ev.n[MG_ACQ_EV_PROGRESS] >= 1);
		CHECK(ev.nsaved == 1 && !strcmp(ev.saved_status[0], "complete"));
		acqt_check_measurement(st, res.last_measurement_id, "complete", &cases[i].p, cases[i].sample);
	}
	mg_acq_profile_clear(&prof);
}

static void test_replicates_and_profile(mg_store *st, const char *dir)
{
	mg_acq_profile prof;
	acqt_profile(&prof, 0);
	/* a profile file on top: channels, a detector, a tube, DP5 settings */
	const char *ini = "# lab profile\n[dp5]\nTPEA = 2.4   ; peaking time\nGAIN=20\n[acquisition]\nchannels = 1024\n"
	                  "[tube]\nanode = Rh\nkv = 40\nua = 20\n[instrument]\ndetector = SDD 25 mm2\n";
	CHECK_RC(mg_acq_profile_parse(&prof, ini, strlen(ini), "lab.ini"), MG_OK);
	mg_acq_presets p = {2.0, NAN, NAN};
	acqt_events ev;
	acqt_events_init(&ev);
	mg_acq_request r = request(SIM "&sample=ndfeb-dy&serial=555", "rep-1", "LOT-R", &prof, &p, &ev);
	r.replicates = 3;
	mg_acq_result res;
	CHECK_RC(mg_acq_run(st, &r, &res), MG_OK);
	CHECK(res.saved == 3 && res.complete == 3 && res.requested == 3);
	CHECK(ev.n[MG_ACQ_EV_STARTED] == 3 && ev.n[MG_ACQ_EV_SAVED] == 3 && !ev.replicate_mismatch);
	for (int i = 0; i < 3 && i < ev.nsaved; i++) {
		acqt_check_measurement(st, ev.saved_id[i], "complete", &p, "replicate");
		mg_measurement m;
		if (mg_store_measurement_get(st, ev.saved_id[i], &m) == MG_OK) {
			CHECK_MSG(m.replicate == i + 1, "replicate %d stored as %d", i + 1, m.replicate);
			CHECK(!strcmp(m.instrument_serial, "555") && !strcmp(m.operator_name, "tester"));
			CHECK(m.settings_json && strstr(m.settings_json, "\"TPEA\":\"2.400\"") &&
			      strstr(m.settings_json, "lab.ini"));
			char *abs = NULL;
			mg_spectrum *s = NULL;
			if (mg_store_abspath(st, m.file, &abs) == MG_OK && mg_spectrum_read_file(abs, NULL, &s) == MG_OK) {
				CHECK(s->nchan == 1024);
				CHECK(s->acq.anode && !strcmp(s->acq.anode, "Rh") && s->acq.tube_kv == 40);
				CHECK(s->instrument.detector && !strcmp(s->instrument.detector, "SDD 25 mm2"));
				CHECK(s->sample.operator_name && !strcmp(s->sample.operator_name, "tester"));
				CHECK(s->acq.peaking_time_us == 2.4);
			}
			mg_spectrum_free(s);
			free(abs);
			mg_measurement_clear(&m);
		}
	}
	CHECK(acqt_count(st, "rep-1") == 3);
	CHECK(acqt_checkpoint_files(dir) == 0);
	/* the same sample again without --batch: its batch is found; replicates go on */
	acqt_events_init(&ev);
	r = request(SIM, "rep-1", NULL, &prof, &p, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_OK);
	mg_measurement m;
	if (mg_store_measurement_get(st, res.last_measurement_id, &m) == MG_OK) {
		CHECK(m.replicate == 4 && !strcmp(m.batch_id, "LOT-R"));
		mg_measurement_clear(&m);
	}
	mg_acq_profile_clear(&prof);
}

static void test_stop(mg_store *st, const char *dir)
{
	mg_acq_profile prof;
	acqt_profile(&prof, 20);
	mg_acq_presets p = {100000.0, NAN, NAN};
	/* the stop flag (what a signal handler sets), after some checkpoints */
	volatile sig_atomic_t flag = 0;
	acqt_events ev;
	acqt_events_init(&ev);
	ev.flag = &flag;
	ev.flag_at_progress = 40;
	mg_acq_request r = request(SIM, "stop-1", "LOT-S", &prof, &p, &ev);
	r.replicates = 3;
	r.stop = &flag;
	mg_acq_result res;
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_INTERRUPTED);
	CHECK(res.saved == 1 && res.stopped_early == 1 && res.requested == 3);
	CHECK(ev.n[MG_ACQ_EV_STARTED] == 1 && ev.nsaved == 1 && !strcmp(ev.saved_status[0], "stopped_early"));
	CHECK_MSG(ev.checkpoints_seen_at_stop >= 1, "%d checkpoints before the stop", ev.checkpoints_seen_at_stop);
	acqt_check_measurement(st, res.last_measurement_id, "stopped_early", &p, "stop flag");
	mg_measurement m;
	if (mg_store_measurement_get(st, res.last_measurement_id, &m) == MG_OK) {
		CHECK(m.live_time_s > 20 && m.live_time_s < 100000);
		mg_measurement_clear(&m);
	}
	CHECK(acqt_checkpoint_files(dir) == 0);
	/* the callback asking to stop */
	acqt_events_init(&ev);
	ev.stop_at_progress = 3;
	r = request(SIM, "stop-2", "LOT-S", &prof, &p, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_INTERRUPTED);
	CHECK(res.stopped_early == 1 && ev.nsaved == 1);
	acqt_check_measurement(st, res.last_measurement_id, "stopped_early", &p, "callback stop");
	/* a stop requested before anything started: nothing measured, nothing stored */
	flag = 1;
	acqt_events_init(&ev);
	r = request(SIM, "stop-3", "LOT-S", &prof, &p, &ev);
	r.stop = &flag;
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_INTERRUPTED);
	CHECK(res.saved == 0 && ev.n[MG_ACQ_EV_STARTED] == 0 && acqt_count(st, "stop-3") == 0);
	CHECK(acqt_checkpoint_files(dir) == 0);
	mg_acq_profile_clear(&prof);
}

static void test_disconnect(mg_store *st, const char *dir)
{
	mg_acq_profile prof;
	acqt_profile(&prof, 5);
	mg_acq_presets p = {100000.0, NAN, NAN};
	/* gone after ~20 kB: a few checkpoints (6 kB spectra) were read; the reopened
	 * simulator is a fresh instrument (accumulation back to 0): device_lost */
	acqt_events ev;
	acqt_events_init(&ev);
	mg_acq_request r = request(SIM "&disconnect=20000", "lost-1", "LOT-D", &prof, &p, &ev);
	mg_acq_result res;
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_DISCONNECTED);
	CHECK_MSG(strstr(mg_error_detail(), "device_lost") && strstr(mg_error_detail(), "no longer holds"), "'%s'",
	          mg_error_detail());
	CHECK(res.saved == 1 && res.device_lost == 1);
	CHECK(ev.n[MG_ACQ_EV_ERROR] >= 2 && ev.fatal == 1); /* "lost, reconnecting", then "saving as device_lost" */
	CHECK(ev.nsaved == 1 && !strcmp(ev.saved_status[0], "device_lost"));
	CHECK(ev.n[MG_ACQ_EV_CHECKPOINT] >= 1 && ev.n[MG_ACQ_EV_RESUMED] == 0);
	acqt_check_measurement(st, res.last_measurement_id, "device_lost", &p, "disconnect");
	mg_measurement m;
	if (mg_store_measurement_get(st, res.last_measurement_id, &m) == MG_OK) {
		CHECK(m.notes && strstr(m.notes, "device lost"));
		CHECK(m.live_time_s >= 5);
		mg_measurement_clear(&m);
	}
	CHECK(acqt_checkpoint_files(dir) == 0);

	/* reconnecting off: lost at once, same outcome */
	CHECK_RC(mg_acq_profile_set(&prof, "acquisition.reconnect_attempts=0"), MG_OK);
	acqt_events_init(&ev);
	r = request(SIM "&disconnect=20000", "lost-2", "LOT-D", &prof, &p, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_DISCONNECTED);
	CHECK(res.device_lost == 1 && ev.fatal == 1 && strstr(ev.last_error, "reconnecting is off"));
	acqt_check_measurement(st, res.last_measurement_id, "device_lost", &p, "disconnect, no reconnect");

	/* lost before any spectrum was read: nothing to save, and it says so */
	acqt_events_init(&ev);
	r = request(SIM "&disconnect=1500", "lost-3", "LOT-D", &prof, &p, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_DISCONNECTED);
	CHECK(res.saved == 0 && ev.fatal == 1 && strstr(ev.last_error, "nothing to save"));
	CHECK(acqt_count(st, "lost-3") == 0 && acqt_checkpoint_files(dir) == 0);
	mg_acq_profile_clear(&prof);
}

/* The sample's archive folder is blocked by a file: the final spectrum goes to
 * the checkpoint folder, the error says where; recover registers it later. */
static void test_archive_blocked(mg_store *st, const char *dir)
{
	mg_acq_profile prof;
	acqt_profile(&prof, 0);
	mg_acq_presets p = {3.0, NAN, NAN};
	char blocker[900];
	snprintf(blocker, sizeof(blocker), "%s/spectra/LOT-B", dir);
	mkdir(blocker, 0750);
	snprintf(blocker, sizeof(blocker), "%s/spectra/LOT-B/blocked-1", dir);
	FILE *f = fopen(blocker, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	acqt_events ev;
	acqt_events_init(&ev);
	mg_acq_request r = request(SIM, "blocked-1", "LOT-B", &prof, &p, &ev);
	mg_acq_result res;
	int rc = mg_acq_run(st, &r, &res);
	CHECK_MSG(rc == MG_ERR_IO || rc == MG_ERR_EXISTS || rc == MG_ERR_ARG, "rc %d: %s", rc, mg_error_detail());
	CHECK_MSG(strstr(mg_error_detail(), "kept at") && strstr(mg_error_detail(), "checkpoints/") &&
	                  strstr(mg_error_detail(), "magassay recover"),
	          "'%s'", mg_error_detail());
	CHECK(res.saved == 0 && res.kept_unregistered == 1 && ev.fatal == 1);
	CHECK(acqt_count(st, "blocked-1") == 0);
	CHECK(acqt_checkpoint_files(dir) >= 2); /* sidecar + the kept spectrum (+ lock) */
	unlink(blocker);
	mg_acq_recover_summary sum;
	CHECK_RC(mg_acq_recover(st, NULL, NULL, &sum), 1);
	CHECK(sum.registered == 1 && sum.failed == 0);
	long long id = acqt_last_id(st, "blocked-1");
	mg_measurement m;
	CHECK(id > 0);
	if (id > 0 && mg_store_measurement_get(st, id, &m) == MG_OK) {
		/* the recovered one keeps the status its file records: complete */
		CHECK_MSG(!strcmp(m.status, "complete"), "recovered as %s", m.status);
		CHECK(m.notes && strstr(m.notes, "recovered"));
		mg_measurement_clear(&m);
		acqt_check_measurement(st, id, "complete", &p, "recovered after a blocked archive");
	}
	CHECK(acqt_checkpoint_files(dir) == 0);
	CHECK_RC(mg_acq_recover(st, NULL, NULL, &sum), 0);
	CHECK(sum.registered + sum.cleaned + sum.empty + sum.failed + sum.busy == 0);
	mg_acq_profile_clear(&prof);
}

static void test_bad_requests(mg_store *st)
{
	mg_acq_profile prof;
	acqt_profile(&prof, 0);
	acqt_events ev;
	acqt_events_init(&ev);
	mg_acq_result res;
	mg_acq_request r = request(SIM, "../etc", "LOT-X", &prof, NULL, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_ARG);
	CHECK_MSG(strstr(mg_error_detail(), "../etc") != NULL, "'%s'", mg_error_detail());
	r = request(SIM, "ok-1", "LOT X", &prof, NULL, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_ARG);
	r = request(SIM, "new-sample", NULL, &prof, NULL, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "batch") != NULL);
	r = request(SIM, "pret-1", "LOT-OTHER", &prof, NULL, &ev); /* pret-1 is in LOT-P */
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_EXISTS);
	CHECK(strstr(mg_error_detail(), "LOT-P") != NULL);
	r = request("sim:nosuch", "ok-1", "LOT-X", &prof, NULL, &ev);
	CHECK(mg_acq_run(st, &r, &res) < 0);
	CHECK(strstr(mg_error_detail(), "cannot open the instrument") != NULL);
	mg_acq_presets bad = {0.05, NAN, NAN};
	r = request(SIM, "ok-1", "LOT-X", &prof, &bad, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_ARG);
	/* the device refuses a setting: a clear error naming it, nothing measured */
	CHECK_RC(mg_acq_profile_set(&prof, "GAIN=9999"), MG_OK);
	acqt_events_init(&ev);
	r = request(SIM, "ok-2", "LOT-X", &prof, NULL, &ev);
	CHECK_RC(mg_acq_run(st, &r, &res), MG_ERR_DEVICE);
	CHECK_MSG(strstr(mg_error_detail(), "GAIN") && strstr(mg_error_detail(), "nothing measured"), "'%s'",
	          mg_error_detail());
	CHECK(ev.fatal == 1 && res.saved == 0 && acqt_count(st, "ok-2") == 0);
	mg_acq_profile_clear(&prof);
}

int main(void)
{
	acqt_log_init();
	double t0 = acqt_now_ms();
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", acqt_fresh_dir("loopback"));
	mg_store *st = acqt_store(dir);
	if (!st)
		return mg_test_finish("test_acq_loopback");
	test_presets(st);
	test_replicates_and_profile(st, dir);
	test_stop(st, dir);
	test_disconnect(st, dir);
	test_archive_blocked(st, dir);
	test_bad_requests(st);
	acqt_check_store(st, "loopback");
	mg_store_close(st);
	fprintf(stderr, "test_acq_loopback: %.0f ms\n", acqt_now_ms() - t0);
	return mg_test_finish("test_acq_loopback");
}
