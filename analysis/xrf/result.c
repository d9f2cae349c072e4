/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Results: areas, uncertainties from the weighted covariance, detection
 * limits (Currie), local and global reduced χ², per-family status, and the
 * search of the residual for peaks the model does not explain (a matched
 * filter by FFT convolution), named after the elements whose strong lines lie
 * there ("a peak at 8.05 keV not explained: Cu?"). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an.h"
#include "elements.h"
#include "internal.h"

#define SHAPE_FLOOR 0.01 /* relative model uncertainty allowed before a residual is a "peak" */

const char *mg_family_status_name(mg_family_status s)
{
	switch (s) {
	case MG_FAMILY_OK:
		return "ok";
	case MG_FAMILY_BELOW_DL:
		return "below-dl";
	case MG_FAMILY_POOR_FIT:
		return "poor-fit";
	case MG_FAMILY_NOT_FITTED:
		return "not-fitted";
	}
	return "?";
}

void mg_analysis_result_free(mg_analysis_result *r)
{
	if (!r)
		return;
	free(r->families);
	free(r->coef);
	free(r->model);
	free(r->background);
	free(r);
}

int mg_analysis_family_curve(const mg_analysis_plan *p, const mg_analysis_result *res, size_t family, double *out,
                             size_t nchan)
{
	if (!p || !res || !out || family >= p->ngroup || nchan != p->cfg.nchan || res->ncoef != p->design.p)
		return mg_fail(MG_ERR_ARG, AN_DOM, "family curve: bad arguments");
	memset(out, 0, nchan * sizeof(double));
	const an_group *g = &p->groups[family];
	for (size_t u = g->u0; u < g->u0 + g->nu; u++) /* the pile-up column is a zero placeholder here */
		for (size_t i = p->design.lo[u]; i < p->design.hi[u]; i++)
			out[p->w0 + i] += res->coef[u] * p->design.cols[u][i];
	return MG_OK;
}

mg_analysis_result *mg_analysis_result_new(const mg_analysis_plan *p)
{
	if (!p) {
		mg_fail(MG_ERR_ARG, AN_DOM, "result: no plan");
		return NULL;
	}
	mg_analysis_result *r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->nfamilies = p->ngroup;
	r->ncoef = p->design.p;
	r->families = calloc(p->ngroup, sizeof(*r->families));
	r->coef = calloc(p->design.p, sizeof(double));
	r->model = calloc(p->cfg.nchan, sizeof(double));
	r->background = calloc(p->cfg.nchan, sizeof(double));
	if (!r->families || !r->coef || !r->model || !r->background)
		goto nomem;
	for (size_t f = 0; f < p->ngroup; f++) {
		mg_family_result *fr = &r->families[f];
		const an_group *af = &p->groups[f];
		fr->kind = af->kind;
		fr->z = af->z;
		memcpy(fr->element, af->element, sizeof(fr->element));
		memcpy(fr->family, af->family, sizeof(fr->family));
		fr->energy_kev = af->e_main;
		fr->area = fr->sigma = fr->cps = fr->dl = fr->chi2_local = NAN;
		fr->status = MG_FAMILY_NOT_FITTED;
	}
	return r;
nomem:
	mg_analysis_result_free(r);
	mg_fail(MG_ERR_NOMEM, AN_DOM, "result: out of memory");
	return NULL;
}

void an_add_warning(mg_analysis_result *res, double e, double sig, const char *fmt, ...)
{
	if (res->nwarnings >= MG_ANALYSIS_MAX_WARNINGS)
		return;
	mg_analysis_warning *w = &res->warnings[res->nwarnings++];
	w->energy_kev = e;
	w->significance = sig;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->text, sizeof(w->text), fmt, ap);
	va_end(ap);
}

