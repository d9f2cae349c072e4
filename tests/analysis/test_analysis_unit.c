/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the analysis engine: filters (Savitzky–Golay, Gaussian,
 * top-hat, second difference), SNIP (LLS round trip), the NNLS solver against
 * brute force, line responses (unit area), the plan and fast path on spectra
 * from an independent generator, residual warnings, peak search, automatic
 * calibration, thread safety, element lists, calibration records, the PNG
 * plot (text chunks), FFTW wisdom. */
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/xrf/an.h"
#include "check.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/report.h"
#include "synth.h"

/* ---------------------------------------------------------------- filters */

static void test_filters(void)
{
	an_fft f;
	CHECK_RC(an_fft_init(&f, 200, 0), 0);
	double *tmp = fftw_malloc(f.nfft * sizeof(double));
	fftw_complex *spec = fftw_malloc((f.nfft / 2 + 1) * sizeof(fftw_complex));
	double in[101], out[101];

	/* Savitzky–Golay 5 points, quadratic: (−3 12 17 12 −3)/35 */
	fftw_complex *sg = an_kernel_savgol(&f, 2, 2, 0);
	memset(in, 0, sizeof(in));
	in[50] = 1;
	an_fft_convolve(&f, sg, in, 101, 0, out, tmp, spec);
	CHECK_NEAR(out[50], 17.0 / 35, 1e-12);
	CHECK_NEAR(out[49], 12.0 / 35, 1e-12);
	CHECK_NEAR(out[52], -3.0 / 35, 1e-12);
	/* a quadratic is preserved exactly (away from the ends) */
	for (int i = 0; i < 101; i++)
		in[i] = 3 + 0.5 * i - 0.01 * i * i;
	an_fft_convolve(&f, sg, in, 101, 0, out, tmp, spec);
	CHECK_NEAR(out[40], in[40], 1e-9);
	/* first derivative of a ramp */
	fftw_complex *sgd = an_kernel_savgol(&f, 3, 2, 1);
	for (int i = 0; i < 101; i++)
		in[i] = 2.5 * i;
	an_fft_convolve(&f, sgd, in, 101, 0, out, tmp, spec);
	CHECK_NEAR(out[50], 2.5, 1e-9);

	/* Gaussian smoothing keeps the area; top-hat ignores a straight line */
	fftw_complex *g = an_kernel_gauss(&f, 3.0, 0, 0);
	memset(in, 0, sizeof(in));
	in[50] = 100;
	an_fft_convolve(&f, g, in, 101, 0, out, tmp, spec);
	double s = 0;
	for (int i = 0; i < 101; i++)
		s += out[i];
	CHECK_NEAR(s, 100, 1e-9);
	fftw_complex *th = an_kernel_tophat(&f, 3, 3);
	for (int i = 0; i < 101; i++)
		in[i] = 10 + 0.7 * i;
	an_fft_convolve(&f, th, in, 101, 0, out, tmp, spec);
	CHECK_NEAR(out[50], 0, 1e-9);

	/* second difference: most negative at a peak, significance > 10 for a strong one */
	fftw_complex *k2 = an_kernel_gauss(&f, 2.0, 2, 0), *k2s = an_kernel_gauss(&f, 2.0, 2, 1);
	for (int i = 0; i < 101; i++)
		in[i] = 50 + 1000 * exp(-0.5 * (i - 40) * (i - 40) / 4.0);
	double z[101], sd[101];
	an_second_diff(&f, k2, k2s, in, 101, z, sd, tmp, spec);
	int imax = 0;
	for (int i = 0; i < 101; i++)
		if (z[i] > z[imax])
			imax = i;
	CHECK(imax == 40);
	CHECK(z[40] > 10);

	/* linear autoconvolution */
	double a[4] = {1, 2, 0, 1}, ac[8];
	an_fft_autoconv(&f, a, 4, ac, tmp, spec);
	CHECK_NEAR(ac[0], 1, 1e-12);
	CHECK_NEAR(ac[1], 4, 1e-12);
	CHECK_NEAR(ac[2], 4, 1e-12);
	CHECK_NEAR(ac[3], 2, 1e-12);
	CHECK_NEAR(ac[6], 1, 1e-12);

	fftw_free(sg);
	fftw_free(sgd);
	fftw_free(g);
	fftw_free(th);
	fftw_free(k2);
	fftw_free(k2s);
	fftw_free(tmp);
	fftw_free(spec);
	an_fft_destroy(&f);
}

