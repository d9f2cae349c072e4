/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CPU cost of the acquisition loop: CPU seconds used per second of
 * acquisition (instrument real time), measured with getrusage, for a
 * measurement of the simulated DP5 at speed 1 (real time = wall time):
 *   - over a real pseudo-terminal (tests/harness/ptysim.c; the simulator runs
 *     on the harness thread): the loop's own thread (loop + driver + termios
 *     I/O + storage) and the whole process (with the simulated instrument);
 *   - in process (sim:xrf through the loopback transport): the whole process;
 * at the default polling interval (MG_ACQ_DEFAULT_POLL_MS, 250 ms) and at 4x
 * that rate (62 ms). Checkpoints at their default interval (10 s) fall inside
 * runs of 10 s or more.
 * Usage: bench_acq_cpu [SECONDS] (default 4: about 4 x SECONDS of wall time).
 * Not a test: prints figures, exits 0 (1 on a failure). */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "magassay/acq.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/store.h"
#include "mg_harness.h"

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec * 1e-6;
}

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return tv(ru.ru_utime) + tv(ru.ru_stime);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int progress_events;
/* CPU at the "started" event and at the last "progress" event: the polling loop alone. */
static double st_thread, st_self, last_thread, last_self, last_real;

static int on_event(const mg_acq_event *ev, void *ud)
{
	(void)ud;
	if (ev->type == MG_ACQ_EV_STARTED) {
		st_thread = cpu_s(RUSAGE_THREAD);
		st_self = cpu_s(RUSAGE_SELF);
	}
	if (ev->type == MG_ACQ_EV_PROGRESS) {
		progress_events++;
		last_thread = cpu_s(RUSAGE_THREAD);
		last_self = cpu_s(RUSAGE_SELF);
		last_real = ev->status ? ev->status->real_s : 0;
	}
	if (ev->type == MG_ACQ_EV_ERROR)
		fprintf(stderr, "bench_acq_cpu: %s\n", ev->message);
	return 0;
}

struct figures {
	double thread_cpu, process_cpu, instrument_s, wall_s; /* the whole measurement */
	double loop_thread_cpu, loop_process_cpu, loop_s;     /* from the start to the last poll */
	int polls;
};

static int measure(mg_store *st, const char *uri, unsigned poll_ms, double seconds, const char *sample,
                   struct figures *f)
{
	mg_acq_profile prof;
	char set[64];
	if (mg_acq_profile_init(&prof) != MG_OK)
		return -1;
	snprintf(set, sizeof(set), "acquisition.poll_ms=%u", poll_ms);
	mg_acq_profile_set(&prof, set);
	mg_acq_presets p = {NAN, seconds, NAN};
	mg_acq_request r;
	memset(&r, 0, sizeof(r));
	r.device_uri = uri;
	r.sample_id = sample;
	r.batch_id = "BENCH";
	r.profile = &prof;
	r.presets = &p;
	r.replicates = 1;
	r.on_event = on_event;
	mg_acq_result res;
	progress_events = 0;
	double w0 = now_s(), t0 = cpu_s(RUSAGE_THREAD), p0 = cpu_s(RUSAGE_SELF);
	int rc = mg_acq_run(st, &r, &res);
	f->thread_cpu = cpu_s(RUSAGE_THREAD) - t0;
	f->process_cpu = cpu_s(RUSAGE_SELF) - p0;
	f->wall_s = now_s() - w0;
	f->polls = progress_events;
	f->loop_thread_cpu = last_thread - st_thread;
	f->loop_process_cpu = last_self - st_self;
	f->loop_s = last_real;
	mg_acq_profile_clear(&prof);
	if (rc != MG_OK) {
		fprintf(stderr, "bench_acq_cpu: %s: %s\n", uri, mg_error_detail());
		return -1;
	}
	mg_measurement m;
	if (mg_store_measurement_get(st, res.last_measurement_id, &m) != MG_OK)
		return -1;
	f->instrument_s = m.real_time_s;
	mg_measurement_clear(&m);
	return 0;
}

