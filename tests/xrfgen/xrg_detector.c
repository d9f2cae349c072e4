/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen detector and spectrum: efficiency, escape, the line shape, pile-up,
 * and the expected spectrum with its true family areas. See xrfgen.h for what
 * differs from the engine's model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_expint.h>
#include <xraylib.h>

#include "xrg_internal.h"

#define HIST_BIN XRG_SCATTER_BIN /* keV: the scattered continuum's histogram, one bin per beam bin */

static double air_mu(double e)
{
	return 0.7553 * CS_Total(7, e, NULL) + 0.2318 * CS_Total(8, e, NULL) + 0.0128 * CS_Total(18, e, NULL);
}

double xrg_efficiency(const xrg_gen *g, double e)
{
	const xrg_detector *d = &g->c.det;
	double t = exp(-CS_Total(4, e, NULL) * 1.848 * d->be_um * 1e-4);
	t *= exp(-CS_Total(14, e, NULL) * 2.33 * d->dead_um * 1e-4);
	t *= -expm1(-CS_Photo(14, e, NULL) * 2.33 * d->si_mm * 0.1);
	t *= exp(-air_mu(e) * 1.205e-3 * d->air_mm * 0.1);
	return t;
}

/* E2(a) = ∫_0^1 e^(−a/u) du: the chance that an isotropic photon made at
 * optical depth a below a face leaves through it is ½·E2(a). */
static double e2(double a)
{
	return a < 1e-12 ? 1.0 : a > 600 ? 0.0 : gsl_sf_expint_En(2, a);
}

/* Escape of Si K photons at normal incidence on the active layer (thickness
 * t): per photo-absorbed photon, the chance that a K vacancy gives a Si Kα
 * (Kβ) photon that leaves through the front or the back face, by a 64-point
 * Gauss–Legendre integral over the absorption depth. */
void xrg_escape(const xrg_gen *g, double e, double *p_ka, double *p_kb)
{
	*p_ka = *p_kb = 0;
	double ek = EdgeEnergy(14, K_SHELL, NULL);
	if (!(e > ek) || (g->c.flags & XRG_NO_ESCAPE))
		return;
	static double gx[64], gw[64];
	static int init;
	if (!init) {
		for (int i = 0; i < 64; i++) {
			double t = cos(M_PI * (i + 0.75) / 64.5), dp = 0;
			for (int it = 0; it < 100; it++) {
				double p0 = 1, p1 = t;
				for (int k = 2; k <= 64; k++) {
					double p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
					p0 = p1;
					p1 = p2;
				}
				dp = 64 * (t * p1 - p0) / (t * t - 1);
				double dt = p1 / dp;
				t -= dt;
				if (fabs(dt) < 1e-15)
					break;
			}
			gx[i] = 0.5 * (t + 1);
			gw[i] = 1.0 / ((1 - t * t) * dp * dp);
		}
		init = 1;
	}
	double rho = 2.33, t = g->c.det.si_mm * 0.1;
	double mu = CS_Total(14, e, NULL) * rho, tau = CS_Photo(14, e, NULL), tau_k = CS_Photo_Partial(14, K_SHELL, e, NULL);
	if (!(mu > 0 && tau > 0 && tau_k > 0))
		return;
	double om = FluorYield(14, K_SHELL, NULL);
	double lines[2][2] = {{KL2_LINE, KL3_LINE}, {KM2_LINE, KM3_LINE}};
	double out[2] = {0, 0};
	double span = -expm1(-mu * t);
	for (int f = 0; f < 2; f++) {
		double p = 0, ef = 0;
		for (int k = 0; k < 2; k++) {
			double r = RadRate(14, (int)lines[f][k], NULL);
			p += r;
			ef += r * LineEnergy(14, (int)lines[f][k], NULL);
		}
		if (!(p > 0))
			continue;
		ef /= p;
		double muf = CS_Total(14, ef, NULL) * rho, sum = 0;
		for (int i = 0; i < 64; i++) {
			/* y in (0, 1) maps to the depth with density μe^(−μx) */
			double x = -log1p(-gx[i] * span) / mu;
			sum += gw[i] * 0.5 * (e2(muf * x) + e2(muf * (t - x)));
		}
		out[f] = tau_k / tau * om * p * sum;
	}
	*p_ka = out[0] * g->c.det.escape_scale;
	*p_kb = out[1] * g->c.det.escape_scale;
}

static double channel_energy(const xrg_config *c, double k)
{
	return c->offset + c->gain * k + c->quad * k * k;
}

/* Gaussian (sampled at the channel centre) + two sharp-edged exponential
 * tails + a flat shelf, for the full-energy part; Gaussians at the escape
 * energies. */
static void shape(const xrg_gen *g, double e, double full, double *y)
{
	const xrg_config *c = &g->c;
	const xrg_detector *d = &c->det;
	double s = sqrt(d->noise_kev * d->noise_kev + 2.3548 * 2.3548 * d->fano * 0.00385 * e) / 2.3548;
	double shelf = d->shelf * e;
	double ag = full * (1 - d->t1 - d->t2 - shelf);
	for (int k = 0; k < c->nchan; k++) {
		double x = channel_energy(c, k), w = c->gain + 2 * c->quad * k, z = x - e, v = 0;
		if (fabs(z) < 8 * s)
			v += ag * w / (s * sqrt(2 * M_PI)) * exp(-0.5 * z * z / (s * s));
		if (z < 0 && x > 0) {
			v += full * d->t1 * w / d->b1 * exp(z / d->b1);
			v += full * d->t2 * w / d->b2 * exp(z / d->b2);
			v += full * d->shelf * w;
		}
		y[k] += v;
	}
}