static void test_snip(void)
{
	double y[300], bg[300];
	/* the LLS transform round-trips: a flat spectrum comes back unchanged */
	for (int i = 0; i < 300; i++)
		y[i] = 1234.5;
	CHECK_RC(mg_snip_background(y, 300, 20, 1, bg), 0);
	CHECK_NEAR(bg[150], 1234.5, 1e-6);
	CHECK_NEAR(bg[0], 1234.5, 1e-6);
	/* a peak on a line: the background under the peak is the line */
	for (int i = 0; i < 300; i++)
		y[i] = 100 + 0.2 * i + 5000 * exp(-0.5 * (i - 150) * (i - 150) / 16.0);
	CHECK_RC(mg_snip_background(y, 300, 25, 1, bg), 0);
	CHECK(fabs(bg[150] - (100 + 0.2 * 150)) < 3);
	CHECK_RC(mg_snip_background(y, 300, 25, 0, bg), 0);
	CHECK(fabs(bg[150] - (100 + 0.2 * 150)) < 3);
}

/* ---------------------------------------------------------------- NNLS */

static void test_nnls(void)
{
	/* random 5-column problems against brute force over every active set */
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	enum { N = 40, P = 5 };
	double cols[P][N], y[N], w[N], coef[P], cov[P * P];
	double *cp[P];
	size_t lo[P], hi[P];
	unsigned char nonneg[P] = {1, 1, 1, 1, 0};
	an_design d = {.n = N, .p = P, .cols = cp, .lo = lo, .hi = hi, .nonneg = nonneg};
	an_nnls_ws ws;
	CHECK_RC(an_nnls_ws_init(&ws, P), 0);
	for (int trial = 0; trial < 50; trial++) {
		for (int j = 0; j < P; j++) {
			cp[j] = cols[j];
			lo[j] = 0;
			hi[j] = N;
			for (int i = 0; i < N; i++)
				cols[j][i] = gsl_rng_uniform(r);
		}
		for (int i = 0; i < N; i++) {
			y[i] = 3 * gsl_rng_uniform(r) - 1.0;
			w[i] = 0.5 + gsl_rng_uniform(r);
		}
		an_linfit(&d, y, w, &ws, coef, cov);
		double best = INFINITY;
		/* brute force: every subset of the constrained columns free, others zero */
		for (unsigned mask = 0; mask < 16; mask++) {
			/* weighted LS on the columns in mask ∪ {4} via normal equations */
			int idx[P], m = 0;
			for (int j = 0; j < 4; j++)
				if (mask & (1u << j))
					idx[m++] = j;
			idx[m++] = 4;
			double g[P][P], b[P], x[P];
			for (int a = 0; a < m; a++) {
				b[a] = 0;
				for (int i = 0; i < N; i++)
					b[a] += w[i] * cols[idx[a]][i] * y[i];
				for (int c = 0; c < m; c++) {
					g[a][c] = 0;
					for (int i = 0; i < N; i++)
						g[a][c] += w[i] * cols[idx[a]][i] * cols[idx[c]][i];
				}
			}
			/* Gauss elimination */
			for (int c = 0; c < m; c++) {
				for (int a = c + 1; a < m; a++) {
					double fct = g[a][c] / g[c][c];
					for (int e = c; e < m; e++)
						g[a][e] -= fct * g[c][e];
					b[a] -= fct * b[c];
				}
			}
			for (int a = m - 1; a >= 0; a--) {
				double s = b[a];
				for (int e = a + 1; e < m; e++)
					s -= g[a][e] * x[e];
				x[a] = s / g[a][a];
			}
			int ok = 1;
			for (int a = 0; a < m; a++)
				if (idx[a] < 4 && x[a] < 0)
					ok = 0;
			if (!ok)
				continue;
			double chi = 0;
			for (int i = 0; i < N; i++) {
				double mdl = 0;
				for (int a = 0; a < m; a++)
					mdl += x[a] * cols[idx[a]][i];
				chi += w[i] * (y[i] - mdl) * (y[i] - mdl);
			}
			if (chi < best)
				best = chi;
		}
		double chi = 0;
		for (int i = 0; i < N; i++) {
			double mdl = 0;
			for (int j = 0; j < P; j++)
				mdl += coef[j] * cols[j][i];
			chi += w[i] * (y[i] - mdl) * (y[i] - mdl);
		}
		for (int j = 0; j < 4; j++)
			CHECK(coef[j] >= 0);
		CHECK_MSG(chi <= best * (1 + 1e-8) + 1e-10, "trial %d: NNLS chi2 %.12g, brute force %.12g",
		          trial, chi, best);
	}
	an_nnls_ws_destroy(&ws);
	gsl_rng_free(r);
}

