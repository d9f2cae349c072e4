/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The quantification: options, the prepared object (FP model, standards,
 * calibration, instrument factors) and one run — choose the line of every
 * element, set up targets and scales for the method, solve the matrix
 * correction, then uncertainties, flags, totals and the grade. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

void mg_quant_options_default(mg_quant_options *o)
{
	memset(o, 0, sizeof *o);
	o->method = MG_QUANT_FP;
	o->normalise = -1;
	mg_quant_comp_set(&o->fixed, 5, 0.010, 0.0015); /* B 1.00 ± 0.15 wt% (RE2Fe14B) */
	snprintf(o->fixed_source, sizeof o->fixed_source, "nominal");
	o->total_lo_pct = 98;
	o->total_hi_pct = 102;
	o->coating_ratio = 0.5;
	o->coating_wt_pct = 5;
	o->lod_k = 3;
	o->loq_k = 10;
	o->max_iter = 60;
	o->tol = 1e-6;
	o->u_sf_rel = 0.08;
	o->u_tube_tilt = 0.15;
	o->u_mu_rel = 0.03;
	o->u_fp_data_rel = 0.05;
}

const char *mg_quant_method_name(mg_quant_method m)
{
	switch (m) {
	case MG_QUANT_FP: return "fp";
	case MG_QUANT_KRATIO: return "kratio";
	case MG_QUANT_EMPIRICAL: return "empirical";
	}
	return "?";
}

int mg_quant_method_parse(const char *s, mg_quant_method *m)
{
	if (!s || !m)
		return mg_fail(MG_ERR_ARG, QDOM, "method: NULL");
	if (strcmp(s, "fp") == 0)
		*m = MG_QUANT_FP;
	else if (strcmp(s, "kratio") == 0 || strcmp(s, "standards") == 0)
		*m = MG_QUANT_KRATIO;
	else if (strcmp(s, "empirical") == 0)
		*m = MG_QUANT_EMPIRICAL;
	else
		return mg_fail(MG_ERR_ARG, QDOM, "method '%s' is not fp, kratio or empirical", s);
	return 0;
}

const mg_quant_element *mg_quant_result_find(const mg_quant_result *r, int z)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (r->el[i].z == z)
			return &r->el[i];
	return NULL;
}

