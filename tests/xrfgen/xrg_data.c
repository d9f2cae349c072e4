/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen line data in C: xraylib's line production cross sections, and the
 * same with yields, radiative rates and Coster–Kronig factors perturbed
 * (mode PERTURBED; see xrfgen.h). Per element, the lines and their cross
 * sections on the generator's beam grids are built once. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "xrg_internal.h"

/* IUPAC names of xraylib's line codes −1 … −113 (K, L1, L2, L3 lines). */
static const char *const labels[113] = {
	"KL1",   "KL2",   "KL3",   "KM1",   "KM2",  "KM3",   "KM4",  "KM5",  "KN1",   "KN2",  "KN3",   "KN4",
	"KN5",   "KN6",   "KN7",   "KO",    "KO1",  "KO2",   "KO3",  "KO4",  "KO5",   "KO6",  "KO7",   "KP",
	"KP1",   "KP2",   "KP3",   "KP4",   "KP5",  "L1L2",  "L1L3", "L1M1", "L1M2",  "L1M3", "L1M4",  "L1M5",
	"L1N1",  "L1N2",  "L1N3",  "L1N4",  "L1N5", "L1N6",  "L1N67", "L1N7", "L1O1", "L1O2", "L1O3",  "L1O4",
	"L1O45", "L1O5",  "L1O6",  "L1O7",  "L1P1", "L1P2",  "L1P23", "L1P3", "L1P4", "L1P5", "L2L3",  "L2M1",
	"L2M2",  "L2M3",  "L2M4",  "L2M5",  "L2N1", "L2N2",  "L2N3",  "L2N4", "L2N5", "L2N6", "L2N7",  "L2O1",
	"L2O2",  "L2O3",  "L2O4",  "L2O5",  "L2O6", "L2O7",  "L2P1",  "L2P2", "L2P23", "L2P3", "L2P4", "L2P5",
	"L2Q1",  "L3M1",  "L3M2",  "L3M3",  "L3M4", "L3M5",  "L3N1",  "L3N2", "L3N3", "L3N4", "L3N5",  "L3N6",
	"L3N7",  "L3O1",  "L3O2",  "L3O3",  "L3O4", "L3O45", "L3O5",  "L3O6", "L3O7", "L3P1", "L3P2",  "L3P23",
	"L3P3",  "L3P4",  "L3P45", "L3P5",  "L3Q1",
};

int xrg_shell_of_line(int line)
{
	return line >= KP5_LINE ? 0 : line >= L1P5_LINE ? 1 : line >= L2Q1_LINE ? 2 : 3;
}

const char *xrg_line_label(int line)
{
	return line <= -1 && line >= -113 ? labels[-line - 1] : "?";
}

/* ---------------------------------------------------------------- perturbation */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A factor uniform in [1 − p, 1 + p] that depends only on (seed, z, kind,
 * index): the same element gets the same data in every sample. */
static double factor(unsigned long seed, double p, int z, int kind, int index)
{
	uint64_t h = splitmix64((uint64_t)seed ^ splitmix64(((uint64_t)z << 32) ^ ((uint64_t)kind << 16) ^
	                                                    (uint64_t)(index + 1000)));
	double u = (double)(h >> 11) * 0x1.0p-53;
	return 1 + p * (2 * u - 1);
}

double xrg_perturb_factor(const xrg_gen *g, int z, int kind, int index)
{
	if (g->c.data != XRG_DATA_PERTURBED || !(g->c.perturb > 0))
		return 1;
	return factor(g->c.seed, g->c.perturb, z, kind, index);
}

static const int ck_trans[4] = {FL12_TRANS, FL13_TRANS, FLP13_TRANS, FL23_TRANS};

static void pert_make(const xrg_gen *g, int z, xrg_pert *p)
{
	memset(p, 0, sizeof *p);
	p->on = g->c.data == XRG_DATA_PERTURBED && g->c.perturb > 0;
	for (int s = 0; s < 4; s++) {
		p->omega[s] = xrg_perturb_factor(g, z, 0, s);
		p->ck0[s] = CosKronTransProb(z, ck_trans[s], NULL);
		p->ck[s] = p->ck0[s] * xrg_perturb_factor(g, z, 2, ck_trans[s]);
		/* rates are branching fractions: the perturbed ones keep their shell's sum */
		int lo = s == 0 ? KL1_LINE : s == 1 ? L1L2_LINE : s == 2 ? L2L3_LINE : L3M1_LINE;
		int hi = s == 0 ? KP5_LINE : s == 1 ? L1P5_LINE : s == 2 ? L2Q1_LINE : L3Q1_LINE;
		double sum = 0, sum_a = 0;
		for (int l = lo; l >= hi; l--) {
			double r = RadRate(z, l, NULL);
			if (r > 0) {
				sum += r;
				sum_a += r * xrg_perturb_factor(g, z, 1, l);
			}
		}
		p->rnorm[s] = sum_a > 0 ? sum / sum_a : 1;
	}
}