static const char *line_label(const char *name)
{
	if (strcmp(name, "Ka") == 0)
		return "Kα";
	if (strcmp(name, "Kb") == 0)
		return "Kβ";
	if (strcmp(name, "La") == 0)
		return "Lα";
	if (strcmp(name, "Lb") == 0)
		return "Lβ";
	if (strcmp(name, "Lg") == 0)
		return "Lγ";
	if (strcmp(name, "Ma") == 0)
		return "Mα";
	return name;
}

static int element_fitted(const mg_analysis_plan *p, int z)
{
	for (size_t f = 0; f < p->nfam; f++)
		if (p->fam[f].kind == MG_FAMILY_ELEMENT && p->fam[f].z == z)
			return 1;
	return 0;
}

static void name_peak(const mg_analysis_plan *p, mg_analysis_result *res, double e, double sig)
{
	double fw = an_sigma(&p->shape, e) * AN_FWHM_PER_SIGMA;
	double tol = 0.6 * fw > 0.04 ? 0.6 * fw : 0.04;
	int zs[3] = {0, 0, 0};
	double score[3] = {1e9, 1e9, 1e9};
	const an_cand *fitted_near = NULL;
	double fitted_d = 1e9;
	for (size_t i = 0; i < p->ncands; i++) {
		const an_cand *c = &p->cands[i];
		double d = fabs(c->e - e);
		if (d > tol)
			continue;
		if (element_fitted(p, c->z)) {
			if (d < fitted_d) {
				fitted_d = d;
				fitted_near = c;
			}
			continue;
		}
		double s = d / tol - 0.5 * c->weight;
		/* keep the best score per element, the best three elements */
		int have = -1;
		for (int k = 0; k < 3; k++)
			if (zs[k] == c->z)
				have = k;
		if (have >= 0) {
			if (s < score[have])
				score[have] = s;
		} else {
			int worst = 0;
			for (int k = 1; k < 3; k++)
				if (score[k] > score[worst])
					worst = k;
			if (s < score[worst]) {
				score[worst] = s;
				zs[worst] = c->z;
			}
		}
	}
	/* order by score */
	for (int a = 0; a < 3; a++)
		for (int b = a + 1; b < 3; b++)
			if (score[b] < score[a]) {
				double t = score[a];
				score[a] = score[b];
				score[b] = t;
				int tz = zs[a];
				zs[a] = zs[b];
				zs[b] = tz;
			}
	char names[64] = "";
	size_t len = 0;
	for (int k = 0; k < 3; k++) {
		if (!zs[k])
			continue;
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s?", len ? " " : "",
		                        mg_element_symbol(zs[k]));
		if (len >= sizeof(names))
			break;
	}
	if (names[0])
		an_add_warning(res, e, sig, "a peak at %.2f keV not explained: %s", e, names);
	else if (fitted_near)
		an_add_warning(res, e, sig,
		               "a peak at %.2f keV not explained, next to %s %s: line shape or calibration?",
		               e, mg_element_symbol(fitted_near->z), line_label(fitted_near->name));
	else
		an_add_warning(res, e, sig, "a peak at %.2f keV not explained", e);
}

