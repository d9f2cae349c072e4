/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Benchmark: offline reprocessing of a simulated archive (issue 9).
 *
 *   bench_reprocess [--n 100000] [--dir DIR] [--keep] [--baseline 300] [--shard-of 10]
 *
 * Builds an archive of N simulated NdFeB spectra (2048 channels) in a store in
 * DIR (default: a fresh folder under /dev/shm, else $TMPDIR), then, in this
 * process:
 *   1. the engine's own speed: the same per-spectrum work (fit with the matrix
 *      fed back, quantification, payload) on spectra already in memory, one
 *      thread, no store: the baseline;
 *   2. `reprocess --all` with 1 job (every measurement is due: no result yet);
 *   3. `reprocess --all` with 2 jobs under another calibration version (all
 *      due again);
 * and reports throughput, the ratios (2 jobs / 1 job, and each against the
 * baseline × jobs), the time to the first result, the peak resident memory
 * of each run (VmHWM, reset before each run) and the resident memory at 10 %
 * and at 100 % of each run (flat = does not grow with the archive).
 * The two runs recompute shard 1/S only (about N/S spectra; S = 10 by default,
 * --shard-of 1 recomputes everything: about 2.3 h for 100,000 on 2 cores)
 * while still walking the whole archive (every page of the N measurements is
 * read and filtered): the store side at full size, the computing bounded.
 * Figures are ratios against the baseline measured in the same process. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/quant.h"
#include "magassay/reprocess.h"
#include "magassay/store.h"
#include "sim_archive.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* kB of a /proc/self/status field ("VmRSS:", "VmHWM:") */
static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f); /* resets VmHWM to the current RSS */
		fclose(f);
	}
}

static void build_progress(long done, void *ud)
{
	long n = *(long *)ud;
	if (done % 10000 == 0 || done == n)
		fprintf(stderr, "\rarchive: %ld/%ld", done, n);
	if (done == n)
		fputc('\n', stderr);
}

typedef struct watch {
	long rss10, rss100;
	long long total;
} watch;

static void run_progress(const mg_reprocess_progress *p, void *ud)
{
	watch *w = ud;
	if (w->rss10 < 0 && p->done * 10 >= p->total)
		w->rss10 = status_kb("VmRSS:");
	if (p->done == p->total)
		w->rss100 = status_kb("VmRSS:");
	if (p->done % 5000 == 0)
		fprintf(stderr, "\r  %lld/%lld %.0f/s   ", p->done, p->total, p->rate);
}

static int add_energy_record(mg_store *st, const char *name, double gain, long long *id)
{
	mg_analysis_config d;
	mg_analysis_config_default(&d);
	d.det.noise_kev = 0.08;
	d.det.fano = 0.114;
	mg_energy_cal cal = {.valid = 1, .offset_kev = 0, .gain_kev = gain};
	mg_calib_record r;
	memset(&r, 0, sizeof r);
	snprintf(r.kind, sizeof r.kind, "resolution");
	snprintf(r.name, sizeof r.name, "%s", name);
	r.payload_json = mg_calib_energy_payload(&cal, &d.det);
	int rc = r.payload_json ? mg_calib_record_store(st, &r) : MG_ERR_NOMEM;
	*id = r.id;
	mg_calib_record_clear(&r);
	return rc;
}