/* ---------------------------------------------------------------- responses */

static void test_response(void)
{
	size_t n = 2000;
	mg_energy_cal cal = {1, -0.005, 0.01, 0};
	double *edges = malloc((n + 1) * sizeof(double)), *col = calloc(n, sizeof(double));
	an_edges(&cal, 0, n, edges);
	an_shape plain = {0.08, 0.114, 0, 0.5, 0, 1}, full = {0.08, 0.114, 0.03, 0.4, 5e-4, 1};
	size_t lo = n, hi = 0;
	an_add_peak(&plain, 6.4, 1000, 0, 0, edges, n, col, &lo, &hi);
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += col[i];
	CHECK_NEAR(s, 1000, 1e-6);
	memset(col, 0, n * sizeof(double));
	lo = n;
	hi = 0;
	an_add_peak(&full, 6.4, 1000, 0, 0, edges, n, col, &lo, &hi);
	s = 0;
	for (size_t i = 0; i < n; i++)
		s += col[i];
	CHECK_NEAR(s, 1000, 0.05); /* the shelf starts at 0 keV = channel 0.5 */
	CHECK(lo == 0);
	/* the peak maximum sits at 6.4 keV */
	size_t imax = 0;
	for (size_t i = 0; i < n; i++)
		if (col[i] > col[imax])
			imax = i;
	CHECK(fabs(cal.offset_kev + cal.gain_kev * (double)imax - 6.4) <= 0.01);
	free(edges);
	free(col);
}

/* ---------------------------------------------------------------- plan + fast path */

static mg_analysis_config base_config(size_t n, double gain)
{
	mg_analysis_config c;
	mg_analysis_config_default(&c);
	c.nchan = n;
	c.cal = (mg_energy_cal){1, 0.0, gain, 0};
	c.det.noise_kev = 0.08;
	c.det.fano = 0.114;
	c.det.tail_fraction = 0;
	c.det.step_height = 0;
	c.det.thickness_mm = 0; /* ideal detector: the generator has no efficiency */
	c.det.be_um = 0;
	c.det.air_mm = 0;
	c.flags = MG_AN_WARNINGS;
	c.matrix[0] = 0;
	c.exc.mono_kev = SYNTH_E0; /* the generator's excitation */
	c.emin_kev = 3.0;
	c.emax_kev = 12.0;
	c.knot_kev = 1.5;
	return c;
}

/* Fe K + Nd L on a sloping continuum, 2048 × 10 eV, from the independent generator. */
static void make_fe_nd(double *mean, size_t n, double fe, double nd, double cu)
{
	synth_det d = {.noise = 0.08, .fano = 0.114};
	for (size_t k = 0; k < n; k++) {
		double e = 0.01 * (double)k;
		mean[k] = e > 1 ? 40.0 * exp(-e / 8.0) : 0;
	}
	synth_family(&d, 0, 0.01, n, 26, KL1_LINE, KP5_LINE, fe, mean);
	synth_family(&d, 0, 0.01, n, 60, L1L2_LINE, L3Q1_LINE, nd, mean);
	if (cu > 0)
		synth_family(&d, 0, 0.01, n, 29, KL1_LINE, KP5_LINE, cu, mean);
}

