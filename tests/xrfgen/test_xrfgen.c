/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Self-test of the test-side generator (tests/xrfgen/xrfgen.h): each physics
 * switch does what the header says, checked against independent numbers.
 *  - the spectrum holds what the truth says (counts = line areas + escape);
 *  - PERTURBED with perturb 0 is XRAYLIB exactly; with ±10 % its factors stay
 *    inside the band, are the same for an element in every sample, and move
 *    the L-line ratios inside a family by per cents;
 *  - the escape integral matches Reed & Ware's closed form for a thick
 *    detector (docs: 0.50 % at 5.23 keV, 0.32 % at 6.40, 0.18 % at 8.05);
 *  - the scattered continuum drops above the Fe K and Nd L3 edges;
 *  - a Ni–Cu–Ni plating hides the Nd L lines and shows Ni and Cu;
 *  - the depth-resolved tube has another shape and computed anode lines;
 *  - a gain drift moves the peaks by what it should. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xraylib.h>

#include "check.h"
#include "xrfgen.h"
#include "xrg_internal.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double family_rate(const xrg_line *l, size_t n, int z, int l_family)
{
	double a = 0;
	for (size_t i = 0; i < n; i++)
		if (l[i].z == z && (l[i].shell > 0) == l_family)
			a += l[i].primary + l[i].secondary;
	return a;
}

static double line_rate(const xrg_line *l, size_t n, int z, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].z == z && strcmp(l[i].label, label) == 0)
			return l[i].primary + l[i].secondary;
	return 0;
}

static void test_truth(void)
{
	xrg_config c;
	xrg_config_default(&c);
	c.flags = XRG_NO_SCATTER | XRG_NO_PILEUP;
	xrg_gen *g = NULL;
	CHECK(xrg_new(&c, &g) == 0);
	if (!g)
		return;
	xrg_sample s;
	xrg_sample_pure(&s, 26);
	double *y = calloc((size_t)c.nchan, sizeof(double)), t0 = now();
	xrg_truth t;
	CHECK(xrg_expected(g, &s, 100, y, &t) == 0);
	double sum = 0;
	for (int k = 0; k < c.nchan; k++)
		sum += y[k];
	/* lines only: the spectrum is the K area plus its escape (tails below 0 keV aside) */
	xrg_line *ln = NULL;
	size_t n = 0;
	CHECK(xrg_lines(g, &s, &ln, &n) == 0);
	double det = 0;
	for (size_t i = 0; i < n; i++)
		det += (ln[i].primary + ln[i].secondary) * xrg_efficiency(g, ln[i].e) * 100;
	double area = xrg_truth_area(&t, 26, 'K');
	printf("pure Fe, 100 s: %.4g counts, K area %.4g, detected %.4g (%.2f s)\n", sum, area, det, now() - t0);
	CHECK_MSG(fabs(sum / det - 1) < 0.01, "spectrum %.5g vs lines %.5g", sum, det);
	CHECK(area < det && area > 0.99 * det);
	/* the Fe Kα peak where the calibration puts it */
	int kmax = 0;
	for (int k = 1; k < c.nchan; k++)
		if (y[k] > y[kmax])
			kmax = k;
	CHECK_MSG(abs(kmax - 320) <= 1, "Fe Ka at channel %d", kmax);
	/* a gain drift of +0.3 %: the centroid moves by 0.3 % of its channel */
	double c1 = 0, w1 = 0, c2 = 0, w2 = 0;
	for (int k = 300; k < 340; k++) {
		c1 += k * y[k];
		w1 += y[k];
	}
	xrg_set_calibration(g, 0, c.gain * 1.003, 0);
	CHECK(xrg_expected(g, &s, 100, y, NULL) == 0);
	for (int k = 300; k < 340; k++) {
		c2 += k * y[k];
		w2 += y[k];
	}
	printf("gain +0.3 %%: Fe Ka centroid %.3f -> %.3f\n", c1 / w1, c2 / w2);
	CHECK_NEAR(c2 / w2 - c1 / w1, -0.003 / 1.003 * c1 / w1, 0.05);
	free(ln);
	free(y);
	xrg_free(g);
}