/* The engine alone: the spectra in memory, one thread, the same work per spectrum. */
static double baseline(const char *dir, int nspec)
{
	mg_store *st = NULL;
	if (mg_store_open_ex(dir, MG_STORE_READONLY, &st) < 0)
		return NAN;
	mg_spectrum **s = calloc((size_t)nspec, sizeof *s);
	for (long long id = 1; id <= nspec; id++) {
		mg_measurement m;
		memset(&m, 0, sizeof m);
		char *abs = NULL;
		if (mg_store_measurement_get(st, id, &m) < 0 || mg_store_abspath(st, m.file, &abs) < 0 ||
		    mg_spectrum_read_file(abs, NULL, &s[id - 1]) < 0) {
			fprintf(stderr, "baseline: %s\n", mg_error_detail());
			exit(1);
		}
		free(abs);
		mg_measurement_clear(&m);
	}
	mg_store_close(st);
	mg_instrument_desc ins;
	mg_instrument_desc_default(&ins);
	mg_analysis_config ac;
	mg_analysis_config_default(&ac);
	snprintf(ac.elements, sizeof ac.elements, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu");
	mg_instrument_desc_to_analysis(&ins, &ac);
	ac.nchan = s[0]->nchan;
	mg_analysis_config_from_spectrum(&ac, s[0]);
	ac.cal = (mg_energy_cal){.valid = 1, .offset_kev = 0, .gain_kev = 0.02};
	ac.det.noise_kev = 0.08;
	ac.det.fano = 0.114;
	mg_instrument_desc_apply_spectrum(&ins, s[0], NULL, 0);
	mg_quant_options o;
	mg_quant_options_default(&o);
	mg_quant *q = NULL;
	mg_quant_analyzer *an = NULL;
	if (mg_quant_new(&ins, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu,B", &o, NULL, 0, NULL, &q) < 0 ||
	    mg_quant_analyzer_new(q, &ac, 0, &an) < 0) {
		fprintf(stderr, "baseline: %s\n", mg_error_detail());
		exit(1);
	}
	mg_quant_result *res = calloc(1, sizeof *res);
	mg_quant_kratio kr[MG_QUANT_MAX_EL];
	size_t nk;
	/* warm the plan cache, then time */
	mg_quant_analyzer_run(an, s[0]->counts, s[0]->nchan, s[0]->live_time_s, s[0]->acq.tube_ua, "w", NULL, 0, NULL, res,
	                      kr, MG_QUANT_MAX_EL, &nk);
	double t0 = now_s();
	for (int i = 0; i < nspec; i++) {
		if (mg_quant_analyzer_run(an, s[i]->counts, s[i]->nchan, s[i]->live_time_s, s[i]->acq.tube_ua, "b", NULL, 0,
		                          NULL, res, kr, MG_QUANT_MAX_EL, &nk) < 0) {
			fprintf(stderr, "baseline: %s\n", mg_error_detail());
			exit(1);
		}
		char *js = mg_quant_result_json(res); /* the payload's biggest part */
		free(js);
	}
	double rate = nspec / (now_s() - t0);
	free(res);
	mg_quant_analyzer_free(an);
	mg_quant_free(q);
	for (int i = 0; i < nspec; i++)
		mg_spectrum_free(s[i]);
	free(s);
	return rate;
}

typedef struct outcome {
	double rate, first_s, elapsed_s;
	long peak_kb, rss10, rss100;
	long long recomputed;
} outcome;

static int run(const char *dir, const char *calib, int jobs, int shard_of, outcome *out)
{
	watch w = {.rss10 = -1, .rss100 = -1};
	mg_reprocess_config c;
	mg_reprocess_config_init(&c);
	c.data_dir = dir;
	c.calib_ref[0] = calib;
	c.jobs = jobs;
	if (shard_of > 1) {
		c.shard_k = 1;
		c.shard_n = shard_of;
	}
	c.on_progress = run_progress;
	c.userdata = &w;
	mg_reprocess_summary s;
	reset_peak();
	int rc = mg_reprocess_run(&c, &s);
	fputc('\n', stderr);
	if (rc != 0) {
		fprintf(stderr, "reprocess: %d %s\n", rc, mg_error_detail());
		return 1;
	}
	out->peak_kb = status_kb("VmHWM:");
	out->rss10 = w.rss10;
	out->rss100 = w.rss100;
	out->recomputed = s.recomputed;
	out->elapsed_s = s.elapsed_s;
	out->first_s = s.first_result_s;
	out->rate = (double)s.recomputed / s.elapsed_s;
	return 0;
}

int main(int argc, char **argv)
{
	long n = 100000;
	int nbase = 300, keep = 0, shard_of = 10;
	const char *dir_arg = NULL;
	static const struct option lo[] = {{"n", required_argument, NULL, 'n'},
	                                   {"dir", required_argument, NULL, 'd'},
	                                   {"keep", no_argument, NULL, 'k'},
	                                   {"baseline", required_argument, NULL, 'b'},
	                                   {"shard-of", required_argument, NULL, 's'},
	                                   {NULL, 0, NULL, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'n')
			n = atol(optarg);
		else if (ch == 'd')
			dir_arg = optarg;
		else if (ch == 'k')
			keep = 1;
		else if (ch == 'b')
			nbase = atoi(optarg);
		else if (ch == 's')
			shard_of = atoi(optarg);
		else
			return 2;
	}
	if (n < 10 || nbase < 10 || shard_of < 1 || shard_of > n)
		return 2;
	if (nbase > n)
		nbase = (int)n;
	char dir[4096];
	struct stat sb;
	if (dir_arg)
		snprintf(dir, sizeof dir, "%s", dir_arg);
	else
		snprintf(dir, sizeof dir, "%s/magassay-bench-reprocess-%d",
		         stat("/dev/shm", &sb) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	printf("bench_reprocess: %ld simulated spectra in %s\n", n, dir);

	mg_store *st = NULL;
	sim_archive a;
	long long good = 0, other = 0;
	double t0 = now_s();
	if (mg_store_open(dir, &st) < 0 || sim_archive_open(&a) < 0 ||
	    sim_archive_add(&a, st, "BENCH", n, 1, 30, 1, NULL, build_progress, &n) < 0 ||
	    add_energy_record(st, "bench-a", 0.02, &good) < 0 || add_energy_record(st, "bench-b", 0.02 * 1.0005, &other) < 0) {
		fprintf(stderr, "archive: %s\n", mg_error_detail());
		return 1;
	}
	sim_archive_close(&a);
	mg_store_close(st);
	double t_build = now_s() - t0;
	printf("archive built in %.1f s (%.0f spectra/s, simulate + write + hash + register)\n", t_build, n / t_build);

	double base = baseline(dir, nbase);
	printf("engine alone (in memory, 1 thread, %d spectra): %.1f spectra/s\n", nbase, base);
	outcome o1, o2;
	if (shard_of > 1)
		printf("the runs recompute shard 1/%d of the archive and walk all of it\n", shard_of);
	if (run(dir, "resolution:bench-a", 1, shard_of, &o1) || run(dir, "resolution:bench-b", 2, shard_of, &o2))
		return 1;
	printf("reprocess --jobs 1: %lld spectra in %.1f s = %.1f spectra/s = %.2f x the engine alone; first result after "
	       "%.3f s\n",
	       o1.recomputed, o1.elapsed_s, o1.rate, o1.rate / base, o1.first_s);
	printf("reprocess --jobs 2: %lld spectra in %.1f s = %.1f spectra/s = %.2f x (engine alone x 2); first result after "
	       "%.3f s\n",
	       o2.recomputed, o2.elapsed_s, o2.rate, o2.rate / (2 * base), o2.first_s);
	printf("2 jobs / 1 job: %.2f\n", o2.rate / o1.rate);
	printf("peak resident memory (VmHWM) during the run: %.1f MiB (1 job), %.1f MiB (2 jobs)\n", o1.peak_kb / 1024.0,
	       o2.peak_kb / 1024.0);
	printf("resident memory at 10 %% / 100 %% of the run: %.1f / %.1f MiB (1 job), %.1f / %.1f MiB (2 jobs)\n",
	       o1.rss10 / 1024.0, o1.rss100 / 1024.0, o2.rss10 / 1024.0, o2.rss100 / 1024.0);
	printf("cores on this machine: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	if (!keep) {
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	} else {
		printf("archive kept in %s\n", dir);
	}
	return 0;
}