static void test_fast_path(void)
{
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	make_fe_nd(mean, n, 2e5, 5e4, 0);
	synth_poisson(11, mean, y, n);
	mg_analysis_config c = base_config(n, 0.01);
	snprintf(c.elements, sizeof c.elements, "Fe,Nd");
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(&c, &p), 0);
	if (!p)
		return;
	CHECK(mg_analysis_plan_nfamilies(p) == 2);
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
	mg_analysis_result *r = mg_analysis_result_new(p);
	CHECK_RC(mg_analysis_execute(p, ctx, y, n, 10.0, r), 0);
	CHECK(strcmp(r->families[0].element, "Fe") == 0 && strcmp(r->families[0].family, "K") == 0);
	CHECK(strcmp(r->families[1].element, "Nd") == 0 && strcmp(r->families[1].family, "L") == 0);
	CHECK_MSG(fabs(r->families[0].area / 2e5 - 1) < 0.01, "Fe K %g", r->families[0].area);
	CHECK_MSG(fabs(r->families[1].area / 5e4 - 1) < 0.02, "Nd L %g", r->families[1].area);
	CHECK_NEAR(r->families[0].cps, r->families[0].area / 10.0, 1e-9);
	CHECK(r->families[0].status == MG_FAMILY_OK);
	CHECK_MSG(r->chi2_reduced < 1.3, "chi2 %g", r->chi2_reduced);
	CHECK(r->nwarnings == 0);
	/* σ is the counting uncertainty: about √area for an isolated strong family */
	CHECK(r->families[0].sigma > 0.8 * sqrt(2e5) && r->families[0].sigma < 2.0 * sqrt(2e5));

	/* a Cu peak that is not in the list is reported, named */
	make_fe_nd(mean, n, 2e5, 5e4, 3e4);
	synth_poisson(12, mean, y, n);
	CHECK_RC(mg_analysis_execute(p, ctx, y, n, 10.0, r), 0);
	int named = 0;
	for (size_t i = 0; i < r->nwarnings; i++)
		if (strstr(r->warnings[i].text, "8.0") && strstr(r->warnings[i].text, "Cu?"))
			named = 1;
	CHECK_MSG(named, "no warning names Cu (%zu warnings, first: %s)", r->nwarnings,
	          r->nwarnings ? r->warnings[0].text : "-");

	/* wrong sizes are refused */
	CHECK_RC(mg_analysis_execute(p, ctx, y, n - 1, 10.0, r), MG_ERR_ARG);
	y[5] = -1;
	CHECK_RC(mg_analysis_execute(p, ctx, y, n, 10.0, r), MG_ERR_ARG);
	y[5] = NAN;
	CHECK_RC(mg_analysis_execute(p, ctx, y, n, 10.0, r), MG_ERR_ARG);
	mg_analysis_result_free(r);
	mg_analysis_ctx_free(ctx);
	mg_analysis_plan_free(p);
	free(mean);
	free(y);
}

/* An absent element is below its detection limit; a weak one above it. */
static void test_detection(void)
{
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	make_fe_nd(mean, n, 2e5, 5e4, 0);
	synth_poisson(21, mean, y, n);
	mg_analysis_config c = base_config(n, 0.01);
	snprintf(c.elements, sizeof c.elements, "Fe,Nd,Cu,Ti");
	mg_analysis_result *r = NULL;
	CHECK_RC(mg_analysis_run(&c, y, n, NAN, 0, &r, NULL), 0);
	if (r) {
		CHECK(r->families[2].status == MG_FAMILY_BELOW_DL);
		CHECK(r->families[3].status == MG_FAMILY_BELOW_DL);
		CHECK(isnan(r->families[0].cps));
		mg_analysis_result_free(r);
	}
	make_fe_nd(mean, n, 2e5, 5e4, 800);
	synth_poisson(22, mean, y, n);
	CHECK_RC(mg_analysis_run(&c, y, n, NAN, 0, &r, NULL), 0);
	if (r) {
		CHECK_MSG(r->families[2].status == MG_FAMILY_OK, "Cu 800 counts: area %g dl %g",
		          r->families[2].area, r->families[2].dl);
		mg_analysis_result_free(r);
	}
	free(mean);
	free(y);
}