void an_residual_warnings(const mg_analysis_plan *p, mg_analysis_ctx *c, mg_analysis_result *res)
{
	const size_t n = p->n;
	double *num = c->t1, *den = c->t2;
	/* r = (y − m)/v and 1/v, v = max(m,1) + (floor·m)² */
	for (size_t i = 0; i < n; i++) {
		double m = c->m[i] + c->bg[i];
		double fl = p->cfg.model_error > SHAPE_FLOOR ? p->cfg.model_error : SHAPE_FLOOR;
		double v = (m > 1 ? m : 1.0) + fl * fl * m * m;
		num[i] = (c->y[i] - m) / v;
		den[i] = 1.0 / v;
	}
	an_fft_convolve(&p->fw, p->k_match, num, n, 1, num, c->ftmp, c->fspec);
	an_fft_convolve(&p->fw, p->k_match2, den, n, 1, den, c->ftmp, c->fspec);
	for (size_t i = 0; i < n; i++)
		num[i] = den[i] > 0 ? num[i] / sqrt(den[i]) : 0.0;
	/* the most significant maxima, away from the window ends */
	struct {
		size_t i;
		double z;
	} best[8];
	size_t nb = 0;
	long guard = (long)ceil(2 * p->fwhm_mid_ch);
	long half = (long)ceil(p->fwhm_mid_ch);
	double k = p->cfg.warn_sigma > 0 ? p->cfg.warn_sigma : 5.0;
	for (long i = guard; i < (long)n - guard; i++) {
		double z = num[i];
		if (!(z > k))
			continue;
		int top = 1;
		for (long j = i - half; j <= i + half && top; j++)
			if (j != i && num[j] > z)
				top = 0;
		if (!top || (i > 0 && num[i - 1] == z))
			continue;
		size_t pos = nb;
		while (pos > 0 && best[pos - 1].z < z)
			pos--;
		if (pos >= 8)
			continue;
		if (nb < 8)
			nb++;
		for (size_t q = nb - 1; q > pos; q--)
			best[q] = best[q - 1];
		best[pos].i = (size_t)i;
		best[pos].z = z;
	}
	for (size_t q = 0; q < nb; q++) {
		size_t i = best[q].i;
		double d = 0;
		if (i > 0 && i + 1 < n) {
			double den2 = num[i - 1] - 2 * num[i] + num[i + 1];
			d = den2 < 0 ? 0.5 * (num[i - 1] - num[i + 1]) / den2 : 0.0;
		}
		double e = p->ecent[i] + d * (p->edges[i + 1] - p->edges[i]);
		name_peak(p, res, e, best[q].z);
	}
}

