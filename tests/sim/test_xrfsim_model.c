/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The whole expected spectrum: Fe check standard (peak positions, sum peak vs
 * current, dead time), NdFeB samples (Nd/Pr/Dy/Tb L lines, secondary
 * enhancement, Dy and Tb visible, Ni–Cu–Ni plating), blank (scatter only,
 * Compton position and width), the cheap current change and model updates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

static mg_xrfsim_model *build(const char *sample, double ua)
{
	mg_xrfsim_config cfg;
	mg_xrfsim_config_default(&cfg);
	cfg.tube.current_ua = ua;
	if (mg_xrfsim_sample_lookup(sample, &cfg.sample) < 0)
		return NULL;
	mg_xrfsim_model *m = NULL;
	int rc = mg_xrfsim_model_new(&cfg, &m);
	CHECK_MSG(rc == 0, "model '%s': %s", sample, mg_error_detail());
	return m;
}

static double chan_energy(const mg_xrfsim_model *m, size_t k)
{
	const mg_xrf_axis *a = &mg_xrfsim_model_config(m)->axis;
	return a->offset_kev + a->gain_kev * (double)k;
}

/* channel of the maximum of y in [e1, e2] keV */
static size_t argmax(const mg_xrfsim_model *m, const double *y, double e1, double e2)
{
	size_t n, best = 0;
	mg_xrfsim_model_spectrum(m, MG_XRFSIM_DETECTED, &n);
	double v = -1;
	for (size_t k = 0; k < n; k++) {
		double e = chan_energy(m, k);
		if (e >= e1 && e <= e2 && y[k] > v) {
			v = y[k];
			best = k;
		}
	}
	return best;
}

static double roi(const mg_xrfsim_model *m, const double *y, double e1, double e2)
{
	size_t n;
	double s = 0;
	mg_xrfsim_model_spectrum(m, MG_XRFSIM_DETECTED, &n);
	for (size_t k = 0; k < n; k++) {
		double e = chan_energy(m, k);
		if (e >= e1 && e <= e2)
			s += y[k];
	}
	return s;
}

static const mg_xrf_line *find_line(const mg_xrfsim_model *m, int z, int line, int layer)
{
	size_t n;
	const mg_xrf_line *l = mg_xrfsim_model_lines(m, &n);
	for (size_t i = 0; i < n; i++)
		if (l[i].z == z && l[i].line == line && (layer < 0 || l[i].layer == layer))
			return &l[i];
	return NULL;
}

