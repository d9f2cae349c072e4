/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The generator's fisx mode (XRG_DATA_FISX): PyMca's fisx computes the line
 * intensities through tests/xrfgen/fisx_lines.py run with /usr/bin/python3.
 * Skips (77) with the reason when python3-fisx is absent.
 *  - family totals agree with the xraylib mode within what two data libraries
 *    and two secondary-fluorescence codes may differ by (Fe K 10 %, Nd L 15 %);
 *  - the line ratios inside the Nd L family differ from xraylib's (another
 *    library: that is the point), line energies agree within 5 eV;
 *  - secondary fluorescence of Nd L3 by Fe K is there, of the same size;
 *  - a Ni–Cu plating attenuates the substrate's lines as xraylib's mode does (fisx's multilayer);
 *  - an unprepared sample runs fisx again; the expected spectrum has Nd L. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "xrfgen.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double family(const xrg_line *l, size_t n, int z, int l_family, double *sec)
{
	double a = 0, s = 0;
	for (size_t i = 0; i < n; i++)
		if (l[i].z == z && (l[i].shell > 0) == l_family) {
			a += l[i].primary + l[i].secondary;
			s += l[i].secondary;
		}
	if (sec)
		*sec = s;
	return a;
}

static const xrg_line *find(const xrg_line *l, size_t n, int z, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].z == z && strcmp(l[i].label, label) == 0)
			return &l[i];
	return NULL;
}

