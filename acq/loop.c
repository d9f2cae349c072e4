/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The acquisition loop (mg_acq_run): one instrument, one sample, N replicates.
 *
 * Per replicate:
 *   disable, configure (profile + presets), read the configuration back, clear,
 *   [checkpoint sidecar + lock], enable, then every poll_ms: status (and every
 *   checkpoint_s of instrument real time: spectrum + status, written as the
 *   checkpoint), until the MCA stops at its preset or a stop is requested;
 *   then disable, read the final spectrum + status, write it, register it,
 *   remove the checkpoint.
 * A lost link (see reconnect.c) is reported, the unit reopened by its serial
 * number within bounded attempts, and the measurement resumed if the unit still
 * holds its spectrum; otherwise the last good spectrum is saved as device_lost. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acq/acq_internal.h"
#include "magassay/version.h"

#define MAX_LOSSES 5 /* resumed losses per replicate before giving up */

enum outcome { OUT_PRESET = 1, OUT_STOPPED, OUT_UNEXPECTED, OUT_LOST, OUT_FAILED };

struct run {
	mg_store *store;
	const mg_acq_request *req;
	mg_acq_result *res;
	mg_acq_profile prof; /* effective: presets applied */
	char *config;        /* its [dp5] as text */
	char batch[MG_ID_MAX + 1];
	const char *sample;
	const char *device_label;
	mg_device *dev;
	char *reconnect_uri;
	char serial[32];     /* the unit's serial number at the first open */
	int cb_stop;         /* the event callback asked to stop */
	/* the replicate */
	int replicate;
	char uuid[MG_UUID_SIZE];
	char started_at[ACQ_TIME_SIZE];
	double t0;           /* monotonic seconds at the start */
	mg_acq_presets presets;
	mg_kvlist readback;
	char *settings_json;
	struct acq_ckpt ckpt;
	mg_spectrum *last;   /* the last good spectrum read (a checkpoint) */
	char last_at[ACQ_TIME_SIZE];
	mg_xrf_status st;    /* the latest status */
	int have_st;
	double next_ckpt;    /* instrument real time of the next checkpoint */
	int losses;
	int ckpt_failures;   /* checkpoint writes failed in a row */
	char lost_why[1200];
};

static int stopping(struct run *r)
{
	return r->cb_stop || acq_stop_requested(r->req->stop);
}

/* Wall seconds per instrument real second, measured over the replicate. */
static double wall_per_inst(const struct run *r)
{
	if (!r->have_st || !(r->st.real_s > 0.05) || r->t0 <= 0)
		return 1;
	double w = acq_mono_s() - r->t0;
	return w > 0 ? w / r->st.real_s : 1;
}

static void emit(struct run *r, mg_acq_event *ev)
{
	ev->sample_id = r->sample;
	ev->batch_id = r->batch;
	ev->replicate = r->replicate;
	ev->replicates = r->res->requested;
	ev->uuid = r->uuid[0] ? r->uuid : NULL;
	ev->started_at = r->started_at;
	ev->wall_s = r->t0 > 0 ? acq_mono_s() - r->t0 : 0;
	ev->presets = r->presets;
	ev->device = r->dev ? mg_device_get_info(r->dev) : NULL;
	if (!ev->status && r->have_st)
		ev->status = &r->st;
	mg_acq_progress_compute(&r->presets, ev->status, wall_per_inst(r), &ev->progress);
	if (r->req->on_event && r->req->on_event(ev, r->req->userdata))
		r->cb_stop = 1;
}

static void emit_simple(struct run *r, mg_acq_event_type type)
{
	mg_acq_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	emit(r, &ev);
}

