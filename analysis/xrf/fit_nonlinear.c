/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Nonlinear refinement of calibration (offset, gain, quadratic term) and
 * resolution (noise, Fano) — optionally the tail and step — by GSL's
 * multifit_nlinear (Levenberg–Marquardt, trust region). The model is linear in
 * the family areas and continuum coefficients, so those are solved by the
 * weighted NNLS of the fast path inside every evaluation (variable projection,
 * as in AXIL/PyMca practice); only the few global parameters are iterated.
 * The Jacobian is a forward difference with fixed steps in scaled units.
 * Everything lives in the per-thread context; the GSL workspace is made on the
 * first refinement with a given parameter count and kept. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>

#include "an.h"
#include "internal.h"

enum { P_OFFSET, P_GAIN, P_QUAD, P_NOISE, P_FANO, P_TAILF, P_TAILB, P_STEP, P_ESC, P_THETA, P_CWIDTH };

/* The values every stage starts from (and keeps for what it does not refine). */
typedef struct nl_base {
	mg_energy_cal cal;
	an_shape sh;
	double theta, cwidth;
} nl_base;

typedef struct nl_state {
	const mg_analysis_plan *p;
	mg_analysis_ctx *c;
	size_t np;
	int which[AN_MAX_NL];
	double p0[AN_MAX_NL], scale[AN_MAX_NL];
	int evals;
	int compton; /* the Compton parameters are refined */
	const struct nl_base *base;
	/* weak priors on the positive shape parameters (log scale): centre log(c0), width w,
	 * strength `pw` (√ of the starting reduced χ², so a poor model cannot run away) */
	size_t npr;
	int pk[AN_MAX_NL];
	double plog0[AN_MAX_NL], pwidth[AN_MAX_NL];
	double pw;
} nl_state;


void an_nl_free(mg_analysis_ctx *c)
{
	if (!c)
		return;
	for (size_t k = 0; k <= AN_MAX_NL; k++)
		if (c->nl_ws[k]) {
			gsl_multifit_nlinear_free(c->nl_ws[k]);
			c->nl_ws[k] = NULL;
		}
}

static void params_from_x(const nl_state *st, const double *x, mg_energy_cal *cal, an_shape *sh,
                          double *theta, double *cwidth)
{
	*cal = st->base->cal;
	*sh = st->base->sh;
	*theta = st->base->theta;
	*cwidth = st->base->cwidth;
	for (size_t k = 0; k < st->np; k++) {
		double v = st->p0[k] + st->scale[k] * x[k];
		/* positive shape parameters move on a log scale: no clamp, no stuck gradient */
		double lv = st->p0[k] * exp(st->scale[k] * x[k]);
		switch (st->which[k]) {
		case P_OFFSET:
			cal->offset_kev = v;
			break;
		case P_GAIN:
			cal->gain_kev = v;
			break;
		case P_QUAD:
			cal->quad_kev = v;
			break;
		case P_NOISE:
			sh->noise = lv;
			break;
		case P_FANO:
			sh->fano = lv;
			break;
		case P_TAILF:
			sh->tail_f = lv > 0.4 ? 0.4 : lv;
			break;
		case P_TAILB: /* beyond ~2 keV a tail is indistinguishable from the continuum */
			sh->tail_b = lv > 2 ? 2 : (lv < 0.02 ? 0.02 : lv);
			break;
		case P_STEP:
			sh->step_h = lv > 0.02 ? 0.02 : lv;
			break;
		case P_ESC:
			sh->esc = lv > 3 ? 3 : lv;
			break;
		case P_THETA:
			*theta = v < 5 ? 5 : (v > 175 ? 175 : v);
			break;
		case P_CWIDTH:
			*cwidth = v < 0 ? 0 : (v > 3 ? 3 : v);
			break;
		}
	}
}