static void print_row(const char *what, unsigned poll_ms, const struct figures *f, int with_thread)
{
	char thr[32] = "-", thr2[32] = "-";
	if (with_thread) {
		snprintf(thr, sizeof(thr), "%.5f", f->loop_thread_cpu / f->loop_s);
		snprintf(thr2, sizeof(thr2), "%.5f", f->thread_cpu / f->instrument_s);
	}
	printf("%-38s %5u ms %6d  %7.2f s  %9s  %9.5f  %9s  %9.5f\n", what, poll_ms, f->polls, f->instrument_s, thr,
	       f->loop_process_cpu / f->loop_s, thr2, f->process_cpu / f->instrument_s);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 4.0;
	if (!(seconds >= 0.5 && seconds <= 3600)) {
		fprintf(stderr, "usage: bench_acq_cpu [SECONDS]   (0.5 to 3600, default 4)\n");
		return 1;
	}
	seconds = round(seconds * 10) / 10;
	char dir[] = "/tmp/magassay-bench-acq-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	mg_store *st = NULL;
	if (mg_store_open(dir, &st) != MG_OK) {
		fprintf(stderr, "bench_acq_cpu: %s\n", mg_error_detail());
		return 1;
	}
	mg_dp5sim *sim = NULL;
	if (mg_dp5sim_new("serial=4242&sample=ndfeb&speed=1", &sim) != MG_OK) {
		fprintf(stderr, "bench_acq_cpu: %s\n", mg_error_detail());
		return 1;
	}
	mg_ptysim *pty = mg_ptysim_start(mg_dp5sim_serve, sim);
	if (!pty) {
		fprintf(stderr, "bench_acq_cpu: no pseudo-terminal\n");
		return 1;
	}
	const unsigned rates[] = {MG_ACQ_DEFAULT_POLL_MS, MG_ACQ_DEFAULT_POLL_MS / 4};
	struct figures f[2][2];
	int fail = 0;
	/* A short warm-up builds the simulator's physics model outside the measurements. */
	struct figures warm;
	fail |= measure(st, mg_ptysim_uri(pty), 50, 0.5, "warm-up", &warm);
	for (int i = 0; i < 2 && !fail; i++) {
		char sample[32];
		snprintf(sample, sizeof(sample), "pty-%u", rates[i]);
		fail |= measure(st, mg_ptysim_uri(pty), rates[i], seconds, sample, &f[0][i]);
		snprintf(sample, sizeof(sample), "loop-%u", rates[i]);
		fail |= measure(st, "sim:xrf?serial=4243&sample=ndfeb&speed=1", rates[i], seconds, sample, &f[1][i]);
	}
	if (!fail) {
		printf("acquisition loop CPU use: CPU seconds per second of acquisition (simulated DP5, speed 1)\n"
		       "  polling: from the start to the last status poll; whole: with configure, read back,\n"
		       "  final read, .mca write (fsync) and registration\n");
		printf("%-38s %8s %6s  %9s  %9s  %9s  %9s  %9s\n", "", "poll", "polls", "acquired", "poll thr.",
		       "poll proc", "whole thr", "whole prc");
		for (int i = 0; i < 2; i++)
			print_row("pty (termios), simulator on a thread", rates[i], &f[0][i], 1);
		for (int i = 0; i < 2; i++)
			print_row("in process (sim:xrf loopback)", rates[i], &f[1][i], 0);
		printf("ratio 4x polling / default, polling, loop thread (pty): %.2f\n",
		       (f[0][1].loop_thread_cpu / f[0][1].loop_s) / (f[0][0].loop_thread_cpu / f[0][0].loop_s));
		printf("loop thread (pty): %.3f ms CPU per status poll; %.1f ms CPU per measurement outside polling\n",
		       1e3 * f[0][1].loop_thread_cpu / f[0][1].polls,
		       1e3 * (f[0][0].thread_cpu - f[0][0].loop_thread_cpu));
	}
	mg_ptysim_stop(pty);
	mg_dp5sim_free(sim);
	mg_store_close(st);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return fail ? 1 : 0;
}