static void emit_error(struct run *r, int code, int fatal, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void emit_error(struct run *r, int code, int fatal, const char *fmt, ...)
{
	char msg[1600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The event is how the caller hears of it; the log only at debug level (no double report). */
	mg_dbg(ACQ_DOM, "%s%s", fatal ? "" : "(going on) ", msg);
	mg_acq_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MG_ACQ_EV_ERROR;
	ev.error = code;
	ev.message = msg;
	ev.fatal = fatal;
	emit(r, &ev);
}

/* ------------------------------------------------------------ JSON records */

static json_t *presets_json(const mg_acq_presets *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "live_time_s", isnan(p->live_s) ? json_null() : json_real(p->live_s));
	json_object_set_new(o, "real_time_s", isnan(p->real_s) ? json_null() : json_real(p->real_s));
	json_object_set_new(o, "counts", isnan(p->counts) ? json_null() : json_real(p->counts));
	return o;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The measurement's settings: what the instrument was told and read back. */
static char *settings_text(struct run *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "device", jstr_or_null(r->device_label));
	json_object_set_new(o, "profile", jstr_or_null(r->prof.source));
	json_object_set_new(o, "presets", presets_json(&r->presets));
	json_object_set_new(o, "poll_ms", json_integer(r->prof.poll_ms));
	json_object_set_new(o, "checkpoint_s", json_real(r->prof.checkpoint_s));
	json_t *dp5 = json_object();
	for (size_t i = 0; i < r->readback.count; i++)
		json_object_set_new(dp5, r->readback.items[i].key, json_string(r->readback.items[i].value));
	json_object_set_new(o, "dp5", dp5);
	if (r->prof.anode || !isnan(r->prof.tube_kv) || !isnan(r->prof.tube_ua) || r->prof.filter || r->prof.atmosphere) {
		json_t *t = json_object();
		json_object_set_new(t, "anode", jstr_or_null(r->prof.anode));
		json_object_set_new(t, "kv", isnan(r->prof.tube_kv) ? json_null() : json_real(r->prof.tube_kv));
		json_object_set_new(t, "ua", isnan(r->prof.tube_ua) ? json_null() : json_real(r->prof.tube_ua));
		json_object_set_new(t, "filter", jstr_or_null(r->prof.filter));
		json_object_set_new(t, "atmosphere", jstr_or_null(r->prof.atmosphere));
		json_object_set_new(o, "tube", t);
	}
	if (r->prof.detector)
		json_object_set_new(o, "detector", json_string(r->prof.detector));
	json_object_set_new(o, "software", json_string("magassay " MAGASSAY_VERSION_STRING));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
	json_decref(o);
	return text;
}

static char *sidecar_text(struct run *r)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	const mg_device_info *i = r->dev ? mg_device_get_info(r->dev) : NULL;
	json_t *o = json_object();
	json_object_set_new(o, "magassay_checkpoint", json_integer(1));
	json_object_set_new(o, "uuid", json_string(r->uuid));
	json_object_set_new(o, "sample", json_string(r->sample));
	json_object_set_new(o, "batch", json_string(r->batch));
	json_object_set_new(o, "operator", jstr_or_null(r->req->operator_name));
	json_object_set_new(o, "started_at", json_string(r->started_at));
	json_object_set_new(o, "replicate", json_integer(r->replicate));
	json_object_set_new(o, "replicates", json_integer(r->res->requested));
	json_object_set_new(o, "presets", presets_json(&r->presets));
	json_object_set_new(o, "device", jstr_or_null(r->device_label));
	json_object_set_new(o, "instrument",
	                    json_pack("{s:o,s:o,s:o}", "model", jstr_or_null(i ? i->model : NULL), "serial",
	                              jstr_or_null(i ? i->serial : NULL), "firmware",
	                              jstr_or_null(i ? i->firmware : NULL)));
	json_object_set_new(o, "pid", json_integer((json_int_t)getpid()));
	json_object_set_new(o, "host", json_string(host));
	json_t *settings = r->settings_json ? json_loads(r->settings_json, 0, NULL) : NULL;
	json_object_set_new(o, "settings", settings ? settings : json_null());
	char *text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
	json_decref(o);
	return text;
}

/* ------------------------------------------------------------ device loss */

static void on_attempt(unsigned a, unsigned n, void *userdata)
{
	struct run *r = userdata;
	mg_info(ACQ_DOM, "reconnecting to %s: attempt %u of %u", r->reconnect_uri, a, n);
}

/* The link failed with rc. Reconnect; MG_OK when resumed (r->dev is the new
 * handle), else an error with the reason in r->lost_why (r->dev NULL). */
