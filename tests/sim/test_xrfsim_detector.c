/* SPDX-License-Identifier: GPL-3.0-or-later */
/* SDD response: resolution, efficiency, Si escape (xrf-physics.md §3.1–3.4
 * numbers), and the channel-integrated line shape (conservation, centroid,
 * width, escape peak position and area). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

static mg_xrf_detector sdd(void)
{
	mg_xrf_detector d = {.be_um = 12.5, .dead_layer_um = 0.1, .thickness_mm = 0.45,
	                     .noise_fwhm_kev = 0.08, .fano = 0.114, .tail_fraction = 0.02,
	                     .tail_slope_kev = 0.5, .step_height = 2e-4, .lld_kev = 0.0,
	                     .dead_time_us = 5, .pileup_us = 0.25};
	return d;
}

/* FWHM of a sampled peak by linear interpolation at half maximum. */
static double measured_fwhm(const double *y, int n, const mg_xrf_axis *ax, int *peak)
{
	int k = 0;
	for (int i = 1; i < n; i++)
		if (y[i] > y[k])
			k = i;
	double h = y[k] / 2;
	int a = k, b = k;
	while (a > 0 && y[a] > h)
		a--;
	while (b < n - 1 && y[b] > h)
		b++;
	double ea = a + (h - y[a]) / (y[a + 1] - y[a]);
	double eb = b - (h - y[b]) / (y[b - 1] - y[b]);
	*peak = k;
	return (eb - ea) * ax->gain_kev;
}

