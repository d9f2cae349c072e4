/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen: configuration, samples, the generator object and its errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <xraylib.h>

#include "xrg_internal.h"

#ifndef XRG_PYTHON
#define XRG_PYTHON "/usr/bin/python3"
#endif
#ifndef XRG_FISX_SCRIPT
#define XRG_FISX_SCRIPT "tests/xrfgen/fisx_lines.py"
#endif

static char err_buf[1024];

int xrg_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof err_buf, fmt, ap);
	va_end(ap);
	return code;
}

const char *xrg_error(void)
{
	return err_buf;
}

void xrg_config_default(xrg_config *c)
{
	memset(c, 0, sizeof *c);
	c->data = XRG_DATA_XRAYLIB;
	c->seed = 1;
	c->perturb = 0.10;
	snprintf(c->python, sizeof c->python, "%s", XRG_PYTHON);
	snprintf(c->fisx_script, sizeof c->fisx_script, "%s", XRG_FISX_SCRIPT);
	xrg_tube *t = &c->tube;
	t->model = XRG_TUBE_KRAMERS;
	t->anode_z = 45;
	t->kv = 40;
	t->current_ua = 20;
	t->window_be_um = 125;
	t->beam_sr = 2.5e-3;
	t->air_mm = 10;
	t->takeoff_deg = 15;
	t->kramers_x = 1.15;
	t->kramers_lines[0] = 1.25e11;
	t->kramers_lines[1] = 0.66e11;
	t->kramers_lines[2] = 0.21e11;
	t->kramers_lines[3] = 0.9e10;
	c->psi1 = c->psi2 = 45;
	xrg_detector *d = &c->det;
	d->area_mm2 = 25;
	d->dist_mm = 20;
	d->air_mm = 20;
	d->be_um = 14;
	d->dead_um = 0.1;
	d->si_mm = 0.5;
	d->noise_kev = 0.085;
	d->fano = 0.118;
	d->t1 = 0.015;
	d->b1 = 0.08;
	d->t2 = 0.008;
	d->b2 = 0.9;
	d->shelf = 1.5e-4;
	d->escape_scale = 1;
	d->pileup_us = 0.5;
	c->nchan = 2048;
	c->offset = 0;
	c->gain = 0.02;
	c->quad = 0;
}

const char *xrg_data_name(xrg_data d)
{
	switch (d) {
	case XRG_DATA_XRAYLIB: return "xraylib";
	case XRG_DATA_PERTURBED: return "perturbed";
	case XRG_DATA_FISX: return "fisx";
	}
	return "?";
}

const char *xrg_tube_name(xrg_tube_model m)
{
	return m == XRG_TUBE_DEPTH ? "depth" : "kramers";
}

/* ---------------------------------------------------------------- samples */

static void layer_normalise(xrg_layer *L)
{
	double sum = 0;
	for (int i = 0; i < L->n; i++)
		sum += L->w[i];
	if (sum > 0)
		for (int i = 0; i < L->n; i++)
			L->w[i] /= sum;
}

void xrg_sample_magnet(xrg_sample *s, const char *name, double nd, double pr, double dy, double tb, double co)
{
	static const int z[] = {60, 59, 66, 65, 27, 5, 13, 29, 31, 8, 26};
	double w[] = {nd, pr, dy, tb, co, 1.0, 0.3, 0.15, 0.1, 0.1, 0};
	double sum = 0;
	for (int i = 0; i < 10; i++)
		sum += w[i];
	w[10] = 100 - sum;
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name ? name : "magnet");
	s->nlayers = 1;
	xrg_layer *L = &s->layer[0];
	L->density = 7.5;
	for (int i = 0; i < 11; i++)
		if (w[i] > 0) {
			L->z[L->n] = z[i];
			L->w[L->n++] = w[i] / 100;
		}
	layer_normalise(L);
}

void xrg_sample_pure(xrg_sample *s, int z)
{
	memset(s, 0, sizeof *s);
	char *sym = AtomicNumberToSymbol(z, NULL);
	snprintf(s->name, sizeof s->name, "%s metal", sym ? sym : "?");
	xrlFree(sym);
	s->nlayers = 1;
	s->layer[0].n = 1;
	s->layer[0].z[0] = z;
	s->layer[0].w[0] = 1;
	s->layer[0].density = ElementDensity(z, NULL);
}

int xrg_sample_coat(xrg_sample *s, int z, double um)
{
	if (s->nlayers >= XRG_MAXLAYERS || !(um > 0))
		return xrg_fail(XRG_ERROR, "coat: %d layers already, or thickness %g", s->nlayers, um);
	memmove(&s->layer[1], &s->layer[0], (size_t)s->nlayers * sizeof s->layer[0]);
	s->nlayers++;
	xrg_layer *L = &s->layer[0];
	memset(L, 0, sizeof *L);
	L->n = 1;
	L->z[0] = z;
	L->w[0] = 1;
	L->density = ElementDensity(z, NULL);
	L->thickness_um = um;
	return 0;
}

