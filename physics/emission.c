/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sample side of the spectrometer: compositions, primary fluorescence by
 * the Sherman equation (xraylib CS_FluorLine_Kissel_Cascade per IUPAC line),
 * secondary fluorescence within
 * each layer (de Boer / Shiraiwa–Fujino, finite thickness), Rayleigh and
 * Compton scatter of the tube spectrum (Compton Doppler width from the
 * Compton profiles), and coating layers attenuating what lies beneath.
 * Reference: xrf-physics.md §2; docs/simulator-physics.md. */
#include <ctype.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_sf_expint.h>
#include <xraylib.h>

#include "internal.h"
#include "magassay/xray.h"

#define DOM "xrfsim"
#define DEG (M_PI / 180.0)
#define EULER_GAMMA 0.57721566490153286
#define MIN_LINE_KEV 0.1
#define SRC_REL_MIN 1e-6 /* secondary sources weaker than this (relative) are skipped */

/* ------------------------------------------------------------ line names */

static const char *const line_names[219] = {
	"KL1", "KL2", "KL3", "KM1", "KM2", "KM3", "KM4", "KM5", "KN1", "KN2", "KN3", "KN4", "KN5", "KN6",
	"KN7", "KO", "KO1", "KO2", "KO3", "KO4", "KO5", "KO6", "KO7", "KP", "KP1", "KP2", "KP3", "KP4",
	"KP5", "L1L2", "L1L3", "L1M1", "L1M2", "L1M3", "L1M4", "L1M5", "L1N1", "L1N2", "L1N3", "L1N4",
	"L1N5", "L1N6", "L1N67", "L1N7", "L1O1", "L1O2", "L1O3", "L1O4", "L1O45", "L1O5", "L1O6", "L1O7",
	"L1P1", "L1P2", "L1P23", "L1P3", "L1P4", "L1P5", "L2L3", "L2M1", "L2M2", "L2M3", "L2M4", "L2M5",
	"L2N1", "L2N2", "L2N3", "L2N4", "L2N5", "L2N6", "L2N7", "L2O1", "L2O2", "L2O3", "L2O4", "L2O5",
	"L2O6", "L2O7", "L2P1", "L2P2", "L2P23", "L2P3", "L2P4", "L2P5", "L2Q1", "L3M1", "L3M2", "L3M3",
	"L3M4", "L3M5", "L3N1", "L3N2", "L3N3", "L3N4", "L3N5", "L3N6", "L3N7", "L3O1", "L3O2", "L3O3",
	"L3O4", "L3O45", "L3O5", "L3O6", "L3O7", "L3P1", "L3P2", "L3P23", "L3P3", "L3P4", "L3P45", "L3P5",
	"L3Q1", "M1M2", "M1M3", "M1M4", "M1M5", "M1N1", "M1N2", "M1N3", "M1N4", "M1N5", "M1N6", "M1N7",
	"M1O1", "M1O2", "M1O3", "M1O4", "M1O5", "M1O6", "M1O7", "M1P1", "M1P2", "M1P3", "M1P4", "M1P5",
	"M2M3", "M2M4", "M2M5", "M2N1", "M2N2", "M2N3", "M2N4", "M2N5", "M2N6", "M2N7", "M2O1", "M2O2",
	"M2O3", "M2O4", "M2O5", "M2O6", "M2O7", "M2P1", "M2P2", "M2P3", "M2P4", "M2P5", "M3M4", "M3M5",
	"M3N1", "M3N2", "M3N3", "M3N4", "M3N5", "M3N6", "M3N7", "M3O1", "M3O2", "M3O3", "M3O4", "M3O5",
	"M3O6", "M3O7", "M3P1", "M3P2", "M3P3", "M3P4", "M3P5", "M3Q1", "M4M5", "M4N1", "M4N2", "M4N3",
	"M4N4", "M4N5", "M4N6", "M4N7", "M4O1", "M4O2", "M4O3", "M4O4", "M4O5", "M4O6", "M4O7", "M4P1",
	"M4P2", "M4P3", "M4P4", "M4P5", "M5N1", "M5N2", "M5N3", "M5N4", "M5N5", "M5N6", "M5N7", "M5O1",
	"M5O2", "M5O3", "M5O4", "M5O5", "M5O6", "M5O7", "M5P1", "M5P2", "M5P3", "M5P4", "M5P5"
};

const char *mg_xrf_line_name(int line)
{
	if (line <= -1 && line >= -219)
		return line_names[-line - 1];
	return "?";
}