void q_note(mg_quant_result *res, const char *fmt, ...)
{
	if (res->nnotes >= MG_QUANT_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->notes[res->nnotes++], sizeof res->notes[0], fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- helpers */

int q_comp_to_w(const mg_fp_model *fp, const mg_quant_comp *c, double *w)
{
	size_t ne = q_fp_nelements(fp);
	for (size_t e = 0; e < ne; e++)
		w[e] = 0;
	double sum = 0;
	for (size_t i = 0; i < c->n; i++) {
		int e = q_fp_element_index(fp, c->z[i]);
		if (e < 0)
			return mg_fail(MG_ERR_ARG, QDOM, "%s is not in the FP element list", q_z_symbol(c->z[i]));
		if (c->w[i] > 0) {
			w[e] += c->w[i];
			sum += c->w[i];
		}
	}
	if (!(sum > 0))
		return mg_fail(MG_ERR_ARG, QDOM, "empty composition");
	for (size_t e = 0; e < ne; e++)
		w[e] /= sum;
	return 0;
}

static int usable_std_line(const mg_quant_standard *s, const mg_quant_line *l)
{
	return l->area > 0 && l->area > 10 * l->sigma && mg_quant_comp_get(&s->comp, l->z) >= 1e-3 &&
	       s->meas.live_time_s > 0;
}

#define QI_MAX 256

typedef struct qi_pts {
	size_t n;
	int cls[QI_MAX], z[QI_MAX];
	double e[QI_MAX];              /* main line energy */
	double lr[QI_MAX], wt[QI_MAX]; /* ln(measured/predicted), 1/relative variance */
} qi_pts;

/* Measured/predicted rate of every usable line of the standards under knobs k. */
static int qi_collect(const mg_fp_model *fp, const q_fp_knobs *k, const mg_quant_standard *stds, size_t n,
                      qi_pts *p)
{
	double w[2 * MG_QUANT_MAX_EL];
	p->n = 0;
	for (size_t s = 0; s < n; s++) {
		const mg_quant_standard *S = &stds[s];
		int rc = q_comp_to_w(fp, &S->comp, w);
		if (rc < 0)
			return mg_fail(rc, QDOM, "standard %s: %s", S->name, mg_error_detail());
		int fam[MG_QUANT_MAX_EL];
		size_t idx[MG_QUANT_MAX_EL], nf = 0;
		for (size_t i = 0; i < S->meas.n; i++) {
			const mg_quant_line *l = &S->meas.lines[i];
			if (!usable_std_line(S, l))
				continue;
			int f = q_fp_family(fp, l->z, l->line);
			if (f < 0)
				continue;
			fam[nf] = f;
			idx[nf++] = i;
		}
		mg_error_clear();
		if (!nf)
			continue;
		double P[MG_QUANT_MAX_EL], Q[MG_QUANT_MAX_EL];
		if ((rc = q_fp_eval(fp, w, k, fam, nf, P, Q)) < 0)
			return rc;
		for (size_t j = 0; j < nf && p->n < QI_MAX; j++) {
			const mg_quant_line *l = &S->meas.lines[idx[j]];
			double pred = P[j] + Q[j], meas = mg_quant_line_rate(&S->meas, l);
			int c = q_family_class(l->line);
			if (!(pred > 0) || !(meas > 0) || c < 0)
				continue;
			double wz = mg_quant_comp_get(&S->comp, l->z), uz = 0;
			for (size_t i = 0; i < S->comp.n; i++)
				if (S->comp.z[i] == l->z)
					uz = S->comp.u[i];
			/* counting, the standard's value, and 0.5 % for the line's own model */
			double rv = (l->sigma / l->area) * (l->sigma / l->area) + (uz / wz) * (uz / wz) + 2.5e-5;
			p->cls[p->n] = c;
			p->e[p->n] = l->energy_kev;
			p->z[p->n] = l->z;
			p->lr[p->n] = log(meas / pred);
			p->wt[p->n] = 1.0 / rv;
			p->n++;
		}
	}
	return 0;
}

/* Weighted χ² of ln(ratio) about one common factor, over the lines at or
 * above emin keV. */
static double qi_chi2(const qi_pts *p, double emin, double *mean, double *sw)
{
	double s = 0, sx = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i] >= emin) {
			s += p->wt[i];
			sx += p->wt[i] * p->lr[i];
		}
	double m = s > 0 ? sx / s : 0, c = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i] >= emin)
			c += p->wt[i] * (p->lr[i] - m) * (p->lr[i] - m);
	if (mean)
		*mean = m;
	if (sw)
		*sw = s;
	return c;
}

/* The tube tilt is fitted on lines above 4 keV: below, the detector window and
 * dead layer (and the atmosphere) weigh more than the excitation. */
#define TILT_EMIN 4.0

static int qi_chi2_at(const mg_fp_model *fp, const q_fp_knobs *k, double t, const mg_quant_standard *stds,
                      size_t n, qi_pts *p, double emin, double *chi2)
{
	q_fp_knobs kk = *k;
	kk.tilt = t;
	int rc = qi_collect(fp, &kk, stds, n, p);
	if (rc < 0)
		return rc;
	*chi2 = qi_chi2(p, emin, NULL, NULL);
	return 0;
}

