/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tube spectrum (Ebel): the reference's checked numbers (xrf-physics.md §1.2–1.3),
 * window/filter/air transmission, and the discretised beam. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

#define REL(a, b) (fabs((a) / (b)-1.0))

static mg_xrf_tube rh40(void)
{
	mg_xrf_tube t = {.anode = "Rh", .kv = 40, .current_ua = 1000, .be_window_um = 125,
	                 .electron_angle_deg = 75, .takeoff_angle_deg = 15, .line_constant = 6e13};
	return t;
}

static double line_intensity(const mg_xrf_tube_line *tl, int n, int line)
{
	for (int i = 0; i < n; i++)
		if (tl[i].line == line)
			return tl[i].intensity;
	return 0.0;
}

int main(void)
{
	mg_xrf_tube t = rh40();

	/* continuum, photons/(s·sr·mA·keV): reference 1.28e11 (10 keV), 5.8e10 (20 keV) */
	double c10 = mg_xrf_tube_continuum(&t, 10.0), c20 = mg_xrf_tube_continuum(&t, 20.0);
	CHECK_MSG(REL(c10, 1.28e11) < 0.10, "continuum(10 keV) = %.4g", c10);
	CHECK_MSG(REL(c20, 5.8e10) < 0.10, "continuum(20 keV) = %.4g", c20);
	CHECK(mg_xrf_tube_continuum(&t, 40.0) == 0.0);
	CHECK(mg_xrf_tube_continuum(&t, 45.0) == 0.0);
	CHECK(mg_xrf_tube_continuum(&t, 39.9) > 0.0);
	/* the anode's K edge (23.22 keV) cuts the continuum just above it */
	CHECK(mg_xrf_tube_continuum(&t, 23.3) < 0.9 * mg_xrf_tube_continuum(&t, 23.1));

	/* anode lines, photons/(s·sr·mA): KL3 1.45e11, KL2 7.7e10, KM3 2.6e10 */
	mg_xrf_tube_line tl[128];
	int n = mg_xrf_tube_lines(&t, tl, 128);
	CHECK(n > 5 && n <= 128);
	double kl3 = line_intensity(tl, n, -3), kl2 = line_intensity(tl, n, -2);
	double km3 = line_intensity(tl, n, -6);
	CHECK_MSG(REL(kl3, 1.45e11) < 0.10, "Rh KL3 = %.4g", kl3);
	CHECK_MSG(REL(kl2, 7.7e10) < 0.10, "Rh KL2 = %.4g", kl2);
	CHECK_MSG(REL(km3, 2.6e10) < 0.10, "Rh KM3 = %.4g", km3);
	/* L lines exist (Rh Lα 2.697 keV) */
	double la = line_intensity(tl, n, -90);
	CHECK_MSG(la > 0, "Rh L3M5 = %g", la);
	/* counting mode: NULL array gives the count */
	CHECK(mg_xrf_tube_lines(&t, NULL, 0) == n);

	/* xmimsim's C = 5e13 scales K lines by 5/6, not L lines */
	mg_xrf_tube t5 = t;
	t5.line_constant = 5e13;
	mg_xrf_tube_line tl5[128];
	int n5 = mg_xrf_tube_lines(&t5, tl5, 128);
	CHECK_NEAR(line_intensity(tl5, n5, -3) / kl3, 5.0 / 6.0, 1e-9);
	CHECK_NEAR(line_intensity(tl5, n5, -90) / la, 1.0, 1e-12);

	/* below the K edge voltage no K lines */
	mg_xrf_tube t20 = t;
	t20.kv = 20;
	n5 = mg_xrf_tube_lines(&t20, tl5, 128);
	CHECK(n5 > 0 && line_intensity(tl5, n5, -3) == 0.0);

	/* window: Be 125 µm transmits 0.18 at 2 keV (reference §1.2) */
	mg_xrf_tube nowin = t;
	nowin.be_window_um = 0;
	double tw = mg_xrf_tube_continuum(&t, 2.0) / mg_xrf_tube_continuum(&nowin, 2.0);
	CHECK_MSG(fabs(tw - 0.18) < 0.01, "Be 125 um at 2 keV transmits %.4f", tw);
	/* filter: 100 µm Al strongly cuts 5 keV, much less 20 keV */
	mg_xrf_tube filt = t;
	memcpy(filt.filter, "Al", 3);
	filt.filter_um = 100;
	double f5 = mg_xrf_tube_continuum(&filt, 5) / mg_xrf_tube_continuum(&t, 5);
	double f20 = mg_xrf_tube_continuum(&filt, 20) / mg_xrf_tube_continuum(&t, 20);
	CHECK_MSG(f5 < 0.1 && f20 > 0.9, "Al filter: T(5) %.3g, T(20) %.3g", f5, f20);

	/* air: 1 cm transmits 0.39 at 1.74 keV, 0.95 at 5.23 keV */
	double a1 = mg_xrf_atmosphere_transmission(MG_XRF_AIR, 10, 1.74);
	double a5 = mg_xrf_atmosphere_transmission(MG_XRF_AIR, 10, 5.23);
	CHECK_MSG(fabs(a1 - 0.39) < 0.02, "air 1 cm at 1.74 keV: %.4f", a1);
	CHECK_MSG(fabs(a5 - 0.95) < 0.01, "air 1 cm at 5.23 keV: %.4f", a5);
	CHECK(mg_xrf_atmosphere_transmission(MG_XRF_VACUUM, 10, 1.74) == 1.0);
	CHECK(mg_xrf_atmosphere_transmission(MG_XRF_HELIUM, 10, 1.74) > 0.99);

	/* discretised beam: continuum bins integrate the continuum, lines follow */
	mg_xrf_geometry g = {.incidence_deg = 45, .takeoff_deg = 45, .beam_sr = 1e-3,
	                     .det_area_mm2 = 25, .det_distance_mm = 20, .atmosphere = MG_XRF_VACUUM};
	mg_xrf_beam *b = NULL;
	CHECK_RC(mg_xrf_beam_new(&t, &g, 0.05, &b), 0);
	if (b) {
		CHECK(b->ncont > 700 && b->ncont < b->n);
		double sum = 0, ref = 0;
		for (size_t i = 0; i < b->ncont; i++) {
			CHECK(b->width_kev[i] > 0.049 && b->width_kev[i] < 0.051);
			if (b->energy_kev[i] > 10 && b->energy_kev[i] < 20)
				sum += b->flux[i];
		}
		/* trapezoid reference over [10, 20] keV, ×1e-3 mA/µA × 1e-3 sr */
		for (int k = 0; k < 1000; k++)
			ref += mg_xrf_tube_continuum(&t, 10.0 + (k + 0.5) * 0.01) * 0.01;
		ref *= 1e-3 * 1e-3;
		CHECK_MSG(REL(sum, ref) < 0.01, "beam 10-20 keV %.5g vs %.5g", sum, ref);
		int found = 0;
		for (size_t i = b->ncont; i < b->n; i++)
			if (fabs(b->energy_kev[i] - 20.216) < 0.001) {
				found = 1;
				CHECK_MSG(REL(b->flux[i], kl3 * 1e-6) < 1e-9, "beam KL3 %g", b->flux[i]);
				CHECK(b->width_kev[i] == 0.0);
			}
		CHECK(found);
		mg_xrf_beam_free(b);
	}

	/* errors */
	mg_xrf_tube bad = t;
	memcpy(bad.anode, "Xx", 3);
	CHECK(mg_xrf_tube_lines(&bad, tl, 128) == MG_ERR_ARG);
	CHECK(mg_xrf_tube_continuum(&bad, 10) == 0.0);
	b = (mg_xrf_beam *)1;
	CHECK_RC(mg_xrf_beam_new(&bad, &g, 0.05, &b), MG_ERR_ARG);
	CHECK(b == NULL);
	bad = t;
	bad.kv = 0.5;
	CHECK_RC(mg_xrf_beam_new(&bad, &g, 0.05, &b), MG_ERR_ARG);
	/* lower-case symbols are accepted */
	mg_xrf_tube lc = t;
	memcpy(lc.anode, "rh", 3);
	CHECK_NEAR(mg_xrf_tube_continuum(&lc, 10) / c10, 1.0, 1e-12);

	return mg_test_finish("test_xrfsim_tube");
}
