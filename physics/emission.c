/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a flat sample sends to the detector: primary fluorescence by the
 * Sherman equation (xraylib CS_FluorLine_Kissel_Cascade per IUPAC line) in
 * every layer, secondary fluorescence within each layer (secondary.c),
 * Rayleigh and Compton scatter of the beam (Compton Doppler width from the
 * Compton profiles), and coating layers attenuating what lies beneath.
 * Reference: xrf-physics.md §2; docs/simulator-physics.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "internal.h"
#include "physics_internal.h"

#define DEG (M_PI / 180.0)
#define MIN_LINE_KEV 0.1

static double layer_mu(const mg_xrf_layer *l, double e)
{
	return mg_xrf_mix_mu(l->nel, l->z, l->w, e);
}

/* exp(−Σ_{m<k} μ_m(E)·d_m / sin ψ2): exit attenuation of the layers above k. */
static double above_out(const xr_layer_ctx *lay, int k, double e, double sin2)
{
	double a = 0;
	for (int m = 0; m < k; m++)
		a += layer_mu(lay[m].l, e) * lay[m].d;
	return exp(-a / sin2);
}

/* (1 − e^(−χd))/χ, d may be infinite. */
static double depth_factor(double chi, double d)
{
	if (isinf(d))
		return 1.0 / chi;
	return -expm1(-chi * d) / chi;
}

/* FWHM of the mass-weighted Compton profile of a layer, atomic units of p_z. */
static double compton_pz_fwhm(const mg_xrf_layer *l)
{
	double j0 = 0;
	for (int i = 0; i < l->nel; i++)
		j0 += l->w[i] / AtomicWeight(l->z[i], NULL) * ComptonProfile(l->z[i], 0.0, NULL);
	if (!(j0 > 0))
		return 0.0;
	double prev = j0, p;
	for (p = 0.02; p < 30.0; p += 0.02) {
		double j = 0;
		for (int i = 0; i < l->nel; i++)
			j += l->w[i] / AtomicWeight(l->z[i], NULL) * ComptonProfile(l->z[i], p, NULL);
		if (j <= 0.5 * j0) {
			double f = (prev - 0.5 * j0) / (prev - j); /* linear between p − 0.02 and p */
			return 2.0 * (p - 0.02 + 0.02 * f);
		}
		prev = j;
	}
	return 2.0 * p;
}

void mg_xrf_emission_free(mg_xrf_emission *em)
{
	if (!em)
		return;
	free(em->lines);
	free(em->scatter);
	free(em);
}

