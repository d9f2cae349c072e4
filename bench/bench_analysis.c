/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Benchmark of the analysis fast path against PyMca 5.8, in one run.
 *
 *   bench_analysis [--spectra N] [--seconds S] [--threads T] [--python PY] [--no-pymca]
 *
 * Makes N (default 16) 4096-channel NdFeB spectra of 10⁶ counts with the
 * simulated instrument (ndfeb-tb, Rh 40 kV, 10 eV/channel), plans once
 * (refining calibration, resolution and line shape on the first spectrum:
 * timed apart), then runs the fast path — weighted NNLS of the families Fe K,
 * Co K, Nd L, Pr L, Dy L, Tb L with escape, pile-up, scatter and the continuum
 * over 3–38 keV — on one core for S seconds (default 3), and on T threads if
 * asked. The same spectra go to bench/bench_pymca.py (PyMca's McaTheory, its
 * nonlinear batch fit and its linear mode, same families and window), run from
 * here; the table gives spectra/s per core for both and the ratio.
 * A benchmark, not a test: nothing is asserted. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

#ifndef MG_BENCH_SOURCE_DIR
#define MG_BENCH_SOURCE_DIR "."
#endif

#define NCH 4096
#define GAIN 0.01

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct thr {
	const mg_analysis_plan *p;
	double **y;
	int n;
	double seconds;
	long done;
} thr;