static void test_perturbed(void)
{
	xrg_config c;
	xrg_config_default(&c);
	xrg_gen *gx = NULL, *g0 = NULL, *gp = NULL, *gq = NULL;
	CHECK(xrg_new(&c, &gx) == 0);
	c.data = XRG_DATA_PERTURBED;
	c.perturb = 0;
	CHECK(xrg_new(&c, &g0) == 0);
	c.perturb = 0.10;
	CHECK(xrg_new(&c, &gp) == 0);
	c.seed = 2;
	CHECK(xrg_new(&c, &gq) == 0);
	if (!gx || !g0 || !gp || !gq)
		return;
	xrg_sample s;
	xrg_sample_magnet(&s, "m", 23, 6, 2, 0.8, 1);
	xrg_line *lx, *l0, *lp, *lq;
	size_t nx, n0, np, nq;
	double t0 = now();
	CHECK(xrg_lines(gx, &s, &lx, &nx) == 0);
	printf("magnet lines (xraylib): %zu lines, %.2f s\n", nx, now() - t0);
	CHECK(xrg_lines(g0, &s, &l0, &n0) == 0);
	CHECK(xrg_lines(gp, &s, &lp, &np) == 0);
	CHECK(xrg_lines(gq, &s, &lq, &nq) == 0);
	CHECK(nx == n0);
	double worst0 = 0;
	for (size_t i = 0; i < nx && i < n0; i++)
		worst0 = fmax(worst0, fabs(l0[i].primary + l0[i].secondary - lx[i].primary - lx[i].secondary) /
		                          (lx[i].primary + lx[i].secondary));
	printf("perturb 0 vs xraylib: worst relative difference %.2e\n", worst0);
	CHECK(worst0 < 1e-12);
	/* the factors: inside ±10 %, deterministic, varied */
	double lo = 2, hi = 0;
	for (int l = L3M1_LINE; l >= L3Q1_LINE; l--) {
		double f = xrg_perturb_factor(gp, 60, 1, l);
		lo = fmin(lo, f);
		hi = fmax(hi, f);
		CHECK(f == xrg_perturb_factor(gp, 60, 1, l));
	}
	printf("Nd L3 rate factors: %.3f .. %.3f\n", lo, hi);
	CHECK(lo >= 0.9 && hi <= 1.1 && hi - lo > 0.05);
	CHECK(xrg_perturb_factor(gx, 60, 1, L3M5_LINE) == 1);
	/* line ratios inside the Nd and Pr L families move by per cents */
	static const char *const lab[] = {"L2M4", "L3N5", "L2N4", "L3M1"};
	int moved = 0;
	for (int z = 59; z <= 60; z++)
		for (int i = 0; i < 4; i++) {
			double rx = line_rate(lx, nx, z, lab[i]) / line_rate(lx, nx, z, "L3M5");
			double rp = line_rate(lp, np, z, lab[i]) / line_rate(lp, np, z, "L3M5");
			double rq = line_rate(lq, nq, z, lab[i]) / line_rate(lq, nq, z, "L3M5");
			printf("  Z %d %s/L3M5: xraylib %.4f, seed 1 %+.1f %%, seed 2 %+.1f %%\n", z, lab[i], rx,
			       100 * (rp / rx - 1), 100 * (rq / rx - 1));
			CHECK(fabs(rp / rx - 1) < 0.45);
			moved += fabs(rp / rx - 1) > 0.01;
		}
	CHECK(moved >= 4);
	/* the same element in another sample gets the same data: a pure Nd standard */
	xrg_sample pure;
	xrg_sample_pure(&pure, 60);
	xrg_line *a, *b;
	size_t na, nb;
	CHECK(xrg_lines(gp, &pure, &a, &na) == 0);
	CHECK(xrg_lines(gx, &pure, &b, &nb) == 0);
	double ra = line_rate(a, na, 60, "L2M4") / line_rate(a, na, 60, "L3M5");
	double rb = line_rate(b, nb, 60, "L2M4") / line_rate(b, nb, 60, "L3M5");
	double rm = line_rate(lp, np, 60, "L2M4") / line_rate(lp, np, 60, "L3M5");
	double rmx = line_rate(lx, nx, 60, "L2M4") / line_rate(lx, nx, 60, "L3M5");
	printf("Nd Lb1/La perturbed/xraylib: pure Nd %.4f, magnet %.4f\n", ra / rb, rm / rmx);
	CHECK(fabs(ra / rb - rm / rmx) < 0.03); /* same data; only the matrix differs */
	free(a);
	free(b);
	free(lx);
	free(l0);
	free(lp);
	free(lq);
	xrg_free(gx);
	xrg_free(g0);
	xrg_free(gp);
	xrg_free(gq);
}