static int emission(const mg_xrf_sample *smp, const mg_xrf_geometry *g, const mg_xrf_beam *beam,
                    unsigned flags, mg_xrf_emission **out)
{
	int rc = 0;
	const size_t nb = beam->n;
	const int nlay = smp->ncoat + 1;
	const double sin1 = sin(g->incidence_deg * DEG), sin2 = sin(g->takeoff_deg * DEG);
	const double theta = (g->incidence_deg + g->takeoff_deg) * DEG;
	const double omega_frac = mg_xrf_geometry_solid_fraction(g);
	double emax = 0;
	for (size_t b = 0; b < nb; b++)
		emax = fmax(emax, beam->energy_kev[b]);

	xr_layer_ctx lay[MG_XRF_MAX_COATINGS + 1];
	memset(lay, 0, sizeof lay);
	xr_wline *wl = NULL;
	size_t nwl = 0, capwl = 0;
	mg_xrf_emission *em = calloc(1, sizeof *em);
	if (!em)
		goto nomem;

	/* layers, top first; μ at every beam energy and the beam transmission */
	for (int k = 0; k < nlay; k++) {
		const mg_xrf_layer *l = k < smp->ncoat ? &smp->coat[k] : &smp->substrate;
		lay[k].l = l;
		lay[k].d = (k == smp->ncoat && !(l->thickness_um > 0)) ? INFINITY
		                                                       : l->density * l->thickness_um * 1e-4;
		lay[k].mu = malloc((nb ? nb : 1) * sizeof(double));
		lay[k].ain = malloc((nb ? nb : 1) * sizeof(double));
		if (!lay[k].mu || !lay[k].ain)
			goto nomem;
		for (size_t b = 0; b < nb; b++) {
			lay[k].mu[b] = layer_mu(l, beam->energy_kev[b]);
			lay[k].ain[b] = k == 0 ? 1.0
			                       : lay[k - 1].ain[b] * exp(-lay[k - 1].mu[b] * lay[k - 1].d / sin1);
		}
	}

	/* lines: every IUPAC line with an energy, a radiative rate and an edge below the beam */
	for (int k = 0; k < nlay; k++) {
		const mg_xrf_layer *l = lay[k].l;
		for (int i = 0; i < l->nel; i++) {
			int z = l->z[i];
			if (!(l->w[i] > 0))
				continue;
			for (int line = -1; line >= -219; line--) {
				int shell = mg_xrf_line_shell(line);
				double e = LineEnergy(z, line, NULL);
				if (!(e >= MIN_LINE_KEV) || !(RadRate(z, line, NULL) > 0))
					continue;
				double edge = EdgeEnergy(z, shell, NULL);
				if (!(edge > 0) || edge >= emax)
					continue;
				if (nwl == capwl) {
					size_t nc = capwl ? 2 * capwl : 256;
					xr_wline *t = realloc(wl, nc * sizeof *t);
					if (!t)
						goto nomem;
					wl = t;
					capwl = nc;
				}
				xr_wline *w = &wl[nwl];
				memset(w, 0, sizeof *w);
				w->layer = k, w->el = i, w->z = z, w->line = line, w->shell = shell;
				w->e = e, w->edge = edge, w->mu = layer_mu(l, e);
				w->q = calloc(nb ? nb : 1, sizeof(double));
				if (!w->q)
					goto nomem;
				nwl++;
				mg_xrf_fluor_table(z, line, edge, beam->energy_kev, nb, w->q);
				double p = 0, st = 0;
				for (size_t b = 0; b < nb; b++) {
					double q = w->q[b];
					if (!(q > 0))
						continue;
					double f = beam->flux[b] * lay[k].ain[b];
					double chi = lay[k].mu[b] / sin1 + w->mu / sin2;
					p += f * q * depth_factor(chi, lay[k].d);
					st += f * q / lay[k].mu[b];
				}
				w->p = l->w[i] * p / sin1;
				w->strength = l->w[i] * st;
			}
		}
	}

	/* secondary fluorescence inside each layer */
	if (!(flags & MG_XRF_NO_SECONDARY) &&
	    (rc = xr_secondary(wl, nwl, lay, beam, sin1, sin2)) < 0)
		goto done;

	/* the lines at the detector window */
	em->lines = calloc(nwl ? nwl : 1, sizeof *em->lines);
	if (!em->lines)
		goto nomem;
	for (size_t a = 0; a < nwl; a++) {
		const xr_wline *w = &wl[a];
		double out_f = omega_frac * above_out(lay, w->layer, w->e, sin2) *
		               mg_xrf_atmosphere_transmission(g->atmosphere, g->det_path_mm, w->e);
		double p = w->p * out_f, s = w->s * out_f;
		if (!(p + s > 0))
			continue;
		mg_xrf_line *o = &em->lines[em->nlines++];
		o->z = w->z, o->line = w->line, o->layer = w->layer, o->energy_kev = w->e;
		o->primary = p, o->secondary = s, o->detected = 0;
	}

	/* Rayleigh and Compton scatter of every beam entry by every layer; the
	 * layers' contributions at one beam energy are merged into one Rayleigh
	 * and one Compton peak (the Compton width as the rate-weighted variance) */
	if (!(flags & MG_XRF_NO_SCATTER) && theta > 0 && nb) {
		double *ray = calloc(nb, sizeof(double)), *com = calloc(nb, sizeof(double));
		double *comv = calloc(nb, sizeof(double)), *come = calloc(nb, sizeof(double));
		em->scatter = calloc(2 * nb, sizeof *em->scatter);
		if (!ray || !com || !comv || !come || !em->scatter) {
			free(ray), free(com), free(comv), free(come);
			goto nomem;
		}
		double ct = cos(theta), omega = 4.0 * M_PI * omega_frac;
		for (int k = 0; k < nlay; k++) {
			const mg_xrf_layer *l = lay[k].l;
			double spz = compton_pz_fwhm(l) / 2.3548200450309493;
			for (size_t b = 0; b < nb; b++) {
				double e = beam->energy_kev[b];
				double f = beam->flux[b] * lay[k].ain[b];
				if (!(f > 1e-300))
					continue;
				double dr = 0, dc = 0;
				for (int i = 0; i < l->nel; i++) {
					dr += l->w[i] * DCS_Rayl(l->z[i], e, theta, NULL);
					dc += l->w[i] * DCS_Compt(l->z[i], e, theta, NULL);
				}
				/* Rayleigh */
				double chi = lay[k].mu[b] * (1.0 / sin1 + 1.0 / sin2);
				double r = f * omega * dr / sin1 * depth_factor(chi, lay[k].d) *
				           above_out(lay, k, e, sin2);
				if (r > 0)
					ray[b] += r;
				/* Compton, Doppler-broadened: dE'/dp_z ≈ q/137 keV per a.u. */
				double ec = ComptonEnergy(e, theta, NULL);
				if (!(ec > 0))
					continue;
				double muc = layer_mu(l, ec);
				chi = lay[k].mu[b] / sin1 + muc / sin2;
				double c = f * omega * dc / sin1 * depth_factor(chi, lay[k].d) *
				           above_out(lay, k, ec, sin2);
				double qk = sqrt(fmax(e * e + ec * ec - 2 * e * ec * ct, 0.0));
				double sd = spz * qk / 137.035999;
				if (c > 0) {
					com[b] += c;
					comv[b] += c * sd * sd;
					come[b] = ec;
				}
			}
		}
		for (size_t b = 0; b < nb; b++) {
			double e = beam->energy_kev[b];
			double wsig = beam->width_kev[b] / sqrt(12.0);
			double r = ray[b] * mg_xrf_atmosphere_transmission(g->atmosphere, g->det_path_mm, e);
			if (r > 0) {
				em->scatter[em->npeaks++] = (mg_xrf_peak){e, r, wsig};
				em->rayleigh += r;
			}
			if (!(com[b] > 0))
				continue;
			double ec = come[b];
			double c = com[b] * mg_xrf_atmosphere_transmission(g->atmosphere, g->det_path_mm, ec);
			double wsc = wsig * (ec / e) * (ec / e);
			em->scatter[em->npeaks++] = (mg_xrf_peak){ec, c, sqrt(comv[b] / com[b] + wsc * wsc)};
			em->compton += c;
		}
		free(ray), free(com), free(comv), free(come);
	}
	*out = em;
	em = NULL;
	goto done;
nomem:
	rc = mg_fail(MG_ERR_NOMEM, XR_DOM, "sample emission: out of memory");
done:
	for (size_t a = 0; a < nwl; a++) {
		free(wl[a].q);
		free(wl[a].fq);
		free(wl[a].g);
	}
	free(wl);
	for (int k = 0; k < nlay; k++) {
		free(lay[k].mu);
		free(lay[k].ain);
	}
	mg_xrf_emission_free(em);
	return rc;
}