static void gauss_only(const xrg_gen *g, double e, double area, double *y)
{
	const xrg_config *c = &g->c;
	const xrg_detector *d = &c->det;
	if (!(e > 0) || !(area > 0))
		return;
	double s = sqrt(d->noise_kev * d->noise_kev + 2.3548 * 2.3548 * d->fano * 0.00385 * e) / 2.3548;
	for (int k = 0; k < c->nchan; k++) {
		double x = channel_energy(c, k), w = c->gain + 2 * c->quad * k, z = x - e;
		if (fabs(z) < 8 * s)
			y[k] += area * w / (s * sqrt(2 * M_PI)) * exp(-0.5 * z * z / (s * s));
	}
}

void xrg_response(const xrg_gen *g, double e, double rate, double *y)
{
	double pa, pb;
	xrg_escape(g, e, &pa, &pb);
	shape(g, e, rate * (1 - pa - pb), y);
	double ea = LineEnergy(14, KL3_LINE, NULL), eb = LineEnergy(14, KM3_LINE, NULL);
	gauss_only(g, e - ea, rate * pa, y);
	gauss_only(g, e - eb, rate * pb, y);
}

/* ---------------------------------------------------------------- the spectrum */

static void truth_add(xrg_truth *t, int z, char fam, double area)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->f[i].z == z && t->f[i].fam == fam) {
			t->f[i].area += area;
			return;
		}
	if (t->n < sizeof t->f / sizeof t->f[0]) {
		t->f[t->n].z = z;
		t->f[t->n].fam = fam;
		t->f[t->n++].area = area;
	}
}

/* Nearest channel of energy e, or −1 outside the axis. */
static long channel_of(const xrg_config *c, double e)
{
	double k;
	if (c->quad != 0) {
		double disc = c->gain * c->gain + 4 * c->quad * (e - c->offset);
		if (disc < 0)
			return -1;
		k = (-c->gain + sqrt(disc)) / (2 * c->quad);
	} else
		k = (e - c->offset) / c->gain;
	long r = lround(k);
	return r >= 0 && r < c->nchan ? r : -1;
}

int xrg_expected(xrg_gen *g, const xrg_sample *s, double live_s, double *mean, xrg_truth *truth)
{
	const xrg_config *c = &g->c;
	size_t nch = (size_t)c->nchan;
	xrg_line *ln = NULL;
	size_t n = 0;
	int rc = xrg_lines(g, s, &ln, &n);
	if (rc)
		return rc;
	double *r = calloc(nch, sizeof(double)), *pu = calloc(nch, sizeof(double));
	size_t nh = (size_t)((c->tube.kv + 1) / HIST_BIN);
	double *hist = calloc(nh, sizeof(double));
	double *en = malloc(nch * sizeof(double));
	if (!r || !pu || !hist || !en) {
		rc = xrg_fail(XRG_ERROR, "no memory");
		goto out;
	}
	xrg_truth t;
	memset(&t, 0, sizeof t);

	for (size_t l = 0; l < n; l++) {
		double rate = (ln[l].primary + ln[l].secondary) * xrg_efficiency(g, ln[l].e);
		if (!(rate > 0))
			continue;
		xrg_response(g, ln[l].e, rate, r);
		double pa, pb;
		xrg_escape(g, ln[l].e, &pa, &pb);
		truth_add(&t, ln[l].z, ln[l].shell ? 'L' : 'K', rate * (1 - pa - pb));
	}
	if (!(c->flags & XRG_NO_SCATTER)) {
		if (xrg_scatter(g, s, hist, nh, HIST_BIN)) {
			rc = XRG_ERROR;
			goto out;
		}
		for (size_t i = 0; i < nh; i++)
			if (hist[i] > 0) {
				xrg_response(g, (i + 0.5) * HIST_BIN, hist[i], r);
				t.scatter_cps += hist[i];
			}
	}
	double tot = 0;
	for (size_t k = 0; k < nch; k++)
		tot += r[k];
	/* pile-up: pairs within τ land at the sum energy, the parents lose them */
	double tau = (c->flags & XRG_NO_PILEUP) ? 0 : c->det.pileup_us * 1e-6;
	if (tau > 0) {
		for (size_t k = 0; k < nch; k++)
			en[k] = channel_energy(c, (double)k);
		for (size_t i = 0; i < nch; i++) {
			if (!(r[i] > 0))
				continue;
			for (size_t j = 0; j < nch; j++) {
				if (!(r[j] > 0))
					continue;
				long k = channel_of(c, en[i] + en[j]);
				if (k >= 0)
					pu[k] += tau * r[i] * r[j];
			}
		}
	}
	double lost = 2 * tau * tot;
	for (size_t k = 0; k < nch; k++)
		mean[k] = live_s * (r[k] * (1 - lost) + pu[k]);
	if (truth) {
		for (size_t i = 0; i < t.n; i++)
			t.f[i].area *= live_s * (1 - lost);
		t.total_cps = tot;
		t.pileup_loss = lost;
		*truth = t;
	}
	rc = 0;
out:
	free(ln);
	free(r);
	free(pu);
	free(hist);
	free(en);
	return rc;
}
