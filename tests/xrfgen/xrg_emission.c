/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen emission in C (modes XRAYLIB and PERTURBED): primary fluorescence of
 * every line of every layer on the 25 eV beam grid, secondary fluorescence
 * inside each layer by numerical integration over the emission direction
 * (not the closed logarithmic form the suite uses). See xrfgen.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "xrg_internal.h"

#define NGAUSS 24

/* Gauss–Legendre nodes and weights on [0, 1]. */
static void gauss_legendre01(double *x, double *w)
{
	for (int i = 0; i < NGAUSS; i++) { /* Newton on P_N */
		double t = cos(M_PI * (i + 0.75) / (NGAUSS + 0.5)), dp = 0;
		for (int it = 0; it < 100; it++) {
			double p0 = 1, p1 = t;
			for (int k = 2; k <= NGAUSS; k++) {
				double p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
				p0 = p1;
				p1 = p2;
			}
			dp = NGAUSS * (t * p1 - p0) / (t * t - 1);
			double dt = p1 / dp;
			t -= dt;
			if (fabs(dt) < 1e-15)
				break;
		}
		x[i] = 0.5 * (t + 1);
		w[i] = 1.0 / ((1 - t * t) * dp * dp);
	}
}

/* One line being computed: where it comes from and its two parts. */
typedef struct work_line {
	const xrg_eline *L;
	int z, elem;  /* element and its index in the layer */
	double mu;    /* layer's attenuation at the line energy */
	double prim, prim_thick, sec;
	int done;     /* secondary computed (not copied from a neighbour) */
} work_line;

static int layer_lines(xrg_gen *g, const xrg_layer *lay, work_line **out, size_t *n)
{
	size_t cnt = 0;
	for (int i = 0; i < lay->n; i++) {
		const xrg_elem *el = xrg_element(g, lay->z[i]);
		if (!el)
			return xrg_fail(XRG_ERROR, "element %d: no memory", lay->z[i]);
		cnt += el->n;
	}
	work_line *w = calloc(cnt ? cnt : 1, sizeof *w);
	if (!w)
		return xrg_fail(XRG_ERROR, "no memory");
	size_t k = 0;
	for (int i = 0; i < lay->n; i++) {
		const xrg_elem *el = xrg_element(g, lay->z[i]);
		for (size_t j = 0; j < el->n; j++)
			w[k++] = (work_line){&el->l[j], lay->z[i], i, xrg_layer_mu(lay, el->l[j].e), 0, 0, 0, 0};
	}
	*out = w;
	*n = cnt;
	return 0;
}

/* Secondary fluorescence of line l by the main lines of its layer (thick
 * layer), beam `cb` (coarse grid, attenuated by the layers above). */
static double secondary(xrg_gen *g, const xrg_layer *lay, const work_line *wl, size_t nw, size_t l,
                        const double *cb, const double *mu_c, const double *gx, const double *gw)
{
	const xrg_config *c = &g->c;
	double s1 = sin(c->psi1 * M_PI / 180), s2 = sin(c->psi2 * M_PI / 180);
	const work_line *A = &wl[l];
	double wi = lay->w[A->elem], total = 0;
	for (size_t k = 0; k < nw; k++) {
		const work_line *J = &wl[k];
		if (J->L->rel < 0.01)
			continue;
		double qij = xrg_line_q(g, A->z, A->L->line, J->L->e);
		if (!(qij > 0))
			continue;
		double wj = lay->w[J->elem], muj = J->mu, bb = A->mu / s2, sum = 0;
		for (size_t b = 0; b < g->coarse.n; b++) {
			double qj = J->L->q_coarse[b];
			if (!(qj > 0) || !(cb[b] > 0))
				continue;
			double a = mu_c[b] / s1, ang = 0;
			for (int q = 0; q < NGAUSS; q++) {
				double u = gx[q] * gx[q], du = 2 * gx[q] * gw[q];
				ang += du * (1 / (muj + bb * u) + 1 / (muj + a * u));
			}
			sum += cb[b] * qj * ang / (a + bb);
		}
		total += wi * wj * qij * sum / (2 * s1);
	}
	return total;
}