static void *worker(void *arg)
{
	thr *t = arg;
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(t->p);
	mg_analysis_result *r = mg_analysis_result_new(t->p);
	double t0 = now();
	long k = 0;
	while (ctx && r) {
		if (mg_analysis_execute(t->p, ctx, t->y[k % t->n], NCH, 100.0, r) < 0)
			break;
		k++;
		if ((k & 15) == 0 && now() - t0 >= t->seconds)
			break;
	}
	t->done = k;
	t->seconds = now() - t0;
	mg_analysis_result_free(r);
	mg_analysis_ctx_free(ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	int nspec = 16, threads = 1, pymca = 1;
	double seconds = 3;
	const char *python = "/usr/bin/python3";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--spectra") == 0 && i + 1 < argc)
			nspec = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--python") == 0 && i + 1 < argc)
			python = argv[++i];
		else if (strcmp(argv[i], "--no-pymca") == 0)
			pymca = 0;
		else {
			fprintf(stderr, "usage: %s [--spectra N] [--seconds S] [--threads T] [--python PY] "
			                "[--no-pymca]\n", argv[0]);
			return 2;
		}
	}
	if (nspec < 1 || threads < 1 || !(seconds > 0))
		return 2;

	/* the spectra */
	mg_xrfsim_config sc;
	mg_xrfsim_config_default(&sc);
	mg_xrfsim_sample_lookup("ndfeb-tb", &sc.sample);
	sc.axis.nchan = NCH;
	sc.axis.gain_kev = GAIN;
	mg_xrfsim_model *m = NULL;
	if (mg_xrfsim_model_new(&sc, &m) < 0) {
		fprintf(stderr, "simulator: %s\n", mg_error_detail());
		return 1;
	}
	double T = mg_xrfsim_real_for_counts(m, 1e6);
	double **y = calloc((size_t)nspec, sizeof *y);
	for (int k = 0; k < nspec; k++) {
		y[k] = calloc(NCH, sizeof(double));
		mg_xrfsim_rng *rng = mg_xrfsim_rng_new(100 + (uint64_t)k);
		mg_xrfsim_counters cnt = {0};
		mg_xrfsim_acquire_f64(m, &cnt, T, rng, y[k], NCH);
		mg_xrfsim_rng_free(rng);
	}
	mg_xrfsim_model_free(m);

	/* plan once (refined on the first spectrum) */
	mg_analysis_config c;
	mg_analysis_config_default(&c);
	c.nchan = NCH;
	c.cal = (mg_energy_cal){1, 0.0, GAIN, 0};
	double t0 = now();
	mg_analysis_plan *p0 = NULL, *p = NULL;
	mg_analysis_refinement ref;
	if (mg_analysis_plan_new(&c, &p0) < 0) {
		fprintf(stderr, "plan: %s\n", mg_error_detail());
		return 1;
	}
	double t_plan = now() - t0;
	mg_analysis_ctx *ctx0 = mg_analysis_ctx_new(p0);
	t0 = now();
	if (mg_analysis_refine(p0, ctx0, y[0], NCH,
	                       MG_REFINE_DEFAULT | MG_REFINE_TAIL | MG_REFINE_STEP, &ref) < 0) {
		fprintf(stderr, "refine: %s\n", mg_error_detail());
		return 1;
	}
	double t_refine = now() - t0;
	c.cal = ref.cal;
	c.det = ref.det;
	mg_analysis_ctx_free(ctx0);
	mg_analysis_plan_free(p0);
	mg_analysis_plan_new(&c, &p);
	const mg_analysis_config *pc = mg_analysis_plan_config(p);
	size_t nwin = (size_t)((pc->emax_kev - pc->emin_kev) / GAIN);

	/* the fast path on one core */
	thr one = {.p = p, .y = y, .n = nspec, .seconds = seconds};
	worker(&one);
	double ours = (double)one.done / one.seconds;
	double ours_mt = NAN;
	if (threads > 1) {
		thr *t = calloc((size_t)threads, sizeof *t);
		pthread_t *th = calloc((size_t)threads, sizeof *th);
		for (int i = 0; i < threads; i++) {
			t[i] = (thr){.p = p, .y = y, .n = nspec, .seconds = seconds};
			pthread_create(&th[i], NULL, worker, &t[i]);
		}
		long tot = 0;
		double wall = 0;
		for (int i = 0; i < threads; i++) {
			pthread_join(th[i], NULL);
			tot += t[i].done;
			wall = t[i].seconds > wall ? t[i].seconds : wall;
		}
		ours_mt = (double)tot / wall;
		free(t);
		free(th);
	}

	/* PyMca on the same spectra */
	double py_nl = NAN, py_lin = NAN;
	long py_nl_n = 0, py_lin_n = 0;
	if (pymca) {
		char dir[] = "/tmp/magassay-bench-XXXXXX", path[256], cmd[1024];
		if (mkdtemp(dir)) {
			snprintf(path, sizeof path, "%s/spectra.txt", dir);
			FILE *f = fopen(path, "w");
			for (int k = 0; f && k < nspec; k++) {
				for (int i = 0; i < NCH; i++)
					fprintf(f, "%.0f%c", y[k][i], i + 1 < NCH ? ' ' : '\n');
			}
			if (f)
				fclose(f);
			long xmin = lround((pc->emin_kev - ref.cal.offset_kev) / ref.cal.gain_kev);
			long xmax = lround((pc->emax_kev - ref.cal.offset_kev) / ref.cal.gain_kev);
			snprintf(cmd, sizeof cmd, "'%s' '%s/bench_pymca.py' '%s' %.6f %.8f %ld %ld %.1f", python,
			         MG_BENCH_SOURCE_DIR, path, ref.cal.offset_kev, ref.cal.gain_kev, xmin, xmax,
			         seconds);
			FILE *pp = popen(cmd, "r");
			char line[256];
			while (pp && fgets(line, sizeof line, pp)) {
				double v;
				long nn;
				if (sscanf(line, "nonlinear %lf %ld", &v, &nn) == 2) {
					py_nl = v;
					py_nl_n = nn;
				} else if (sscanf(line, "linear %lf %ld", &v, &nn) == 2) {
					py_lin = v;
					py_lin_n = nn;
				} else {
					fputs(line, stderr);
				}
			}
			if (pp)
				pclose(pp);
			remove(path);
			remove(dir);
		}
	}

	printf("magassay analysis benchmark: %d NdFeB spectra, %d channels (%zu in the 3-38 keV window), "
	       "1e6 counts each\n", nspec, NCH, nwin);
	printf("  plan: %.1f ms; nonlinear refinement on the first spectrum: %.0f ms\n", 1e3 * t_plan,
	       1e3 * t_refine);
	printf("  %-44s %12s\n", "", "spectra/s/core");
	printf("  %-44s %12.1f   (%.0f us each, %ld fits)\n", "magassay fast path (plan once, execute many)",
	       ours, 1e6 / ours, one.done);
	if (threads > 1)
		printf("  %-44s %12.1f   (%d threads: %.1f spectra/s in all)\n", "magassay fast path, threads",
		       ours_mt / threads, threads, ours_mt);
	if (isfinite(py_nl)) {
		printf("  %-44s %12.2f   (%ld fits)\n", "PyMca 5.8 McaTheory fit (batch default)", py_nl, py_nl_n);
		printf("  %-44s %12.2f   (%ld fits)\n", "PyMca 5.8 linear mode (linearfitflag=1)", py_lin, py_lin_n);
		printf("  ratio magassay / PyMca: %.0fx (batch fit), %.0fx (linear mode)\n", ours / py_nl,
		       ours / py_lin);
	} else if (pymca) {
		printf("  PyMca: not run (no Python 3 with PyMca5 at %s; --python PY to choose one)\n", python);
	}
	for (int k = 0; k < nspec; k++)
		free(y[k]);
	free(y);
	mg_analysis_plan_free(p);
	return 0;
}