/* Perturbed / unperturbed vacancy rate of an L subshell at e (1 for K and L1). */
static double vacancy_ratio(int z, int shell, double e, const xrg_pert *p)
{
	if (shell < 2)
		return 1;
	double s1 = CS_Photo_Partial(z, L1_SHELL, e, NULL), s2 = CS_Photo_Partial(z, L2_SHELL, e, NULL);
	double v2 = s2 + p->ck0[0] * s1, v2p = s2 + p->ck[0] * s1;
	if (shell == 2)
		return v2 > 0 ? v2p / v2 : 1;
	double s3 = CS_Photo_Partial(z, L3_SHELL, e, NULL);
	double v3 = s3 + (p->ck0[1] + p->ck0[2]) * s1 + p->ck0[3] * v2;
	double v3p = s3 + (p->ck[1] + p->ck[2]) * s1 + p->ck[3] * v2p;
	return v3 > 0 ? v3p / v3 : 1;
}

/* The shell part of the perturbation at e: yield × rate renormalisation × vacancies. */
static double shell_factor(int z, int shell, double e, const xrg_pert *p)
{
	return p->on ? p->omega[shell] * p->rnorm[shell] * vacancy_ratio(z, shell, e, p) : 1;
}

static double line_factor(const xrg_gen *g, int z, int line)
{
	return xrg_perturb_factor(g, z, 1, line);
}

double xrg_line_q(xrg_gen *g, int z, int line, double e)
{
	double q = CS_FluorLine_Kissel_Cascade(z, line, e, NULL);
	if (!(q > 0))
		return 0;
	if (g->c.data != XRG_DATA_PERTURBED)
		return q;
	const xrg_elem *el = xrg_element(g, z);
	if (!el)
		return q;
	return q * line_factor(g, z, line) * shell_factor(z, xrg_shell_of_line(line), e, &el->pert);
}

/* ---------------------------------------------------------------- element tables */

static int shell_edge_ok(int z, int line, double kv)
{
	static const int shells[4] = {K_SHELL, L1_SHELL, L2_SHELL, L3_SHELL};
	double ed = EdgeEnergy(z, shells[xrg_shell_of_line(line)], NULL);
	return ed > 0 && ed < kv;
}

/* q of every line on a beam grid, the shell factors computed once per energy. */
static int fill_grid(xrg_gen *g, xrg_elem *el, const xrg_beamgrid *b, int fine)
{
	double *sf = malloc(4 * (b->n ? b->n : 1) * sizeof(double));
	if (!sf)
		return -1;
	for (int s = 0; s < 4; s++)
		for (size_t i = 0; i < b->n; i++)
			sf[s * b->n + i] = shell_factor(el->z, s, b->e[i], &el->pert);
	for (size_t k = 0; k < el->n; k++) {
		xrg_eline *L = &el->l[k];
		double *q = malloc((b->n ? b->n : 1) * sizeof(double));
		if (!q) {
			free(sf);
			return -1;
		}
		double lf = line_factor(g, el->z, L->line);
		for (size_t i = 0; i < b->n; i++) {
			double v = CS_FluorLine_Kissel_Cascade(el->z, L->line, b->e[i], NULL);
			q[i] = v > 0 ? v * lf * sf[L->shell * b->n + i] : 0;
		}
		if (fine)
			L->q_fine = q;
		else
			L->q_coarse = q;
	}
	free(sf);
	return 0;
}

static void elem_free(xrg_elem *el)
{
	if (!el)
		return;
	for (size_t k = 0; k < el->n; k++) {
		free(el->l[k].q_fine);
		free(el->l[k].q_coarse);
	}
	free(el->l);
	free(el);
}

const xrg_elem *xrg_element(xrg_gen *g, int z)
{
	if (z < 1 || z > XRG_MAXZ)
		return NULL;
	if (g->el[z])
		return g->el[z];
	xrg_elem *el = calloc(1, sizeof *el);
	if (!el)
		return NULL;
	el->z = z;
	pert_make(g, z, &el->pert);
	el->l = calloc(113, sizeof *el->l);
	if (!el->l) {
		free(el);
		return NULL;
	}
	g->el[z] = el; /* the perturbation is needed by xrg_line_q below */
	double kv = g->c.tube.kv;
	for (int fam = 0; fam < 2; fam++) {
		int lo = fam ? L1L2_LINE : KL1_LINE, hi = fam ? L3Q1_LINE : KP5_LINE;
		double ed = EdgeEnergy(z, fam ? L3_SHELL : K_SHELL, NULL);
		if (!(ed > 0 && ed < kv))
			continue;
		double eref = fmin(1.3 * EdgeEnergy(z, fam ? L1_SHELL : K_SHELL, NULL), kv), tot = 0;
		size_t first = el->n;
		for (int l = lo; l >= hi; l--) {
			double e = LineEnergy(z, l, NULL);
			if (!(e > 0.9) || !shell_edge_ok(z, l, kv))
				continue;
			double r = xrg_line_q(g, z, l, eref);
			if (!(r > 0))
				continue;
			el->l[el->n++] = (xrg_eline){l, xrg_shell_of_line(l), e, r, NULL, NULL};
			tot += r;
		}
		for (size_t k = first; k < el->n; k++)
			el->l[k].rel /= tot;
	}
	if (fill_grid(g, el, &g->fine, 1) || fill_grid(g, el, &g->coarse, 0)) {
		g->el[z] = NULL;
		elem_free(el);
		return NULL;
	}
	return el;
}

void xrg_elements_free(xrg_gen *g)
{
	for (int z = 0; z <= XRG_MAXZ; z++) {
		elem_free(g->el[z]);
		g->el[z] = NULL;
	}
}