static void test_fe(void)
{
	mg_xrfsim_model *m = build("fe", 10);
	if (!m)
		return;
	size_t n;
	const double *det = mg_xrfsim_model_spectrum(m, MG_XRFSIM_DETECTED, &n);
	const double *rec = mg_xrfsim_model_spectrum(m, MG_XRFSIM_RECORDED, &n);
	CHECK(n == 2048);
	/* lines and peak channels */
	const mg_xrf_line *ka = find_line(m, 26, KL3_LINE, 0), *kb = find_line(m, 26, KM3_LINE, 0);
	CHECK(ka && kb);
	if (ka && kb) {
		CHECK_NEAR(ka->energy_kev, 6.404, 0.001);
		CHECK_NEAR(kb->energy_kev, 7.058, 0.001);
		CHECK(ka->detected > 5 * kb->detected);
		CHECK(ka->secondary == 0.0);
	}
	size_t kpk = argmax(m, det, 5.5, 7.5);
	CHECK_MSG(fabs(chan_energy(m, kpk) - 6.40) <= 0.01, "Fe Ka peak at %.3f keV", chan_energy(m, kpk));
	size_t kbp = argmax(m, det, 6.9, 7.3);
	CHECK_NEAR(chan_energy(m, kbp), 7.06, 0.02);
	CHECK(det[kbp] > 3 * det[kbp - 10]); /* a real peak, not a shoulder */
	/* escape peak of Fe Kα at 4.66 keV */
	size_t kesc = argmax(m, det, 4.4, 4.9);
	CHECK_NEAR(chan_energy(m, kesc), 6.40 - 1.74, 0.02);
	CHECK(det[kesc] > 2 * det[kesc - 12] && det[kesc] < 0.01 * det[kpk]);
	/* Rh K Rayleigh and Compton peaks */
	size_t kr = argmax(m, det, 19.9, 20.5);
	CHECK_NEAR(chan_energy(m, kr), 20.2, 0.04);

	/* sum peak: at 12.8 keV; sum/parent ∝ rate; sum rate ∝ current² at low rate */
	const double *pu = mg_xrfsim_model_spectrum(m, MG_XRFSIM_PILEUP, &n);
	size_t ks = argmax(m, pu, 11.5, 14.5);
	CHECK_MSG(fabs(chan_energy(m, ks) - 12.80) <= 0.04, "sum peak at %.3f", chan_energy(m, ks));
	size_t ks2 = argmax(m, pu, 13.3, 13.6);
	CHECK_NEAR(chan_energy(m, ks2), 13.46, 0.04); /* Kα + Kβ */
	double cur[] = {1, 2, 10, 40};
	double sp[4], par[4], dead[4];
	mg_xrfsim_rates r;
	for (int i = 0; i < 4; i++) {
		CHECK_RC(mg_xrfsim_model_set_current(m, cur[i]), 0);
		pu = mg_xrfsim_model_spectrum(m, MG_XRFSIM_PILEUP, &n);
		rec = mg_xrfsim_model_spectrum(m, MG_XRFSIM_RECORDED, &n);
		sp[i] = roi(m, pu, 12.5, 13.1);
		par[i] = roi(m, rec, 6.2, 6.6);
		mg_xrfsim_model_rates(m, &r);
		dead[i] = r.dead_fraction;
		CHECK(r.fast >= r.slow && r.input >= r.fast);
		CHECK(r.live_fraction <= 1.0 && r.live_fraction > 0);
		CHECK(r.pileup <= r.slow);
	}
	double q = sp[1] / sp[0];
	CHECK_MSG(fabs(q - 4.0) < 0.1, "sum peak 2 uA / 1 uA = %.3f (want 4)", q);
	q = (sp[1] / par[1]) / (sp[0] / par[0]);
	CHECK_MSG(fabs(q - 2.0) < 0.05, "sum/parent 2 uA vs 1 uA = %.3f (want 2)", q);
	q = (sp[3] / par[3]) / (sp[2] / par[2]);
	CHECK_MSG(q > 3.0 && q < 4.4, "sum/parent 40 uA vs 10 uA = %.3f (about 4)", q);
	CHECK(dead[0] < dead[1] && dead[1] < dead[2] && dead[2] < dead[3]);
	CHECK(dead[3] > 0.2 && dead[0] < 0.02);
	mg_xrfsim_model_free(m);
}