static int handle_loss(struct run *r, int rc)
{
	char why[800];
	snprintf(why, sizeof(why), "%s", mg_error_detail());
	mg_device_close(r->dev);
	r->dev = NULL;
	unsigned attempts = r->prof.reconnect_attempts;
	if (rc == MG_ERR_NOMEM || rc == MG_ERR_INTERNAL || rc == MG_ERR_ARG) {
		snprintf(r->lost_why, sizeof(r->lost_why), "%s", why); /* not a lost link: no reconnecting */
		return rc;
	}
	if (++r->losses > MAX_LOSSES) {
		snprintf(r->lost_why, sizeof(r->lost_why), "the link to the instrument failed %d times: %s", r->losses,
		         why);
		return MG_ERR_DISCONNECTED;
	}
	if (attempts == 0) {
		snprintf(r->lost_why, sizeof(r->lost_why), "lost the instrument: %s (reconnecting is off)", why);
		return MG_ERR_DISCONNECTED;
	}
	emit_error(r, rc, 0, "lost the instrument: %s; reconnecting to %s (up to %u attempts, %.1f s apart)", why,
	           r->reconnect_uri, attempts, r->prof.reconnect_wait_ms / 1000.0);
	struct acq_reconnect rcn = {
		.uri = r->reconnect_uri,
		.serial = r->serial,
		.attempts = attempts,
		.wait_ms = r->prof.reconnect_wait_ms,
		.timeout_ms = r->prof.timeout_ms,
		/* Once a stop was requested (we are reading the final spectrum), reconnecting is
		 * still worth its bounded time: the spectrum is what the stop is for. */
		.stop = stopping(r) ? NULL : r->req->stop,
		.on_attempt = on_attempt,
		.userdata = r,
	};
	mg_device *dev = NULL;
	mg_xrf_status st;
	int e = acq_reconnect_open(&rcn, &dev, &st);
	if (e != MG_OK) {
		snprintf(r->lost_why, sizeof(r->lost_why), "lost the instrument (%s) and %s", why, mg_error_detail());
		return e == MG_ERR_INTERRUPTED ? e : MG_ERR_DISCONNECTED;
	}
	mg_xrf_status before;
	if (r->have_st)
		before = r->st;
	else
		memset(&before, 0, sizeof(before));
	if (!acq_can_resume(&before, &st)) {
		snprintf(r->lost_why, sizeof(r->lost_why),
		         "lost the instrument (%s); it came back but no longer holds the spectrum (accumulation %.3f s, "
		         "real %.3f s, against %.3f s and %.3f s before the loss: it was reset or power-cycled)",
		         why, st.accumulation_s, st.real_s, before.accumulation_s, before.real_s);
		mg_device_stop(dev);
		mg_device_close(dev);
		return MG_ERR_DISCONNECTED;
	}
	r->dev = dev;
	r->st = st;
	r->have_st = 1;
	/* Still holding the spectrum but disabled without reaching a preset (e.g.
	 * a controller reset that kept the memory): enable again, it accumulates on. */
	if (!st.acquiring && !st.preset_reached && !stopping(r)) {
		int s = mg_device_start(dev);
		if (s != MG_OK)
			return handle_loss(r, s);
	}
	char msg[600];
	snprintf(msg, sizeof(msg),
	         "the instrument is back (serial %s, %s) and still holds the spectrum (accumulation %.3f s >= %.3f s "
	         "before the loss): resuming",
	         r->serial[0] ? r->serial : "?", r->reconnect_uri, st.accumulation_s, before.accumulation_s);
	mg_info(ACQ_DOM, "%s", msg);
	mg_acq_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MG_ACQ_EV_RESUMED;
	ev.message = msg;
	emit(r, &ev);
	return MG_OK;
}

/* ------------------------------------------------------------ checkpoints */

static void checkpoint(struct run *r, mg_spectrum *s)
{
	char now[ACQ_TIME_SIZE];
	acq_utc_now(now);
	mg_spectrum_free(r->last);
	r->last = s;
	snprintf(r->last_at, sizeof(r->last_at), "%s", now);
	r->next_ckpt = r->st.real_s + r->prof.checkpoint_s;
	int rc = acq_stamp(s, r->uuid, r->sample, r->batch, r->req->operator_name, r->req->description, r->started_at,
	                   now, "incomplete", r->replicate, &r->prof);
	mg_buf b;
	mg_buf_init(&b);
	if (rc == MG_OK)
		rc = acq_serialize_mca(s, &b);
	if (rc == MG_OK)
		rc = acq_ckpt_write(&r->ckpt, b.data, b.len, s->real_time_s);
	mg_buf_free(&b);
	if (rc != MG_OK) {
		/* Said once per run of failures, not at every checkpoint. */
		if (r->ckpt_failures++ == 0)
			emit_error(r, rc, 0, "checkpoint of sample %s failed: %s; the acquisition goes on (further "
			           "checkpoint failures are not reported)", r->sample, mg_error_detail());
		else
			mg_dbg(ACQ_DOM, "checkpoint failed again: %s", mg_error_detail());
		return;
	}
	if (r->ckpt_failures) {
		mg_info(ACQ_DOM, "checkpoints work again after %d failure(s)", r->ckpt_failures);
		r->ckpt_failures = 0;
	}
	mg_acq_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MG_ACQ_EV_CHECKPOINT;
	ev.file = r->ckpt.mca_path;
	ev.live_time_s = s->live_time_s;
	ev.real_time_s = s->real_time_s;
	ev.total_counts = mg_spectrum_total(s);
	emit(r, &ev);
}

