/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Secondary fluorescence within a layer: every K and L line of the layer
 * excited by the fluorescence of every line of every element of the same
 * layer (de Boer / Shiraiwa–Fujino, finite thickness), and the S/P ratio of a
 * thick layer under a monochromatic beam. Reference: xrf-physics.md §2.2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_expint.h>
#include <xraylib.h>

#include "internal.h"
#include "physics_internal.h"

#define EULER_GAMMA 0.57721566490153286
#define SRC_REL_MIN 1e-6 /* secondary sources weaker than this (relative) are skipped */

/* ------------------------------------------------------------ de Boer L */

/* D(x) = e^x·E1(x); principal value for x < 0: −e^x·Ei(−x). */
static double deboer_d(double x)
{
	if (x > 0)
		return gsl_sf_expint_E1_scaled(x);
	if (x < 0)
		return -gsl_sf_expint_Ei_scaled(-x);
	return 0.0; /* not reached: callers keep x away from 0 */
}

double mg_xrf_deboer_l(double mu1, double mu2, double muj, double d)
{
	if (!(mu1 > 0) || !(mu2 > 0) || !(muj > 0) || !(d > 0))
		return 0.0;
	if (isinf(d) || fmin(mu1 + muj, mu1 + mu2) * d > 40.0)
		return log1p(mu1 / muj) / (mu1 * (mu1 + mu2));
	if ((mu1 + mu2 + muj) * d < 1e-3) /* thin: E1(x) ≈ −γ − ln x */
		return 0.5 * d * d * (1.5 - EULER_GAMMA - log(muj * d));
	/* keep μj − μ2 away from 0 (the two singular terms cancel there) */
	if (fabs(muj - mu2) < 1e-7 * muj)
		mu2 = muj * (1.0 - 1e-7);
	double s12 = mu1 + mu2;
	double t = exp(-(mu1 + muj) * d) *
	           (deboer_d((muj - mu2) * d) / (mu2 * s12) - deboer_d(muj * d) / (mu1 * mu2) +
	            deboer_d((muj + mu1) * d) / (mu1 * s12));
	t += log1p(mu1 / muj) / (mu1 * s12);
	t += exp(-s12 * d) * log(fabs(1.0 - mu2 / muj)) / (mu2 * s12);
	return t;
}

/* ------------------------------------------------------------ secondary */

int xr_secondary(xr_wline *wl, size_t nwl, const xr_layer_ctx *lay, const mg_xrf_beam *beam,
                 double sin1, double sin2)
{
	const size_t nb = beam->n;
	double smax[MG_XRF_MAX_COATINGS + 1] = {0};
	for (size_t a = 0; a < nwl; a++)
		smax[wl[a].layer] = fmax(smax[wl[a].layer], wl[a].strength);
	/* per source: flux × transmission × Q per bin, and for thick layers the
	 * a-dependent half of the thick-layer kernel */
	for (size_t j = 0; j < nwl; j++) {
		xr_wline *src = &wl[j];
		const xr_layer_ctx *L = &lay[src->layer];
		if (src->strength < SRC_REL_MIN * smax[src->layer] || !(src->strength > 0))
			continue;
		src->fq = malloc((nb ? nb : 1) * sizeof(double));
		if (!src->fq)
			return mg_fail(MG_ERR_NOMEM, XR_DOM, "sample emission: out of memory");
		for (size_t b = 0; b < nb; b++)
			src->fq[b] = beam->flux[b] * L->ain[b] * src->q[b];
		if (!isinf(L->d))
			continue;
		src->g = calloc(nb ? nb : 1, sizeof(double));
		if (!src->g)
			return mg_fail(MG_ERR_NOMEM, XR_DOM, "sample emission: out of memory");
		for (size_t b = 0; b < nb; b++) {
			double aa = L->mu[b] / sin1;
			if (src->q[b] > 0)
				src->g[b] = log1p(aa / src->mu) / aa;
		}
	}
	for (size_t a = 0; a < nwl; a++) {
		xr_wline *an = &wl[a];
		if (an->shell > L3_SHELL)
			continue;
		const xr_layer_ctx *L = &lay[an->layer];
		double wi = L->l->w[an->el], bb = an->mu / sin2, s = 0;
		for (size_t j = 0; j < nwl; j++) {
			const xr_wline *src = &wl[j];
			if (src->layer != an->layer || src->e <= an->edge || !src->fq)
				continue;
			double qa = CS_FluorLine_Kissel_Cascade(an->z, an->line, src->e, NULL);
			if (!(qa > 0))
				continue;
			double wj = L->l->w[src->el], muj = src->mu, acc = 0;
			if (src->g) {
				/* thick: L(a,b) + L(b,a) = [ln(1+a/μj)/a + ln(1+b/μj)/b]/(a+b),
				 * the a-term cached per source and bin */
				double hb = log1p(bb / muj) / bb;
				for (size_t b = 0; b < nb; b++)
					if (src->q[b] > 0)
						acc += src->fq[b] * (src->g[b] + hb) / (L->mu[b] / sin1 + bb);
			} else {
				for (size_t b = 0; b < nb; b++) {
					if (!(src->q[b] > 0))
						continue;
					double aa = L->mu[b] / sin1;
					double ll = mg_xrf_deboer_l(aa, bb, muj, L->d) +
					            mg_xrf_deboer_l(bb, aa, muj, L->d);
					acc += src->fq[b] * ll;
				}
			}
			s += wj * qa * acc;
		}
		an->s = wi * s / (2.0 * sin1);
	}
	return 0;
}

double mg_xrf_secondary_ratio(const mg_xrf_layer *layer, int z, int line, double e0_kev,
                              double psi1_deg, double psi2_deg)
{
	if (!layer || !(e0_kev > 0))
		return 0.0;
	mg_xrf_sample s;
	memset(&s, 0, sizeof s);
	s.substrate = *layer;
	s.substrate.thickness_um = 0;
	mg_xrf_geometry g = {.incidence_deg = psi1_deg, .takeoff_deg = psi2_deg, .beam_sr = 1,
	                     .det_area_mm2 = 1, .det_distance_mm = 1, .atmosphere = MG_XRF_VACUUM};
	double e = e0_kev, f = 1.0, w = 0.0;
	mg_xrf_beam beam = {.n = 1, .energy_kev = &e, .flux = &f, .width_kev = &w, .ncont = 1};
	mg_xrf_emission *em = NULL;
	if (mg_xrf_sample_emission(&s, &g, &beam, MG_XRF_NO_SCATTER, &em) < 0)
		return 0.0;
	double r = 0.0;
	for (size_t i = 0; i < em->nlines; i++)
		if (em->lines[i].z == z && em->lines[i].line == line && em->lines[i].primary > 0)
			r = em->lines[i].secondary / em->lines[i].primary;
	mg_xrf_emission_free(em);
	return r;
}
