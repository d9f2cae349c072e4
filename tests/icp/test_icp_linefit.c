/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES line fit on synthetic windows made by this test's own generator
 * (synth_icp.h: true Voigt lines integrated over each pixel on an exponential
 * continuum, Poisson + flicker noise), which is not the shape the fit assumes
 * (pseudo-Voigt at pixel centres, polynomial background) and not the
 * simulator's generator. Checks: net intensity against the known area (bias
 * over many draws), uncertainty against the scatter (pulls), fixed shape on
 * blanks, off-peak background next to an interfering line, neighbour lines
 * found in the residual, and the error cases. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/icp_analysis.h"
#include "synth_icp.h"

#define L0 430.358
#define STEP 0.0025
#define NPIX 48

static mg_icp_window win;

static void make(gsl_rng *rng, const synth_line *l, size_t nl, const synth_bg *bg, double flicker)
{
	synth_expected(&win, L0, STEP, NPIX, l, nl, bg);
	if (rng)
		synth_noise(&win, rng, flicker);
}

/* Bias and pulls of the net over n draws. */
static void draws(gsl_rng *rng, const synth_line *l, size_t nl, const synth_bg *bg, double flicker,
                  const mg_icp_fit_opts *o, int n, double *bias_pct, double *pull_sd, double *pull_mean)
{
	double s = 0, sp = 0, spp = 0;
	int k = 0;
	for (int i = 0; i < n; i++) {
		make(rng, l, nl, bg, flicker);
		mg_icp_linefit f;
		if (mg_icp_fit_line(&win, L0, o, &f) != MG_OK)
			continue;
		double pull = (f.net - l[0].area) / f.net_u;
		s += f.net;
		sp += pull;
		spp += pull * pull;
		k++;
	}
	CHECK_MSG(k == n, "%d of %d fits failed", n - k, n);
	double mean = s / k;
	*bias_pct = 100 * (mean - l[0].area) / l[0].area;
	*pull_mean = sp / k;
	*pull_sd = sqrt(spp / k - (sp / k) * (sp / k));
}

static void test_noiseless(void)
{
	/* a pure Gaussian on a straight background: exact up to pixel integration */
	synth_line l = {L0, 1e6, 0.004, 0};
	synth_bg bg = {5000, 0, 0};
	make(NULL, &l, 1, &bg, 0);
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	o.shape = MG_ICP_GAUSSIAN;
	mg_icp_linefit f;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f), MG_OK);
	CHECK_NEAR(f.net / 1e6, 1.0, 2e-3);
	CHECK_NEAR(f.centre_nm, L0, 2e-5);
	/* FWHM of the Gaussian (pixel integration widens it by ~STEP²/12 in variance) */
	CHECK_NEAR(f.fwhm_nm, 2.3548 * sqrt(0.004 * 0.004 + STEP * STEP / 12), 2e-4);
	CHECK_NEAR(f.background, 5000, 5);
	printf("noiseless Gaussian: net %.1f (truth 1e6), FWHM %.5f nm, bg %.1f\n", f.net, f.fwhm_nm, f.background);

	/* shifted line, pseudo-Voigt default options: the centre follows */
	synth_line l2 = {L0 + 0.003, 5e5, 0.004, 0.0015};
	make(NULL, &l2, 1, &bg, 0);
	mg_icp_fit_opts_init(&o);
	o.centre_free_snr = 0;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f), MG_OK);
	CHECK_NEAR(f.centre_nm, L0 + 0.003, 1e-4);
	/* a pseudo-Voigt is not a Voigt: its area is a few per cent off, the same
	 * for every intensity (see test_linearity), so calibration cancels it */
	printf("pseudo-Voigt fitted to a Voigt (noiseless): area ratio %.4f, eta %.2f\n", f.net / 5e5, f.eta);
	CHECK_NEAR(f.net / 5e5, 1.0, 0.03);
	CHECK(f.centre_fitted);
}

/* The net is proportional to the line intensity: the ratio fitted/true is the
 * same from 10³ to 10⁶ counts with a fixed reference shape (what the
 * calibration needs), and the noise adds no bias. */