static int emit_layer(xrg_gen *g, const xrg_sample *s, int k, xrg_line *out, size_t *nout, size_t cap)
{
	const xrg_config *c = &g->c;
	const xrg_layer *lay = &s->layer[k];
	double s1 = sin(c->psi1 * M_PI / 180), s2 = sin(c->psi2 * M_PI / 180), rt = xrg_layer_rho_t(lay);
	work_line *wl = NULL;
	size_t nw = 0;
	if (layer_lines(g, lay, &wl, &nw))
		return XRG_ERROR;
	size_t nf = g->fine.n, nc = g->coarse.n;
	double *fb = malloc(nf * sizeof(double)), *mu_f = malloc(nf * sizeof(double));
	double *cb = malloc(nc * sizeof(double)), *mu_c = malloc(nc * sizeof(double));
	if (!fb || !mu_f || !cb || !mu_c) {
		free(wl);
		free(fb);
		free(mu_f);
		free(cb);
		free(mu_c);
		return xrg_fail(XRG_ERROR, "no memory");
	}
	for (size_t b = 0; b < nf; b++) {
		fb[b] = g->fine.f[b] * (k ? xrg_above(s, k, g->fine.e[b], s1) : 1);
		mu_f[b] = xrg_layer_mu(lay, g->fine.e[b]);
	}
	for (size_t b = 0; b < nc; b++) {
		cb[b] = g->coarse.f[b] * (k ? xrg_above(s, k, g->coarse.e[b], s1) : 1);
		mu_c[b] = xrg_layer_mu(lay, g->coarse.e[b]);
	}
	/* primary: Σ beam · q/sin ψ1 · (1 − e^(−χρt))/χ */
	for (size_t l = 0; l < nw; l++) {
		work_line *W = &wl[l];
		double wi = lay->w[W->elem], p = 0, pt = 0;
		for (size_t b = 0; b < nf; b++) {
			double q = W->L->q_fine[b];
			if (!(q > 0))
				continue;
			double chi = mu_f[b] / s1 + W->mu / s2;
			p += fb[b] * q / s1 * (isinf(rt) ? 1 / chi : -expm1(-chi * rt) / chi);
			pt += fb[b] * q / s1 / chi;
		}
		W->prim = wi * p;
		W->prim_thick = wi * pt;
	}
	if (!(c->flags & XRG_NO_SECONDARY)) {
		double gx[NGAUSS], gw[NGAUSS];
		gauss_legendre01(gx, gw);
		for (size_t l = 0; l < nw; l++) {
			if (wl[l].L->rel < 0.003 || !(wl[l].prim > 0))
				continue;
			double st = secondary(g, lay, wl, nw, l, cb, mu_c, gx, gw);
			/* a finite layer: the thick layer's S/P (no interlayer secondary) */
			wl[l].sec = st * (wl[l].prim_thick > 0 ? wl[l].prim / wl[l].prim_thick : 0);
			wl[l].done = 1;
		}
		/* weak lines: the S/P of the nearest computed line of the same element and shell */
		for (size_t l = 0; l < nw; l++) {
			if (wl[l].done || !(wl[l].prim > 0))
				continue;
			double best = 1e9;
			for (size_t j = 0; j < nw; j++) {
				if (!wl[j].done || wl[j].z != wl[l].z || wl[j].L->shell != wl[l].L->shell || !(wl[j].prim > 0))
					continue;
				double d = fabs(wl[j].L->e - wl[l].L->e);
				if (d < best) {
					best = d;
					wl[l].sec = wl[l].prim * wl[j].sec / wl[j].prim;
				}
			}
		}
	}
	for (size_t l = 0; l < nw && *nout < cap; l++) {
		const work_line *W = &wl[l];
		if (!(W->prim > 0))
			continue;
		double out_att = k ? xrg_above(s, k, W->L->e, s2) : 1;
		xrg_line *o = &out[(*nout)++];
		memset(o, 0, sizeof *o);
		o->z = W->z;
		o->shell = W->L->shell;
		snprintf(o->label, sizeof o->label, "%s", xrg_line_label(W->L->line));
		o->e = W->L->e;
		o->primary = g->omega_4pi * W->prim * out_att;
		o->secondary = g->omega_4pi * W->sec * out_att;
		o->layer = k;
	}
	free(wl);
	free(fb);
	free(mu_f);
	free(cb);
	free(mu_c);
	return 0;
}

int xrg_emission_c(xrg_gen *g, const xrg_sample *s, xrg_line **out, size_t *n)
{
	size_t cap = 0;
	for (int k = 0; k < s->nlayers; k++)
		for (int i = 0; i < s->layer[k].n; i++) {
			const xrg_elem *el = xrg_element(g, s->layer[k].z[i]);
			if (!el)
				return xrg_fail(XRG_ERROR, "element %d: no memory", s->layer[k].z[i]);
			cap += el->n;
		}
	xrg_line *l = calloc(cap ? cap : 1, sizeof *l);
	if (!l)
		return xrg_fail(XRG_ERROR, "no memory");
	size_t cnt = 0;
	for (int k = 0; k < s->nlayers; k++)
		if (emit_layer(g, s, k, l, &cnt, cap)) {
			free(l);
			return XRG_ERROR;
		}
	*out = l;
	*n = cnt;
	return 0;
}