/* ------------------------------------------------------------ one replicate */

static void replicate_reset(struct run *r)
{
	r->uuid[0] = '\0';
	r->started_at[0] = '\0';
	r->t0 = 0;
	r->presets = mg_acq_presets_none();
	mg_kvlist_clear(&r->readback);
	free(r->settings_json);
	r->settings_json = NULL;
	mg_spectrum_free(r->last);
	r->last = NULL;
	r->last_at[0] = '\0';
	r->have_st = 0;
	memset(&r->st, 0, sizeof(r->st));
	r->losses = 0;
	r->ckpt_failures = 0;
	r->lost_why[0] = '\0';
	acq_ckpt_end(&r->ckpt, 0); /* a replicate that ended early keeps its files for recovery */
	acq_ckpt_init(&r->ckpt);
}

static int near(double a, double b)
{
	return (isnan(a) && isnan(b)) || fabs(a - b) <= 0.05 + 1e-9 * fabs(a);
}

/* disable, configure, read back, clear. */
static int setup(struct run *r)
{
	int rc;
	const char *step = "disable the MCA";
	if ((rc = mg_device_stop(r->dev)) == MG_OK) {
		step = "configure";
		if ((rc = mg_device_configure(r->dev, r->config)) == MG_OK) {
			step = "read the configuration back";
			rc = mg_device_read_config(r->dev, NULL, &r->readback);
			if (rc >= 0) {
				step = "clear";
				rc = mg_device_clear(r->dev);
			}
		}
	}
	if (rc < 0) {
		char why[1000];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(rc, ACQ_DOM, "sample %s: cannot %s: %s (nothing measured)", r->sample, step, why);
	}
	r->presets = mg_acq_presets_from_config(&r->readback);
	mg_acq_presets asked = mg_acq_presets_from_config(&r->prof.dp5);
	if (!near(asked.live_s, r->presets.live_s) || !near(asked.real_s, r->presets.real_s) ||
	    !near(asked.counts, r->presets.counts))
		emit_error(r, MG_ERR_DEVICE, 0,
		           "the instrument reads back PRET=%s PRER=%s PREC=%s, not what was sent; its values are used",
		           mg_kvlist_get(&r->readback, "PRET") ? mg_kvlist_get(&r->readback, "PRET") : "?",
		           mg_kvlist_get(&r->readback, "PRER") ? mg_kvlist_get(&r->readback, "PRER") : "?",
		           mg_kvlist_get(&r->readback, "PREC") ? mg_kvlist_get(&r->readback, "PREC") : "?");
	return MG_OK;
}

/* Stop (if asked) and read the final spectrum + status, reconnecting on a lost link. */
static int final_read(struct run *r, int stop_first, mg_spectrum **out, mg_xrf_status *st)
{
	for (;;) {
		int rc = MG_OK;
		if (stop_first)
			rc = mg_device_stop(r->dev);
		if (rc == MG_OK)
			rc = mg_device_read_spectrum(r->dev, 0, out, st);
		if (rc == MG_OK)
			return MG_OK;
		rc = handle_loss(r, rc);
		if (rc != MG_OK)
			return rc;
	}
}

static const char *outcome_status(enum outcome o, const mg_xrf_status *st)
{
	if (o == OUT_LOST)
		return "device_lost";
	if (st && st->preset_reached)
		return "complete";
	if (o == OUT_STOPPED)
		return "stopped_early";
	return "incomplete";
}

