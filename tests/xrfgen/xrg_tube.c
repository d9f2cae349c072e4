/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen tube models: the beam on the sample (photons/s per bin and in each
 * anode line) after the tube window, an optional filter and the air path.
 * Neither is Ebel's (the suite's); see xrfgen.h. */
#include <math.h>
#include <stdlib.h>

#include <xraylib.h>

#include "xrg_internal.h"

#define ELECTRONS_PER_MA 6.2415e15
#define KRAMERS_K 1.35e9 /* photons/(s·sr·mA·keV) per unit anode Z, Kramers' law with x = 1 */
#define AVOGADRO 6.02214076e23

static double air_mu(double e)
{
	return 0.7553 * CS_Total(7, e, NULL) + 0.2318 * CS_Total(8, e, NULL) + 0.0128 * CS_Total(18, e, NULL);
}

/* Window, filter and air between the anode and the sample. */
static double tube_transmission(const xrg_tube *t, double e)
{
	double tr = exp(-CS_Total(4, e, NULL) * 1.848 * t->window_be_um * 1e-4);
	if (t->filter_z > 0 && t->filter_um > 0)
		tr *= exp(-CS_Total(t->filter_z, e, NULL) * ElementDensity(t->filter_z, NULL) * t->filter_um * 1e-4);
	tr *= exp(-air_mu(e) * 1.205e-3 * t->air_mm * 0.1);
	return tr;
}

/* Kanaya–Okayama electron range, g/cm² (E in keV). */
static double ko_range(int z, double e)
{
	return 2.76e-6 * AtomicWeight(z, NULL) * pow(e, 1.67) / pow(z, 0.889);
}

/* ---------------------------------------------------------------- Kramers (ndfeb_gen.h's tube) */

static double kramers_continuum(const xrg_tube *t, double e, double bin)
{
	int z = t->anode_z;
	double n = KRAMERS_K * z * pow(t->kv / e - 1, t->kramers_x) * bin;
	/* self-absorption with a Kanaya–Okayama depth of generation: photons of
	 * energy e come from where the electrons still have more than e, mean mass
	 * depth 0.35·(R(E0) − R(e)), electrons in at 75°, X-rays out at takeoff_deg */
	double depth = 0.35 * (ko_range(z, t->kv) - ko_range(z, e));
	double chi = 2 * CS_Photo(z, e, NULL) * depth * sin(75 * M_PI / 180) / sin(t->takeoff_deg * M_PI / 180);
	n *= chi > 1e-9 ? -expm1(-chi) / chi : 1.0;
	return n;
}

/* ---------------------------------------------------------------- depth-resolved thick target */

/* Electrons slow down as T² = E0² − c·s (Thomson–Whiddington) along a path s
 * (g/cm²) with c = E0²/R_KO(E0); the depth below the surface is s × sin 75° ×
 * 0.5 (the factor for the diffusion of the electrons). */
typedef struct depth_model {
	double e0, c, depth_per_path, sin_out;
	int z;
} depth_model;

static void depth_init(const xrg_tube *t, depth_model *m)
{
	m->z = t->anode_z;
	m->e0 = t->kv;
	m->c = t->kv * t->kv / ko_range(t->anode_z, t->kv);
	m->depth_per_path = sin(75 * M_PI / 180) * 0.5;
	m->sin_out = sin(t->takeoff_deg * M_PI / 180);
}

static double depth_at(const depth_model *m, double T)
{
	return (m->e0 * m->e0 - T * T) / m->c * m->depth_per_path;
}

/* Kramers' thin-target emission (energy intensity per path ∝ 1/T below T),
 * integrated over the electron energies T in [e, E0], each depth's photons
 * absorbed on their way out: photons/(s·sr·mA) in [e ± bin/2]. */
static double depth_continuum(const depth_model *m, double e, double bin)
{
	enum { N = 48 };
	double mu = CS_Total(m->z, e, NULL), sum = 0, h = (m->e0 - e) / N;
	for (int i = 0; i < N; i++) {
		double T = e + (i + 0.5) * h;
		sum += exp(-mu * depth_at(m, T) / m->sin_out) * h;
	}
	return KRAMERS_K * m->z * sum / e * bin;
}

/* Photons/(s·sr·mA) of one anode line: Bethe ionisation cross section of its
 * shell σ = 6.51e-20·n·b·ln U/(U·Ec²) cm² along the path, × yield × rate, its
 * own absorption from each depth, 0.8 for what backscattered electrons take. */
