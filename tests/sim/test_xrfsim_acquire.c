/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Acquisition: determinism per seed, counts linear in time (mean), Poisson
 * scatter (variance ≈ mean), DP5-style counters (fast ≥ slow, live ≤ real,
 * live = real × live fraction, ICR/OCR consistent), presets, the cost of a
 * 50 ms step on 8192 channels, and concurrent use of one model. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

static mg_xrfsim_model *build(const char *sample, int nchan, double gain, double ua)
{
	mg_xrfsim_config cfg;
	mg_xrfsim_config_default(&cfg);
	cfg.axis.nchan = nchan;
	cfg.axis.gain_kev = gain;
	cfg.tube.current_ua = ua;
	if (mg_xrfsim_sample_lookup(sample, &cfg.sample) < 0)
		return NULL;
	mg_xrfsim_model *m = NULL;
	int rc = mg_xrfsim_model_new(&cfg, &m);
	CHECK_MSG(rc == 0, "model: %s", mg_error_detail());
	return m;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct thr {
	const mg_xrfsim_model *m;
	uint64_t seed;
	uint32_t *counts;
	mg_xrfsim_counters c;
	int rc;
};

static void *thr_main(void *p)
{
	struct thr *t = p;
	size_t n;
	mg_xrfsim_model_spectrum(t->m, MG_XRFSIM_RECORDED, &n);
	mg_xrfsim_rng *rng = mg_xrfsim_rng_new(t->seed);
	for (int i = 0; i < 40 && rng; i++)
		t->rc |= mg_xrfsim_acquire(t->m, &t->c, 0.05, rng, t->counts, n);
	mg_xrfsim_rng_free(rng);
	return NULL;
}

int main(void)
{
	mg_xrfsim_model *m = build("ndfeb", 256, 0.16, 20);
	if (!m)
		return mg_test_finish("test_xrfsim_acquire");
	size_t n;
	const double *mean = mg_xrfsim_model_spectrum(m, MG_XRFSIM_RECORDED, &n);
	mg_xrfsim_rates r;
	mg_xrfsim_model_rates(m, &r);
	CHECK(n == 256 && r.slow > 1000);

	/* determinism: same seed and steps, same counts; another seed differs */
	uint32_t *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	mg_xrfsim_counters ca = {0}, cb = {0};
	mg_xrfsim_rng *g1 = mg_xrfsim_rng_new(42), *g2 = mg_xrfsim_rng_new(42);
	for (int i = 0; i < 10; i++) {
		CHECK_RC(mg_xrfsim_acquire(m, &ca, 0.05, g1, a, n), 0);
		CHECK_RC(mg_xrfsim_acquire(m, &cb, 0.05, g2, b, n), 0);
	}
	CHECK(memcmp(a, b, n * sizeof *a) == 0 && ca.fast == cb.fast && ca.slow == cb.slow);
	mg_xrfsim_rng_free(g2);
	g2 = mg_xrfsim_rng_new(43);
	memset(b, 0, n * sizeof *b);
	cb = (mg_xrfsim_counters){0};
	for (int i = 0; i < 10; i++)
		CHECK_RC(mg_xrfsim_acquire(m, &cb, 0.05, g2, b, n), 0);
	CHECK(memcmp(a, b, n * sizeof *a) != 0);

	/* counters after 0.5 s */
	uint64_t sum = 0;
	for (size_t k = 0; k < n; k++)
		sum += a[k];
	CHECK(sum == ca.slow);
	CHECK(ca.fast >= ca.slow);
	CHECK_NEAR(ca.real_s, 0.5, 1e-12);
	CHECK_NEAR(ca.live_s, 0.5 * r.live_fraction, 1e-12);
	CHECK(ca.live_s <= ca.real_s);
	CHECK_MSG(fabs((double)ca.slow - r.slow * 0.5) < 5 * sqrt(r.slow * 0.5), "slow %llu vs %.1f",
	          (unsigned long long)ca.slow, r.slow * 0.5);
	CHECK_MSG(fabs((double)ca.fast - r.fast * 0.5) < 5 * sqrt(r.fast * 0.5), "fast %llu vs %.1f",
	          (unsigned long long)ca.fast, r.fast * 0.5);

	/* a long run: DP5-style derived quantities agree with the model */
	{
		mg_xrfsim_counters c = {0};
		double *d = calloc(n, sizeof *d);
		for (int i = 0; i < 200; i++) /* 10 s in 50 ms steps */
			CHECK_RC(mg_xrfsim_acquire_f64(m, &c, 0.05, g1, d, n), 0);
		double icr = (double)c.fast / c.real_s, ocr = (double)c.slow / c.live_s;
		double dt = 1.0 - (double)c.slow / (double)c.fast;
		CHECK_MSG(fabs(icr / r.fast - 1) < 0.01, "ICR %.1f vs %.1f", icr, r.fast);
		/* OCR per live second = fast rate minus the above-axis share */
		CHECK_MSG(fabs(ocr / (r.slow / r.live_fraction) - 1) < 0.01, "OCR/live %.1f", ocr);
		CHECK_MSG(fabs(dt - r.dead_fraction) < 0.01, "dead time %.4f vs %.4f", dt, r.dead_fraction);
		CHECK_MSG(fabs(c.live_s / c.real_s - (double)c.slow / (double)c.fast) < 0.01,
		          "live/real %.4f vs slow/fast %.4f", c.live_s / c.real_s,
		          (double)c.slow / (double)c.fast);
		free(d);
	}

	/* mean linear in time and Poisson scatter over many seeds:
	 * K runs of 0.2 s (4 × 50 ms) and of 0.4 s */
	{
		enum { K = 300 };
		double *s1 = calloc(n, sizeof(double)), *s2 = calloc(n, sizeof(double));
		double *m1 = calloc(n, sizeof(double)), *m2 = calloc(n, sizeof(double));
		double *one = calloc(n, sizeof(double));
		for (int s = 0; s < K; s++) {
			mg_xrfsim_rng *g = mg_xrfsim_rng_new(1000 + (uint64_t)s);
			mg_xrfsim_counters c = {0};
			memset(one, 0, n * sizeof(double));
			for (int i = 0; i < 4; i++)
				mg_xrfsim_acquire_f64(m, &c, 0.05, g, one, n);
			for (size_t k = 0; k < n; k++) {
				m1[k] += one[k];
				s1[k] += one[k] * one[k];
			}
			for (int i = 0; i < 4; i++)
				mg_xrfsim_acquire_f64(m, &c, 0.05, g, one, n);
			for (size_t k = 0; k < n; k++)
				m2[k] += one[k];
			mg_xrfsim_rng_free(g);
		}
		double ratio_sum = 0, lin_worst = 0;
		int nr = 0;
		for (size_t k = 0; k < n; k++) {
			double mu = m1[k] / K, var = s1[k] / K - mu * mu;
			double expect = mean[k] * 0.2;
			if (expect < 5)
				continue;
			/* the sample mean is within 5 standard errors of the model mean */
			CHECK_MSG(fabs(mu - expect) < 5 * sqrt(expect / K), "ch %zu mean %.2f vs %.2f", k, mu, expect);
			ratio_sum += var / mu;
			nr++;
			double lin = (m2[k] / K) / mu;
			lin_worst = fmax(lin_worst, fabs(lin - 2.0) / (2.0 * sqrt(2.0 / (expect * K))));
		}
		CHECK(nr > 20);
		double vm = ratio_sum / nr;
		CHECK_MSG(fabs(vm - 1.0) < 0.05, "variance/mean averaged over %d channels = %.4f", nr, vm);
		fprintf(stderr, "variance/mean over %d channels: %.4f\n", nr, vm);
		CHECK_MSG(lin_worst < 5.0, "0.4 s / 0.2 s counts: worst %.2f sigma from 2", lin_worst);
		free(s1), free(s2), free(m1), free(m2), free(one);
	}

	/* presets */
	{
		double t = mg_xrfsim_real_for_live(m, 10.0);
		CHECK_NEAR(t * r.live_fraction, 10.0, 1e-9);
		CHECK(t > 10.0);
		CHECK_NEAR(mg_xrfsim_real_for_counts(m, 1e5) * r.slow, 1e5, 1e-6);
		/* step to a live-time preset: 50 ms steps, the last one clipped */
		mg_xrfsim_counters c = {0};
		double *d = calloc(n, sizeof *d);
		int steps = 0;
		while (c.live_s < 1.0 - 1e-12 && steps < 1000) {
			double need = mg_xrfsim_real_for_live(m, 1.0 - c.live_s);
			CHECK_RC(mg_xrfsim_acquire_f64(m, &c, need < 0.05 ? need : 0.05, g1, d, n), 0);
			steps++;
		}
		CHECK_NEAR(c.live_s, 1.0, 1e-9);
		CHECK_NEAR(c.real_s, 1.0 / r.live_fraction, 1e-9);
		free(d);
	}

	/* saturation and argument errors */
	{
		uint32_t *u = calloc(n, sizeof *u);
		mg_xrfsim_counters c = {0};
		for (size_t k = 0; k < n; k++)
			u[k] = UINT32_MAX - 1;
		CHECK_RC(mg_xrfsim_acquire(m, &c, 1.0, g1, u, n), 0);
		for (size_t k = 0; k < n; k++)
			CHECK(u[k] >= UINT32_MAX - 1);
		CHECK_RC(mg_xrfsim_acquire(m, &c, 0.05, g1, u, n - 1), MG_ERR_ARG);
		CHECK_RC(mg_xrfsim_acquire(m, &c, -1, g1, u, n), MG_ERR_ARG);
		CHECK_RC(mg_xrfsim_acquire(m, &c, NAN, g1, u, n), MG_ERR_ARG);
		CHECK_RC(mg_xrfsim_acquire(m, &c, 0.05, NULL, u, n), MG_ERR_ARG);
		CHECK_RC(mg_xrfsim_acquire(m, &c, 0.05, g1, NULL, n), MG_ERR_ARG);
		mg_xrfsim_counters c0 = c;
		CHECK_RC(mg_xrfsim_acquire(m, &c, 0.0, g1, u, n), 0);
		CHECK(memcmp(&c0, &c, sizeof c) == 0);
		free(u);
	}

	/* zero current: nothing happens but time */
	{
		CHECK_RC(mg_xrfsim_model_set_current(m, 0), 0);
		mg_xrfsim_counters c = {0};
		uint32_t *u = calloc(n, sizeof *u);
		CHECK_RC(mg_xrfsim_acquire(m, &c, 1.0, g1, u, n), 0);
		CHECK(c.fast == 0 && c.slow == 0 && c.real_s == 1.0 && c.live_s == 1.0);
		CHECK(isinf(mg_xrfsim_real_for_counts(m, 10)));
		free(u);
		CHECK_RC(mg_xrfsim_model_set_current(m, 20), 0);
	}
	mg_xrfsim_model_free(m);

	/* cost: 8192 channels, 200 steps of 50 ms (10 s of simulated time) */
	m = build("ndfeb", 8192, 0.005, 20);
	if (m) {
		uint32_t *u = calloc(8192, sizeof *u);
		mg_xrfsim_counters c = {0};
		double t0 = now();
		for (int i = 0; i < 200; i++)
			CHECK_RC(mg_xrfsim_acquire(m, &c, 0.05, g1, u, 8192), 0);
		double el = now() - t0;
		CHECK_MSG(el < 2.0, "200 steps on 8192 channels took %.3f s", el);
		fprintf(stderr, "acquire: %.3f ms per 50 ms step on 8192 channels\n", el / 200 * 1e3);

		/* one model, two threads, each with its own RNG and counters: same as serial */
		struct thr t[2] = {{.m = m, .seed = 7, .counts = calloc(8192, 4)},
		                   {.m = m, .seed = 8, .counts = calloc(8192, 4)}};
		pthread_t th[2];
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, thr_main, &t[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		struct thr s = {.m = m, .seed = 8, .counts = calloc(8192, 4)};
		thr_main(&s);
		CHECK(t[0].rc == 0 && t[1].rc == 0);
		CHECK(memcmp(s.counts, t[1].counts, 8192 * 4) == 0 && s.c.fast == t[1].c.fast);
		CHECK(memcmp(t[0].counts, t[1].counts, 8192 * 4) != 0);
		free(t[0].counts), free(t[1].counts), free(s.counts);
		free(u);
		mg_xrfsim_model_free(m);
	}

	mg_xrfsim_rng_free(g1);
	mg_xrfsim_rng_free(g2);
	free(a);
	free(b);
	return mg_test_finish("test_xrfsim_acquire");
}