/* Save a spectrum with its status, report it. MG_OK when written and registered. */
static int save(struct run *r, mg_spectrum *s, const char *status, const char *ended_at, const char *notes)
{
	int rc = acq_stamp(s, r->uuid, r->sample, r->batch, r->req->operator_name, r->req->description, r->started_at,
	                   ended_at, status, r->replicate, &r->prof);
	if (rc != MG_OK)
		return rc;
	double total = mg_spectrum_total(s);
	const char *slow = mg_kvlist_get(&s->meta, "dp5.status.Slow Count");
	if (slow && strtod(slow, NULL) != total)
		mg_warn(ACQ_DOM, "sample %s: the spectrum holds %.0f counts, the status says %s", r->sample, total, slow);
	struct acq_save_args a = {
		.st = r->store,
		.uuid = r->uuid,
		.sample_id = r->sample,
		.batch_id = r->batch,
		.operator_name = r->req->operator_name,
		.started_at = r->started_at,
		.ended_at = ended_at,
		.status = status,
		.settings_json = r->settings_json,
		.notes = notes,
		.ckpt = r->ckpt.mca_path ? &r->ckpt : NULL,
	};
	struct acq_saved sv;
	rc = acq_save(&a, s, &sv);
	if (rc != MG_OK) {
		char why[1600];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		emit_error(r, rc, 1, "%s", why);
		if (sv.kept || sv.written)
			r->res->kept_unregistered++;
		/* Keep the checkpoint for recovery when something is on disk; else nothing is left to recover. */
		acq_ckpt_end(&r->ckpt, !(sv.kept || sv.written || r->ckpt.have_partial));
		acq_saved_clear(&sv);
		return mg_fail(rc, ACQ_DOM, "%s", why);
	}
	acq_ckpt_end(&r->ckpt, 1);
	r->res->saved++;
	r->res->last_measurement_id = sv.measurement_id;
	if (!strcmp(status, "complete"))
		r->res->complete++;
	else if (!strcmp(status, "stopped_early"))
		r->res->stopped_early++;
	else if (!strcmp(status, "device_lost"))
		r->res->device_lost++;
	else
		r->res->incomplete++;
	mg_acq_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = MG_ACQ_EV_SAVED;
	ev.file = sv.file;
	ev.sha256 = sv.sha256;
	ev.result = status;
	ev.measurement_id = sv.measurement_id;
	ev.stored_replicate = sv.replicate;
	ev.live_time_s = s->live_time_s;
	ev.real_time_s = s->real_time_s;
	ev.total_counts = total;
	emit(r, &ev);
	acq_saved_clear(&sv);
	return MG_OK;
}

/* The device is lost for good: save the last good spectrum as device_lost. */
static int save_lost(struct run *r, int code)
{
	char why[1300];
	snprintf(why, sizeof(why), "%s", r->lost_why[0] ? r->lost_why : "lost the instrument");
	if (!r->last) {
		emit_error(r, code, 1, "sample %s: %s; no spectrum had been read yet: nothing to save", r->sample, why);
		acq_ckpt_end(&r->ckpt, 1);
		return mg_fail(code, ACQ_DOM, "sample %s: %s; no spectrum had been read yet: nothing saved", r->sample, why);
	}
	emit_error(r, code, 1, "sample %s: %s; saving the last good spectrum (%.1f s real time, %.0f counts) as "
	           "device_lost", r->sample, why, r->last->real_time_s, mg_spectrum_total(r->last));
	char notes[1500];
	snprintf(notes, sizeof(notes), "device lost: %s", why);
	mg_spectrum *s = r->last;
	r->last = NULL;
	int rc = save(r, s, "device_lost", r->last_at, notes);
	mg_spectrum_free(s);
	if (rc != MG_OK)
		return rc;
	return mg_fail(code == MG_ERR_INTERRUPTED ? MG_ERR_DISCONNECTED : code, ACQ_DOM,
	               "sample %s: %s; the last good spectrum was saved as device_lost", r->sample, why);
}