static void test_current_is_a_scale(void)
{
	mg_xrfsim_model *a = build("ndfeb", 5), *b = build("ndfeb", 30);
	if (!a || !b) {
		mg_xrfsim_model_free(a);
		mg_xrfsim_model_free(b);
		return;
	}
	CHECK_RC(mg_xrfsim_model_set_current(a, 30), 0);
	size_t n;
	const double *ra = mg_xrfsim_model_spectrum(a, MG_XRFSIM_RECORDED, &n);
	const double *rb = mg_xrfsim_model_spectrum(b, MG_XRFSIM_RECORDED, &n);
	double worst = 0;
	for (size_t k = 0; k < n; k++)
		if (rb[k] > 1e-6)
			worst = fmax(worst, fabs(ra[k] / rb[k] - 1));
	CHECK_MSG(worst < 1e-9, "set_current vs fresh build: %.3g", worst);
	/* update with only the current changed is the same cheap path */
	mg_xrfsim_config c = *mg_xrfsim_model_config(b);
	c.tube.current_ua = 5;
	CHECK_RC(mg_xrfsim_model_update(b, &c), 0);
	CHECK_RC(mg_xrfsim_model_set_current(a, 5), 0);
	ra = mg_xrfsim_model_spectrum(a, MG_XRFSIM_RECORDED, &n);
	rb = mg_xrfsim_model_spectrum(b, MG_XRFSIM_RECORDED, &n);
	CHECK(memcmp(ra, rb, n * sizeof(double)) == 0);
	/* a kV change rebuilds: no Rh K lines at 20 kV */
	c.tube.kv = 20;
	CHECK_RC(mg_xrfsim_model_update(b, &c), 0);
	rb = mg_xrfsim_model_spectrum(b, MG_XRFSIM_DETECTED, &n);
	CHECK(roi(b, rb, 20.5, 23) < 1e-3 * roi(a, mg_xrfsim_model_spectrum(a, MG_XRFSIM_DETECTED, &n), 20.5, 23));
	/* a bad config fails and leaves the model as it was */
	mg_xrfsim_rates before, after;
	mg_xrfsim_model_rates(b, &before);
	c.axis.nchan = 100;
	CHECK_RC(mg_xrfsim_model_update(b, &c), MG_ERR_ARG);
	c.axis.nchan = 2048;
	memcpy(c.tube.anode, "Qq", 3);
	CHECK_RC(mg_xrfsim_model_update(b, &c), MG_ERR_ARG);
	mg_xrfsim_model_rates(b, &after);
	CHECK(memcmp(&before, &after, sizeof before) == 0);
	/* a new channel count rebuilds the FFT */
	memcpy(c.tube.anode, "Rh", 3);
	c.axis.nchan = 1024;
	c.axis.gain_kev = 0.04;
	CHECK_RC(mg_xrfsim_model_update(b, &c), 0);
	mg_xrfsim_model_spectrum(b, MG_XRFSIM_RECORDED, &n);
	CHECK(n == 1024);
	mg_xrfsim_model_rates(b, &after);
	CHECK(after.pileup > 0 && after.slow > 0);
	mg_xrfsim_model_free(a);
	mg_xrfsim_model_free(b);
}