static double depth_line(const depth_model *m, int shell, int line)
{
	static const int shells[4] = {K_SHELL, L1_SHELL, L2_SHELL, L3_SHELL};
	static const double n_el[4] = {2, 2, 2, 4}, b[4] = {0.35, 0.25, 0.25, 0.25};
	double ec = EdgeEnergy(m->z, shells[shell], NULL), el = LineEnergy(m->z, line, NULL);
	if (!(ec > 0 && ec < m->e0 && el > 0))
		return 0;
	enum { N = 64 };
	double mu = CS_Total(m->z, el, NULL), h = (m->e0 - ec) / N, sum = 0;
	for (int i = 0; i < N; i++) {
		double T = ec + (i + 0.5) * h, U = T / ec;
		double sigma = 6.51e-20 * n_el[shell] * b[shell] * log(U) / (U * ec * ec);
		double ds = 2 * T / m->c * h; /* path for dT */
		sum += sigma * exp(-mu * depth_at(m, T) / m->sin_out) * ds;
	}
	double ioniz = AVOGADRO / AtomicWeight(m->z, NULL) * sum; /* per electron */
	return ELECTRONS_PER_MA * 0.8 * ioniz * FluorYield(m->z, shells[shell], NULL) * RadRate(m->z, line, NULL) /
	       (4 * M_PI);
}

/* ---------------------------------------------------------------- the beam */

static int push(xrg_beamgrid *b, size_t *cap, double e, double f, int line)
{
	if (b->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 1024;
		double *ne = realloc(b->e, nc * sizeof(double));
		if (ne)
			b->e = ne;
		double *nf = realloc(b->f, nc * sizeof(double));
		if (nf)
			b->f = nf;
		int *nl = realloc(b->line, nc * sizeof(int));
		if (nl)
			b->line = nl;
		if (!ne || !nf || !nl)
			return -1;
		*cap = nc;
	}
	b->e[b->n] = e;
	b->f[b->n] = f;
	b->line[b->n++] = line;
	return 0;
}

int xrg_beam_make(const xrg_config *c, double bin, xrg_beamgrid *b)
{
	const xrg_tube *t = &c->tube;
	size_t cap = 0;
	b->n = 0;
	b->e = b->f = NULL;
	b->line = NULL;
	double scale = t->current_ua * 1e-3 * t->beam_sr;
	depth_model dm;
	depth_init(t, &dm);
	for (double e = 1.0 + bin / 2; e < t->kv; e += bin) {
		double n = t->model == XRG_TUBE_DEPTH ? depth_continuum(&dm, e, bin) : kramers_continuum(t, e, bin);
		if (push(b, &cap, e, n * tube_transmission(t, e) * scale, 0))
			goto nomem;
	}
	if (t->model == XRG_TUBE_DEPTH) {
		static const int lines[] = {KL3_LINE, KL2_LINE, KM3_LINE, KM2_LINE, L3M5_LINE, L3M4_LINE, L2M4_LINE};
		for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
			int l = lines[i];
			double n = depth_line(&dm, xrg_shell_of_line(l), l), e = LineEnergy(t->anode_z, l, NULL);
			if (n > 0 && push(b, &cap, e, n * tube_transmission(t, e) * scale, 1))
				goto nomem;
		}
	} else {
		static const int rl[4] = {KL3_LINE, KL2_LINE, KM3_LINE, L3M5_LINE};
		for (int i = 0; i < 4; i++) {
			double e = LineEnergy(t->anode_z, rl[i], NULL);
			if (!(e > 0 && e < t->kv))
				continue;
			if (push(b, &cap, e, t->kramers_lines[i] * tube_transmission(t, e) * scale, 1))
				goto nomem;
		}
	}
	return 0;
nomem:
	xrg_beam_free(b);
	return xrg_fail(XRG_ERROR, "beam: no memory");
}

void xrg_beam_free(xrg_beamgrid *b)
{
	free(b->e);
	free(b->f);
	free(b->line);
	b->e = b->f = NULL;
	b->line = NULL;
	b->n = 0;
}

size_t xrg_beam(const xrg_gen *g, double bin, double *e, double *n, int *line, size_t max)
{
	xrg_beamgrid b;
	if (xrg_beam_make(&g->c, bin, &b))
		return 0;
	for (size_t i = 0; i < b.n && i < max; i++) {
		e[i] = b.e[i];
		n[i] = b.f[i];
		if (line)
			line[i] = b.line[i];
	}
	size_t cnt = b.n;
	xrg_beam_free(&b);
	return cnt;
}