static void test_linearity(gsl_rng *rng)
{
	synth_bg bg = {4000, 2.0, 1e5};
	synth_line ref = {L0, 1e6, 0.004, 0.002};
	make(NULL, &ref, 1, &bg, 0);
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	o.centre_free_snr = 0;
	/* the continuum is curved: a straight background would leave an additive
	 * offset (the same at every intensity, removed by the calibration blank) */
	o.background = MG_ICP_BG_QUADRATIC;
	mg_icp_linefit rf;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &rf), MG_OK);
	double k0 = rf.net / ref.area;
	mg_icp_fit_opts fx = o;
	fx.fix_width = 1;
	fx.fwhm_nm = rf.fwhm_nm;
	fx.eta = rf.eta;
	fx.centre_nm = rf.centre_nm;
	fx.centre_free_snr = 30;
	printf("linearity (fixed shape, ratio to the 1e6 reference %.4f):", k0);
	for (double area = 1e3; area <= 1.01e6; area *= 10) {
		synth_line l = {L0, area, 0.004, 0.002};
		double s = 0;
		int n = area < 1e4 ? 200 : 40;
		for (int i = 0; i < n; i++) {
			make(rng, &l, 1, &bg, 0);
			mg_icp_linefit f;
			CHECK_RC(mg_icp_fit_line(&win, L0, &fx, &f), MG_OK);
			s += f.net;
		}
		double ratio = s / n / area / k0;
		printf(" %.0e: %.4f", area, ratio);
		/* statistical tolerance: the blank-limited scatter of the mean */
		double tol = area < 2e3 ? 0.06 : area < 2e4 ? 0.01 : 0.003;
		CHECK_MSG(fabs(ratio - 1) < tol, "area %.0e: ratio %.4f", area, ratio);
	}
	printf("\n");
}

static void test_noisy_voigt(gsl_rng *rng)
{
	/* Voigt truth, curved continuum; pseudo-Voigt + quadratic fit */
	synth_line l = {L0, 2e5, 0.004, 0.002};
	synth_bg bg = {4000, 3.0, 2e5};
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	o.background = MG_ICP_BG_QUADRATIC;
	o.centre_free_snr = 0;
	double bias, psd, pmean;
	/* the model bias (pseudo-Voigt vs Voigt), from the noiseless window */
	make(NULL, &l, 1, &bg, 0);
	mg_icp_linefit f0;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f0), MG_OK);
	double model = 100 * (f0.net - l.area) / l.area;
	draws(rng, &l, 1, &bg, 0.0, &o, 150, &bias, &psd, &pmean);
	printf("Voigt line, exp continuum, Poisson: bias %+.3f %% (model bias %+.3f %%), pull sd %.2f\n", bias, model,
	       psd);
	CHECK_MSG(fabs(model) < 3.0, "model bias %.3f %%", model);
	CHECK_MSG(fabs(bias - model) < 0.3, "noise-induced bias %.3f %%", bias - model);
	CHECK_MSG(psd > 0.7 && psd < 1.4, "pull sd %.2f", psd);

	/* with 1 % flicker: the uncertainty grows with χ²ν */
	draws(rng, &l, 1, &bg, 0.01, &o, 150, &bias, &psd, &pmean);
	printf("Voigt line with 1 %% flicker: bias %+.3f %%, pull sd %.2f\n", bias, psd);
	CHECK_MSG(fabs(bias - model) < 0.5, "noise-induced bias %.3f %%", bias - model);
	/* flicker scales the whole window (line and background): not all of it is
	 * seen in the residual of one window, so the pull sd exceeds 1 */
	CHECK_MSG(psd > 0.7 && psd < 6, "pull sd %.2f", psd);

	/* a linear background on the curved continuum, narrow fit region: still close */
	mg_icp_fit_opts_init(&o);
	o.half_width_nm = 0.03;
	o.centre_free_snr = 0;
	draws(rng, &l, 1, &bg, 0, &o, 100, &bias, &psd, &pmean);
	printf("linear background, ±0.03 nm: bias %+.3f %%, pull sd %.2f\n", bias, psd);
	CHECK_MSG(fabs(bias) < 3.0, "bias %.3f %%", bias);
}

