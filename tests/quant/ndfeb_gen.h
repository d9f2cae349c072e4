/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An independent XRF spectrum generator for the quantification tests, written
 * here, in the tests, on purpose: it is NOT the suite's forward model
 * (drivers/sim/xrf_*.c) and NOT the FP model of analysis/quant/fp.c, so a
 * test passing is no proof by symmetry. What it does differently from what the
 * analysis and the quantification assume:
 *
 *  - tube: Kramers' law with exponent x = 1.15 (Ebel's x for Rh at 40 kV is
 *    0.98) and its own anode self-absorption (a Kanaya–Okayama depth of
 *    generation instead of Ebel's ρz̄), its own Rh K and L line intensities
 *    (not Ebel's), on a 0.025 keV grid that ignores absorption edges;
 *  - secondary fluorescence: the emission direction integrated numerically
 *    (Gauss–Legendre over u = cos θ after u = t², 24 nodes) instead of the
 *    closed logarithmic form, on a coarser 0.1 keV beam grid, main source
 *    lines only (≥ 1 % of their family);
 *  - detector: Be window 14 µm where the instrument file says 12.5, its own
 *    efficiency code; line shape = Gaussian sampled at channel centres + two
 *    sharp-edged exponential tails + a flat shelf (the engine fits a
 *    Gaussian-convolved Hypermet tail and step); Si escape from an empirical
 *    power law (the engine uses Reed & Ware);
 *  - pile-up: the self-convolution of the whole detected spectrum × τ = 0.5 µs;
 *  - a gain drift applied to the unknowns against the standards' calibration;
 *  - the magnets carry elements nobody analyses (Al, Ga, O) and the
 *    Rayleigh/Compton scatter of its own tube spectrum with a crude Doppler
 *    broadening.
 * Element data (cross sections, line energies, yields) are xraylib's, as they
 * must be: they are the physics, not the model under test. Header-only; needs
 * xraylib and GSL. */
#ifndef MG_TEST_NDFEB_GEN_H
#define MG_TEST_NDFEB_GEN_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <xraylib.h>

#define GEN_MAXEL 16
#define GEN_MAXLINES 2048

typedef struct gen_cfg {
	double kv, kramers_x, current_ua, tube_be_um, beam_sr;
	double rh_lines[4];          /* Kα1, Kα2, Kβ1, Lα photons/(s·sr·mA) */
	double psi1, psi2, area_mm2, dist_mm, air_tube_mm, air_det_mm;
	double be_um, dead_um, si_mm;
	double noise, fano, t1, b1, t2, b2, shelf, pileup_us;
	int nchan;
	double offset, gain;
} gen_cfg;

static inline void gen_cfg_default(gen_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->kv = 40;
	c->kramers_x = 1.15;
	c->current_ua = 20;
	c->tube_be_um = 125;
	c->beam_sr = 2.5e-3;
	c->rh_lines[0] = 1.25e11;
	c->rh_lines[1] = 0.66e11;
	c->rh_lines[2] = 0.21e11;
	c->rh_lines[3] = 0.9e10;
	c->psi1 = c->psi2 = 45;
	c->area_mm2 = 25;
	c->dist_mm = 20;
	c->air_tube_mm = 10;
	c->air_det_mm = 20;
	c->be_um = 14;
	c->dead_um = 0.1;
	c->si_mm = 0.5;
	c->noise = 0.085;
	c->fano = 0.118;
	c->t1 = 0.015;
	c->b1 = 0.08;
	c->t2 = 0.008;
	c->b2 = 0.9;
	c->shelf = 1.5e-4;
	c->pileup_us = 0.5;
	c->nchan = 2048;
	c->offset = 0;
	c->gain = 0.02;
}

static inline double gen_air_mu(double e)
{
	return 0.7553 * CS_Total(7, e, NULL) + 0.2318 * CS_Total(8, e, NULL) + 0.0128 * CS_Total(18, e, NULL);
}

static inline double gen_eff(const gen_cfg *c, double e)
{
	double t = exp(-CS_Total(4, e, NULL) * 1.848 * c->be_um * 1e-4);
	t *= exp(-CS_Total(14, e, NULL) * 2.33 * c->dead_um * 1e-4);
	t *= 1 - exp(-CS_Photo(14, e, NULL) * 2.33 * c->si_mm * 0.1);
	t *= exp(-gen_air_mu(e) * 1.205e-3 * c->air_det_mm * 0.1);
	return t;
}

/* The beam on the sample: photons/s per bin for the configured current. */
typedef struct gen_beam {
	size_t n;
	double e[4096], f[4096];
} gen_beam;

static inline void gen_beam_make(const gen_cfg *c, double bin, gen_beam *b)
{
	b->n = 0;
	double scale = c->current_ua * 1e-3 * c->beam_sr;
	for (double e = 1.0 + bin / 2; e < c->kv && b->n < 4000; e += bin) {
		double n = 1.35e9 * 45 * pow(c->kv / e - 1, c->kramers_x) * bin;
		/* anode self-absorption with a Kanaya–Okayama depth of generation (not Ebel's ρz̄):
		 * photons of energy e come from where the electrons still have more than e, mean
		 * mass depth 0.35·(R(E0) − R(e)), R = 2.76e-6·A·E^1.67/Z^0.889 g/cm² */
		double R0 = 2.76e-6 * 102.906 * pow(c->kv, 1.67) / pow(45, 0.889);
		double Re = 2.76e-6 * 102.906 * pow(e, 1.67) / pow(45, 0.889);
		double chi = 2 * CS_Photo(45, e, NULL) * 0.35 * (R0 - Re) * sin(75 * M_PI / 180) / sin(15 * M_PI / 180);
		n *= chi > 1e-9 ? -expm1(-chi) / chi : 1.0;
		n *= exp(-CS_Total(4, e, NULL) * 1.848 * c->tube_be_um * 1e-4);
		n *= exp(-gen_air_mu(e) * 1.205e-3 * c->air_tube_mm * 0.1);
		b->e[b->n] = e;
		b->f[b->n++] = n * scale;
	}
	static const int rl[4] = {KL3_LINE, KL2_LINE, KM3_LINE, L3M5_LINE};
	for (int i = 0; i < 4; i++) {
		double e = LineEnergy(45, rl[i], NULL);
		if (!(e < c->kv))
			continue;
		double n = c->rh_lines[i] * exp(-CS_Total(4, e, NULL) * 1.848 * c->tube_be_um * 1e-4) *
		           exp(-gen_air_mu(e) * 1.205e-3 * c->air_tube_mm * 0.1);
		b->e[b->n] = e;
		b->f[b->n++] = n * scale;
	}
}

typedef struct gen_sample {
	int n;
	int z[GEN_MAXEL];
	double w[GEN_MAXEL];
} gen_sample;

static inline double gen_mu(const gen_sample *s, double e)
{
	double m = 0;
	for (int i = 0; i < s->n; i++)
		m += s->w[i] * CS_Total(s->z[i], e, NULL);
	return m;
}

typedef struct gen_line {
	int z, line;
	double e, rel, rate; /* rate: photons/s at the detector window (before efficiency) */
} gen_line;

static inline int gen_shell_edge_ok(int z, int line, double kv)
{
	int sh = line >= KP5_LINE ? K_SHELL : line >= L1P5_LINE ? L1_SHELL : line >= L2Q1_LINE ? L2_SHELL : L3_SHELL;
	double ed = EdgeEnergy(z, sh, NULL);
	return ed > 0 && ed < kv;
}

/* Every K and L line of every element (relative strength within its family at 1.3 × its edge). */
static inline size_t gen_lines_list(const gen_cfg *c, const gen_sample *s, gen_line *out)
{
	size_t n = 0;
	for (int i = 0; i < s->n; i++) {
		int z = s->z[i];
		for (int fam = 0; fam < 2; fam++) {
			int lo = fam ? L1L2_LINE : KL1_LINE, hi = fam ? L3Q1_LINE : KP5_LINE;
			double ed = EdgeEnergy(z, fam ? L3_SHELL : K_SHELL, NULL);
			if (!(ed > 0 && ed < c->kv))
				continue;
			double eref = fmin(1.3 * EdgeEnergy(z, fam ? L1_SHELL : K_SHELL, NULL), c->kv), tot = 0;
			size_t first = n;
			for (int l = lo; l >= hi && n < GEN_MAXLINES; l--) {
				double e = LineEnergy(z, l, NULL);
				if (!(e > 0.9) || !gen_shell_edge_ok(z, l, c->kv))
					continue;
				double r = CS_FluorLine_Kissel_Cascade(z, l, eref, NULL);
				if (!(r > 0))
					continue;
				out[n++] = (gen_line){z, l, e, r, 0};
				tot += r;
			}
			for (size_t k = first; k < n; k++)
				out[k].rel /= tot;
		}
	}
	return n;
}

/* Primary + secondary fluorescence of every line (photons/s at the detector
 * window: Ω/4π included, efficiency and air not). */
static inline size_t gen_emission(const gen_cfg *c, const gen_sample *s, gen_line *ln)
{
	gen_beam *fine = malloc(sizeof *fine), *coarse = malloc(sizeof *coarse);
	gen_beam_make(c, 0.025, fine);
	gen_beam_make(c, 0.1, coarse);
	size_t n = gen_lines_list(c, s, ln);
	double s1 = sin(c->psi1 * M_PI / 180), s2 = sin(c->psi2 * M_PI / 180);
	double r2 = c->area_mm2 / M_PI, om = 0.5 * (1 - c->dist_mm / sqrt(c->dist_mm * c->dist_mm + r2));
	double *mu_f = malloc(fine->n * sizeof(double)), *mu_c = malloc(coarse->n * sizeof(double));
	for (size_t b = 0; b < fine->n; b++)
		mu_f[b] = gen_mu(s, fine->e[b]);
	for (size_t b = 0; b < coarse->n; b++)
		mu_c[b] = gen_mu(s, coarse->e[b]);
	double *mu_l = malloc(n * sizeof(double));
	for (size_t l = 0; l < n; l++)
		mu_l[l] = gen_mu(s, ln[l].e);
	/* 24-node Gauss–Legendre on t in [0,1], u = t² */
	double gx[24], gw[24];
	{
		const int N = 24;
		for (int i = 0; i < N; i++) { /* Newton on Legendre P_N */
			double x = cos(M_PI * (i + 0.75) / (N + 0.5)), dp = 0;
			for (int it = 0; it < 100; it++) {
				double p0 = 1, p1 = x;
				for (int k = 2; k <= N; k++) {
					double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
					p0 = p1;
					p1 = p2;
				}
				dp = N * (x * p1 - p0) / (x * x - 1);
				double dx = p1 / dp;
				x -= dx;
				if (fabs(dx) < 1e-15)
					break;
			}
			gx[i] = 0.5 * (x + 1);
			gw[i] = 1.0 / ((1 - x * x) * dp * dp);
		}
	}
	/* the main source lines (>= 1 % of their family) on the coarse grid */
	size_t *src = malloc(n * sizeof(size_t)), ns = 0;
	for (size_t j = 0; j < n; j++)
		if (ln[j].rel >= 0.01)
			src[ns++] = j;
	double *qs = malloc((ns ? ns : 1) * coarse->n * sizeof(double));
	for (size_t k = 0; k < ns; k++)
		for (size_t b = 0; b < coarse->n; b++) {
			double q = CS_FluorLine_Kissel_Cascade(ln[src[k]].z, ln[src[k]].line, coarse->e[b], NULL);
			qs[k * coarse->n + b] = q > 0 ? q : 0;
		}
	double *prim = calloc(n, sizeof(double)), *sec = calloc(n, sizeof(double));
	int *done = calloc(n, sizeof(int));
	for (size_t l = 0; l < n; l++) {
		gen_line *L = &ln[l];
		double wi = 0;
		for (int i = 0; i < s->n; i++)
			if (s->z[i] == L->z)
				wi = s->w[i];
		double p = 0;
		for (size_t b = 0; b < fine->n; b++) {
			double q = CS_FluorLine_Kissel_Cascade(L->z, L->line, fine->e[b], NULL);
			if (q > 0)
				p += fine->f[b] * q / s1 / (mu_f[b] / s1 + mu_l[l] / s2);
		}
		prim[l] = wi * p;
		if (L->rel < 0.003)
			continue;
		done[l] = 1;
		for (size_t k = 0; k < ns; k++) {
			gen_line *J = &ln[src[k]];
			double qij = CS_FluorLine_Kissel_Cascade(L->z, L->line, J->e, NULL);
			if (!(qij > 0))
				continue;
			double wj = 0;
			for (int i = 0; i < s->n; i++)
				if (s->z[i] == J->z)
					wj = s->w[i];
			double muj = mu_l[src[k]], bb = mu_l[l] / s2, sum = 0;
			for (size_t b = 0; b < coarse->n; b++) {
				double qj = qs[k * coarse->n + b];
				if (!(qj > 0))
					continue;
				double a = mu_c[b] / s1, ang = 0;
				for (int g = 0; g < 24; g++) {
					double u = gx[g] * gx[g], du = 2 * gx[g] * gw[g];
					ang += du * (1 / (muj + bb * u) + 1 / (muj + a * u));
				}
				sum += coarse->f[b] * qj * ang / (a + bb);
			}
			sec[l] += wi * wj * qij * sum / (2 * s1);
		}
	}
	/* weak lines: the S/P of the nearest computed line of the same element and shell */
	for (size_t l = 0; l < n; l++) {
		if (done[l] || !(prim[l] > 0))
			continue;
		int shl = ln[l].line >= KP5_LINE ? 0 : ln[l].line >= L1P5_LINE ? 1 : ln[l].line >= L2Q1_LINE ? 2 : 3;
		double best = 1e9;
		for (size_t k = 0; k < n; k++) {
			int shk = ln[k].line >= KP5_LINE ? 0 : ln[k].line >= L1P5_LINE ? 1 : ln[k].line >= L2Q1_LINE ? 2 : 3;
			if (done[k] && ln[k].z == ln[l].z && shk == shl && fabs(ln[k].e - ln[l].e) < best && prim[k] > 0) {
				best = fabs(ln[k].e - ln[l].e);
				sec[l] = prim[l] * sec[k] / prim[k];
			}
		}
	}
	for (size_t l = 0; l < n; l++)
		ln[l].rate = om * (prim[l] + sec[l]);
	free(prim);
	free(sec);
	free(done);
	free(qs);
	free(src);
	free(mu_f);
	free(mu_c);
	free(mu_l);
	free(fine);
	free(coarse);
	return n;
}

/* Add the detector's response to one line of `rate` counts/s at e. */
static inline void gen_response(const gen_cfg *c, double e, double rate, double *y)
{
	double s = sqrt(c->noise * c->noise + 2.3548 * 2.3548 * c->fano * 0.00385 * e) / 2.3548;
	double pe = e > 1.84 ? 0.011 * pow(e / 2.0, -1.6) : 0;
	double full = rate * (1 - pe);
	double tails = c->t1 + c->t2, shelf = c->shelf * e;
	double ag = full * (1 - tails - shelf);
	for (int k = 0; k < c->nchan; k++) {
		double x = c->offset + c->gain * k, z = x - e, v = 0;
		if (fabs(z) < 8 * s)
			v += ag * c->gain / (s * sqrt(2 * M_PI)) * exp(-0.5 * z * z / (s * s));
		if (z < 0 && x > 0) {
			v += full * c->t1 * c->gain / c->b1 * exp(z / c->b1);
			v += full * c->t2 * c->gain / c->b2 * exp(z / c->b2);
			v += full * c->shelf * c->gain;
		}
		if (pe > 0) {
			double ze = x - (e - 1.740), se = sqrt(c->noise * c->noise + 2.3548 * 2.3548 * c->fano * 0.00385 *
			                                                                    (e - 1.74)) /
			                                     2.3548;
			if (fabs(ze) < 8 * se)
				v += rate * pe * c->gain / (se * sqrt(2 * M_PI)) * exp(-0.5 * ze * ze / (se * se));
		}
		y[k] += v;
	}
}

/* Expected counts per channel (mean) of a thick sample measured for live_s. */
static inline void gen_spectrum(const gen_cfg *c, const gen_sample *s, double live_s, double *y)
{
	gen_line *ln = malloc(GEN_MAXLINES * sizeof *ln);
	size_t n = gen_emission(c, s, ln);
	double *r = calloc((size_t)c->nchan, sizeof(double));
	for (size_t l = 0; l < n; l++)
		if (ln[l].rate > 0)
			gen_response(c, ln[l].e, ln[l].rate * gen_eff(c, ln[l].e), r);
	/* scatter of the tube spectrum: Rayleigh and Compton, thick sample, θ = ψ1 + ψ2 */
	{
		gen_beam *b = malloc(sizeof *b);
		gen_beam_make(c, 0.05, b);
		double th = (c->psi1 + c->psi2) * M_PI / 180, s1 = sin(c->psi1 * M_PI / 180),
		       s2 = sin(c->psi2 * M_PI / 180);
		double r2 = c->area_mm2 / M_PI, om = 2 * M_PI * (1 - c->dist_mm / sqrt(c->dist_mm * c->dist_mm + r2));
		for (size_t i = 0; i < b->n; i++) {
			double e = b->e[i], ray = 0, com = 0, ec = ComptonEnergy(e, th, NULL);
			for (int k = 0; k < s->n; k++) {
				ray += s->w[k] * DCS_Rayl(s->z[k], e, th, NULL);
				com += s->w[k] * DCS_Compt(s->z[k], e, th, NULL);
			}
			double me = gen_mu(s, e), mc = gen_mu(s, ec);
			double nr = om * b->f[i] * ray / s1 / (me / s1 + me / s2) * gen_eff(c, e);
			double nc = om * b->f[i] * com / s1 / (me / s1 + mc / s2) * gen_eff(c, ec);
			/* Doppler: spread the Compton photons over ±1.5 % of E in 5 sub-lines */
			gen_response(c, e, nr, r);
			for (int k = -2; k <= 2; k++)
				gen_response(c, ec * (1 + 0.006 * k), nc * (k == 0 ? 0.4 : abs(k) == 1 ? 0.2 : 0.1), r);
		}
		free(b);
	}
	/* pile-up: pairs within τ land at the sum energy (the parents lose them) */
	double tot = 0;
	for (int k = 0; k < c->nchan; k++)
		tot += r[k];
	double tau = c->pileup_us * 1e-6, *pu = calloc(c->nchan > 0 ? (size_t)c->nchan : 1, sizeof(double));
	int k0 = (int)lround(-c->offset / c->gain); /* channel of 0 keV */
	for (int i = 0; i < c->nchan; i++)
		for (int j = 0; j < c->nchan && r[i] > 0; j++) {
			int k = i + j - k0;
			if (k >= 0 && k < c->nchan)
				pu[k] += tau * r[i] * r[j];
		}
	double lost = 2 * tau * tot;
	for (int k = 0; k < c->nchan; k++)
		y[k] = live_s * (r[k] * (1 - lost) + pu[k]);
	free(pu);
	free(r);
	free(ln);
}

/* The true area of a line family in a spectrum of gen_spectrum (what the engine
 * calls an area: full-energy counts of all lines of the family, tails and shelf
 * included, escape and pile-up excluded). fam: 0 K, 1 L. total_rate: the
 * spectrum's detected rate (for the pile-up loss; 0 = none). */
static inline double gen_family_area(const gen_cfg *c, const gen_sample *s, double live_s, int z, int fam,
                                     double total_rate)
{
	gen_line *ln = malloc(GEN_MAXLINES * sizeof *ln);
	size_t n = gen_emission(c, s, ln);
	double a = 0;
	for (size_t l = 0; l < n; l++) {
		if (ln[l].z != z || (fam == 0) != (ln[l].line >= KP5_LINE))
			continue;
		double pe = ln[l].e > 1.84 ? 0.011 * pow(ln[l].e / 2.0, -1.6) : 0;
		a += ln[l].rate * gen_eff(c, ln[l].e) * (1 - pe);
	}
	free(ln);
	return a * live_s * (1 - 2 * c->pileup_us * 1e-6 * total_rate);
}

static inline void gen_poisson(unsigned long seed, const double *mean, double *out, size_t n)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, seed);
	for (size_t k = 0; k < n; k++)
		out[k] = mean[k] > 0 ? (double)gsl_ran_poisson(r, mean[k]) : 0.0;
	gsl_rng_free(r);
}

#endif