int mg_xrf_sample_emission(const mg_xrf_sample *sample, const mg_xrf_geometry *geom,
                           const mg_xrf_beam *beam, unsigned flags, mg_xrf_emission **out)
{
	int rc;
	if (!sample || !geom || !beam || !out)
		return mg_fail(MG_ERR_ARG, XR_DOM, "sample emission: NULL argument");
	*out = NULL;
	if (sample->ncoat < 0 || sample->ncoat > MG_XRF_MAX_COATINGS)
		return mg_fail(MG_ERR_ARG, XR_DOM, "sample: %d coatings (max %d)", sample->ncoat,
		               MG_XRF_MAX_COATINGS);
	for (int c = 0; c < sample->ncoat; c++)
		if ((rc = xr_layer_check(&sample->coat[c], "coating", c, 0)) < 0)
			return rc;
	if ((rc = xr_layer_check(&sample->substrate, "substrate", 0, 1)) < 0)
		return rc;
	if (!(geom->incidence_deg > 0 && geom->incidence_deg <= 90) ||
	    !(geom->takeoff_deg > 0 && geom->takeoff_deg <= 90))
		return mg_fail(MG_ERR_ARG, XR_DOM, "geometry: angles %g/%g deg outside (0, 90]",
		               geom->incidence_deg, geom->takeoff_deg);
	if (!(geom->det_area_mm2 > 0) || !(geom->det_distance_mm > 0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "geometry: detector area %g mm2 / distance %g mm",
		               geom->det_area_mm2, geom->det_distance_mm);
	if (!(geom->tube_path_mm >= 0) || !(geom->det_path_mm >= 0) ||
	    (unsigned)geom->atmosphere > MG_XRF_HELIUM)
		return mg_fail(MG_ERR_ARG, XR_DOM, "geometry: bad atmosphere or path");
	return emission(sample, geom, beam, flags, out);
}