/* Shell of an IUPAC line macro (xraylib-lines.h: contiguous blocks per shell). */
static int line_shell(int line)
{
	int k = -line;
	if (k <= 29)
		return K_SHELL;
	if (k <= 58)
		return L1_SHELL;
	if (k <= 85)
		return L2_SHELL;
	if (k <= 113)
		return L3_SHELL;
	if (k <= 136)
		return M1_SHELL;
	if (k <= 158)
		return M2_SHELL;
	if (k <= 180)
		return M3_SHELL;
	if (k <= 200)
		return M4_SHELL;
	return M5_SHELL;
}

/* ------------------------------------------------------------ compositions */

static int sym_to_z(const char *s, size_t n)
{
	static const char *const sym[] = {
		"H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S",
		"Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga",
		"Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd",
		"Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm",
		"Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os",
		"Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa",
		"U", "Np", "Pu"};
	if (n == 0 || n > 2)
		return 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(sym); i++)
		if (strlen(sym[i]) == n && strncasecmp(sym[i], s, n) == 0)
			return (int)i + 1;
	return 0;
}

static int parse_num(const char *s, size_t n, double *out)
{
	char buf[64];
	char *end;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	double v = strtod(buf, &end);
	if (end != buf + n || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Estimated density: mass-weighted harmonic mean of the condensed elements. */
static double estimate_density(const mg_xrf_layer *l)
{
	double inv = 0, wsum = 0;
	for (int i = 0; i < l->nel; i++) {
		double rho = ElementDensity(l->z[i], NULL);
		if (rho > 0.5) {
			inv += l->w[i] / rho;
			wsum += l->w[i];
		}
	}
	return inv > 0 ? wsum / inv : 1.0;
}

/* Parse a composition; thickness/density are optional keys. */
static int parse_layer(const char *spec, mg_xrf_layer *out, int *have_density, int *have_thick)
{
	memset(out, 0, sizeof *out);
	*have_density = *have_thick = 0;
	if (!spec)
		return mg_fail(MG_ERR_ARG, DOM, "composition: NULL");
	const char *p = spec;
	double sum = 0;
	while (*p) {
		while (*p == ',' || *p == ';' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *tok = p;
		while (*p && *p != ',' && *p != ';' && !isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - tok);
		const char *colon = memchr(tok, ':', n), *eq = memchr(tok, '=', n);
		long off = (long)(tok - spec);
		if (eq && !colon) {
			size_t kn = (size_t)(eq - tok);
			double v;
			if (parse_num(eq + 1, n - kn - 1, &v) < 0 || !(v > 0))
				return mg_fail(MG_ERR_FORMAT, DOM, "composition: byte %ld: bad value in '%.*s'",
				               off, (int)n, tok);
			if ((kn == 7 && strncasecmp(tok, "density", 7) == 0) ||
			    (kn == 3 && strncasecmp(tok, "rho", 3) == 0)) {
				out->density = v;
				*have_density = 1;
			} else if (kn == 9 && strncasecmp(tok, "thickness", 9) == 0) {
				out->thickness_um = v;
				*have_thick = 1;
			} else {
				return mg_fail(MG_ERR_FORMAT, DOM,
				               "composition: byte %ld: unknown key '%.*s' (density, thickness)",
				               off, (int)kn, tok);
			}
			continue;
		}
		if (!colon)
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: byte %ld: expected Symbol:wt%% in '%.*s'",
			               off, (int)n, tok);
		size_t sn = (size_t)(colon - tok);
		int z = sym_to_z(tok, sn);
		if (!z)
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: byte %ld: unknown element '%.*s'", off,
			               (int)sn, tok);
		double v;
		if (parse_num(colon + 1, n - sn - 1, &v) < 0 || !(v > 0) || v > 100)
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: byte %ld: bad wt%% in '%.*s'", off,
			               (int)n, tok);
		for (int i = 0; i < out->nel; i++)
			if (out->z[i] == z)
				return mg_fail(MG_ERR_FORMAT, DOM, "composition: byte %ld: element '%.*s' twice",
				               off, (int)sn, tok);
		if (out->nel >= MG_XRF_MAX_ELEMENTS)
			return mg_fail(MG_ERR_FORMAT, DOM, "composition: more than %d elements",
			               MG_XRF_MAX_ELEMENTS);
		out->z[out->nel] = z;
		out->w[out->nel] = v;
		out->nel++;
		sum += v;
	}
	if (out->nel == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "composition: no element in '%s'", spec);
	if (fabs(sum - 100.0) > 0.5)
		mg_warn(DOM, "composition '%s' sums to %.3g wt%%: normalised to 100", spec, sum);
	for (int i = 0; i < out->nel; i++)
		out->w[i] /= sum;
	if (!*have_density) {
		out->density = estimate_density(out);
		mg_dbg(DOM, "composition '%s': density estimated %.3g g/cm3", spec, out->density);
	}
	return 0;
}