static void test_ndfeb(void)
{
	mg_xrfsim_model *m = build("ndfeb", 20), *dy = build("ndfeb-dy", 20), *tb = build("ndfeb-tb", 20);
	mg_xrfsim_model *ni = build("ndfeb-nicuni", 20);
	if (!m || !dy || !tb || !ni)
		goto out;
	size_t n;
	const double *det = mg_xrfsim_model_spectrum(m, MG_XRFSIM_DETECTED, &n);

	/* L lines at their energies with rates */
	const mg_xrf_line *nd = find_line(m, 60, L3M5_LINE, 0), *pr = find_line(m, 59, L3M5_LINE, 0);
	const mg_xrf_line *dya = find_line(dy, 66, L3M5_LINE, 0), *tba = find_line(tb, 65, L3M5_LINE, 0);
	CHECK(nd && pr && dya && tba);
	if (!nd || !pr || !dya || !tba)
		goto out;
	CHECK_NEAR(nd->energy_kev, 5.230, 0.002);
	CHECK_NEAR(pr->energy_kev, 5.034, 0.002);
	CHECK_NEAR(dya->energy_kev, 6.495, 0.002);
	CHECK_NEAR(tba->energy_kev, 6.273, 0.002);
	CHECK(nd->detected > 3 * pr->detected && pr->detected > 0);
	CHECK(find_line(m, 66, L3M5_LINE, 0) == NULL); /* no Dy in plain ndfeb */
	/* Nd Lα is a peak of the spectrum */
	size_t k = argmax(m, det, 5.1, 5.35);
	CHECK_NEAR(chan_energy(m, k), 5.23, 0.02);
	CHECK(det[k] > 1.5 * det[k - 8]);

	/* secondary enhancement of Nd/Pr L3 lines by Fe K, Rh 40 kV: about 0.29 / 0.27 */
	double snd = nd->secondary / nd->primary, spr = pr->secondary / pr->primary;
	CHECK_MSG(snd > 0.25 && snd < 0.35, "Nd La S/P %.3f", snd);
	CHECK_MSG(spr > 0.23 && spr < 0.33, "Pr La S/P %.3f", spr);
	const mg_xrf_line *lb1 = find_line(m, 60, L2M4_LINE, 0);
	CHECK(lb1 && lb1->secondary / lb1->primary < 0.08);
	/* the reference composition gives the reference number */
	{
		mg_xrfsim_config cfg;
		mg_xrfsim_config_default(&cfg);
		cfg.axis.nchan = 512;
		cfg.axis.gain_kev = 0.08;
		CHECK_RC(mg_xrfsim_sample_parse("Fe:66,Nd:24,Pr:6,Co:2,Dy:1,B:1,density=7.5", &cfg.sample), 0);
		mg_xrfsim_model *ref = NULL;
		CHECK_RC(mg_xrfsim_model_new(&cfg, &ref), 0);
		const mg_xrf_line *l = ref ? find_line(ref, 60, L3M5_LINE, 0) : NULL;
		CHECK(l != NULL);
		if (l)
			CHECK_MSG(fabs(l->secondary / l->primary - 0.29) < 0.02, "reference Nd La S/P %.3f",
			          l->secondary / l->primary);
		l = ref ? find_line(ref, 59, L3M5_LINE, 0) : NULL;
		if (l)
			CHECK_MSG(fabs(l->secondary / l->primary - 0.27) < 0.02, "reference Pr La S/P %.3f",
			          l->secondary / l->primary);
		/* and without secondary the Nd line loses exactly that */
		cfg.flags = MG_XRFSIM_NO_SECONDARY;
		mg_xrfsim_model *ps = NULL;
		CHECK_RC(mg_xrfsim_model_new(&cfg, &ps), 0);
		if (ref && ps) {
			const mg_xrf_line *a = find_line(ref, 60, L3M5_LINE, 0), *b = find_line(ps, 60, L3M5_LINE, 0);
			CHECK(a && b && b->secondary == 0.0);
			if (a && b)
				CHECK_NEAR(a->detected / b->detected, 1 + a->secondary / a->primary, 1e-9);
		}
		mg_xrfsim_model_free(ps);
		mg_xrfsim_model_free(ref);
	}

	/* Dy and Tb show above the plain magnet at their Lα */
	const double *ddy = mg_xrfsim_model_spectrum(dy, MG_XRFSIM_DETECTED, &n);
	const double *dtb = mg_xrfsim_model_spectrum(tb, MG_XRFSIM_DETECTED, &n);
	double r0 = roi(m, det, 6.45, 6.55), rdy = roi(dy, ddy, 6.45, 6.55);
	CHECK_MSG(rdy > 1.02 * r0, "Dy La ROI %.4g vs %.4g", rdy, r0);
	/* in 300 s the excess is far beyond counting noise */
	CHECK_MSG((rdy - r0) * 300 > 10 * sqrt(r0 * 300), "Dy excess %.3g cps over %.3g", rdy - r0, r0);
	CHECK(mg_xrfsim_model_line_sum(dy, 66, L3M4_LINE, L3M5_LINE) >
	      2 * mg_xrfsim_model_line_sum(tb, 66, L3M4_LINE, L3M5_LINE));
	double t0 = roi(m, det, 6.22, 6.32), ttb = roi(tb, dtb, 6.22, 6.32);
	CHECK_MSG(ttb > t0 && tba->detected > 0, "Tb La ROI %.4g vs %.4g", ttb, t0);

	/* Ni–Cu–Ni plating: Ni/Cu K dominate, Nd L nearly gone */
	const double *dni = mg_xrfsim_model_spectrum(ni, MG_XRFSIM_DETECTED, &n);
	double nik = mg_xrfsim_model_line_sum(ni, 28, KL1_LINE, KP5_LINE);
	double cuk = mg_xrfsim_model_line_sum(ni, 29, KL1_LINE, KP5_LINE);
	double fek = mg_xrfsim_model_line_sum(ni, 26, KL1_LINE, KP5_LINE);
	double ndl = mg_xrfsim_model_line_sum(ni, 60, L1L2_LINE, L3Q1_LINE);
	double ndl0 = mg_xrfsim_model_line_sum(m, 60, L1L2_LINE, L3Q1_LINE);
	CHECK_MSG(nik > 10 * fek && cuk > fek && nik > 1000 * ndl, "Ni %g Cu %g Fe %g Nd %g", nik, cuk, fek,
	          ndl);
	CHECK_MSG(ndl < 1e-3 * ndl0, "Nd L under plating: %.3g of bare", ndl / ndl0);
	k = argmax(ni, dni, 1.0, 30.0);
	CHECK_NEAR(chan_energy(ni, k), 7.48, 0.02); /* the highest peak is Ni Kα */
	/* each Ni layer shines, the lower one through the Cu */
	const mg_xrf_line *ni0 = find_line(ni, 28, KL3_LINE, 0), *ni2 = find_line(ni, 28, KL3_LINE, 2);
	CHECK(ni0 && ni2 && ni2->primary < 0.1 * ni0->primary && ni2->primary > 0);
out:
	mg_xrfsim_model_free(m);
	mg_xrfsim_model_free(dy);
	mg_xrfsim_model_free(tb);
	mg_xrfsim_model_free(ni);
}