int q_instrument_factors(const mg_fp_model *fp, const q_fp_knobs *k, const mg_quant_standard *stds, size_t n,
                         int fit_tilt, q_ifac *out)
{
	memset(out, 0, sizeof *out);
	out->tilt = k->tilt;
	qi_pts *p = malloc(sizeof *p);
	if (!p)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	int rc = qi_collect(fp, k, stds, n, p);
	if (rc < 0)
		goto out;
	/* the lines the tilt is fitted on: those above TILT_EMIN when there are 3 of 2 elements */
	double emin = TILT_EMIN;
	int nel = 0;
	size_t nfit = 0;
	for (int pass = 0; pass < 2; pass++) {
		nel = 0;
		nfit = 0;
		for (size_t i = 0; i < p->n; i++) {
			if (p->e[i] < emin)
				continue;
			nfit++;
			int seen = 0;
			for (size_t j = 0; j < i; j++)
				seen |= p->z[j] == p->z[i] && p->e[j] >= emin;
			nel += !seen;
		}
		if (nfit >= 3 && nel >= 2)
			break;
		emin = 0;
	}
	/* the tube-spectrum shape: beam × (E/10 keV)^t, t fitted so that one factor
	 * explains every line of every standard (golden section on [-1.5, 1.5]) */
	if (fit_tilt && nfit >= 3 && nel >= 2) {
		const double gr = 0.6180339887498949;
		double a = -1.5, b = 1.5, c1 = b - gr * (b - a), c2 = a + gr * (b - a), f1, f2;
		if ((rc = qi_chi2_at(fp, k, c1, stds, n, p, emin, &f1)) < 0 || (rc = qi_chi2_at(fp, k, c2, stds, n, p, emin, &f2)) < 0)
			goto out;
		while (b - a > 2e-3) {
			if (f1 < f2) {
				b = c2;
				c2 = c1;
				f2 = f1;
				c1 = b - gr * (b - a);
				if ((rc = qi_chi2_at(fp, k, c1, stds, n, p, emin, &f1)) < 0)
					goto out;
			} else {
				a = c1;
				c1 = c2;
				f1 = f2;
				c2 = a + gr * (b - a);
				if ((rc = qi_chi2_at(fp, k, c2, stds, n, p, emin, &f2)) < 0)
					goto out;
			}
		}
		double t = 0.5 * (a + b), h = 0.05, f0, fp1, fm1;
		if ((rc = qi_chi2_at(fp, k, t + h, stds, n, p, emin, &fp1)) < 0 ||
		    (rc = qi_chi2_at(fp, k, t - h, stds, n, p, emin, &fm1)) < 0 ||
		    (rc = qi_chi2_at(fp, k, t, stds, n, p, emin, &f0)) < 0)
			goto out;
		double curv = (fp1 - 2 * f0 + fm1) / (h * h);
		double red = nfit > 2 ? f0 / (double)(nfit - 2) : 1;
		double st = curv > 0 ? sqrt(2.0 / curv * fmax(red, 1.0)) : INFINITY;
		mg_dbg(QDOM, "tube tilt fit: t %.3f chi2 %.4g (red %.3g) curvature %.4g -> sigma %.3f, %zu lines >= %.1f keV",
		       t, f0, red, curv, st, nfit, emin);
		if (st < 0.5 && fabs(t) < 1.45) {
			out->tilt = t;
			out->tilt_u = st;
			out->tilt_fitted = 1;
		} else if ((rc = qi_collect(fp, k, stds, n, p)) < 0) {
			goto out;
		}
	}
	if (out->tilt_fitted) {
		/* one factor for every shell class, from the lines the tilt was fitted on */
		size_t nu = 0;
		for (size_t i = 0; i < p->n; i++)
			nu += p->e[i] >= emin;
		double m, sw, chi2 = qi_chi2(p, emin, &m, &sw);
		double red = nu > 2 ? chi2 / (double)(nu - 2) : 1;
		double se2 = fmax(red, 1.0) / sw, scatter2 = chi2 / sw * (double)nu / (double)(nu > 2 ? nu - 2 : 1);
		for (int c = 0; c < 3; c++) {
			int nc = 0;
			for (size_t i = 0; i < p->n; i++)
				nc += p->cls[i] == c;
			if (!nc)
				continue;
			out->g[c] = exp(m);
			out->gu[c] = sqrt(se2 + scatter2);
			out->gn[c] = nc;
		}
	} else {
		for (int c = 0; c < 3; c++) {
			double s = 0, sx = 0, sxx = 0;
			int nc = 0;
			for (size_t i = 0; i < p->n; i++)
				if (p->cls[i] == c) {
					s += p->wt[i];
					sx += p->wt[i] * p->lr[i];
					sxx += p->wt[i] * p->lr[i] * p->lr[i];
					nc++;
				}
			if (!nc)
				continue;
			double m = sx / s, var = nc > 1 ? fmax(sxx / s - m * m, 0) * nc / (nc - 1.0) : 0;
			double se2 = 1.0 / s;
			/* element-to-element scatter (FP data, model) counts fully once there are 3 or more */
			out->g[c] = exp(m);
			out->gu[c] = nc >= 3 ? sqrt(se2 + var) : sqrt(se2 + var / nc);
			out->gn[c] = nc;
		}
	}
	rc = 0;
out:
	free(p);
	return rc;
}

/* ---------------------------------------------------------------- the object */

void mg_quant_free(mg_quant *q)
{
	if (!q)
		return;
	mg_fp_model_free(q->fp);
	free(q->stds);
	free(q->std_rate);
	mg_quant_calibration_clear(&q->cal);
	free(q);
}