int mg_xrf_layer_parse(const char *spec, mg_xrf_layer *out)
{
	int hd, ht;
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "composition: NULL output");
	return parse_layer(spec, out, &hd, &ht);
}

/* ------------------------------------------------------------ geometry helpers */

double mg_xrf_geometry_solid_fraction(const mg_xrf_geometry *g)
{
	if (!g || !(g->det_area_mm2 > 0) || !(g->det_distance_mm > 0))
		return 0.0;
	double r2 = g->det_area_mm2 / M_PI, d = g->det_distance_mm;
	return 0.5 * (1.0 - d / sqrt(d * d + r2));
}

static double layer_mu(const mg_xrf_layer *l, double e)
{
	double mu = 0;
	for (int i = 0; i < l->nel; i++)
		mu += l->w[i] * CS_Total(l->z[i], e, NULL);
	return mu;
}

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

/* ------------------------------------------------------------ emission */

struct wline {
	int layer, el, z, line, shell;
	double e;       /* line energy */
	double edge;    /* absorption edge of its shell */
	double mu;      /* μ of its layer at e */
	double *q;      /* Q(E_b), cm²/g, per beam entry */
	double *fq;     /* flux·A_in·Q per beam entry (secondary sources only) */
	double *g;      /* ln(1 + a/μ)/a per beam entry (sources in thick layers) */
	double strength;/* rough emission strength (source pruning) */
	double p, s;    /* internal primary/secondary (before A_out, Ω, air) */
};

struct lctx {
	const mg_xrf_layer *l;
	double d;     /* g/cm², INFINITY = thick */
	double *mu;   /* μ at beam energies */
	double *ain;  /* beam transmission through the layers above */
};

/* exp(−Σ_{m<k} μ_m(E)·d_m / sin ψ2): exit attenuation of the layers above k. */
static double above_out(const struct lctx *lay, int k, double e, double sin2)
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