static void test_blank(void)
{
	mg_xrfsim_model *m = build("blank", 20);
	if (!m)
		return;
	size_t n, nl;
	const mg_xrf_line *l = mg_xrfsim_model_lines(m, &nl);
	for (size_t i = 0; i < nl; i++)
		CHECK_MSG(l[i].energy_kev < 1.0, "blank line Z%d at %.3f keV", l[i].z, l[i].energy_kev);
	const double *det = mg_xrfsim_model_spectrum(m, MG_XRFSIM_DETECTED, &n);
	/* Rayleigh Rh Kα at 20.2 and its Compton at 19.4 keV (θ = 90°), broader */
	size_t kr = argmax(m, det, 20.0, 20.4), kc = argmax(m, det, 18.8, 19.8);
	double ec = ComptonEnergy(20.216, M_PI / 2, NULL);
	CHECK_NEAR(chan_energy(m, kr), 20.2, 0.03);
	CHECK_MSG(fabs(chan_energy(m, kc) - ec) < 0.1, "Compton peak %.3f vs %.3f", chan_energy(m, kc), ec);
	CHECK(det[kc] > det[kr]); /* light matrix: Compton dominates */
	/* widths at half maximum (channels) */
	size_t a = kc, b = kc;
	while (det[a] > det[kc] / 2)
		a--;
	while (det[b] > det[kc] / 2)
		b++;
	double wc = (double)(b - a) * 0.02;
	a = b = kr;
	while (det[a] > det[kr] / 2)
		a--;
	while (det[b] > det[kr] / 2)
		b++;
	double wr = (double)(b - a) * 0.02;
	CHECK_MSG(wc > wr && wc > 0.3 && wc < 1.0, "Compton FWHM %.3f keV, Rayleigh %.3f", wc, wr);
	/* no Fe-like peak: nothing at 6.4 keV beyond the smooth continuum */
	size_t k64 = (size_t)lround(6.40 / 0.02);
	CHECK(det[k64] < 1.05 * 0.5 * (det[k64 - 15] + det[k64 + 15]));
	mg_xrfsim_model_free(m);
}

static void test_errors(void)
{
	mg_xrfsim_config cfg;
	mg_xrfsim_model *m = (mg_xrfsim_model *)1;
	mg_xrfsim_config_default(&cfg);
	cfg.axis.nchan = 100000;
	CHECK_RC(mg_xrfsim_model_new(&cfg, &m), MG_ERR_ARG);
	CHECK(m == NULL);
	mg_xrfsim_config_default(&cfg);
	cfg.det.fano = 0;
	CHECK_RC(mg_xrfsim_model_new(&cfg, &m), MG_ERR_ARG);
	mg_xrfsim_config_default(&cfg);
	cfg.geom.incidence_deg = 0;
	CHECK_RC(mg_xrfsim_model_new(&cfg, &m), MG_ERR_ARG);
	mg_xrfsim_config_default(&cfg);
	cfg.sample.substrate.nel = 0;
	CHECK_RC(mg_xrfsim_model_new(&cfg, &m), MG_ERR_ARG);
	CHECK_RC(mg_xrfsim_model_new(NULL, &m), MG_ERR_ARG);
	mg_xrfsim_model_free(NULL);
}

int main(void)
{
	test_fe();
	test_current_is_a_scale();
	test_ndfeb();
	test_blank();
	test_errors();
	return mg_test_finish("test_xrfsim_model");
}