const mg_fp_model *mg_quant_fp(const mg_quant *q)
{
	return q ? q->fp : NULL;
}

static void add_el(char *list, size_t size, int z)
{
	const char *sym = q_z_symbol(z);
	size_t n = strlen(list);
	/* already there? */
	const char *p = list;
	while (*p) {
		const char *s = p;
		while (*p && *p != ',')
			p++;
		if ((size_t)(p - s) == strlen(sym) && strncmp(s, sym, (size_t)(p - s)) == 0)
			return;
		if (*p)
			p++;
	}
	snprintf(list + n, size - n, "%s%s", n ? "," : "", sym);
}

static void add_list(char *list, size_t size, const char *elements)
{
	const char *p = elements;
	while (p && *p) {
		while (*p == ',' || *p == ' ' || *p == ';')
			p++;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ' && *p != ';' && *p != ':')
			p++;
		int z = q_symbol_z(s, (size_t)(p - s));
		if (z > 0)
			add_el(list, size, z);
		while (*p && *p != ',' && *p != ' ' && *p != ';')
			p++;
	}
}

int mg_quant_new(const mg_instrument_desc *ins, const char *elements, const mg_quant_options *o,
                 const mg_quant_standard *stds, size_t nstd, const mg_quant_calibration *cal, mg_quant **out)
{
	if ((!ins && !cal) || !o || !out || (nstd && !stds))
		return mg_fail(MG_ERR_ARG, QDOM, "quant: NULL argument");
	*out = NULL;
	mg_quant *q = calloc(1, sizeof *q);
	if (!q)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	q->ins = ins ? *ins : cal->instrument;
	q->o = *o;
	int rc = 0;
	if (elements)
		add_list(q->elements, sizeof q->elements, elements);
	if (cal && cal->elements[0])
		add_list(q->elements, sizeof q->elements, cal->elements);
	for (size_t s = 0; s < nstd; s++)
		for (size_t i = 0; i < stds[s].comp.n; i++)
			add_el(q->elements, sizeof q->elements, stds[s].comp.z[i]);
	if (cal)
		for (size_t s = 0; s < cal->nstd && cal->stds; s++)
			for (size_t i = 0; i < cal->stds[s].comp.n; i++)
				add_el(q->elements, sizeof q->elements, cal->stds[s].comp.z[i]);
	for (size_t i = 0; i < o->fixed.n; i++)
		add_el(q->elements, sizeof q->elements, o->fixed.z[i]);
	if (o->balance[0]) {
		int z = q_symbol_z(o->balance, strlen(o->balance));
		if (z < 1) {
			rc = mg_fail(MG_ERR_ARG, QDOM, "balance element '%.4s' unknown", o->balance);
			goto fail;
		}
		add_el(q->elements, sizeof q->elements, z);
	}
	if (!q->elements[0]) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "quant: no element");
		goto fail;
	}
	if ((rc = mg_fp_model_new(&q->ins, q->elements,
	                          (o->flags & MG_QUANT_NO_SECONDARY) ? MG_FP_NO_SECONDARY : 0, &q->fp)) < 0)
		goto fail;
	if (nstd) {
		q->stds = malloc(nstd * sizeof *q->stds);
		q->std_rate = calloc(nstd * MG_QUANT_MAX_EL, sizeof(double));
		if (!q->stds || !q->std_rate) {
			rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
			goto fail;
		}
		memcpy(q->stds, stds, nstd * sizeof *stds);
		q->nstd = nstd;
	}
	if (cal) {
		if ((rc = mg_quant_calibration_copy(&q->cal, cal)) < 0)
			goto fail;
		q->has_cal = 1;
	}
	/* the standards fixing the instrument factors: the calibration's, else the k-ratio ones */
	if (q->has_cal && q->cal.nstd) {
		q->gstd = q->cal.stds;
		q->ngstd = q->cal.nstd;
	} else if (q->nstd) {
		q->gstd = q->stds;
		q->ngstd = q->nstd;
	}
	q->base = q_fp_knobs_none;
	if (q->ngstd) {
		q_ifac f;
		if ((rc = q_instrument_factors(q->fp, &q_fp_knobs_none, q->gstd, q->ngstd, 1, &f)) < 0)
			goto fail;
		memcpy(q->g, f.g, sizeof q->g);
		memcpy(q->g_u, f.gu, sizeof q->g_u);
		memcpy(q->g_n, f.gn, sizeof q->g_n);
		q->base.tilt = f.tilt;
		q->tilt_u = f.tilt_fitted ? f.tilt_u : 0;
		mg_dbg(QDOM, "instrument factors from %zu standards: G K %.4g L %.4g (u %.3f %.3f, n %d %d), tilt %.3f +- %.3f%s",
		       q->ngstd, f.g[0], f.g[1], f.gu[0], f.gu[1], f.gn[0], f.gn[1], f.tilt, f.tilt_u,
		       f.tilt_fitted ? "" : " (not fitted)");
	} else if (q->has_cal) {
		memcpy(q->g, q->cal.g, sizeof q->g);
		memcpy(q->g_u, q->cal.g_u, sizeof q->g_u);
		memcpy(q->g_n, q->cal.g_n, sizeof q->g_n);
		q->base.tilt = q->cal.tilt;
		q->tilt_u = q->cal.tilt_u;
	}
	/* nominal FP rates of the k-ratio standards' lines */
	double w[2 * MG_QUANT_MAX_EL];
	for (size_t s = 0; s < q->nstd; s++) {
		if ((rc = q_comp_to_w(q->fp, &q->stds[s].comp, w)) < 0) {
			rc = mg_fail(rc, QDOM, "standard %s: %s", q->stds[s].name, mg_error_detail());
			goto fail;
		}
		for (size_t i = 0; i < q->stds[s].meas.n; i++) {
			const mg_quant_line *l = &q->stds[s].meas.lines[i];
			if (mg_quant_comp_get(&q->stds[s].comp, l->z) <= 0)
				continue;
			int f = q_fp_family(q->fp, l->z, l->line);
			if (f < 0) {
				mg_error_clear();
				continue;
			}
			double P, S;
			if ((rc = q_fp_eval(q->fp, w, &q->base, &f, 1, &P, &S)) < 0)
				goto fail;
			q->std_rate[s * MG_QUANT_MAX_EL + i] = P + S;
		}
	}
	if (o->method == MG_QUANT_KRATIO && !q->nstd) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "the k-ratio method needs standards");
		goto fail;
	}
	if (o->method == MG_QUANT_EMPIRICAL && (!q->has_cal || !q->cal.nlines)) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "the empirical method needs a calibration with calibration lines");
		goto fail;
	}
	*out = q;
	return 0;