double xrg_sample_wt(const xrg_sample *s, int z)
{
	const xrg_layer *L = &s->layer[s->nlayers - 1];
	for (int i = 0; i < L->n; i++)
		if (L->z[i] == z)
			return 100 * L->w[i];
	return 0;
}

double xrg_layer_mu(const xrg_layer *L, double e)
{
	double m = 0;
	for (int i = 0; i < L->n; i++)
		m += L->w[i] * CS_Total(L->z[i], e, NULL);
	return m;
}

double xrg_layer_rho_t(const xrg_layer *L)
{
	return L->thickness_um > 0 ? L->density * L->thickness_um * 1e-4 : INFINITY;
}

double xrg_above(const xrg_sample *s, int k, double e, double sin_angle)
{
	double x = 0;
	for (int j = 0; j < k; j++)
		x += xrg_layer_mu(&s->layer[j], e) * xrg_layer_rho_t(&s->layer[j]);
	return exp(-x / sin_angle);
}

void xrg_sample_key(const xrg_sample *s, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = 0;
	for (int k = 0; k < s->nlayers && o < size; k++) {
		const xrg_layer *L = &s->layer[k];
		o += (size_t)snprintf(buf + o, size - o, "%s[%.6g,%.6g:", k ? ";" : "", L->density, L->thickness_um);
		for (int i = 0; i < L->n && o < size; i++)
			o += (size_t)snprintf(buf + o, size - o, "%s%d=%.8g", i ? "," : "", L->z[i], L->w[i]);
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, "]");
	}
}

/* ---------------------------------------------------------------- generator */

int xrg_new(const xrg_config *c, xrg_gen **out)
{
	*out = NULL;
	if (c->nchan < 16 || !(c->gain > 0) || !(c->tube.kv > 2) || !(c->det.dist_mm > 0))
		return xrg_fail(XRG_ERROR, "config: nchan %d, gain %g, kV %g, distance %g", c->nchan, c->gain,
		                c->tube.kv, c->det.dist_mm);
	xrg_gen *g = calloc(1, sizeof *g);
	if (!g)
		return xrg_fail(XRG_ERROR, "no memory");
	g->c = *c;
	double r2 = c->det.area_mm2 / M_PI, d = c->det.dist_mm;
	g->omega_4pi = 0.5 * (1 - d / sqrt(d * d + r2));
	if (xrg_beam_make(c, XRG_FINE_BIN, &g->fine) || xrg_beam_make(c, XRG_COARSE_BIN, &g->coarse) ||
	    xrg_beam_make(c, XRG_SCATTER_BIN, &g->scat)) {
		xrg_free(g);
		return XRG_ERROR;
	}
	if (c->data == XRG_DATA_FISX) {
		int rc = xrg_fisx_prepare(g, NULL, 0); /* only checks that fisx imports */
		if (rc) {
			xrg_free(g);
			return rc;
		}
	}
	*out = g;
	return 0;
}

void xrg_free(xrg_gen *g)
{
	if (!g)
		return;
	xrg_beam_free(&g->fine);
	xrg_beam_free(&g->coarse);
	xrg_beam_free(&g->scat);
	xrg_elements_free(g);
	xrg_profiles_free(g);
	xrg_fisx_free(g);
	free(g);
}

const xrg_config *xrg_get_config(const xrg_gen *g)
{
	return &g->c;
}

void xrg_set_calibration(xrg_gen *g, double offset, double gain, double quad)
{
	g->c.offset = offset;
	g->c.gain = gain;
	g->c.quad = quad;
}

int xrg_prepare(xrg_gen *g, const xrg_sample *s, size_t n)
{
	return g->c.data == XRG_DATA_FISX ? xrg_fisx_prepare(g, s, n) : 0;
}

int xrg_lines(xrg_gen *g, const xrg_sample *s, xrg_line **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (s->nlayers < 1 || s->nlayers > XRG_MAXLAYERS || s->layer[s->nlayers - 1].thickness_um != 0)
		return xrg_fail(XRG_ERROR, "sample %s: %d layers, the last must be thick (thickness 0)", s->name,
		                s->nlayers);
	return g->c.data == XRG_DATA_FISX ? xrg_emission_fisx(g, s, out, n) : xrg_emission_c(g, s, out, n);
}

double xrg_truth_area(const xrg_truth *t, int z, char fam)
{
	double a = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->f[i].z == z && t->f[i].fam == fam)
			a += t->f[i].area;
	return a;
}

void xrg_poisson(unsigned long seed, const double *mean, double *out, size_t n)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, seed);
	for (size_t k = 0; k < n; k++)
		out[k] = mean[k] > 0 ? (double)gsl_ran_poisson(r, mean[k]) : 0.0;
	gsl_rng_free(r);
}
