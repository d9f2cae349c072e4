/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES arithmetic: calibration curves on known data (r, coefficients,
 * back-calculated residuals, inverse prediction and its uncertainty),
 * weighted and quadratic fits against independent closed forms and a Monte
 * Carlo, LOD/LOQ, replicate statistics, recovery/spike/RPD, IEC, internal
 * standard under matrix suppression, solution → solid. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/icp_analysis.h"

/* Miller & Miller, Statistics and Chemometrics for Analytical Chemistry,
 * the fluorescence calibration of §5.3–5.6: a = 1.52, b = 1.93, r = 0.9989,
 * s_y/x = 0.4329; y0 = 2.9, 13.5, 23.0 give x0 = 0.72, 6.21, 11.13 with
 * s_x0 = 0.26, 0.24, 0.26 (one reading each). */
static void test_linear_known(void)
{
	const double x[] = {0, 2, 4, 6, 8, 10, 12};
	const double y[] = {2.1, 5.0, 9.0, 12.6, 17.3, 21.0, 24.7};
	mg_icp_curve c;
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_LINEAR, x, y, 7, &c), MG_OK);
	CHECK_NEAR(c.coef[0], 1.5179, 1e-3);
	CHECK_NEAR(c.coef[1], 1.9304, 1e-3);
	CHECK_NEAR(c.r, 0.9989, 1e-4);
	CHECK_NEAR(c.s_yx, 0.4329, 1e-3);
	CHECK(c.dof == 5);
	const double y0[] = {2.9, 13.5, 23.0}, x0w[] = {0.72, 6.21, 11.13}, sw[] = {0.26, 0.24, 0.26};
	for (int i = 0; i < 3; i++) {
		double x0, u;
		CHECK_RC(mg_icp_curve_invert(&c, y0[i], c.s_yx / sqrt(1.0), &x0, &u), MG_OK);
		CHECK_NEAR(x0, x0w[i], 0.006);
		CHECK_NEAR(u, sw[i], 0.006);
		/* the textbook formula, written out */
		double xb = 6, yb = 0, sxx = 0;
		for (int k = 0; k < 7; k++)
			yb += y[k] / 7;
		for (int k = 0; k < 7; k++)
			sxx += (x[k] - xb) * (x[k] - xb);
		double b = c.coef[1];
		double s = c.s_yx / b * sqrt(1.0 + 1.0 / 7 + (y0[i] - yb) * (y0[i] - yb) / (b * b * sxx));
		CHECK_NEAR(u, s, 1e-9);
	}
	/* back-calculated residuals */
	for (int k = 1; k < 7; k++) {
		double xb = (y[k] - c.coef[0]) / c.coef[1];
		CHECK_NEAR(c.back_calc[k], xb, 1e-12);
		CHECK_NEAR(c.resid_pct[k], 100 * (xb - x[k]) / x[k], 1e-9);
	}
	CHECK(isnan(c.resid_pct[0]));
	printf("Miller & Miller: a %.4f b %.4f r %.5f s_yx %.4f\n", c.coef[0], c.coef[1], c.r, c.s_yx);
}