fail:
	mg_quant_free(q);
	return rc;
}

/* ---------------------------------------------------------------- one run */

static int knobs_nominal(const mg_quant *q, const q_fp_knobs *k)
{
	return k->sf_scale == q->base.sf_scale && k->tilt == q->base.tilt && (k->mu_z == 0 || k->mu_scale == 1.0);
}

/* G for shell class c under knobs; the mean of the other classes when c has none. */
static double g_for(const double g[3], int c)
{
	if (c >= 0 && c < 3 && g[c] > 0)
		return g[c];
	double s = 0;
	int n = 0;
	for (int i = 0; i < 3; i++)
		if (g[i] > 0) {
			s += g[i];
			n++;
		}
	return n ? s / n : 0;
}

int q_run_setup(q_run *r, const q_fp_knobs *k, const double *fixed_w, q_solve *s)
{
	const mg_quant *q = r->q;
	memset(s, 0, sizeof *s);
	s->fp = q->fp;
	s->knobs = *k;
	s->max_iter = q->o.max_iter > 0 ? q->o.max_iter : 60;
	s->tol = q->o.tol > 0 ? q->o.tol : 1e-6;
	s->balance_el = -1;
	if (q->o.balance[0])
		s->balance_el = q_fp_element_index(q->fp, q_symbol_z(q->o.balance, strlen(q->o.balance)));
	s->normalise = q->o.normalise < 0 ? r->standardless : q->o.normalise;
	for (size_t i = 0; i < q->o.fixed.n; i++) {
		int e = q_fp_element_index(q->fp, q->o.fixed.z[i]);
		if (e < 0 || e == s->balance_el)
			continue;
		s->fixed_el[s->nfixed] = e;
		s->fixed_w[s->nfixed] = fixed_w ? fixed_w[i] : q->o.fixed.w[i];
		s->nfixed++;
	}
	double g[3];
	memcpy(g, q->g, sizeof g);
	if (!knobs_nominal(q, k) && q->ngstd) {
		q_ifac f;
		int rc = q_instrument_factors(q->fp, k, q->gstd, q->ngstd, 0, &f);
		if (rc < 0)
			return rc;
		memcpy(g, f.g, sizeof g);
	}
	double w[2 * MG_QUANT_MAX_EL];
	for (size_t i = 0; i < r->na; i++) {
		const q_an *a = &r->a[i];
		q_analyte *A = &s->a[s->na++];
		A->z = a->z;
		A->el = a->el;
		A->fam = a->fam;
		if (r->method == MG_QUANT_KRATIO && a->std) {
			double N = q->std_rate[a->sidx * MG_QUANT_MAX_EL + a->slidx];
			if (!knobs_nominal(q, k)) {
				int rc = q_comp_to_w(q->fp, &a->std->comp, w);
				double P, S;
				if (rc == 0)
					rc = q_fp_eval(q->fp, w, k, &a->fam, 1, &P, &S);
				if (rc < 0)
					return rc;
				N = P + S;
			}
			if (!(N > 0))
				return mg_fail(MG_ERR_NOT_FOUND, QDOM, "standard %s: no predicted %s %s", a->std->name,
				               q_z_symbol(a->z), a->line->line);
			A->target = a->R / a->std_meas;
			A->scale = 1.0 / N;
		} else {
			A->target = a->R;
			A->scale = r->standardless ? 1.0 : g_for(g, a->cls);
		}
	}
	return 0;
}