static void test_escape(void)
{
	xrg_config c;
	xrg_config_default(&c);
	c.det.si_mm = 5; /* thick: Reed & Ware's assumption */
	xrg_gen *g = NULL;
	CHECK(xrg_new(&c, &g) == 0);
	if (!g)
		return;
	static const double e[3] = {5.23, 6.40, 8.05}, rw[3] = {0.0050, 0.0032, 0.0018};
	for (int i = 0; i < 3; i++) {
		double pa, pb;
		xrg_escape(g, e[i], &pa, &pb);
		printf("escape at %.2f keV: Ka %.4f %%, Kb %.4f %% (Reed & Ware Ka %.2f %%)\n", e[i], 100 * pa, 100 * pb,
		       100 * rw[i]);
		CHECK_MSG(fabs(pa / rw[i] - 1) < 0.12, "escape %.5f vs %.5f", pa, rw[i]);
		CHECK(pb > 0.005 * pa && pb < 0.1 * pa);
	}
	xrg_free(g);
}

static void test_scatter_edges(void)
{
	xrg_config c;
	xrg_config_default(&c);
	xrg_gen *g = NULL;
	CHECK(xrg_new(&c, &g) == 0);
	if (!g)
		return;
	xrg_sample s;
	xrg_sample_magnet(&s, "m", 23, 6, 2, 0.8, 1);
	size_t nh = 2050;
	double *h = calloc(nh, sizeof(double)), t0 = now();
	CHECK(xrg_scatter(g, &s, h, nh, XRG_SCATTER_BIN) == 0);
	printf("scatter: %.2f s\n", now() - t0);
	/* 80 eV just below and just above an edge */
	static const double edge[2] = {7.112, 6.208};
	static const char *const name[2] = {"Fe K", "Nd L3"};
	for (int i = 0; i < 2; i++) {
		double below = 0, above = 0;
		int kb = (int)(edge[i] / XRG_SCATTER_BIN);
		for (int k = 0; k < 4; k++) {
			below += h[kb - 2 - k];
			above += h[kb + 2 + k];
		}
		printf("scattered continuum across the %s edge: %.4g -> %.4g (x %.3f)\n", name[i], below, above,
		       above / below);
		CHECK_MSG(above < (i ? 0.97 : 0.85) * below, "no %s edge in the scatter", name[i]);
	}
	free(h);
	xrg_free(g);
}

static void test_coating(void)
{
	xrg_config c;
	xrg_config_default(&c);
	xrg_gen *g = NULL;
	CHECK(xrg_new(&c, &g) == 0);
	if (!g)
		return;
	xrg_sample bare, plated;
	xrg_sample_magnet(&bare, "bare", 23, 6, 2, 0.8, 1);
	plated = bare;
	CHECK(xrg_sample_coat(&plated, 28, 5) == 0);
	CHECK(xrg_sample_coat(&plated, 29, 10) == 0);
	CHECK(xrg_sample_coat(&plated, 28, 5) == 0);
	CHECK(plated.nlayers == 4 && xrg_sample_wt(&plated, 60) == xrg_sample_wt(&bare, 60));
	xrg_line *a, *b;
	size_t na, nb;
	CHECK(xrg_lines(g, &bare, &a, &na) == 0);
	CHECK(xrg_lines(g, &plated, &b, &nb) == 0);
	double nd0 = family_rate(a, na, 60, 1), nd1 = family_rate(b, nb, 60, 1);
	double fe0 = family_rate(a, na, 26, 0), fe1 = family_rate(b, nb, 26, 0);
	double ni = family_rate(b, nb, 28, 0), cu = family_rate(b, nb, 29, 0);
	printf("Ni 5 / Cu 10 / Ni 5 um plating: Nd L x %.2e, Fe K x %.2e, Ni K %.3g, Cu K %.3g (Fe K bare %.3g)\n",
	       nd1 / nd0, fe1 / fe0, ni, cu, fe0);
	CHECK(nd1 < 0.02 * nd0 && fe1 < 0.05 * fe0 && ni > fe0 && cu > 0);
	/* the top Ni layer shines more than the one under the copper */
	double top = 0, deep = 0;
	for (size_t i = 0; i < nb; i++)
		if (b[i].z == 28)
			*(b[i].layer == 0 ? &top : &deep) += b[i].primary + b[i].secondary;
	CHECK(top > 3 * deep && deep > 0);
	free(a);
	free(b);
	xrg_free(g);
}