/* Weighted fits against the closed-form weighted least squares. */
static void test_weighted(void)
{
	const double x[] = {0, 0.1, 0.5, 1, 5, 10, 50};
	const double y[] = {0.3, 10.4, 50.9, 99.0, 503.0, 1012.0, 4950.0};
	for (int kind = 1; kind <= 2; kind++) {
		mg_icp_curve c;
		CHECK_RC(mg_icp_curve_fit((mg_icp_curve_kind)kind, x, y, 7, &c), MG_OK);
		double sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
		for (int i = 0; i < 7; i++) {
			double xe = x[i] > 0 ? x[i] : 0.1; /* the blank weighted as the lowest standard */
			double w = kind == 1 ? 1 / xe : 1 / (xe * xe);
			sw += w;
			swx += w * x[i];
			swy += w * y[i];
			swxx += w * x[i] * x[i];
			swxy += w * x[i] * y[i];
		}
		double b = (sw * swxy - swx * swy) / (sw * swxx - swx * swx), a = (swy - b * swx) / sw;
		CHECK_NEAR(c.coef[1], b, 1e-9 * fabs(b));
		CHECK_NEAR(c.coef[0], a, 1e-9 * (1 + fabs(a)));
		printf("weighted 1/x%s: a %.4f b %.4f r %.6f; lowest standard back-calculated %+.2f %%\n",
		       kind == 2 ? "²" : "", c.coef[0], c.coef[1], c.r, c.resid_pct[1]);
	}
	/* 1/x² keeps the lowest standard better than the unweighted line */
	mg_icp_curve u, w2;
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_LINEAR, x, y, 7, &u), MG_OK);
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_WEIGHTED_1X2, x, y, 7, &w2), MG_OK);
	CHECK(fabs(w2.resid_pct[1]) < fabs(u.resid_pct[1]));
	/* exact data: every kind gives it back with r = 1 */
	const double ye[] = {1, 1.2, 2, 3, 11, 21, 101};
	for (int kind = 0; kind <= 3; kind++) {
		mg_icp_curve c;
		CHECK_RC(mg_icp_curve_fit((mg_icp_curve_kind)kind, x, ye, 7, &c), MG_OK);
		CHECK_NEAR(c.coef[0], 1, 1e-9);
		CHECK_NEAR(c.coef[1], 2, 1e-9);
		CHECK_NEAR(c.coef[2], 0, 1e-9);
		CHECK_NEAR(c.r, 1, 1e-12);
	}
}

static void test_quadratic(gsl_rng *rng)
{
	/* y = 0.5 + 3x − 0.02x² : exact */
	double x[] = {0, 1, 2, 5, 10, 20, 30}, y[7];
	for (int i = 0; i < 7; i++)
		y[i] = 0.5 + 3 * x[i] - 0.02 * x[i] * x[i];
	mg_icp_curve c;
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_QUADRATIC, x, y, 7, &c), MG_OK);
	CHECK_NEAR(c.coef[0], 0.5, 1e-9);
	CHECK_NEAR(c.coef[1], 3, 1e-9);
	CHECK_NEAR(c.coef[2], -0.02, 1e-11);
	double xb;
	CHECK_RC(mg_icp_curve_invert(&c, 0.5 + 3 * 17 - 0.02 * 289, 0, &xb, NULL), MG_OK);
	CHECK_NEAR(xb, 17, 1e-9);
	/* beyond the turning point (x = 75): refused */
	CHECK_RC(mg_icp_curve_invert(&c, 200, 0, &xb, NULL), MG_ERR_ARG);
	/* too few points */
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_QUADRATIC, x, y, 2, &c), MG_ERR_ARG);
	const double same[] = {1, 1, 1};
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_LINEAR, same, y, 3, &c), MG_ERR_ARG);

	/* the delta-method uncertainty of inverse prediction against a Monte
	 * Carlo of the whole procedure (noisy standards, a noisy reading) */
	double sd = 0.4, x0 = 12;
	double ytrue[7], y0true = 0.5 + 3 * x0 - 0.02 * x0 * x0;
	for (int i = 0; i < 7; i++)
		ytrue[i] = y[i];
	mg_icp_curve nom;
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_QUADRATIC, x, ytrue, 7, &nom), MG_OK);
	double s = 0, ss = 0, su = 0;
	int n = 3000;
	for (int k = 0; k < n; k++) {
		double yy[7];
		for (int i = 0; i < 7; i++)
			yy[i] = ytrue[i] + gsl_ran_gaussian(rng, sd);
		mg_icp_curve cc;
		CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_QUADRATIC, x, yy, 7, &cc), MG_OK);
		double xx, uu;
		CHECK_RC(mg_icp_curve_invert(&cc, y0true + gsl_ran_gaussian(rng, sd), cc.s_yx, &xx, &uu), MG_OK);
		s += xx;
		ss += xx * xx;
		su += uu;
	}
	double mean = s / n, mc = sqrt(ss / n - mean * mean), delta = su / n;
	printf("quadratic inverse prediction at x = %g: Monte Carlo sd %.4f, delta method %.4f\n", x0, mc, delta);
	CHECK_NEAR(mean, x0, 0.02);
	CHECK_MSG(fabs(delta / mc - 1) < 0.15, "delta %.4f vs MC %.4f", delta, mc);
}

