/* SPDX-License-Identifier: GPL-3.0-or-later */
/* X-ray tube spectrum: Ebel (1999) continuum and
 * characteristic K and L anode lines of a thick reflection anode, tube window
 * and primary filter, and the discretised beam that reaches the sample.
 * Formulas: /work/shared/reference/xrf-physics.md §1.2–1.4; docs/simulator-physics.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "internal.h"
#include "magassay/xray.h"

#define DOM "xrfsim"

#define RHO_BE 1.848
#define EBEL_CONT 1.35e9   /* photons/(s·sr·mA·keV) per Z, continuum */
#define EBEL_K_DEFAULT 6.0e13
#define BEAM_EMIN_KEV 1.0  /* below this the tube window has removed everything */

/* Ebel quantities that depend only on the anode and the voltage. */
struct ebel {
	int z;
	double e0;        /* kV */
	double j;         /* mean ionisation potential, keV */
	double eta;       /* backscatter coefficient */
	double rhozm;     /* maximum depth of ionisation, g/cm² */
	double x;         /* continuum exponent */
	double sin_ratio; /* sin α / sin ε */
	int filter_z;     /* 0 = none */
	double filter_gcm2;
	double window_gcm2;
	double kconst;
};

static int symbol_z(const char *sym, int *z)
{
	xrl_error *err = NULL;
	char buf[4];
	size_t n = strnlen(sym, sizeof buf);
	if (n == 0 || n >= sizeof buf)
		return MG_ERR_ARG;
	memcpy(buf, sym, n);
	buf[n] = '\0';
	/* xraylib wants "Rh", accept "rh"/"RH" too */
	buf[0] = (char)(buf[0] >= 'a' && buf[0] <= 'z' ? buf[0] - 32 : buf[0]);
	for (size_t i = 1; i < n; i++)
		buf[i] = (char)(buf[i] >= 'A' && buf[i] <= 'Z' ? buf[i] + 32 : buf[i]);
	int v = SymbolToAtomicNumber(buf, &err);
	if (err) {
		xrl_error_free(err);
		return MG_ERR_ARG;
	}
	if (v <= 0)
		return MG_ERR_ARG;
	*z = v;
	return 0;
}