int main(void)
{
	xrg_config c;
	xrg_config_default(&c);
	c.data = XRG_DATA_FISX;
	xrg_gen *g = NULL, *gx = NULL;
	double t0 = now();
	int rc = xrg_new(&c, &g);
	if (rc == XRG_SKIP)
		mg_test_skip(xrg_error());
	CHECK_MSG(rc == 0, "%s", xrg_error());
	c.data = XRG_DATA_XRAYLIB;
	CHECK(xrg_new(&c, &gx) == 0);
	if (!g || !gx)
		return mg_test_finish("test_xrfgen_fisx");
	enum { FE, ND, MAG, COATED, NS };
	xrg_sample s[NS + 1];
	xrg_sample_pure(&s[FE], 26);
	xrg_sample_pure(&s[ND], 60);
	xrg_sample_magnet(&s[MAG], "magnet", 23, 6, 2, 0.8, 1);
	s[COATED] = s[FE]; /* a plated iron: fisx's interlayer terms are slow on a magnet */
	CHECK(xrg_sample_coat(&s[COATED], 29, 5) == 0);
	CHECK(xrg_sample_coat(&s[COATED], 28, 5) == 0);
	rc = xrg_prepare(g, s, NS);
	CHECK_MSG(rc == 0, "%s", xrg_error());
	printf("fisx: %d samples in %.1f s\n", NS, now() - t0);
	xrg_line *lf[NS], *lx[NS];
	size_t nf[NS], nx[NS];
	for (int i = 0; i < NS; i++) {
		CHECK_MSG(xrg_lines(g, &s[i], &lf[i], &nf[i]) == 0, "%s", xrg_error());
		CHECK(xrg_lines(gx, &s[i], &lx[i], &nx[i]) == 0);
	}
	double fe_f = family(lf[FE], nf[FE], 26, 0, NULL), fe_x = family(lx[FE], nx[FE], 26, 0, NULL);
	double nd_f = family(lf[ND], nf[ND], 60, 1, NULL), nd_x = family(lx[ND], nx[ND], 60, 1, NULL);
	printf("pure Fe K: fisx/xraylib %.4f; pure Nd L: %.4f (%zu fisx lines, %zu xraylib)\n", fe_f / fe_x,
	       nd_f / nd_x, nf[ND], nx[ND]);
	CHECK(fabs(fe_f / fe_x - 1) < 0.10);
	CHECK(fabs(nd_f / nd_x - 1) < 0.15);
	/* line ratios inside the Nd L family of the magnet */
	static const char *const lab[] = {"L2M4", "L3N5", "L2N4", "L3M1", "L1M3"};
	const xrg_line *af = find(lf[MAG], nf[MAG], 60, "L3M5"), *ax = find(lx[MAG], nx[MAG], 60, "L3M5");
	CHECK(af && ax);
	int differ = 0;
	for (int i = 0; i < 5 && af && ax; i++) {
		const xrg_line *bf = find(lf[MAG], nf[MAG], 60, lab[i]), *bx = find(lx[MAG], nx[MAG], 60, lab[i]);
		CHECK(bf && bx);
		if (!bf || !bx)
			continue;
		double rf = (bf->primary + bf->secondary) / (af->primary + af->secondary);
		double rx = (bx->primary + bx->secondary) / (ax->primary + ax->secondary);
		printf("  Nd %s/L3M5 in the magnet: fisx %.4f, xraylib %.4f (%+.1f %%); E %.4f vs %.4f keV\n", lab[i], rf,
		       rx, 100 * (rf / rx - 1), bf->e, bx->e);
		CHECK(fabs(bf->e - bx->e) < 0.005);
		differ += fabs(rf / rx - 1) > 0.02;
	}
	CHECK(differ >= 1);
	double sf, sx;
	double mf = family(lf[MAG], nf[MAG], 60, 1, &sf), mx = family(lx[MAG], nx[MAG], 60, 1, &sx);
	printf("magnet Nd L: fisx/xraylib %.4f, secondary share fisx %.3f, xraylib %.3f\n", mf / mx, sf / mf, sx / mx);
	CHECK(sf / mf > 0.05 && sf / mf < 0.5 && fabs(sf / mf - sx / mx) < 0.1);
	double fe_bare = family(lf[FE], nf[FE], 26, 0, NULL), fe_coat = family(lf[COATED], nf[COATED], 26, 0, NULL);
	double fe_coat_x = family(lx[COATED], nx[COATED], 26, 0, NULL) / family(lx[FE], nx[FE], 26, 0, NULL);
	double ni = family(lf[COATED], nf[COATED], 28, 0, NULL), ni_x = family(lx[COATED], nx[COATED], 28, 0, NULL);
	printf("iron under Ni 5 / Cu 5 um: Fe K x %.3g (xraylib mode x %.3g), Ni K fisx/xraylib %.3f\n",
	       fe_coat / fe_bare, fe_coat_x, ni / ni_x);
	/* the attenuation agrees; fisx adds Ni K -> Fe K interlayer secondary, xraylib's mode does not */
	CHECK(fe_coat / fe_bare > 0.9 * fe_coat_x && fe_coat / fe_bare < 1.5 * fe_coat_x);
	CHECK(fabs(ni / ni_x - 1) < 0.15);
	/* not prepared: one more run of fisx */
	xrg_sample_pure(&s[NS], 65);
	xrg_line *tb = NULL;
	size_t ntb = 0;
	t0 = now();
	CHECK_MSG(xrg_lines(g, &s[NS], &tb, &ntb) == 0, "%s", xrg_error());
	printf("pure Tb on its own: %zu lines in %.1f s\n", ntb, now() - t0);
	CHECK(ntb > 10 && family(tb, ntb, 65, 1, NULL) > 0);
	free(tb);
	double *y = malloc((size_t)c.nchan * sizeof(double));
	xrg_truth t;
	CHECK(xrg_expected(g, &s[MAG], 100, y, &t) == 0);
	CHECK(xrg_truth_area(&t, 60, 'L') > 0 && xrg_truth_area(&t, 65, 'L') > 0);
	free(y);
	for (int i = 0; i < NS; i++) {
		free(lf[i]);
		free(lx[i]);
	}
	xrg_free(g);
	xrg_free(gx);
	return mg_test_finish("test_xrfgen_fisx");
}