static int choose_lines(q_run *r, mg_quant_result *res)
{
	const mg_quant *q = r->q;
	const mg_quant_meas *u = r->unk;
	int fixed_z[MG_QUANT_MAX_EL];
	for (size_t i = 0; i < q->o.fixed.n; i++)
		fixed_z[i] = q->o.fixed.z[i];
	for (size_t i = 0; i < u->n; i++) {
		const mg_quant_line *l = &u->lines[i];
		int skip = 0;
		for (size_t f = 0; f < q->o.fixed.n; f++)
			skip |= fixed_z[f] == l->z;
		if (skip) {
			q_note(res, "%s measured but taken as %s (fixed)", l->element, q->o.fixed_source);
			continue;
		}
		int el = q_fp_element_index(q->fp, l->z);
		if (el < 0) {
			q_note(res, "%s is not in the FP element list: ignored", l->element);
			continue;
		}
		int fam = q_fp_family(q->fp, l->z, l->line);
		if (fam < 0) {
			mg_error_clear();
			q_note(res, "%s %s: no FP family: ignored", l->element, l->line);
			continue;
		}
		/* one line per element: the one with the smallest relative σ */
		size_t k;
		for (k = 0; k < r->na; k++)
			if (r->a[k].z == l->z)
				break;
		double rel = l->area > 0 ? l->sigma / l->area : INFINITY;
		if (k < r->na) {
			const mg_quant_line *o = r->a[k].line;
			double orel = o->area > 0 ? o->sigma / o->area : INFINITY;
			if (!(rel < orel))
				continue;
		} else {
			if (r->na >= MG_QUANT_MAX_EL)
				return mg_fail(MG_ERR_ARG, QDOM, "quant: more than %d analytes", MG_QUANT_MAX_EL);
			r->na++;
		}
		q_an *a = &r->a[k];
		memset(a, 0, sizeof *a);
		a->z = l->z;
		a->el = el;
		a->fam = fam;
		a->cls = q_family_class(l->line);
		a->line = l;
		a->R = mg_quant_line_rate(u, l);
		a->c = q_rate_per_count(u); /* target per count */
	}
	if (!r->na)
		return mg_fail(MG_ERR_ARG, QDOM, "quant %s: no line to quantify", u->name);
	return 0;
}