static int measure_one(struct run *r)
{
	int rc;
	replicate_reset(r);
	if ((rc = mg_uuid_generate(r->uuid)) != MG_OK)
		return rc;
	if ((rc = setup(r)) != MG_OK) {
		emit_error(r, rc, 1, "%s", mg_error_detail());
		return rc;
	}
	if (!(r->settings_json = settings_text(r)))
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	if (stopping(r))
		return MG_ERR_INTERRUPTED;

	acq_utc_now(r->started_at);
	char *side = sidecar_text(r);
	if (!side)
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	rc = acq_ckpt_begin(&r->ckpt, r->store, r->uuid, side);
	free(side);
	if (rc != MG_OK) {
		char why[1000];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		acq_ckpt_end(&r->ckpt, 1);
		rc = mg_fail(rc, ACQ_DOM, "sample %s: cannot write to the data directory (%s): not starting a measurement "
		             "that could not be saved", r->sample, why);
		emit_error(r, rc, 1, "%s", mg_error_detail());
		return rc;
	}
	r->t0 = acq_mono_s();
	if ((rc = mg_device_start(r->dev)) != MG_OK) {
		char why[1000];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		acq_ckpt_end(&r->ckpt, 1);
		rc = mg_fail(rc, ACQ_DOM, "sample %s: cannot enable the MCA: %s (nothing measured)", r->sample, why);
		emit_error(r, rc, 1, "%s", mg_error_detail());
		return rc;
	}
	r->next_ckpt = r->prof.checkpoint_s;
	emit_simple(r, MG_ACQ_EV_STARTED);

	enum outcome out = OUT_FAILED;
	int lost_rc = MG_OK;
	for (;;) {
		if (stopping(r) || acq_sleep_ms(r->prof.poll_ms, r->req->stop) || stopping(r)) {
			out = OUT_STOPPED;
			break;
		}
		mg_xrf_status st;
		mg_spectrum *s = NULL;
		int ckpt_due = r->prof.checkpoint_s > 0 && r->have_st && r->st.acquiring && r->st.real_s >= r->next_ckpt;
		rc = ckpt_due ? mg_device_read_spectrum(r->dev, 0, &s, &st) : mg_device_status(r->dev, &st);
		if (rc != MG_OK) {
			rc = handle_loss(r, rc);
			if (rc == MG_OK)
				continue;
			lost_rc = rc;
			out = OUT_LOST;
			break;
		}
		r->st = st;
		r->have_st = 1;
		if (s)
			checkpoint(r, s);
		emit_simple(r, MG_ACQ_EV_PROGRESS);
		if (!st.acquiring) {
			out = st.preset_reached ? OUT_PRESET : OUT_UNEXPECTED;
			break;
		}
	}

	if (out == OUT_LOST)
		return save_lost(r, lost_rc);

	/* The end: read the final spectrum + status, disable. */
	mg_spectrum *fin = NULL;
	mg_xrf_status fst;
	rc = final_read(r, out == OUT_STOPPED, &fin, &fst);
	if (rc != MG_OK)
		return save_lost(r, rc);
	r->st = fst;
	r->have_st = 1;
	if (out != OUT_STOPPED && (rc = mg_device_stop(r->dev)) != MG_OK)
		mg_warn(ACQ_DOM, "disabling the MCA after the measurement failed: %s", mg_error_detail());
	char ended[ACQ_TIME_SIZE];
	acq_utc_now(ended);
	int complete = fst.preset_reached, stopped = !complete && out == OUT_STOPPED;
	const char *status = outcome_status(out, &fst);
	const char *notes = NULL;
	char nbuf[300] = "";
	if (!complete && !stopped) {
		snprintf(nbuf, sizeof(nbuf), "the instrument stopped acquiring at %.3f s real time without reaching a "
		         "preset, and not on request", fst.real_s);
		notes = nbuf;
		emit_error(r, MG_ERR_DEVICE, 0, "sample %s: %s; saved as incomplete", r->sample, nbuf);
	} else if (stopped) {
		notes = "stopped on request before the preset";
	}
	rc = save(r, fin, status, ended, notes);
	mg_spectrum_free(fin);
	if (rc != MG_OK)
		return rc;
	if (!complete && !stopped)
		return mg_fail(MG_ERR_DEVICE, ACQ_DOM, "sample %s: %s", r->sample, nbuf);
	if (stopped)
		return MG_ERR_INTERRUPTED;
	return MG_OK;
}

/* ------------------------------------------------------------ the run */