/* residuals f = √w·(y − model(x)) */
static void eval(nl_state *st, const double *x, double *f)
{
	const mg_analysis_plan *p = st->p;
	mg_analysis_ctx *c = st->c;
	const size_t n = p->n;
	mg_energy_cal cal;
	an_shape sh;
	double theta, cwidth;
	params_from_x(st, x, &cal, &sh, &theta, &cwidth);
	an_edges(&cal, p->w0, n, c->edges);
	int escape = (p->cfg.flags & MG_AN_ESCAPE) != 0;
	for (size_t j = 0; j < p->nfam; j++) {
		if ((int)j == p->pileup_col) {
			an_pileup_fill(p, c, cal.offset_kev / cal.gain_kev, c->nld.cols[j]);
			c->nld.lo[j] = 0;
			c->nld.hi[j] = n;
			continue;
		}
		const an_family *fam = &p->fam[j];
		if (fam->kind == MG_FAMILY_COMPTON && st->compton && fam->nlines <= AN_MAX_SCLINES) {
			/* trial Compton energies and broadening */
			an_family tf = *fam;
			double th = theta * M_PI / 180.0;
			for (size_t i = 0; i < fam->nlines; i++) {
				c->sclines[i] = p->lines[fam->line0 + i];
				c->sclines[i].e = mg_xrf_compton_energy(c->sclines[i].e0, th);
			}
			tf.line0 = 0;
			tf.extra_sigma = cwidth / AN_FWHM_PER_SIGMA;
			an_render_family(&tf, c->sclines, &sh, escape, c->edges, n, c->nld.cols[j],
			                 &c->nld.lo[j], &c->nld.hi[j]);
			continue;
		}
		an_render_family(fam, p->lines, &sh, escape, c->edges, n, c->nld.cols[j], &c->nld.lo[j],
		                 &c->nld.hi[j]);
	}
	an_render_static(p, c->edges, c->nld.cols, c->nld.lo, c->nld.hi);
	an_linfit(&c->nld, c->yfit, c->w, &c->ws, c->coef, NULL);
	an_model(&c->nld, c->coef, c->m);
	for (size_t i = 0; i < n; i++)
		f[i] = sqrt(c->w[i]) * (c->yfit[i] - c->m[i]);
	for (size_t q = 0; q < st->npr; q++) {
		size_t k = (size_t)st->pk[q];
		double lv = log(st->p0[k]) + st->scale[k] * x[k];
		f[n + q] = st->pw * (lv - st->plog0[q]) / st->pwidth[q];
	}
	st->evals++;
}

static int nl_f(const gsl_vector *xv, void *params, gsl_vector *fv)
{
	nl_state *st = params;
	mg_analysis_ctx *c = st->c;
	double x[AN_MAX_NL];
	for (size_t k = 0; k < st->np; k++)
		x[k] = gsl_vector_get(xv, k);
	eval(st, x, c->fcache);
	memcpy(c->xcache, x, sizeof(x));
	c->fcache_ok = 1;
	for (size_t i = 0; i < st->p->n + st->npr; i++)
		gsl_vector_set(fv, i, c->fcache[i]);
	return GSL_SUCCESS;
}

static int nl_df(const gsl_vector *xv, void *params, gsl_matrix *J)
{
	nl_state *st = params;
	mg_analysis_ctx *c = st->c;
	const size_t n = st->p->n;
	double x[AN_MAX_NL];
	for (size_t k = 0; k < st->np; k++)
		x[k] = gsl_vector_get(xv, k);
	if (!c->fcache_ok || memcmp(x, c->xcache, st->np * sizeof(double)) != 0) {
		eval(st, x, c->fcache);
		memcpy(c->xcache, x, sizeof(x));
		c->fcache_ok = 1;
	}
	const double h = 1e-3; /* in scaled units */
	for (size_t k = 0; k < st->np; k++) {
		double xk = x[k];
		x[k] = xk + h;
		eval(st, x, c->t2);
		x[k] = xk;
		for (size_t i = 0; i < n + st->npr; i++)
			gsl_matrix_set(J, i, k, (c->t2[i] - c->fcache[i]) / h);
	}
	return GSL_SUCCESS;
}