static int ebel_init(const mg_xrf_tube *t, struct ebel *e)
{
	if (!t)
		return mg_fail(MG_ERR_ARG, DOM, "tube: NULL");
	memset(e, 0, sizeof *e);
	if (symbol_z(t->anode, &e->z) < 0 || e->z < 4 || e->z > 92)
		return mg_fail(MG_ERR_ARG, DOM, "tube: unknown anode element '%.4s'", t->anode);
	if (!(t->kv > 2.0 && t->kv <= 100.0))
		return mg_fail(MG_ERR_ARG, DOM, "tube: voltage %g kV outside (2, 100]", t->kv);
	if (!(t->electron_angle_deg > 0 && t->electron_angle_deg <= 90) ||
	    !(t->takeoff_angle_deg > 0 && t->takeoff_angle_deg <= 90))
		return mg_fail(MG_ERR_ARG, DOM, "tube: angles %g/%g deg outside (0, 90]",
		               t->electron_angle_deg, t->takeoff_angle_deg);
	if (!(t->be_window_um >= 0) || !(t->filter_um >= 0) || !(t->line_constant >= 0))
		return mg_fail(MG_ERR_ARG, DOM, "tube: negative window, filter or line constant");
	if (t->filter[0] && t->filter_um > 0) {
		if (symbol_z(t->filter, &e->filter_z) < 0)
			return mg_fail(MG_ERR_ARG, DOM, "tube: unknown filter element '%.4s'", t->filter);
		e->filter_gcm2 = ElementDensity(e->filter_z, NULL) * t->filter_um * 1e-4;
	}
	e->window_gcm2 = RHO_BE * t->be_window_um * 1e-4;
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
static double ebel_rhoz(const struct ebel *e, double u0)
{
	double lu = log(u0), eta = e->eta;
	double p1 = lu * (0.49269 - 1.09870 * eta + 0.78557 * eta * eta);
	double p2 = 0.70256 - 1.09865 * eta + 1.00460 * eta * eta + lu;
	return e->rhozm * p1 / p2;
}

/* Anode self-absorption f = (1 − e^−χ)/χ, χ = 2·τ(E)·ρz̄·sin α/sin ε. */
static double ebel_selfabs(const struct ebel *e, double rhoz, double energy)
{
	double tau = CS_Photo(e->z, energy, NULL);
	double chi = 2.0 * tau * rhoz * e->sin_ratio;
	if (chi < 1e-9)
		return 1.0;
	return -expm1(-chi) / chi;
}

static double window_filter(const struct ebel *e, double energy)
{
	double att = CS_Total(4, energy, NULL) * e->window_gcm2;
	if (e->filter_z)
		att += CS_Total(e->filter_z, energy, NULL) * e->filter_gcm2;
	return exp(-att);
}

static double continuum(const struct ebel *e, double energy)
{
	if (!(energy > 0) || energy >= e->e0)
		return 0.0;
	double u0 = e->e0 / energy;
	double f = ebel_selfabs(e, ebel_rhoz(e, u0), energy);
	return EBEL_CONT * e->z * pow(u0 - 1.0, e->x) * f * window_filter(e, energy);
}

double mg_xrf_tube_continuum(const mg_xrf_tube *tube, double e_kev)
{
	struct ebel e;
	if (ebel_init(tube, &e) < 0)
		return 0.0;
	return continuum(&e, e_kev);
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

static int lines(const struct ebel *e, mg_xrf_tube_line *out, size_t max)
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
	struct ebel e;
	int rc = ebel_init(tube, &e);
	if (rc < 0)
		return rc;
	if (!out)
		max = 0;
	return lines(&e, out, max);
}

/* ------------------------------------------------------------ atmosphere */

double mg_xrf_atmosphere_transmission(enum mg_xrf_atmosphere atm, double path_mm, double e_kev)
{
	if (!(path_mm > 0) || !(e_kev > 0))
		return 1.0;
	double mu, rho;
	switch (atm) {
	case MG_XRF_AIR:
		/* dry air by mass: N 75.53, O 23.18, Ar 1.28, C 0.01 % */
		mu = 0.755267 * CS_Total(7, e_kev, NULL) + 0.231781 * CS_Total(8, e_kev, NULL) +
		     0.012827 * CS_Total(18, e_kev, NULL) + 0.000124 * CS_Total(6, e_kev, NULL);
		rho = 1.205e-3;
		break;
	case MG_XRF_HELIUM:
		mu = CS_Total(2, e_kev, NULL);
		rho = 1.66e-4;
		break;
	default:
		return 1.0;
	}
	return exp(-mu * rho * path_mm * 0.1);
}

/* ------------------------------------------------------------ beam */

void mg_xrf_beam_free(mg_xrf_beam *beam)
{
	if (!beam)
		return;
	free(beam->energy_kev);
	free(beam->flux);
	free(beam->width_kev);
	free(beam);
}

int mg_xrf_beam_new(const mg_xrf_tube *tube, const mg_xrf_geometry *geom, double bin_kev,
                    mg_xrf_beam **out)
{
	struct ebel e;
	int rc;
	if (!out || !geom)
		return mg_fail(MG_ERR_ARG, DOM, "beam: NULL argument");
	*out = NULL;
	if ((rc = ebel_init(tube, &e)) < 0)
		return rc;
	if (!(bin_kev >= 0.001 && bin_kev <= 2.0))
		return mg_fail(MG_ERR_ARG, DOM, "beam: bin width %g keV outside [0.001, 2]", bin_kev);
	if (!(geom->beam_sr > 0 && geom->beam_sr < 4 * M_PI))
		return mg_fail(MG_ERR_ARG, DOM, "beam: solid angle %g sr outside (0, 4π)", geom->beam_sr);
	if (e.e0 > 50.0 || e.e0 < 5.0)
		mg_warn(DOM, "tube at %g kV: Ebel's model is validated for 5..50 kV", e.e0);

	size_t ncont = e.e0 > BEAM_EMIN_KEV ? (size_t)ceil((e.e0 - BEAM_EMIN_KEV) / bin_kev) : 0;
	int nl = lines(&e, NULL, 0);
	mg_xrf_tube_line *tl = nl > 0 ? calloc((size_t)nl, sizeof *tl) : NULL;
	mg_xrf_beam *b = calloc(1, sizeof *b);
	size_t cap = ncont + (size_t)(nl > 0 ? nl : 0);
	if (b && cap) {
		b->energy_kev = malloc(cap * sizeof(double));
		b->flux = malloc(cap * sizeof(double));
		b->width_kev = malloc(cap * sizeof(double));
	}
	if (!b || (nl > 0 && !tl) || (cap && (!b->energy_kev || !b->flux || !b->width_kev))) {
		free(tl);
		mg_xrf_beam_free(b);
		return mg_fail(MG_ERR_NOMEM, DOM, "beam: out of memory");
	}
	if (nl > 0)
		lines(&e, tl, (size_t)nl);

	/* photons/(s·sr·mA) → photons/s per µA on the sample */
	double scale = 1e-3 * geom->beam_sr;
	double width = ncont ? (e.e0 - BEAM_EMIN_KEV) / (double)ncont : 0;
	size_t n = 0;
	for (size_t i = 0; i < ncont; i++) {
		double en = BEAM_EMIN_KEV + (i + 0.5) * width;
		double v = continuum(&e, en) * width * scale *
		           mg_xrf_atmosphere_transmission(geom->atmosphere, geom->tube_path_mm, en);
		if (!(v > 0))
			continue;
		b->energy_kev[n] = en;
		b->flux[n] = v;
		b->width_kev[n] = width;
		n++;
	}
	b->ncont = n;
	for (int i = 0; i < nl; i++) {
		double en = tl[i].energy_kev;
		double v = tl[i].intensity * scale *
		           mg_xrf_atmosphere_transmission(geom->atmosphere, geom->tube_path_mm, en);
		if (!(v > 0) || en < BEAM_EMIN_KEV)
			continue;
		b->energy_kev[n] = en;
		b->flux[n] = v;
		b->width_kev[n] = 0.0;
		n++;
	}
	b->n = n;
	free(tl);
	mg_dbg(DOM, "beam: %s %g kV, %zu continuum bins of %.4f keV + %zu lines", tube->anode, e.e0,
	       b->ncont, width, n - b->ncont);
	*out = b;
	return 0;
}