static void test_blank_fixed_shape(gsl_rng *rng)
{
	/* a reference shape from a strong line, then blanks with that shape */
	synth_line strong = {L0 + 0.001, 1e6, 0.004, 0.002};
	synth_bg bg = {3000, 1.0, 0};
	make(NULL, &strong, 1, &bg, 0);
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	o.centre_free_snr = 0;
	mg_icp_linefit ref;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &ref), MG_OK);
	mg_icp_fit_opts fx;
	mg_icp_fit_opts_init(&fx);
	fx.fix_width = 1;
	fx.fwhm_nm = ref.fwhm_nm;
	fx.eta = ref.eta;
	fx.centre_nm = ref.centre_nm;
	double s = 0, ss = 0, su = 0;
	int n = 200;
	synth_line none = {L0, 0, 0.004, 0.002};
	for (int i = 0; i < n; i++) {
		make(rng, &none, 1, &bg, 0);
		mg_icp_linefit f;
		CHECK_RC(mg_icp_fit_line(&win, L0, &fx, &f), MG_OK);
		CHECK(!f.centre_fitted);
		s += f.net;
		ss += f.net * f.net;
		su += f.net_u;
	}
	double mean = s / n, sd = sqrt(ss / n - mean * mean), mu = su / n;
	printf("blank with the reference shape: mean net %.1f, sd %.1f, mean u %.1f\n", mean, sd, mu);
	CHECK_MSG(fabs(mean) < 4 * sd / sqrt(n), "blank net mean %.1f (sd %.1f)", mean, sd);
	CHECK_MSG(mu > 0.7 * sd && mu < 1.4 * sd, "u %.1f vs scatter %.1f", mu, sd);
	/* a line of 100× that scatter gets the strong line's area ratio */
	synth_line weak = {ref.centre_nm, 100 * sd, 0.004, 0.002};
	make(NULL, &weak, 1, &bg, 0);
	mg_icp_linefit f;
	CHECK_RC(mg_icp_fit_line(&win, L0, &fx, &f), MG_OK);
	CHECK_NEAR((f.net / weak.area) / (ref.net / strong.area), 1.0, 0.005);
}

static void test_offpeak(gsl_rng *rng)
{
	/* Gaussian lines (no wings): an interfering line 0.04 nm above the
	 * analyte on a sloped continuum. The off-peak points (−0.03, +0.02 nm)
	 * see only continuum; the peak region (±0.012 nm) excludes the interferent:
	 * the pixels in between are left out. A background fitted over the whole
	 * window without the interferent would be far off. */
	synth_line l[2] = {{L0, 2e5, 0.004, 0}, {L0 + 0.04, 6e5, 0.004, 0}};
	synth_bg bg = {5000, 4.0, 0};
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	o.shape = MG_ICP_GAUSSIAN;
	o.background = MG_ICP_BG_OFFPEAK;
	o.noffpeak = 2;
	o.offpeak_nm[0] = -0.03;
	o.offpeak_nm[1] = +0.02;
	o.offpeak_half_nm = 0.003;
	o.half_width_nm = 0.012;
	o.auto_neighbours = 0;
	o.centre_free_snr = 0;
	double bias, psd, pmean;
	draws(rng, l, 2, &bg, 0, &o, 100, &bias, &psd, &pmean);
	printf("off-peak background beside an interferent: bias %+.3f %%, pull sd %.2f\n", bias, psd);
	CHECK_MSG(fabs(bias) < 0.5, "bias %.3f %%", bias);
	CHECK_MSG(psd > 0.7 && psd < 1.4, "pull sd %.2f", psd);
	mg_icp_fit_opts whole;
	mg_icp_fit_opts_init(&whole);
	whole.shape = MG_ICP_GAUSSIAN;
	whole.auto_neighbours = 0;
	whole.centre_free_snr = 0;
	double bias2;
	draws(rng, l, 2, &bg, 0, &whole, 20, &bias2, &psd, &pmean);
	printf("the same with a linear background over the whole window: bias %+.2f %%\n", bias2);
	CHECK_MSG(fabs(bias2) > 5 * fabs(bias) + 1, "the whole-window fit should be worse (%.2f %%)", bias2);

	/* one off-peak point: a constant background */
	o.noffpeak = 1;
	o.offpeak_nm[0] = -0.045;
	synth_bg flat = {5000, 0, 0};
	draws(rng, l, 1, &flat, 0, &o, 60, &bias, &psd, &pmean);
	CHECK_MSG(fabs(bias) < 1.5, "one off-peak point: bias %.3f %%", bias);
	/* no off-peak points: an argument error */
	o.noffpeak = 0;
	mg_icp_linefit f;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f), MG_ERR_ARG);
}