/* Refinement recovers a calibration 1 % off and a wrong resolution. */
static void test_refine(void)
{
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	make_fe_nd(mean, n, 2e5, 5e4, 2e4);
	synth_poisson(31, mean, y, n);
	mg_analysis_config c = base_config(n, 0.0101);
	c.cal.offset_kev = -0.02;
	c.det.noise_kev = 0.12;
	snprintf(c.elements, sizeof c.elements, "Fe,Nd,Cu");
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(&c, &p), 0);
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
	mg_analysis_refinement ref;
	CHECK_RC(mg_analysis_refine(p, ctx, y, n, MG_REFINE_DEFAULT, &ref), 0);
	CHECK_NEAR(ref.cal.gain_kev, 0.01, 2e-5);
	CHECK_NEAR(ref.cal.offset_kev, 0.0, 0.005);
	CHECK_NEAR(ref.det.noise_kev, 0.08, 0.01);
	CHECK_NEAR(ref.det.fano, 0.114, 0.02);
	CHECK(ref.chi2_reduced < 1.3);
	mg_analysis_result *r = NULL;
	CHECK_RC(mg_analysis_run(&c, y, n, NAN, MG_REFINE_DEFAULT, &r, NULL), 0);
	if (r) {
		CHECK_MSG(fabs(r->families[0].area / 2e5 - 1) < 0.01, "Fe %g", r->families[0].area);
		CHECK_NEAR(r->cal.gain_kev, 0.01, 2e-5);
		mg_analysis_result_free(r);
	}
	mg_analysis_ctx_free(ctx);
	mg_analysis_plan_free(p);
	free(mean);
	free(y);
}

static void test_peaks_and_autocal(void)
{
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	/* Fe K, Cu K, Nd L on a continuum; axis 12.5 eV/ch with an offset */
	synth_det d = {.noise = 0.08, .fano = 0.114};
	double off = -0.12, g = 0.0125;
	for (size_t k = 0; k < n; k++)
		mean[k] = 20;
	synth_family(&d, off, g, n, 26, KL1_LINE, KP5_LINE, 3e5, mean);
	synth_family(&d, off, g, n, 29, KL1_LINE, KP5_LINE, 1e5, mean);
	synth_family(&d, off, g, n, 60, L1L2_LINE, L3Q1_LINE, 1e5, mean);
	synth_family(&d, off, g, n, 45, KL1_LINE, KP5_LINE, 2e4, mean); /* "Rh Rayleigh" */
	synth_poisson(41, mean, y, n);
	mg_peak pk[20];
	int np = mg_peak_search(y, n, 0.15 / g, 5, pk, 20);
	CHECK(np >= 5);
	int fe = 0;
	for (int i = 0; i < np && i < 20; i++)
		if (fabs(off + g * pk[i].channel - 6.400) < 0.01)
			fe = 1;
	CHECK_MSG(fe, "no peak at Fe Kα among %d", np);
	mg_analysis_config c = base_config(n, 0.01);
	snprintf(c.elements, sizeof c.elements, "Fe,Cu,Nd");
	c.cal.valid = 0;
	mg_energy_cal cal;
	size_t used = 0;
	CHECK_RC(mg_analysis_auto_cal(&c, y, n, 0, 0, &cal, &used), 0);
	CHECK_NEAR(cal.gain_kev, g, 0.005 * g); /* peak centroids of blends: a start for refine */
	CHECK_NEAR(cal.offset_kev, off, 0.03);
	CHECK(used >= 4);
	/* the nonlinear refinement from there lands on the true axis */
	c.cal = cal;
	c.exc.mono_kev = 25; /* Rh K lines excited */
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(&c, &p), 0);
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
	mg_analysis_refinement ref;
	CHECK_RC(mg_analysis_refine(p, ctx, y, n, MG_REFINE_OFFSET | MG_REFINE_GAIN, &ref), 0);
	CHECK_NEAR(ref.cal.gain_kev, g, 2e-5);
	CHECK_NEAR(ref.cal.offset_kev, off, 0.003);
	mg_analysis_ctx_free(ctx);
	mg_analysis_plan_free(p);
	free(mean);
	free(y);
}