static gsl_multifit_nlinear_workspace *workspace(mg_analysis_ctx *c, size_t n, size_t np)
{
	gsl_multifit_nlinear_workspace **ws = (gsl_multifit_nlinear_workspace **)c->nl_ws;
	if (ws[np] && c->nl_rows[np] != n) {
		gsl_multifit_nlinear_free(ws[np]);
		ws[np] = NULL;
	}
	if (!ws[np]) {
		c->nl_rows[np] = n;
		gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
		par.trs = gsl_multifit_nlinear_trs_lm;
		par.scale = gsl_multifit_nlinear_scale_more;
		ws[np] = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, n, np);
	}
	return ws[np];
}

/* One Levenberg–Marquardt run over the `what` parameters from `base`; the
 * result (all parameters) goes back into `base`. */
static int run_stage(const mg_analysis_plan *p, mg_analysis_ctx *c, unsigned what, nl_base *base,
                     const nl_base *prior, double pw, mg_analysis_refinement *out, int *evals)
{
	nl_state st = {.p = p, .c = c, .base = base, .pw = pw};
	const double g = base->cal.gain_kev;
	struct {
		unsigned bit;
		int which;
		double p0, scale;
	} cand[] = {
		{MG_REFINE_OFFSET, P_OFFSET, base->cal.offset_kev, 0.01},
		{MG_REFINE_GAIN, P_GAIN, g, 1e-3 * g},
		{MG_REFINE_QUAD, P_QUAD, base->cal.quad_kev, 1e-3 * g / (double)p->cfg.nchan},
		/* log-scaled: scale = relative change per unit of x */
		{MG_REFINE_NOISE, P_NOISE, base->sh.noise, 0.1},
		{MG_REFINE_FANO, P_FANO, base->sh.fano > 0.01 ? base->sh.fano : 0.114, 0.1},
		{MG_REFINE_TAIL, P_TAILF, base->sh.tail_f > 1e-4 ? base->sh.tail_f : 0.01, 0.3},
		{MG_REFINE_TAIL, P_TAILB, base->sh.tail_b > 0.02 ? base->sh.tail_b : 0.3, 0.3},
		{MG_REFINE_STEP, P_STEP, base->sh.step_h > 1e-6 ? base->sh.step_h : 1e-4, 0.3},
		{MG_REFINE_ESCAPE, P_ESC, base->sh.esc > 0.01 ? base->sh.esc : 0.5, 0.3},
		{MG_REFINE_COMPTON, P_THETA, base->theta, 1.0},
		{MG_REFINE_COMPTON, P_CWIDTH, base->cwidth > 0.05 ? base->cwidth : 0.2, 0.05},
	};
	/* prior centres (the configured values) and widths (log scale) */
	const double pc[] = {
		[P_NOISE] = prior->sh.noise, [P_FANO] = prior->sh.fano > 0.01 ? prior->sh.fano : 0.114,
		[P_TAILF] = prior->sh.tail_f > 1e-4 ? prior->sh.tail_f : 0.01,
		[P_TAILB] = prior->sh.tail_b > 0.02 ? prior->sh.tail_b : 0.3,
		[P_STEP] = prior->sh.step_h > 1e-6 ? prior->sh.step_h : 1e-4,
		[P_ESC] = prior->sh.esc > 0.01 ? prior->sh.esc : 0.5,
	};
	const double pwid[] = {[P_NOISE] = 0.5, [P_FANO] = 0.25, [P_TAILF] = 1.5, [P_TAILB] = 1.5,
	                       [P_STEP] = 2.0, [P_ESC] = 1.5};
	for (size_t k = 0; k < MG_ARRAY_SIZE(cand); k++) {
		if (!(what & cand[k].bit))
			continue;
		st.which[st.np] = cand[k].which;
		st.p0[st.np] = cand[k].p0;
		st.scale[st.np] = cand[k].scale;
		if (cand[k].which >= P_NOISE && cand[k].which <= P_ESC) {
			st.pk[st.npr] = (int)st.np;
			st.plog0[st.npr] = log(pc[cand[k].which]);
			st.pwidth[st.npr] = pwid[cand[k].which];
			st.npr++;
		}
		st.np++;
	}
	st.compton = (what & MG_REFINE_COMPTON) != 0;
	const size_t n = p->n;
	c->fcache_ok = 0;
	gsl_multifit_nlinear_workspace *ws = workspace(c, n + st.npr, st.np);
	if (!ws)
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "refine: out of memory");
	gsl_multifit_nlinear_fdf fdf = {.f = nl_f, .df = nl_df, .fvv = NULL, .n = n + st.npr,
	                                .p = st.np, .params = &st};
	double x0[AN_MAX_NL] = {0};
	gsl_vector_view xv = gsl_vector_view_array(x0, st.np);
	int status = gsl_multifit_nlinear_init(&xv.vector, &fdf, ws);
	if (status)
		return mg_fail(MG_ERR_INTERNAL, AN_DOM, "refine: GSL init: %s", gsl_strerror(status));
	int info = 0;
	status = gsl_multifit_nlinear_driver(60, 1e-7, 1e-10, 1e-10, NULL, NULL, &info, ws);
	out->iterations += (int)gsl_multifit_nlinear_niter(ws);
	out->converged = status == GSL_SUCCESS;
	const gsl_vector *xs = gsl_multifit_nlinear_position(ws);
	double x[AN_MAX_NL];
	for (size_t k = 0; k < st.np; k++)
		x[k] = gsl_vector_get(xs, k);
	/* covariance of the nonlinear parameters */
	double cov[AN_MAX_NL * AN_MAX_NL];
	gsl_matrix_view cv = gsl_matrix_view_array(cov, st.np, st.np);
	int cst = gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(ws), 0.0, &cv.matrix);
	for (size_t k = 0; k < st.np && cst == GSL_SUCCESS; k++) {
		double sd = st.scale[k] * sqrt(fabs(cov[k * st.np + k]));
		if (st.which[k] >= P_NOISE && st.which[k] <= P_ESC) /* log scale: σ relative */
			sd *= st.p0[k] * exp(st.scale[k] * x[k]);
		switch (st.which[k]) {
		case P_OFFSET:
			out->sigma_offset_kev = sd;
			break;
		case P_GAIN:
			out->sigma_gain_kev = sd;
			break;
		case P_NOISE:
			out->sigma_noise_kev = sd;
			break;
		case P_FANO:
			out->sigma_fano = sd;
			break;
		default:
			break;
		}
	}
	nl_base nb;
	params_from_x(&st, x, &nb.cal, &nb.sh, &nb.theta, &nb.cwidth);
	*base = nb;
	*evals += st.evals;
	mg_dbg(AN_DOM, "refine stage 0x%x: %d evaluations, %zu iterations (%s)", what, st.evals,
	       gsl_multifit_nlinear_niter(ws), status == GSL_SUCCESS ? "converged" : gsl_strerror(status));
	return 0;
}