static int prepare(struct run *r, const mg_acq_request *req)
{
	int rc;
	if (!req->device_uri || !*req->device_uri)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "no instrument given (a device URI, e.g. usb:10c4:842a or sim:xrf)");
	if (!req->sample_id)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "no sample id given");
	char why[600];
	if (mg_id_validate(req->sample_id) != MG_OK) {
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "%s", why);
	}
	if (req->batch_id && mg_id_validate(req->batch_id) != MG_OK) {
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "%s", why);
	}
	if (req->replicates < 0 || req->replicates > 1000)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "%d replicates: from 1 to 1000", req->replicates);
	if (req->profile)
		rc = acq_profile_copy(&r->prof, req->profile);
	else
		rc = mg_acq_profile_init(&r->prof);
	if (rc != MG_OK)
		return rc;
	if (req->presets && (rc = mg_acq_presets_apply(req->presets, &r->prof)) != MG_OK)
		return rc;
	if ((rc = mg_acq_profile_config_text(&r->prof, &r->config)) != MG_OK)
		return rc;

	/* The sample's batch: given, or the one it is registered in. */
	mg_sample smp;
	rc = mg_store_sample_get(r->store, req->sample_id, &smp);
	if (rc == MG_OK) {
		if (req->batch_id && strcmp(req->batch_id, smp.batch_id) != 0) {
			rc = mg_fail(MG_ERR_EXISTS, ACQ_DOM,
			             "sample %s is already registered in batch %s, so it cannot be measured for batch %s "
			             "(sample ids are unique across the store)",
			             req->sample_id, smp.batch_id, req->batch_id);
			mg_sample_clear(&smp);
			return rc;
		}
		snprintf(r->batch, sizeof(r->batch), "%s", smp.batch_id);
		mg_sample_clear(&smp);
	} else if (rc == MG_ERR_NOT_FOUND) {
		if (!req->batch_id)
			return mg_fail(MG_ERR_ARG, ACQ_DOM, "sample %s is not registered yet: give its batch (lot number)",
			               req->sample_id);
		snprintf(r->batch, sizeof(r->batch), "%s", req->batch_id);
	} else {
		return rc;
	}
	return MG_OK;
}

int mg_acq_run(mg_store *st, const mg_acq_request *req, mg_acq_result *res)
{
	mg_acq_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (!st || !req)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_run: bad arguments");
	res->requested = req->replicates > 0 ? req->replicates : 1;

	struct run r;
	memset(&r, 0, sizeof(r));
	r.store = st;
	r.req = req;
	r.res = res;
	r.sample = req->sample_id;
	r.device_label = req->device_label ? req->device_label : req->device_uri;
	acq_ckpt_init(&r.ckpt);
	int rc = prepare(&r, req);
	if (rc != MG_OK)
		goto done;

	rc = mg_device_open(req->device_uri, &r.dev);
	if (rc != MG_OK) {
		char why[1000];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		rc = mg_fail(rc, ACQ_DOM, "cannot open the instrument %s: %s", req->device_uri, why);
		emit_error(&r, rc, 1, "%s", mg_error_detail());
		goto done;
	}
	if (r.prof.timeout_ms)
		mg_device_set_timeout(r.dev, r.prof.timeout_ms);
	const mg_device_info *info = mg_device_get_info(r.dev);
	snprintf(r.serial, sizeof(r.serial), "%s", info->serial ? info->serial : "");
	if ((rc = acq_reconnect_uri(req->device_uri, info, &r.reconnect_uri)) != MG_OK)
		goto done;
	if ((rc = mg_store_batch_ensure(st, r.batch, req->operator_name, NULL)) != MG_OK ||
	    (rc = mg_store_sample_ensure(st, r.sample, r.batch, NULL, NULL)) != MG_OK) {
		emit_error(&r, rc, 1, "%s", mg_error_detail());
		goto done;
	}

	for (int i = 1; i <= res->requested; i++) {
		if (stopping(&r)) {
			rc = MG_ERR_INTERRUPTED;
			break;
		}
		r.replicate = i;
		rc = measure_one(&r);
		if (rc != MG_OK)
			break;
	}
	if (rc == MG_OK && stopping(&r) && res->saved < res->requested)
		rc = MG_ERR_INTERRUPTED;
	if (rc == MG_ERR_INTERRUPTED)
		mg_fail(MG_ERR_INTERRUPTED, ACQ_DOM, "stopped on request after %d of %d replicate(s) of sample %s",
		        res->saved, res->requested, r.sample);
	if (r.dev && rc != MG_OK && rc != MG_ERR_INTERRUPTED)
		mg_device_stop(r.dev); /* leave it disabled whatever went wrong */

done:
	replicate_reset(&r); /* frees the replicate's state */
	acq_ckpt_end(&r.ckpt, 0);
	mg_device_close(r.dev);
	free(r.reconnect_uri);
	free(r.config);
	mg_acq_profile_clear(&r.prof);
	return rc;
}