/* ---------------------------------------------------------------- threads */

typedef struct thr {
	const mg_analysis_plan *p;
	const double *y;
	size_t n;
	double area[8];
	int rc;
} thr;

static void *worker(void *arg)
{
	thr *t = arg;
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(t->p);
	mg_analysis_result *r = mg_analysis_result_new(t->p);
	for (int k = 0; k < 20 && ctx && r; k++)
		t->rc |= mg_analysis_execute(t->p, ctx, t->y, t->n, 1.0, r);
	for (size_t f = 0; r && f < r->nfamilies && f < 8; f++)
		t->area[f] = r->families[f].area;
	mg_analysis_result_free(r);
	mg_analysis_ctx_free(ctx);
	return NULL;
}

static void test_threads(void)
{
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	make_fe_nd(mean, n, 2e5, 5e4, 1e4);
	synth_poisson(51, mean, y, n);
	mg_analysis_config c = base_config(n, 0.01);
	snprintf(c.elements, sizeof c.elements, "Fe,Nd,Cu");
	c.flags |= MG_AN_PILEUP;
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(&c, &p), 0);
	thr t[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (thr){.p = p, .y = y, .n = n};
		pthread_create(&th[i], NULL, worker, &t[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		CHECK(t[i].rc == 0);
		for (int f = 0; f < 3; f++)
			CHECK(t[i].area[f] == t[0].area[f]);
	}
	mg_analysis_plan_free(p);
	free(mean);
	free(y);
}

/* ---------------------------------------------------------------- lists, records, plot */

static void test_elements(void)
{
	CHECK_RC(mg_analysis_elements_check("Fe,Co,Nd,Pr,Dy,Tb"), 0);
	CHECK_RC(mg_analysis_elements_check("Cr, Fe:Ka+Kb ,W:L1+L2+L3;Pb:L+M"), 0);
	CHECK_RC(mg_analysis_elements_check("Fe,Xx"), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "Xx") != NULL);
	CHECK_RC(mg_analysis_elements_check("Fe:Q"), MG_ERR_ARG);
	CHECK_RC(mg_analysis_elements_check("Fe,Fe"), MG_ERR_ARG);
	CHECK_RC(mg_analysis_elements_check("Fe:K,Fe:Ka"), MG_ERR_ARG); /* Kα counted twice */
	CHECK_RC(mg_analysis_elements_check("Fe:Ka,Fe:Kb"), 0);
	/* a plan reports an element with nothing in the window as an error */
	mg_analysis_config c = base_config(2048, 0.01);
	snprintf(c.elements, sizeof c.elements, "B");
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(&c, &p), MG_ERR_UNSUPPORTED);
	c.cal.valid = 0;
	CHECK_RC(mg_analysis_plan_new(&c, &p), MG_ERR_ARG);
}