static void test_depth_tube(void)
{
	xrg_config c;
	xrg_config_default(&c);
	enum { MAXB = 4096 };
	static double ek[MAXB], nk[MAXB], ed[MAXB], nd[MAXB];
	static int lk[MAXB], ld[MAXB];
	xrg_gen *gk = NULL, *gd = NULL;
	CHECK(xrg_new(&c, &gk) == 0);
	c.tube.model = XRG_TUBE_DEPTH;
	CHECK(xrg_new(&c, &gd) == 0);
	if (!gk || !gd)
		return;
	size_t n1 = xrg_beam(gk, 0.1, ek, nk, lk, MAXB), n2 = xrg_beam(gd, 0.1, ed, nd, ld, MAXB);
	CHECK(n1 > 300 && n1 < MAXB && n2 > 300 && n2 < MAXB);
	double k10 = 0, k30 = 0, d10 = 0, d30 = 0, rh_k = 0, rh_d = 0;
	for (size_t i = 0; i < n1; i++) {
		if (!lk[i] && fabs(ek[i] - 10.05) < 0.01)
			k10 = nk[i];
		if (!lk[i] && fabs(ek[i] - 30.05) < 0.01)
			k30 = nk[i];
		if (lk[i] && fabs(ek[i] - 20.216) < 0.01)
			rh_k = nk[i];
	}
	for (size_t i = 0; i < n2; i++) {
		if (!ld[i] && fabs(ed[i] - 10.05) < 0.01)
			d10 = nd[i];
		if (!ld[i] && fabs(ed[i] - 30.05) < 0.01)
			d30 = nd[i];
		if (ld[i] && fabs(ed[i] - 20.216) < 0.01)
			rh_d = nd[i];
	}
	printf("tube beam, photons/s per 0.1 keV: Kramers 10 keV %.3g, 30 keV %.3g, Rh Ka1 %.3g; depth %.3g, %.3g, %.3g\n",
	       k10, k30, rh_k, d10, d30, rh_d);
	CHECK(d10 > 0.3 * k10 && d10 < 3 * k10);
	CHECK(fabs((d10 / d30) / (k10 / k30) - 1) > 0.05); /* another shape */
	CHECK(rh_d > rh_k / 4 && rh_d < 4 * rh_k);
	/* a filter takes the low energies */
	c.tube.filter_z = 13;
	c.tube.filter_um = 100;
	xrg_gen *gf = NULL;
	CHECK(xrg_new(&c, &gf) == 0);
	if (gf) {
		size_t n3 = xrg_beam(gf, 0.1, ed, nk, ld, MAXB);
		double f5 = 0, f30 = 0, u5 = 0;
		for (size_t i = 0; i < n3; i++) {
			if (!ld[i] && fabs(ed[i] - 5.05) < 0.01)
				f5 = nk[i];
			if (!ld[i] && fabs(ed[i] - 30.05) < 0.01)
				f30 = nk[i];
		}
		n2 = xrg_beam(gd, 0.1, ed, nd, ld, MAXB);
		for (size_t i = 0; i < n2; i++)
			if (!ld[i] && fabs(ed[i] - 5.05) < 0.01)
				u5 = nd[i];
		printf("Al 100 um filter: 5 keV x %.3f, 30 keV x %.3f\n", f5 / u5, f30 / d30);
		CHECK(f5 < 0.5 * u5 && f30 > 0.95 * d30);
		xrg_free(gf);
	}
	xrg_free(gk);
	xrg_free(gd);
}

int main(void)
{
	test_truth();
	test_perturbed();
	test_escape();
	test_scatter_edges();
	test_coating();
	test_depth_tube();
	return mg_test_finish("test_xrfgen");
}
