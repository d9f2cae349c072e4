/* SPDX-License-Identifier: GPL-3.0-or-later */
/* X-ray tube spectrum: Ebel (1999) continuum and characteristic K and L anode
 * lines of a thick reflection anode, through the tube window and primary
 * filter. The beam on the sample is beam.c's.
 * Formulas: /work/shared/reference/xrf-physics.md §1.2–1.4; docs/simulator-physics.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "elements.h"
#include "internal.h"
#include "physics_internal.h"

#define EBEL_CONT 1.35e9   /* photons/(s·sr·mA·keV) per Z, continuum */
#define EBEL_K_DEFAULT 6.0e13

static int symbol_z(const char *sym, int *z)
{
	int v = mg_element_z(sym, strnlen(sym, 4));
	if (v <= 0)
		return MG_ERR_ARG;
	*z = v;
	return 0;
}

int xr_ebel_init(const mg_xrf_tube *t, xr_ebel *e)
{
	if (!t)
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube: NULL");
	memset(e, 0, sizeof *e);
	if (symbol_z(t->anode, &e->z) < 0 || e->z < 4 || e->z > 92)
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube: unknown anode element '%.4s'", t->anode);
	if (!(t->kv > 2.0 && t->kv <= 100.0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube: voltage %g kV outside (2, 100]", t->kv);
	if (!(t->electron_angle_deg > 0 && t->electron_angle_deg <= 90) ||
	    !(t->takeoff_angle_deg > 0 && t->takeoff_angle_deg <= 90))
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube: angles %g/%g deg outside (0, 90]",
		               t->electron_angle_deg, t->takeoff_angle_deg);
	if (!(t->be_window_um >= 0) || !(t->filter_um >= 0) || !(t->line_constant >= 0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube: negative window, filter or line constant");
	if (t->filter[0] && t->filter_um > 0) {
		if (symbol_z(t->filter, &e->filter_z) < 0)
			return mg_fail(MG_ERR_ARG, XR_DOM, "tube: unknown filter element '%.4s'", t->filter);
		e->filter_gcm2 = ElementDensity(e->filter_z, NULL) * t->filter_um * 1e-4;
	}
	e->window_gcm2 = XR_RHO_BE * t->be_window_um * 1e-4;
	e->kconst = t->line_constant > 0 ? t->line_constant : EBEL_K_DEFAULT;

	double z = e->z, lz = log(z);
	double a = AtomicWeight(e->z, NULL);
	e->e0 = t->kv;
	e->j = 0.0135 * z;
	double m = 0.1382 - 0.9211 / sqrt(z);
	e->eta = (0.1904 - 0.2236 * lz + 0.1292 * lz * lz - 0.0149 * lz * lz * lz) * pow(e->e0, m);
	e->rhozm = (a / z) * (0.787e-5 * sqrt(e->j) * pow(e->e0, 1.5) + 0.735e-6 * e->e0 * e->e0);
	e->x = 1.109 - 0.00435 * z + 0.00175 * e->e0;
	e->sin_ratio = sin(t->electron_angle_deg * M_PI / 180) / sin(t->takeoff_angle_deg * M_PI / 180);
	return 0;
}

/* Mean depth of X-ray generation ρz̄ (g/cm²) for overvoltage u0 > 1. */
static double ebel_rhoz(const xr_ebel *e, double u0)
{
	double lu = log(u0), eta = e->eta;
	double p1 = lu * (0.49269 - 1.09870 * eta + 0.78557 * eta * eta);
	double p2 = 0.70256 - 1.09865 * eta + 1.00460 * eta * eta + lu;
	return e->rhozm * p1 / p2;
}

/* Anode self-absorption f = (1 − e^−χ)/χ, χ = 2·τ(E)·ρz̄·sin α/sin ε. */
static double ebel_selfabs(const xr_ebel *e, double rhoz, double energy)
{
	double tau = CS_Photo(e->z, energy, NULL);
	double chi = 2.0 * tau * rhoz * e->sin_ratio;
	if (chi < 1e-9)
		return 1.0;
	return -expm1(-chi) / chi;
}

static double window_filter(const xr_ebel *e, double energy)
{
	double att = CS_Total(4, energy, NULL) * e->window_gcm2;
	if (e->filter_z)
		att += CS_Total(e->filter_z, energy, NULL) * e->filter_gcm2;
	return exp(-att);
}

double xr_ebel_continuum(const xr_ebel *e, double energy)
{
	if (!(energy > 0) || energy >= e->e0)
		return 0.0;
	double u0 = e->e0 / energy;
	double f = ebel_selfabs(e, ebel_rhoz(e, u0), energy);
	return EBEL_CONT * e->z * pow(u0 - 1.0, e->x) * f * window_filter(e, energy);
}

double mg_xrf_tube_continuum(const mg_xrf_tube *tube, double e_kev)
{
	xr_ebel e;
	if (xr_ebel_init(tube, &e) < 0)
		return 0.0;
	return xr_ebel_continuum(&e, e_kev);
}

/* Shells with Ebel line constants: K (z_s = 2, b_s = 0.35) and the L subshells
 * (z_s = 8, b_s = 0.25, xmimsim constants, fcorr on L1/L2). */
static const struct {
	int shell, first, last; /* IUPAC line macro range, first > last (negative) */
	double zs, bs;
} shells[] = {
	{K_SHELL, KL1_LINE, KP5_LINE, 2, 0.35},
	{L1_SHELL, L1L2_LINE, L1P5_LINE, 8, 0.25},
	{L2_SHELL, L2L3_LINE, L2Q1_LINE, 8, 0.25},
	{L3_SHELL, L3M1_LINE, L3Q1_LINE, 8, 0.25},
};

int xr_ebel_lines(const xr_ebel *e, mg_xrf_tube_line *out, size_t max)
{
	size_t n = 0;
	double z = e->z;
	double fcorr = e->z < 80 ? -0.4814 + 0.03781 * z - 2.413e-4 * z * z : 1.0;
	for (size_t s = 0; s < MG_ARRAY_SIZE(shells); s++) {
		double edge = EdgeEnergy(e->z, shells[s].shell, NULL);
		if (!(edge > 0) || e->e0 <= edge)
			continue;
		double omega = FluorYield(e->z, shells[s].shell, NULL);
		if (!(omega > 0))
			continue;
		double c;
		switch (shells[s].shell) {
		case K_SHELL: c = e->kconst; break;
		case L1_SHELL: c = 0.71e13 * fcorr; break;
		case L2_SHELL: c = 2.70e13 * fcorr; break;
		default: c = 4.94e13; break;
		}
		double u0 = e->e0 / edge, lu = log(u0), su = sqrt(u0);
		double core = u0 * lu + 1.0 - u0;
		double oneovers = (shells[s].zs * shells[s].bs / z) * core *
		                  (1.0 + 16.05 * sqrt(e->j / edge) * (su * lu + 2.0 * (1.0 - su)) / core);
		double r = 1.0 - 0.0081517 * z + 3.613e-5 * z * z + 0.009583 * z * exp(-u0) + 0.001141 * e->e0;
		double rhoz = ebel_rhoz(e, u0);
		for (int l = shells[s].first; l >= shells[s].last; l--) {
			double p = RadRate(e->z, l, NULL);
			double el = LineEnergy(e->z, l, NULL);
			if (!(p > 0) || !(el > 0))
				continue;
			double v = c * oneovers * r * omega * p * ebel_selfabs(e, rhoz, el) * window_filter(e, el);
			if (!(v > 0))
				continue;
			if (n < max) {
				out[n].line = l;
				out[n].energy_kev = el;
				out[n].intensity = v;
			}
			n++;
		}
	}
	return (int)n;
}

int mg_xrf_tube_lines(const mg_xrf_tube *tube, mg_xrf_tube_line *out, size_t max)
{
	xr_ebel e;
	int rc = xr_ebel_init(tube, &e);
	if (rc < 0)
		return rc;
	if (!out)
		max = 0;
	return xr_ebel_lines(&e, out, max);
}