int main(void)
{
	mg_xrf_detector d = sdd();

	/* resolution, reference §3.2: 103 (1.74), 138 (5.23), 144 (5.9), 148 (6.40), 235 eV (20) */
	CHECK_NEAR(mg_xrf_detector_fwhm(&d, 1.74) * 1000, 103, 2);
	CHECK_NEAR(mg_xrf_detector_fwhm(&d, 5.23) * 1000, 138, 2);
	CHECK_NEAR(mg_xrf_detector_fwhm(&d, 5.9) * 1000, 144, 2);
	CHECK_NEAR(mg_xrf_detector_fwhm(&d, 6.40) * 1000, 148, 2);
	CHECK_NEAR(mg_xrf_detector_fwhm(&d, 20.0) * 1000, 235, 2);

	/* efficiency, reference §3.1 (Be 12.5 µm, 0.1 µm dead layer, 450 µm) */
	static const struct {
		double e, eff, tol;
	} eff[] = {{1.0, 0.24, 0.02}, {1.74, 0.76, 0.02}, {3.0, 0.93, 0.02}, {6.4, 0.99, 0.02},
	           {10.0, 0.97, 0.02}, {20.0, 0.35, 0.02}, {30.0, 0.12, 0.01}, {37.2, 0.06, 0.01}};
	for (size_t i = 0; i < sizeof eff / sizeof eff[0]; i++) {
		double v = mg_xrf_detector_efficiency(&d, eff[i].e);
		CHECK_MSG(fabs(v - eff[i].eff) <= eff[i].tol, "efficiency(%g keV) = %.4f, want %.2f",
		          eff[i].e, v, eff[i].eff);
	}
	/* 1 mm Si roughly doubles the high-energy efficiency */
	mg_xrf_detector thick = d;
	thick.thickness_mm = 1.0;
	double r30 = mg_xrf_detector_efficiency(&thick, 30) / mg_xrf_detector_efficiency(&d, 30);
	CHECK_MSG(r30 > 1.8 && r30 < 2.3, "1 mm / 0.45 mm at 30 keV: %.3f", r30);

	/* escape, reference §3.3: 0.50 % (5.23 keV), 0.32 % (6.40), 0.18 % (8.05), 0.02 % (17.5) */
	double kb;
	double ka = mg_xrf_escape_fraction(5.23, &kb);
	CHECK_MSG(fabs((ka + kb) / 0.0050 - 1) < 0.15, "escape(5.23) = %.4f %%", 100 * (ka + kb));
	CHECK_MSG(ka / kb > 25 && ka / kb < 45, "Si Ka/Kb escape ratio %.1f", ka / kb);
	ka = mg_xrf_escape_fraction(6.40, &kb);
	double esc640 = ka + kb;
	CHECK_MSG(fabs(esc640 / 0.0032 - 1) < 0.15, "escape(6.40) = %.4f %%", 100 * esc640);
	ka = mg_xrf_escape_fraction(8.05, &kb);
	CHECK_MSG(fabs((ka + kb) / 0.0018 - 1) < 0.15, "escape(8.05) = %.4f %%", 100 * (ka + kb));
	ka = mg_xrf_escape_fraction(17.5, &kb);
	CHECK_MSG(fabs((ka + kb) / 0.0002 - 1) < 0.25, "escape(17.5) = %.5f %%", 100 * (ka + kb));
	CHECK(mg_xrf_escape_fraction(1.80, &kb) == 0.0 && kb == 0.0);
	CHECK(mg_xrf_escape_fraction(1.85, NULL) > 0.0);

	/* a single 6.40 keV line through the response, pure Gaussian, fine axis */
	mg_xrf_axis fine = {.nchan = 4096, .offset_kev = 0.0, .gain_kev = 0.0025};
	double *y = calloc(8192, sizeof(double));
	double above = -1;
	mg_xrf_peak pk = {6.40, 1000.0, 0.0};
	CHECK_RC(mg_xrf_detector_response(&d, &fine, &pk, 1, MG_XRFSIM_NO_TAIL, y, &above), 0);
	double total = 0, esc = 0;
	for (int i = 0; i < fine.nchan; i++) {
		double e = fine.offset_kev + fine.gain_kev * i;
		total += y[i];
		if (fabs(e - (6.40 - 1.740)) < 0.3)
			esc += y[i];
	}
	double want = 1000.0 * mg_xrf_detector_efficiency(&d, 6.40);
	CHECK_MSG(fabs(total / want - 1) < 1e-6, "detected %.6g of %.6g", total, want);
	CHECK(above >= 0 && above < 1e-9);
	int k;
	double w = measured_fwhm(y, fine.nchan, &fine, &k);
	CHECK_MSG(fabs(w * 1000 - 148) < 2, "measured FWHM %.2f eV", w * 1000);
	CHECK_NEAR(fine.gain_kev * k, 6.40, 0.0025);
	/* escape peak at E − 1.740 keV holding the escape fraction (the parent lost it) */
	CHECK_MSG(fabs(esc / want / esc640 - 1) < 0.02, "escape area %.4g vs %.4g", esc / want, esc640);
	int ke = (int)lround((6.40 - 1.740) / fine.gain_kev);
	CHECK(y[ke] > y[ke - 20] && y[ke] > y[ke + 20]);
	/* without escape the parent keeps everything */
	double *y2 = calloc(8192, sizeof(double));
	CHECK_RC(mg_xrf_detector_response(&d, &fine, &pk, 1, MG_XRFSIM_NO_TAIL | MG_XRFSIM_NO_ESCAPE, y2,
	                                  NULL), 0);
	CHECK_NEAR(y2[k] / y[k], 1.0 / (1.0 - esc640), 1e-3);

	/* with tail and step: still conserved (the step runs to 0 keV), the tail
	 * puts counts on the low side only, the peak stays at 6.40 */
	CHECK_RC(mg_xrf_detector_response(&d, &fine, &pk, 1, 0, y2, &above), 0);
	double t2 = 0, low = 0, high = 0;
	for (int i = 0; i < fine.nchan; i++) {
		double e = fine.gain_kev * i;
		t2 += y2[i];
		if (e > 5.4 && e < 6.0)
			low += y2[i];
		if (e > 6.8 && e < 7.4)
			high += y2[i];
	}
	CHECK_MSG(fabs((t2 + above) / want - 1) < 2e-3, "with tail/step: %.6g of %.6g", t2 + above, want);
	CHECK_MSG(low > 100 * high && low / want > 0.005 && low / want < 0.02,
	          "tail 5.4-6.0 keV %.4g, 6.8-7.4 keV %.4g", low / want, high / want);
	measured_fwhm(y2, fine.nchan, &fine, &k);
	CHECK_NEAR(fine.gain_kev * k, 6.40, 0.0025);

	/* channel centres: with offset −0.1 keV and 0.01 keV/ch the peak is at ch 650 */
	mg_xrf_axis off = {.nchan = 1024, .offset_kev = -0.1, .gain_kev = 0.01};
	CHECK_RC(mg_xrf_detector_response(&d, &off, &pk, 1, 0, y2, NULL), 0);
	measured_fwhm(y2, off.nchan, &off, &k);
	CHECK(k == 650);

	/* a line above the axis goes to *above; the LLD removes low channels */
	mg_xrf_axis shortax = {.nchan = 256, .offset_kev = 0, .gain_kev = 0.02};
	mg_xrf_peak hi = {8.0, 100.0, 0.0};
	mg_xrf_detector dl = d;
	dl.lld_kev = 1.0;
	CHECK_RC(mg_xrf_detector_response(&dl, &shortax, &hi, 1, MG_XRFSIM_NO_ESCAPE, y2, &above), 0);
	CHECK_MSG(above > 0.97 * 100 * mg_xrf_detector_efficiency(&d, 8.0), "above %g", above);
	for (int i = 0; i < 50; i++)
		CHECK(y2[i] == 0.0);
	CHECK(y2[100] > 0.0); /* the step/tail of the 8 keV line inside the axis */

	/* extra broadening (Compton) widens the peak in quadrature */
	mg_xrf_peak br = {6.40, 1000.0, 0.1};
	CHECK_RC(mg_xrf_detector_response(&d, &fine, &br, 1, MG_XRFSIM_NO_TAIL | MG_XRFSIM_NO_ESCAPE, y2,
	                                  NULL), 0);
	w = measured_fwhm(y2, fine.nchan, &fine, &k);
	double wq = sqrt(pow(mg_xrf_detector_fwhm(&d, 6.4), 2) + pow(0.1 * 2.35482, 2));
	CHECK_MSG(fabs(w / wq - 1) < 0.01, "broadened FWHM %.4f vs %.4f", w, wq);

	/* bad arguments */
	mg_xrf_axis bad = {.nchan = 0, .gain_kev = 0.01};
	CHECK_RC(mg_xrf_detector_response(&d, &bad, &pk, 1, 0, y2, NULL), MG_ERR_ARG);
	mg_xrf_detector bt = d;
	bt.tail_slope_kev = 0;
	CHECK_RC(mg_xrf_detector_response(&bt, &fine, &pk, 1, 0, y2, NULL), MG_ERR_ARG);

	free(y);
	free(y2);
	return mg_test_finish("test_xrfsim_detector");
}