int mg_analysis_refine(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                       size_t nchan, unsigned what, mg_analysis_refinement *out)
{
	if (!p || !c || !counts || !out)
		return mg_fail(MG_ERR_ARG, AN_DOM, "refine: NULL argument");
	if (nchan != p->cfg.nchan || c->n != p->n || c->p != p->design.p)
		return mg_fail(MG_ERR_ARG, AN_DOM, "refine: context or spectrum made for another plan");
	for (size_t i = 0; i < nchan; i++)
		if (!(counts[i] >= 0) || !isfinite(counts[i]))
			return mg_fail(MG_ERR_ARG, AN_DOM, "refine: channel %zu holds %g", i, counts[i]);
	const unsigned all = MG_REFINE_OFFSET | MG_REFINE_GAIN | MG_REFINE_QUAD | MG_REFINE_NOISE |
	                     MG_REFINE_FANO | MG_REFINE_TAIL | MG_REFINE_STEP | MG_REFINE_COMPTON |
	                     MG_REFINE_ESCAPE;
	what &= all;
	if (!what)
		return mg_fail(MG_ERR_ARG, AN_DOM, "refine: nothing to refine");
	if (p->n <= AN_MAX_NL + p->design.p)
		return mg_fail(MG_ERR_ARG, AN_DOM, "refine: too few channels");
	const mg_analysis_config *cfg = &p->cfg;
	const size_t n = p->n;

	/* data, background, weights, pile-up: fixed during the iteration */
	memcpy(c->y, counts + p->w0, n * sizeof(double));
	memcpy(c->d.cols, p->design.cols, p->design.p * sizeof(double *));
	if (p->pileup_col >= 0) {
		an_pileup_column(p, c, counts, p->pile_shift);
		c->d.cols[p->pileup_col] = c->pilecol;
	}
	an_prepare_data(p, c);
	an_weights(p, c, c->y);
	/* the pile-up self-convolution (c->pile) settled on the plan's model, then fixed */
	int rc0 = an_pileup_settle(p, c, counts, NULL);
	if (rc0 < 0)
		return rc0;

	memset(out, 0, sizeof(*out));
	out->sigma_offset_kev = out->sigma_gain_kev = out->sigma_noise_kev = out->sigma_fano = NAN;
	nl_base base = {.cal = cfg->cal, .sh = p->shape, .theta = an_scatter_angle_deg(&cfg->exc),
	                .cwidth = cfg->compton_fwhm_kev > 0 ? cfg->compton_fwhm_kev : 0.0};
	const nl_base prior = base;
	int evals = 0, rc;
	/* the priors weigh as much as √χ²_red of the starting fit: a poor model cannot drive
	 * Fano or the tail to absurd values to mop up what it does not describe */
	double pw = 1.0;
	{
		nl_state s0 = {.p = p, .c = c, .base = &base};
		double x0[AN_MAX_NL] = {0};
		eval(&s0, x0, c->t2);
		double chi = 0;
		for (size_t i = 0; i < n; i++)
			chi += c->t2[i] * c->t2[i];
		double red = chi / (double)(n > p->design.p ? n - p->design.p : 1);
		pw = red > 1 ? sqrt(red) : 1.0;
	}
	/* Stages: the calibration and resolution first, with the line shape fixed (a
	 * calibration error would otherwise be taken up by the tail), then everything. */
	const unsigned first = what & (MG_REFINE_OFFSET | MG_REFINE_GAIN | MG_REFINE_NOISE |
	                               MG_REFINE_FANO);
	if (first && first != what) {
		rc = run_stage(p, c, first, &base, &prior, pw, out, &evals);
		if (rc < 0)
			return rc;
	}
	rc = run_stage(p, c, what, &base, &prior, pw, out, &evals);
	if (rc < 0)
		return rc;

	/* the result */
	nl_state st = {.p = p, .c = c, .base = &base};
	eval(&st, (double[AN_MAX_NL]){0}, c->t2);
	double chi = 0;
	for (size_t i = 0; i < n; i++) {
		double r = c->yfit[i] - c->m[i];
		chi += r * r / (c->y[i] > 1 ? c->y[i] : 1.0);
	}
	size_t nlin = 0, nnl = 0;
	for (unsigned b = what; b; b &= b - 1)
		nnl++;
	for (size_t j = 0; j < p->design.p; j++)
		if (c->coef[j] != 0 || !p->design.nonneg[j])
			nlin++;
	out->cal = base.cal;
	out->cal.valid = 1;
	out->det = cfg->det;
	out->det.noise_kev = base.sh.noise;
	out->det.fano = base.sh.fano;
	out->det.tail_fraction = base.sh.tail_f;
	out->det.tail_slope_kev = base.sh.tail_b;
	out->det.step_height = base.sh.step_h;
	out->det.escape_scale = base.sh.esc;
	out->scatter_deg = base.theta;
	out->compton_fwhm_kev = base.cwidth;
	out->chi2_reduced = chi / (double)(n > nlin + nnl ? n - nlin - nnl : 1);
	mg_dbg(AN_DOM,
	       "refine: %d evaluations: offset %.5f gain %.6f noise %.4f fano %.4f tail %.4f/%.3f "
	       "step %.2e escape %.3f chi2 %.3f",
	       evals, base.cal.offset_kev, base.cal.gain_kev, base.sh.noise, base.sh.fano,
	       base.sh.tail_f, base.sh.tail_b, base.sh.step_h, base.sh.esc, out->chi2_reduced);
	if (!(base.cal.gain_kev > 0))
		return mg_fail(MG_ERR_INTERNAL, AN_DOM, "refine: the gain went to %g", base.cal.gain_kev);
	return 0;
}