static int check_layer(const mg_xrf_layer *l, const char *what, int idx, int substrate)
{
	double sum = 0;
	if (l->nel < 1 || l->nel > MG_XRF_MAX_ELEMENTS)
		return mg_fail(MG_ERR_ARG, DOM, "sample: %s %d has %d elements", what, idx, l->nel);
	for (int i = 0; i < l->nel; i++) {
		if (l->z[i] < 1 || l->z[i] > 94 || !(l->w[i] >= 0))
			return mg_fail(MG_ERR_ARG, DOM, "sample: %s %d: element %d (Z %d, w %g) invalid",
			               what, idx, i, l->z[i], l->w[i]);
		for (int j = 0; j < i; j++)
			if (l->z[j] == l->z[i])
				return mg_fail(MG_ERR_ARG, DOM, "sample: %s %d: Z %d twice", what, idx, l->z[i]);
		sum += l->w[i];
	}
	if (fabs(sum - 1.0) > 0.01)
		return mg_fail(MG_ERR_ARG, DOM, "sample: %s %d: mass fractions sum to %g, not 1", what, idx,
		               sum);
	if (!(l->density > 0) || l->density > 25)
		return mg_fail(MG_ERR_ARG, DOM, "sample: %s %d: density %g g/cm3", what, idx, l->density);
	if (!substrate && !(l->thickness_um > 0))
		return mg_fail(MG_ERR_ARG, DOM, "sample: coating %d needs a thickness > 0", idx);
	return 0;
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

	struct lctx lay[MG_XRF_MAX_COATINGS + 1];
	memset(lay, 0, sizeof lay);
	struct wline *wl = NULL;
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
				int shell = line_shell(line);
				double e = LineEnergy(z, line, NULL);
				if (!(e >= MIN_LINE_KEV) || !(RadRate(z, line, NULL) > 0))
					continue;
				double edge = EdgeEnergy(z, shell, NULL);
				if (!(edge > 0) || edge >= emax)
					continue;
				if (nwl == capwl) {
					size_t nc = capwl ? 2 * capwl : 256;
					struct wline *t = realloc(wl, nc * sizeof *t);
					if (!t)
						goto nomem;
					wl = t;
					capwl = nc;
				}
				struct wline *w = &wl[nwl];
				memset(w, 0, sizeof *w);
				w->layer = k, w->el = i, w->z = z, w->line = line, w->shell = shell;
				w->e = e, w->edge = edge, w->mu = layer_mu(l, e);
				w->q = calloc(nb ? nb : 1, sizeof(double));
				if (!w->q)
					goto nomem;
				nwl++;
				double p = 0, st = 0;
				for (size_t b = 0; b < nb; b++) {
					double eb = beam->energy_kev[b];
					if (eb <= edge)
						continue;
					double q = CS_FluorLine_Kissel_Cascade(z, line, eb, NULL);
					if (!(q > 0))
						continue;
					w->q[b] = q;
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

	/* secondary fluorescence inside each layer: K and L analyte lines, all
	 * lines of all elements of the same layer as sources */
	if (!(flags & MG_XRF_NO_SECONDARY)) {
		double smax[MG_XRF_MAX_COATINGS + 1] = {0};
		for (size_t a = 0; a < nwl; a++)
			smax[wl[a].layer] = fmax(smax[wl[a].layer], wl[a].strength);
		/* per source: flux × transmission × Q per bin, and for thick layers the
		 * a-dependent half of the thick-layer kernel */
		for (size_t j = 0; j < nwl; j++) {
			struct wline *src = &wl[j];
			const struct lctx *L = &lay[src->layer];
			if (src->strength < SRC_REL_MIN * smax[src->layer] || !(src->strength > 0))
				continue;
			src->fq = malloc((nb ? nb : 1) * sizeof(double));
			if (!src->fq)
				goto nomem;
			for (size_t b = 0; b < nb; b++)
				src->fq[b] = beam->flux[b] * L->ain[b] * src->q[b];
			if (!isinf(L->d))
				continue;
			src->g = calloc(nb ? nb : 1, sizeof(double));
			if (!src->g)
				goto nomem;
			for (size_t b = 0; b < nb; b++) {
				double aa = L->mu[b] / sin1;
				if (src->q[b] > 0)
					src->g[b] = log1p(aa / src->mu) / aa;
			}
		}
		for (size_t a = 0; a < nwl; a++) {
			struct wline *an = &wl[a];
			if (an->shell > L3_SHELL)
				continue;
			const struct lctx *L = &lay[an->layer];
			double wi = L->l->w[an->el], bb = an->mu / sin2, s = 0;
			for (size_t j = 0; j < nwl; j++) {
				const struct wline *src = &wl[j];
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
	}

	/* the lines at the detector window */
	em->lines = calloc(nwl ? nwl : 1, sizeof *em->lines);
	if (!em->lines)
		goto nomem;
	for (size_t a = 0; a < nwl; a++) {
		const struct wline *w = &wl[a];
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
	rc = mg_fail(MG_ERR_NOMEM, DOM, "sample emission: out of memory");
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
		return mg_fail(MG_ERR_ARG, DOM, "sample emission: NULL argument");
	*out = NULL;
	if (sample->ncoat < 0 || sample->ncoat > MG_XRF_MAX_COATINGS)
		return mg_fail(MG_ERR_ARG, DOM, "sample: %d coatings (max %d)", sample->ncoat,
		               MG_XRF_MAX_COATINGS);
	for (int c = 0; c < sample->ncoat; c++)
		if ((rc = check_layer(&sample->coat[c], "coating", c, 0)) < 0)
			return rc;
	if ((rc = check_layer(&sample->substrate, "substrate", 0, 1)) < 0)
		return rc;
	if (!(geom->incidence_deg > 0 && geom->incidence_deg <= 90) ||
	    !(geom->takeoff_deg > 0 && geom->takeoff_deg <= 90))
		return mg_fail(MG_ERR_ARG, DOM, "geometry: angles %g/%g deg outside (0, 90]",
		               geom->incidence_deg, geom->takeoff_deg);
	if (!(geom->det_area_mm2 > 0) || !(geom->det_distance_mm > 0))
		return mg_fail(MG_ERR_ARG, DOM, "geometry: detector area %g mm2 / distance %g mm",
		               geom->det_area_mm2, geom->det_distance_mm);
	if (!(geom->tube_path_mm >= 0) || !(geom->det_path_mm >= 0) ||
	    (unsigned)geom->atmosphere > MG_XRF_HELIUM)
		return mg_fail(MG_ERR_ARG, DOM, "geometry: bad atmosphere or path");
	return emission(sample, geom, beam, flags, out);
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