static void test_records(void)
{
	const char *dir = mg_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/cal.json", dir);
	mg_energy_cal cal = {1, -0.0123, 0.0199876, 1e-9};
	mg_detector_model det = {.noise_kev = 0.081, .fano = 0.117, .tail_fraction = 0.02,
	                         .tail_slope_kev = 0.4, .step_height = 1e-4, .thickness_mm = 0.5};
	CHECK_RC(mg_analysis_calib_write_file(path, &cal, &det), 0);
	mg_energy_cal c2 = {0};
	mg_detector_model d2 = {.thickness_mm = 0.45};
	CHECK_RC(mg_analysis_calib_read_file(path, &c2, &d2), 0);
	CHECK(c2.valid);
	CHECK_NEAR(c2.gain_kev, cal.gain_kev, 1e-12);
	CHECK_NEAR(c2.offset_kev, cal.offset_kev, 1e-12);
	CHECK_NEAR(d2.fano, 0.117, 1e-12);
	CHECK_NEAR(d2.thickness_mm, 0.45, 0); /* not in the record: kept */
	/* the calibration object inside an analyze --json list */
	snprintf(path, sizeof path, "%s/res.json", dir);
	FILE *f = fopen(path, "w");
	fputs("[{\"file\":\"x.msa\",\"calibration\":{\"offset_kev\":0.01,\"gain_kev\":0.02,"
	      "\"quad_kev\":0,\"noise_kev\":0.09,\"fano\":0.12}}]\n", f);
	fclose(f);
	CHECK_RC(mg_analysis_calib_read_file(path, &c2, &d2), 0);
	CHECK_NEAR(c2.gain_kev, 0.02, 0);
	CHECK_NEAR(d2.noise_kev, 0.09, 0);
	f = fopen(path, "w");
	fputs("{\"calibration\":{\"offset_kev\":0.01}}", f);
	fclose(f);
	CHECK_RC(mg_analysis_calib_read_file(path, &c2, &d2), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "gain_kev") != NULL);
}

static void test_plot_and_wisdom(void)
{
	const size_t n = 2048;
	double *mean = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
	make_fe_nd(mean, n, 2e5, 5e4, 1e4);
	synth_poisson(61, mean, y, n);
	mg_analysis_config c = base_config(n, 0.01);
	snprintf(c.elements, sizeof c.elements, "Fe,Nd,Cu");
	mg_analysis_plan *p = NULL;
	mg_analysis_result *r = NULL;
	CHECK_RC(mg_analysis_run(&c, y, n, 1.0, 0, &r, &p), 0);
	char path[512];
	snprintf(path, sizeof path, "%s/fit.png", mg_test_tmpdir());
	mg_plot_meta meta = {"unit test", NULL, "MAG-0042", NULL, NULL, NULL};
	mg_plot_opts po;
	mg_plot_opts_default(&po);
	po.width_px = 900;
	CHECK_RC(mg_report_plot_fit_png(p, y, n, r, &meta, &po, path), 0);
	/* read the text chunks back */
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
		png_infop info = png_create_info_struct(png);
		if (!setjmp(png_jmpbuf(png))) {
			png_init_io(png, f);
			png_read_info(png, info);
			CHECK(png_get_image_width(png, info) == 900);
			png_textp txt;
			int nt = 0;
			png_get_text(png, info, &txt, &nt);
			int sid = 0, cal = 0;
			for (int i = 0; i < nt; i++) {
				if (strcmp(txt[i].key, "Sample ID") == 0 && strcmp(txt[i].text, "MAG-0042") == 0)
					sid = 1;
				if (strcmp(txt[i].key, "Calibration") == 0 && strstr(txt[i].text, "gain_kev=0.01"))
					cal = 1;
			}
			CHECK(sid);
			CHECK(cal);
		} else {
			CHECK(!"libpng could not read the plot");
		}
		png_destroy_read_struct(&png, &info, NULL);
		fclose(f);
	}
	/* wisdom round trip */
	snprintf(path, sizeof path, "%s/wisdom", mg_test_tmpdir());
	CHECK_RC(mg_analysis_wisdom_export(path), 0);
	CHECK_RC(mg_analysis_wisdom_import(path), 0);
	CHECK(mg_analysis_wisdom_import("/nonexistent/wisdom") < 0);
	mg_analysis_result_free(r);
	mg_analysis_plan_free(p);
	free(mean);
	free(y);
}

int main(void)
{
	test_filters();
	test_snip();
	test_nnls();
	test_response();
	test_fast_path();
	test_detection();
	test_refine();
	test_peaks_and_autocal();
	test_threads();
	test_elements();
	test_records();
	test_plot_and_wisdom();
	return mg_test_finish("test_analysis_unit");
}