static void attach_standards(q_run *r, mg_quant_result *res)
{
	const mg_quant *q = r->q;
	for (size_t k = 0; k < r->na; k++) {
		q_an *a = &r->a[k];
		double best = 0;
		for (size_t s = 0; s < q->nstd; s++) {
			double w = mg_quant_comp_get(&q->stds[s].comp, a->z);
			if (!(w > best))
				continue;
			for (size_t i = 0; i < q->stds[s].meas.n; i++) {
				const mg_quant_line *sl = &q->stds[s].meas.lines[i];
				if (sl->z != a->z || strcmp(sl->line, a->line->line) != 0 || !(sl->area > 0) ||
				    !(q->std_rate[s * MG_QUANT_MAX_EL + i] > 0))
					continue;
				best = w;
				a->std = &q->stds[s];
				a->sline = sl;
				a->sidx = s;
				a->slidx = i;
				a->std_meas = mg_quant_line_rate(&q->stds[s].meas, sl);
				a->wstd = w;
				for (size_t c = 0; c < q->stds[s].comp.n; c++)
					if (q->stds[s].comp.z[c] == a->z)
						a->uwstd = q->stds[s].comp.u[c];
			}
		}
		if (r->method == MG_QUANT_KRATIO && !a->std) {
			a->no_std = 1;
			q_note(res, "%s: no standard measured it: FP with the instrument factor", a->line->element);
		}
		a->c /= a->std && r->method == MG_QUANT_KRATIO ? a->std_meas : 1.0;
	}
}

static void attach_empirical(q_run *r)
{
	const mg_quant *q = r->q;
	for (size_t k = 0; k < r->na; k++)
		for (size_t i = 0; i < q->cal.nlines; i++)
			if (q->cal.lines[i].z == r->a[k].z && strcmp(q->cal.lines[i].line, r->a[k].line->line) == 0)
				r->a[k].emp = &q->cal.lines[i];
}

static int pick_major(const q_run *r)
{
	size_t ne = q_fp_nelements(r->q->fp);
	double best = 0;
	int z = 0;
	for (size_t e = 0; e < ne; e++)
		if (r->w[e] > best) {
			best = r->w[e];
			z = q_fp_element_z(r->q->fp, e);
		}
	return z;
}

int mg_quant_run(const mg_quant *q, const mg_quant_meas *unk, mg_quant_result *res, mg_quant_kratio *kratios,
                 size_t max_k, size_t *nk)
{
	return q_quant_run(q, unk, res, kratios, max_k, nk, 0, NULL);
}