static void test_neighbours(void)
{
	/* a strong matrix line 0.03 nm away inside the fit region */
	synth_line l[2] = {{L0, 1e5, 0.004, 0.002}, {L0 + 0.03, 8e5, 0.004, 0.002}};
	synth_bg bg = {5000, 0, 0};
	make(NULL, l, 2, &bg, 0);
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	o.centre_free_snr = 0;
	o.auto_neighbours = 0;
	mg_icp_linefit f;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f), MG_OK);
	double off = 100 * (f.net - 1e5) / 1e5;
	printf("neighbour not modelled: net off by %+.1f %%\n", off);
	CHECK_MSG(fabs(off) > 3, "without the neighbour the net should be biased (%.1f %%)", off);
	o.auto_neighbours = 1;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f), MG_OK);
	printf("neighbour found in the residual: net %+.2f %%, %zu neighbour(s)\n", 100 * (f.net - 1e5) / 1e5,
	       f.nneighbours);
	CHECK(f.nneighbours >= 1);
	CHECK_NEAR(f.net / 1e5, 1.0, 0.02);
	/* listed neighbour (known wavelength) */
	o.auto_neighbours = 0;
	o.nneighbours = 1;
	o.neighbour_nm[0] = L0 + 0.03;
	CHECK_RC(mg_icp_fit_line(&win, L0, &o, &f), MG_OK);
	CHECK_NEAR(f.net / 1e5, 1.0, 0.02);
	CHECK(f.nneighbours == 1);
}

static void test_errors(void)
{
	mg_icp_linefit f;
	mg_icp_window w;
	memset(&w, 0, sizeof(w));
	w.npix = 3;
	CHECK_RC(mg_icp_fit_line(&w, L0, NULL, &f), MG_ERR_FORMAT);
	CHECK(f.status == MG_ERR_FORMAT && isnan(f.net));
	synth_line l = {L0, 1e5, 0.004, 0.002};
	synth_bg bg = {100, 0, 0};
	synth_expected(&w, L0, STEP, NPIX, &l, 1, &bg);
	CHECK_RC(mg_icp_fit_line(&w, 250.0, NULL, &f), MG_ERR_UNSUPPORTED);
	w.wavelength_nm[10] = w.wavelength_nm[9];
	CHECK_RC(mg_icp_fit_line(&w, L0, NULL, &f), MG_ERR_FORMAT);
	synth_expected(&w, L0, STEP, NPIX, &l, 1, &bg);
	w.intensity[5] = NAN;
	CHECK_RC(mg_icp_fit_line(&w, L0, NULL, &f), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_fit_line(NULL, L0, NULL, &f), MG_ERR_ARG);
	/* the profile is normalised */
	double s = 0;
	for (int i = -20000; i <= 20000; i++)
		s += mg_icp_shape_value(MG_ICP_PSEUDO_VOIGT, i * 1e-5, 0.01, 0.4) * 1e-5;
	CHECK_NEAR(s, 1.0, 0.02); /* Lorentzian wings beyond ±0.2 nm hold ~1.3 % × η */
	s = 0;
	for (int i = -5000; i <= 5000; i++)
		s += mg_icp_shape_value(MG_ICP_GAUSSIAN, i * 1e-5, 0.01, 0) * 1e-5;
	CHECK_NEAR(s, 1.0, 1e-6);
}

int main(void)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 20240117);
	test_noiseless();
	test_noisy_voigt(rng);
	test_linearity(rng);
	test_blank_fixed_shape(rng);
	test_offpeak(rng);
	test_neighbours();
	test_errors();
	gsl_rng_free(rng);
	return mg_test_finish("test_icp_linefit");
}