static void test_limits(void)
{
	const double x[] = {0, 1, 10};
	const double y[] = {10, 210, 2010};
	mg_icp_curve c;
	CHECK_RC(mg_icp_curve_fit(MG_ICP_CURVE_LINEAR, x, y, 3, &c), MG_OK);
	const double blanks[] = {10, 12, 11, 9, 13, 11, 10};
	mg_icp_stats st;
	CHECK_RC(mg_icp_stats_compute(blanks, 7, &st), MG_OK);
	CHECK_RC(mg_icp_curve_limits(&c, blanks, 7, 3, 10), MG_OK);
	CHECK_NEAR(c.blank_sd, st.sd, 1e-12);
	CHECK_NEAR(c.lod, 3 * st.sd / 200, 1e-12);
	CHECK_NEAR(c.loq, 10 * st.sd / 200, 1e-12);
	printf("LOD %.5f LOQ %.5f mg/L (blank sd %.3f, slope 200)\n", c.lod, c.loq, st.sd);
	CHECK_RC(mg_icp_curve_limits(&c, blanks, 1, 3, 10), MG_ERR_ARG);
}

static void test_stats_formulas(void)
{
	const double v[] = {1, 2, NAN, 3, 4};
	mg_icp_stats s;
	CHECK_RC(mg_icp_stats_compute(v, 5, &s), MG_OK);
	CHECK(s.n == 4);
	CHECK_NEAR(s.mean, 2.5, 1e-12);
	CHECK_NEAR(s.sd, 1.2909944487, 1e-9);
	CHECK_NEAR(s.rsd_pct, 51.639777949, 1e-7);
	CHECK_RC(mg_icp_stats_compute(v, 1, &s), MG_OK);
	CHECK(s.n == 1 && s.mean == 1 && isnan(s.sd));
	/* large offset: the two-pass sum keeps precision */
	const double big[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
	CHECK_RC(mg_icp_stats_compute(big, 3, &s), MG_OK);
	CHECK_NEAR(s.sd, 1.0, 1e-6);

	CHECK_NEAR(mg_icp_recovery_pct(9.5, 10), 95.0, 1e-12);
	CHECK(isnan(mg_icp_recovery_pct(1, 0)));
	CHECK_NEAR(mg_icp_spike_recovery_pct(15.2, 5.0, 10.0), 102.0, 1e-12);
	CHECK_NEAR(mg_icp_rpd_pct(10, 12), 100.0 * 2 / 11, 1e-12);
	CHECK_NEAR(mg_icp_rpd_pct(12, 10), mg_icp_rpd_pct(10, 12), 1e-15);
	CHECK(isnan(mg_icp_rpd_pct(0, 0)));
	mg_icp_limits lim = {90, 110};
	CHECK(mg_icp_judge(90, lim) == MG_ICP_PASS);
	CHECK(mg_icp_judge(110, lim) == MG_ICP_PASS);
	CHECK(mg_icp_judge(89.99, lim) == MG_ICP_FAIL);
	CHECK(mg_icp_judge(110.01, lim) == MG_ICP_FAIL);
	CHECK(mg_icp_judge(NAN, lim) == MG_ICP_NA);
	CHECK(mg_icp_judge(5, (mg_icp_limits){NAN, NAN}) == MG_ICP_NA);
	CHECK(mg_icp_judge(25, (mg_icp_limits){NAN, 20}) == MG_ICP_FAIL);
	CHECK(mg_icp_judge(-1e9, (mg_icp_limits){NAN, 20}) == MG_ICP_PASS);
}

static void test_iec(void)
{
	/* Tb apparent 1.000 mg/L with 60 mg/L Fe and 25 mg/L Nd; k_Fe = 0.002, k_Nd = 0.0004 */
	mg_icp_iec_term t[2] = {{"Fe", 0.002, 0.0001}, {"Nd", 0.0004, 0}};
	double ci[2] = {60, 25}, ui[2] = {0.6, 0.25}, c, u;
	CHECK_RC(mg_icp_iec_apply(1.0, 0.01, t, 2, ci, ui, &c, &u), MG_OK);
	CHECK_NEAR(c, 1.0 - 0.12 - 0.01, 1e-12);
	double want = sqrt(0.01 * 0.01 + pow(0.002 * 0.6, 2) + pow(60 * 0.0001, 2) + pow(0.0004 * 0.25, 2));
	CHECK_NEAR(u, want, 1e-12);
	/* the factor from a single-element solution: 1000 mg/L Fe reads 2.0 mg/L Tb */
	CHECK_NEAR(mg_icp_iec_factor(2.0, 1000), 0.002, 1e-15);
	CHECK(isnan(mg_icp_iec_factor(2.0, 0)));
	double bad[1] = {NAN};
	CHECK_RC(mg_icp_iec_apply(1.0, 0.01, t, 1, bad, NULL, &c, &u), MG_ERR_ARG);
}

static void test_intstd(void)
{
	/* a matrix that suppresses every line by 18 %: analyte and IS alike */
	double clean[3] = {10000, 10100, 9900}, is_clean[3] = {50000, 50500, 49500};
	double net[3], is[3], corr[3], rec;
	for (int i = 0; i < 3; i++) {
		net[i] = clean[i] * 0.82;
		is[i] = is_clean[i] * 0.82;
	}
	/* the IS reference is the calibration blank's mean IS: 50000 */
	CHECK_RC(mg_icp_intstd_correct(net, is, 3, 50000, corr, &rec), MG_OK);
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(corr[i], clean[i] * 50000 / is_clean[i], 1e-6);
	CHECK_NEAR(rec, 82.0, 1e-9);
	printf("IS under 18 %% suppression: recovery %.1f %%, corrected %.1f (uncorrected %.1f, true %.1f)\n", rec, corr[0],
	       net[0], clean[0]);
	is[1] = 0;
	CHECK_RC(mg_icp_intstd_correct(net, is, 3, 50000, corr, &rec), MG_ERR_ARG);
	CHECK_RC(mg_icp_intstd_correct(net, is_clean, 3, 0, corr, &rec), MG_ERR_ARG);
}

static void test_solid(void)
{
	mg_icp_digest d = {0.1000, 0.0001, 100.0, 0.1, 10.0, 0.002};
	double w, u;
	CHECK_RC(mg_icp_solid(25.0, 0.25, &d, &w, &u), MG_OK);
	CHECK_NEAR(w, 25.0, 1e-12);
	double rel = sqrt(0.01 * 0.01 + 0.001 * 0.001 + 0.001 * 0.001 + 0.002 * 0.002);
	CHECK_NEAR(u, 25.0 * rel, 1e-9);
	CHECK_NEAR(mg_icp_solution_conc(25.0, &d), 25.0, 1e-12);
	/* 1 wt% B in 0.25 g / 250 mL, ×20 */
	mg_icp_digest d2 = {0.25, 0, 250, 0, 20, 0};
	CHECK_NEAR(mg_icp_solution_conc(1.0, &d2), 0.5, 1e-12);
	CHECK_RC(mg_icp_solid(0.5, NAN, &d2, &w, NULL), MG_OK);
	CHECK_NEAR(w, 1.0, 1e-12);
	mg_icp_digest bad = {0, 0, 100, 0, 1, 0};
	CHECK_RC(mg_icp_solid(1, 0, &bad, &w, &u), MG_ERR_ARG);
	bad.mass_g = 0.1;
	bad.dilution = 0.5;
	CHECK_RC(mg_icp_solid(1, 0, &bad, &w, &u), MG_ERR_ARG);
}

int main(void)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 7);
	test_linear_known();
	test_weighted();
	test_quadratic(rng);
	test_limits();
	test_stats_formulas();
	test_iec();
	test_intstd();
	test_solid();
	gsl_rng_free(rng);
	return mg_test_finish("test_icp_calc");
}