int q_quant_run(const mg_quant *q, const mg_quant_meas *unk, mg_quant_result *res, mg_quant_kratio *kratios,
                size_t max_k, size_t *nk, unsigned extra_flags, const mg_quant_comp *start)
{
	if (!q || !unk || !res)
		return mg_fail(MG_ERR_ARG, QDOM, "quant run: NULL argument");
	if (!(unk->live_time_s > 0))
		return mg_fail(MG_ERR_ARG, QDOM, "quant %s: no live time", unk->name);
	memset(res, 0, sizeof *res);
	if (nk)
		*nk = 0;
	q_run *r = calloc(1, sizeof *r);
	if (!r)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	r->q = q;
	r->unk = unk;
	r->flags = q->o.flags | extra_flags;
	r->method = q->o.method;
	res->method = r->method;
	if (q->has_cal) {
		res->calibration_id = q->cal.id;
		if (q->cal.name[0])
			snprintf(res->calibration, sizeof res->calibration, "%s v%d", q->cal.name, q->cal.version);
	}
	int rc = choose_lines(r, res);
	if (rc < 0)
		goto out;
	attach_standards(r, res);
	if (r->method == MG_QUANT_EMPIRICAL)
		attach_empirical(r);
	int have_g = q->g[0] > 0 || q->g[1] > 0 || q->g[2] > 0;
	r->standardless = r->method != MG_QUANT_KRATIO && !have_g;
	if (r->method == MG_QUANT_KRATIO) {
		int any_nostd = 0;
		for (size_t k = 0; k < r->na; k++)
			any_nostd |= r->a[k].no_std;
		if (any_nostd && !have_g) {
			rc = mg_fail(MG_ERR_ARG, QDOM,
			             "k-ratio method: an element has no standard and no instrument factor is known");
			goto out;
		}
		snprintf(res->method_detail, sizeof res->method_detail, "kratio");
	} else if (r->method == MG_QUANT_FP) {
		if (r->standardless)
			snprintf(res->method_detail, sizeof res->method_detail, "fp-standardless");
		else
			snprintf(res->method_detail, sizeof res->method_detail, "fp-%zu-standard%s", q->ngstd,
			         q->ngstd == 1 ? "" : "s");
	} else {
		snprintf(res->method_detail, sizeof res->method_detail, "empirical");
	}
	if ((rc = q_run_setup(r, &q->base, NULL, &r->s)) < 0)
		goto out;
	for (size_t k = 0; start && k < r->na; k++) /* a warm start (see q_quant_run) */
		r->s.w[r->a[k].el] = mg_quant_comp_get(start, r->a[k].z);
	if (r->s.balance_el >= 0 && start)
		r->s.w[r->s.balance_el] = mg_quant_comp_get(start, q_fp_element_z(q->fp, (size_t)r->s.balance_el));
	if ((rc = q_solve_run(&r->s)) < 0)
		goto out;
	memcpy(r->w, r->s.w, sizeof r->w);
	if (r->method == MG_QUANT_EMPIRICAL && (rc = q_empirical_apply(r)) < 0)
		goto out;
	r->mu_z = pick_major(r);
	if ((rc = q_uncertainty(r)) < 0)
		goto out;
	res->iterations = r->s.iterations;
	res->converged = r->s.converged;

	/* the elements: analytes, the balance, the fixed ones */
	for (size_t k = 0; k < r->na; k++) {
		const q_an *a = &r->a[k];
		mg_quant_element *e = &res->el[res->n++];
		e->z = a->z;
		snprintf(e->element, sizeof e->element, "%s", a->line->element);
		snprintf(e->line, sizeof e->line, "%s", a->line->line);
		e->wt_pct = 100 * r->w[a->el];
		e->u_counting = 100 * r->u_count[k];
		e->u_calibration = 100 * r->u_cal[k];
		e->u_matrix = 100 * r->u_mat[k];
		e->sigma = sqrt(e->u_counting * e->u_counting + e->u_calibration * e->u_calibration +
		                e->u_matrix * e->u_matrix);
		e->lod_wt_pct = 100 * r->lod[k];
		e->loq_wt_pct = 100 * r->loq[k];
		e->k = e->k_sigma = NAN;
		if (r->method == MG_QUANT_KRATIO && a->std) {
			e->k = a->R / a->std_meas;
			e->k_sigma = a->line->sigma * a->c;
		}
		if (a->no_std)
			e->flags |= MG_QE_NO_STANDARD;
		snprintf(e->source, sizeof e->source, "xrf");
	}
	if (r->s.balance_el >= 0) {
		mg_quant_element *e = &res->el[res->n++];
		e->z = q_fp_element_z(q->fp, (size_t)r->s.balance_el);
		snprintf(e->element, sizeof e->element, "%s", q_z_symbol(e->z));
		e->wt_pct = 100 * r->w[r->s.balance_el];
		e->sigma = e->u_matrix = 100 * r->u_balance;
		e->k = e->k_sigma = e->lod_wt_pct = e->loq_wt_pct = NAN;
		e->flags |= MG_QE_DIFFERENCE;
		snprintf(e->source, sizeof e->source, "difference");
	}
	for (size_t i = 0; i < q->o.fixed.n && res->n < MG_QUANT_MAX_EL; i++) {
		int z = q->o.fixed.z[i];
		if (q_fp_element_index(q->fp, z) == r->s.balance_el)
			continue;
		mg_quant_element *e = &res->el[res->n++];
		e->z = z;
		snprintf(e->element, sizeof e->element, "%s", q_z_symbol(z));
		e->wt_pct = 100 * q->o.fixed.w[i];
		e->sigma = e->u_calibration = 100 * q->o.fixed.u[i];
		e->k = e->k_sigma = e->lod_wt_pct = e->loq_wt_pct = NAN;
		int icp = strcmp(q->o.fixed_source, "icp") == 0;
		e->flags |= icp ? MG_QE_ICP : MG_QE_NOMINAL;
		snprintf(e->source, sizeof e->source, "%s", icp ? "icp" : "nominal");
	}
	if (r->s.normalise && r->s.balance_el < 0)
		res->flags |= MG_QS_NORMALISED;
	if (!r->s.converged)
		res->flags |= MG_QS_NOT_CONVERGED;
	mg_quant_totals(res);
	if (r->s.normalise && r->s.balance_el < 0)
		res->total.wt_pct = 100 * r->s.sum_raw * (r->standardless ? NAN : 1);
	q_flags(r, res);
	if (q->o.grades)
		mg_grade_classify(q->o.grades, res);
	if (kratios || nk) {
		int n = mg_quant_kratios(unk, q->stds, q->nstd, kratios, max_k);
		if (n > 0 && nk)
			*nk = (size_t)n;
	}
	rc = 0;
out:
	free(r);
	return rc;
}
