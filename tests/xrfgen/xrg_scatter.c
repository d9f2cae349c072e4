/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen scattered continuum: Rayleigh and Compton scatter of the whole tube
 * spectrum by the sample, with the sample's own attenuation at the incident
 * and the scattered energy (so its absorption edges show in the background),
 * the Compton line of every beam bin Doppler-broadened with the atomic
 * Compton profiles J(p_z) of xraylib (impulse approximation). Detected
 * photons/s (after the detector efficiency) go onto a fine histogram that
 * xrg_expected folds with the detector response. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "xrg_internal.h"

#define PZ_MAX 40.0  /* a.u.: the profiles' range kept */
#define PZ_STEP 0.05
#define NPZ ((int)(PZ_MAX / PZ_STEP) + 1)

static const double *profile(xrg_gen *g, int z)
{
	if (g->jprof[z])
		return g->jprof[z];
	double *j = malloc(NPZ * sizeof(double));
	if (!j)
		return NULL;
	for (int i = 0; i < NPZ; i++) {
		double v = ComptonProfile(z, i * PZ_STEP, NULL);
		j[i] = v > 0 ? v : 0;
	}
	g->jprof[z] = j;
	return j;
}

static double profile_at(const double *j, double pz)
{
	double x = fabs(pz) / PZ_STEP;
	int i = (int)x;
	if (i >= NPZ - 1)
		return 0;
	double f = x - i;
	return j[i] * (1 - f) + j[i + 1] * f;
}

void xrg_profiles_free(xrg_gen *g)
{
	for (int z = 0; z <= XRG_MAXZ; z++) {
		free(g->jprof[z]);
		g->jprof[z] = NULL;
	}
}

/* Electron momentum along the scattering vector (a.u.) for E -> E' at θ. */
static double pz_of(double e, double ep, double cos_th)
{
	return -137.036 * (e - ep - e * ep * (1 - cos_th) / 510.999) / sqrt(e * e + ep * ep - 2 * e * ep * cos_th);
}

/* Per sample and layer, what every scattered photon needs at the histogram's energies. */
typedef struct layer_tab {
	double rt;       /* g/cm² */
	double *mu;      /* μ at the histogram bin centres */
	double *out;     /* attenuation above the layer on the way to the detector */
} layer_tab;

static double slab(double chi, double rt)
{
	return isinf(rt) ? 1 / chi : -expm1(-chi * rt) / chi;
}

int xrg_scatter(xrg_gen *g, const xrg_sample *s, double *hist, size_t nh, double hbin)
{
	const xrg_config *c = &g->c;
	double s1 = sin(c->psi1 * M_PI / 180), s2 = sin(c->psi2 * M_PI / 180);
	double th = (c->psi1 + c->psi2) * M_PI / 180, cth = cos(th);
	double omega_sr = 4 * M_PI * g->omega_4pi;
	int nl = s->nlayers;
	layer_tab lt[XRG_MAXLAYERS];
	memset(lt, 0, sizeof lt);
	double *eff = malloc(nh * sizeof(double)), *pzb = malloc(nh * sizeof(double));
	double *dpzb = malloc(nh * sizeof(double)), *wbuf = malloc(nh * sizeof(double));
	int rc = XRG_ERROR;
	if (!eff || !pzb || !dpzb || !wbuf)
		goto out;
	for (size_t i = 0; i < nh; i++)
		eff[i] = xrg_efficiency(g, (i + 0.5) * hbin);
	for (int k = 0; k < nl; k++) {
		lt[k].rt = xrg_layer_rho_t(&s->layer[k]);
		lt[k].mu = malloc(nh * sizeof(double));
		lt[k].out = malloc(nh * sizeof(double));
		if (!lt[k].mu || !lt[k].out)
			goto out;
		for (size_t i = 0; i < nh; i++) {
			double e = (i + 0.5) * hbin;
			lt[k].mu[i] = xrg_layer_mu(&s->layer[k], e);
			lt[k].out[i] = k ? xrg_above(s, k, e, s2) : 1;
		}
	}
	for (int k = 0; k < nl; k++)
		for (int i = 0; i < s->layer[k].n; i++)
			if (!profile(g, s->layer[k].z[i]))
				goto out;
	for (size_t b = 0; b < g->scat.n; b++) {
		double e = g->scat.e[b], n0 = g->scat.f[b];
		if (!(n0 > 0))
			continue;
		size_t ie = (size_t)(e / hbin);
		if (ie >= nh)
			continue;
		double ec = ComptonEnergy(e, th, NULL);
		/* the Compton sub-grid: the histogram bins where |p_z| < PZ_MAX */
		double d = fabs(pz_of(e, ec + 0.5 * hbin, cth) - pz_of(e, ec - 0.5 * hbin, cth)) / hbin;
		double half = d > 0 ? 1.5 * PZ_MAX / d : 0;
		long lo = (long)((ec - half) / hbin), hi = (long)(fmin(ec + half, e) / hbin);
		if (lo < 0)
			lo = 0;
		if (hi >= (long)nh)
			hi = (long)nh - 1;
		if (c->flags & XRG_NO_DOPPLER)
			lo = hi = (long)(ec / hbin);
		for (long m = lo; m <= hi && lo < hi; m++) {
			double ep = (m + 0.5) * hbin;
			pzb[m] = pz_of(e, ep, cth);
			dpzb[m] = fabs(pz_of(e, ep + 0.5 * hbin, cth) - pz_of(e, ep - 0.5 * hbin, cth));
		}
		for (int k = 0; k < nl; k++) {
			const xrg_layer *L = &s->layer[k];
			double in = k ? xrg_above(s, k, e, s1) : 1, mu_e = xrg_layer_mu(L, e);
			double ray = 0;
			for (int i = 0; i < L->n; i++)
				ray += L->w[i] * DCS_Rayl(L->z[i], e, th, NULL);
			hist[ie] += omega_sr * n0 * ray * in * lt[k].out[ie] * slab(mu_e / s1 + mu_e / s2, lt[k].rt) / s1 *
			            eff[ie];
			for (int i = 0; i < L->n; i++) {
				double amp = L->w[i] * DCS_Compt(L->z[i], e, th, NULL);
				if (!(amp > 0))
					continue;
				const double *j = g->jprof[L->z[i]];
				double norm = 0;
				for (long m = lo; m <= hi; m++) {
					wbuf[m] = lo == hi ? 1 : profile_at(j, pzb[m]) * dpzb[m];
					norm += wbuf[m];
				}
				if (!(norm > 0))
					continue;
				for (long m = lo; m <= hi; m++) {
					double wgt = wbuf[m];
					if (!(wgt > 0))
						continue;
					double chi = mu_e / s1 + lt[k].mu[m] / s2;
					hist[m] += omega_sr * n0 * amp * wgt / norm * in * lt[k].out[m] * slab(chi, lt[k].rt) / s1 *
					           eff[m];
				}
			}
		}
	}
	rc = 0;
out:
	if (rc)
		xrg_fail(XRG_ERROR, "scatter: no memory");
	free(eff);
	free(pzb);
	free(dpzb);
	free(wbuf);
	for (int k = 0; k < nl; k++) {
		free(lt[k].mu);
		free(lt[k].out);
	}
	return rc;
}