void an_result_fill(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                    double live, mg_analysis_result *res)
{
	const size_t n = p->n, np = p->design.p;
	(void)counts;
	res->cal = p->cfg.cal;
	res->noise_kev = p->cfg.det.noise_kev;
	res->fano = p->cfg.det.fano;
	res->live_time_s = live;
	res->npoints = n;
	res->nwarnings = 0;
	memcpy(res->coef, c->coef, np * sizeof(double));
	/* global χ² (σ² = max(y, 1), as PyMca) */
	size_t nfree = 0;
	for (size_t j = 0; j < np; j++)
		if (c->ws.active[j] && (c->coef[j] != 0 || !p->design.nonneg[j]))
			nfree++;
	double chi = 0;
	for (size_t i = 0; i < n; i++) {
		double r = c->y[i] - c->m[i] - c->bg[i];
		chi += r * r / (c->y[i] > 1 ? c->y[i] : 1.0);
	}
	res->nparams = nfree;
	res->chi2_reduced = n > nfree ? chi / (double)(n - nfree) : NAN;
	/* model and background over the axis */
	memset(res->model, 0, p->cfg.nchan * sizeof(double));
	memset(res->background, 0, p->cfg.nchan * sizeof(double));
	double *bgo = res->background + p->w0;
	for (size_t i = 0; i < n; i++) {
		bgo[i] = c->bg[i];
		res->model[p->w0 + i] = c->m[i] + c->bg[i];
	}
	for (size_t j = p->nfam; j < np; j++) {
		double cj = c->coef[j];
		if (cj == 0)
			continue;
		const double *col = c->d.cols[j];
		for (size_t i = c->d.lo[j]; i < c->d.hi[j]; i++)
			bgo[i] += cj * col[i];
	}
	/* families: sums over their units (sub-shells), variance with the covariances */
	for (size_t f = 0; f < p->ngroup; f++) {
		mg_family_result *fr = &res->families[f];
		const an_group *g = &p->groups[f];
		double var = 0, area = 0;
		int active = 0;
		for (size_t a = g->u0; a < g->u0 + g->nu; a++) {
			area += c->coef[a];
			active |= c->ws.active[a];
			for (size_t b = g->u0; b < g->u0 + g->nu; b++)
				var += c->cov[a * np + b];
		}
		double loc = 0;
		size_t cnt = 0;
		for (size_t r = 0; r < p->nranges[f]; r++)
			for (size_t i = p->ranges[f][r].a; i < p->ranges[f][r].b; i++) {
				double d = c->y[i] - c->m[i] - c->bg[i];
				loc += d * d / (c->y[i] > 1 ? c->y[i] : 1.0);
				cnt++;
			}
		fr->chi2_local = cnt ? loc / (double)cnt : NAN;
		if (!active || !(var > 0)) {
			fr->area = 0;
			fr->sigma = fr->dl = fr->cps = NAN;
			fr->status = MG_FAMILY_NOT_FITTED;
			continue;
		}
		double sig = sqrt(var);
		if (cnt && fr->chi2_local > 1)
			sig *= sqrt(fr->chi2_local);
		fr->area = area;
		fr->sigma = sig;
		fr->dl = 2.71 + (p->cfg.dl_sigma > 0 ? p->cfg.dl_sigma : 3.29) * sig;
		fr->cps = live > 0 && isfinite(live) ? fr->area / live : NAN;
		if (fr->area < fr->dl)
			fr->status = MG_FAMILY_BELOW_DL;
		else if (cnt && p->cfg.poor_chi2 > 0 && fr->chi2_local > p->cfg.poor_chi2)
			fr->status = MG_FAMILY_POOR_FIT;
		else
			fr->status = MG_FAMILY_OK;
	}
	/* The width test: an element family above its detection limit whose peaks the same
	 * lines √2 × wider explain clearly better is not that element (a diffraction peak, a
	 * foreign line between its lines): poor fit. */
	for (size_t f = 0; f < p->ngroup; f++) {
		mg_family_result *fr = &res->families[f];
		const an_group *g = &p->groups[f];
		if (fr->kind != MG_FAMILY_ELEMENT || fr->status != MG_FAMILY_OK || !(fr->area > 0))
			continue;
		double snn = 0, snr = 0, sww = 0, swr = 0, srr = 0;
		for (size_t r = 0; r < p->nranges[f]; r++)
			for (size_t i = p->ranges[f][r].a; i < p->ranges[f][r].b; i++) {
				double nar = 0, wid = 0;
				for (size_t u = g->u0; u < g->u0 + g->nu; u++) {
					nar += c->coef[u] * p->design.cols[u][i];
					wid += c->coef[u] * p->widebuf[u * n + i];
				}
				double rr = c->y[i] - c->m[i] - c->bg[i] + nar, w = c->w[i];
				snn += w * nar * nar;
				snr += w * nar * rr;
				sww += w * wid * wid;
				swr += w * wid * rr;
				srr += w * rr * rr;
			}
		if (!(snn > 0) || !(sww > 0))
			continue;
		double chin = srr - snr * snr / snn, chiw = srr - swr * swr / sww;
		double gain = chin - chiw; /* χ² the wider peaks save */
		if (gain > 25 && gain > 0.2 * (srr - chin)) {
			fr->status = MG_FAMILY_POOR_FIT;
			an_add_warning(res, fr->energy_kev, sqrt(gain),
			               "%s %s: the peaks are broader than the detector resolution "
			               "(diffraction or another line?)",
			               fr->element, fr->family);
		}
	}
	for (size_t f = 0; f < p->ngroup; f++) {
		const mg_family_result *fr = &res->families[f];
		if (fr->status == MG_FAMILY_POOR_FIT && !(fr->chi2_local <= p->cfg.poor_chi2))
			an_add_warning(res, fr->energy_kev, 0, "%s %s: poor fit (local reduced chi2 %.1f)",
			               fr->element, fr->family, fr->chi2_local);
	}
	if (p->cfg.flags & MG_AN_WARNINGS)
		an_residual_warnings(p, c, res);
}
