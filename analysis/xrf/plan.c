/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The analysis plan (built once: window, line families and their rendered
 * responses, continuum basis, FFT plans and kernels, naming table), the
 * per-thread context (every scratch array the fast path needs), and the fast
 * path itself: weights, background, pile-up column, weighted NNLS, result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "an.h"
#include "internal.h"

static double cal_energy(const mg_energy_cal *c, double ch)
{
	return c->offset_kev + c->gain_kev * ch + c->quad_kev * ch * ch;
}

/* ---------------------------------------------------------------- plan */

void mg_analysis_plan_free(mg_analysis_plan *p)
{
	if (!p)
		return;
	free(p->edges);
	free(p->ecent);
	free(p->fam);
	free(p->groups);
	free(p->lines);
	free(p->colbuf);
	free(p->widebuf);
	free(p->design.cols);
	free(p->design.lo);
	free(p->design.hi);
	free(p->design.nonneg);
	free(p->coltype);
	free(p->cont_shape);
	fftw_free(p->k_smooth);
	fftw_free(p->k_match);
	fftw_free(p->k_match2);
	fftw_free(p->k_sg);
	an_fft_destroy(&p->fw);
	if (p->fp.r2c)
		an_fft_destroy(&p->fp);
	free(p->cands);
	free(p);
}

const mg_analysis_config *mg_analysis_plan_config(const mg_analysis_plan *plan)
{
	return plan ? &plan->cfg : NULL;
}

size_t mg_analysis_plan_nfamilies(const mg_analysis_plan *plan)
{
	return plan ? plan->ngroup : 0;
}

static int check_config(const mg_analysis_config *c)
{
	if (c->nchan < 16 || c->nchan > MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: %zu channels (16..%d)", c->nchan,
		               MG_SPECTRUM_MAX_CHANNELS);
	if (!c->cal.valid || !isfinite(c->cal.offset_kev) || !isfinite(c->cal.gain_kev) ||
	    !isfinite(c->cal.quad_kev) || !(c->cal.gain_kev > 0))
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: no valid energy calibration (gain must be > 0)");
	/* monotonic over the axis */
	double top = (double)c->nchan;
	if (!(c->cal.gain_kev + 2 * c->cal.quad_kev * top > 0))
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: the calibration is not increasing over the axis");
	if (!(c->det.noise_kev > 0.005 && c->det.noise_kev < 2) || !(c->det.fano >= 0 && c->det.fano < 2))
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: detector noise %g keV / Fano %g out of range",
		               c->det.noise_kev, c->det.fano);
	if (!(c->det.tail_fraction >= 0 && c->det.tail_fraction < 0.5) ||
	    !(c->det.step_height >= 0 && c->det.step_height < 0.05))
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: tail fraction or step height out of range");
	if (c->det.tail_fraction > 0 && !(c->det.tail_slope_kev >= 0.005))
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: tail slope %g keV below 0.005", c->det.tail_slope_kev);
	if (!(c->exc.mono_kev > 0) && !(c->exc.kv >= 2))
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: no excitation (tube kV or beam energy)");
	if (c->background > MG_BG_NONE)
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: unknown background mode %d", (int)c->background);
	return 0;
}

/* Main-channel ranges of a reported family: ±1 FWHM around the lines of its
 * units with at least 10 % of the strongest, merged. */
static void family_ranges(mg_analysis_plan *p, size_t gi)
{
	const an_group *g = &p->groups[gi];
	an_range r[64];
	size_t nr = 0;
	double best = 0;
	for (size_t u = g->u0; u < g->u0 + g->nu; u++)
		for (size_t i = 0; i < p->fam[u].nlines; i++)
			if (p->lines[p->fam[u].line0 + i].rate > best)
				best = p->lines[p->fam[u].line0 + i].rate;
	for (size_t u = g->u0; u < g->u0 + g->nu; u++)
	for (size_t i = 0; i < p->fam[u].nlines && nr < 64; i++) {
		const an_family *f = &p->fam[u];
		const an_line *l = &p->lines[f->line0 + i];
		if (l->rate < 0.1 * best)
			continue;
		double fw = an_sigma(&p->shape, l->e) * AN_FWHM_PER_SIGMA;
		fw = sqrt(fw * fw + pow(f->extra_sigma * AN_FWHM_PER_SIGMA, 2));
		double a = l->e - fw, b = l->e + fw;
		if (b < p->edges[0] || a > p->edges[p->n])
			continue;
		size_t ia = 0, ib = p->n;
		while (ia < p->n && p->edges[ia + 1] < a)
			ia++;
		while (ib > ia && p->edges[ib - 1] > b)
			ib--;
		if (ib > ia)
			r[nr++] = (an_range){ia, ib};
	}
	/* sort and merge */
	for (size_t a = 1; a < nr; a++)
		for (size_t b = a; b > 0 && r[b].a < r[b - 1].a; b--) {
			an_range t = r[b];
			r[b] = r[b - 1];
			r[b - 1] = t;
		}
	size_t m = 0;
	for (size_t i = 0; i < nr; i++) {
		if (m && r[i].a <= r[m - 1].b) {
			if (r[i].b > r[m - 1].b)
				r[m - 1].b = r[i].b;
		} else {
			r[m++] = r[i];
		}
	}
	if (m > AN_MAX_RANGES)
		m = AN_MAX_RANGES;
	p->nranges[gi] = m;
	memcpy(p->ranges[gi], r, m * sizeof(an_range));
}

/* Render the continuum and edge columns for the given channel-edge energies. */
void an_render_static(const mg_analysis_plan *p, const double *edges, double **cols, size_t *lo,
                      size_t *hi)
{
	const size_t n = p->n;
	const size_t c0 = p->nfam;
	double emin = p->edges[0], emax = p->edges[n];
	for (size_t j = 0; j < p->ncont; j++) {
		double *col = cols[c0 + j];
		size_t a = n, b = 0;
		for (size_t i = 0; i < n; i++) {
			double e = 0.5 * (edges[i] + edges[i + 1]);
			double v = an_bspline(emin, emax, p->ncont, j, e) * p->cont_shape[i];
			col[i] = v;
			if (v != 0) {
				if (i < a)
					a = i;
				b = i + 1;
			}
		}
		lo[c0 + j] = a < b ? a : 0;
		hi[c0 + j] = b;
	}
	for (size_t k = 0; k < p->nedge; k++) {
		double *col = cols[c0 + p->ncont + k];
		double ee = p->edge_e[k];
		double sg = an_sigma(&p->shape, ee);
		size_t b = 0;
		for (size_t i = 0; i < n; i++) {
			double e = 0.5 * (edges[i] + edges[i + 1]);
			double v = 0.5 * erfc((e - ee) / (M_SQRT2 * sg)) * p->cont_shape[i];
			if (v < 1e-12)
				v = 0;
			col[i] = v;
			if (v != 0)
				b = i + 1;
		}
		lo[c0 + p->ncont + k] = 0;
		hi[c0 + p->ncont + k] = b;
	}
}

int mg_analysis_plan_new(const mg_analysis_config *cfg, mg_analysis_plan **out)
{
	if (!cfg || !out)
		return mg_fail(MG_ERR_ARG, AN_DOM, "plan: NULL argument");
	*out = NULL;
	int rc = check_config(cfg);
	if (rc < 0)
		return rc;
	mg_analysis_plan *p = calloc(1, sizeof(*p));
	if (!p)
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
	p->cfg = *cfg;
	p->cfg.elements[sizeof(p->cfg.elements) - 1] = 0;
	p->cfg.matrix[sizeof(p->cfg.matrix) - 1] = 0;
	p->pileup_col = -1;
	p->shape = (an_shape){cfg->det.noise_kev, cfg->det.fano, cfg->det.tail_fraction,
	                      cfg->det.tail_slope_kev, cfg->det.step_height,
	                      cfg->det.escape_scale >= 0 ? cfg->det.escape_scale : 1.0};
	rc = an_matrix_parse(cfg->matrix, &p->matrix);
	if (rc < 0)
		goto fail;

	/* window */
	const mg_energy_cal *cal = &cfg->cal;
	double axis_lo = cal_energy(cal, 0), axis_hi = cal_energy(cal, (double)cfg->nchan - 1);
	double exc_max = cfg->exc.mono_kev > 0 ? cfg->exc.mono_kev : cfg->exc.kv;
	double emin = cfg->emin_kev > 0 ? cfg->emin_kev : 1.0;
	double emax = cfg->emax_kev > 0 ? cfg->emax_kev : (cfg->exc.mono_kev > 0 ? exc_max + 1.0
	                                                                          : 0.95 * exc_max);
	if (emin < axis_lo)
		emin = axis_lo;
	if (emax > axis_hi)
		emax = axis_hi;
	p->cfg.emin_kev = emin;
	p->cfg.emax_kev = emax;
	size_t w0 = 0, w1 = cfg->nchan;
	while (w0 < cfg->nchan && cal_energy(cal, (double)w0) < emin)
		w0++;
	while (w1 > w0 && cal_energy(cal, (double)w1 - 1) > emax)
		w1--;
	if (w1 < w0 + 16) {
		rc = mg_fail(MG_ERR_ARG, AN_DOM, "plan: the window %.3f-%.3f keV holds %zu channels", emin,
		             emax, w1 > w0 ? w1 - w0 : 0);
		goto fail;
	}
	p->w0 = w0;
	p->n = w1 - w0;
	const size_t n = p->n;
	p->edges = malloc((n + 1) * sizeof(double));
	p->ecent = malloc(n * sizeof(double));
	if (!p->edges || !p->ecent)
		goto nomem;
	an_edges(cal, w0, n, p->edges);
	for (size_t i = 0; i < n; i++)
		p->ecent[i] = cal_energy(cal, (double)(w0 + i));

	/* families */
	size_t nfam = 0, ngroup = 0;
	rc = an_lines_build(&p->cfg, &p->fam, &nfam, &p->groups, &ngroup, &p->lines, &p->nlines);
	if (rc < 0)
		goto fail;
	if (cfg->flags & MG_AN_PILEUP) {
		an_family *nf = realloc(p->fam, (nfam + 1) * sizeof(*nf));
		an_group *ng = realloc(p->groups, (ngroup + 1) * sizeof(*ng));
		if (nf)
			p->fam = nf;
		if (ng)
			p->groups = ng;
		if (!nf || !ng)
			goto nomem;
		p->fam[nfam] = (an_family){.kind = MG_FAMILY_PILEUP, .family = "sum", .group = ngroup};
		p->groups[ngroup] = (an_group){.u0 = nfam, .nu = 1, .kind = MG_FAMILY_PILEUP, .family = "sum"};
		p->pileup_col = (int)nfam;
		nfam++;
		ngroup++;
	}
	p->nfam = nfam;
	p->ngroup = ngroup;
	if (nfam == 0 || (nfam == 1 && p->pileup_col == 0)) {
		rc = mg_fail(MG_ERR_UNSUPPORTED, AN_DOM,
		             "plan: no line family of \"%s\" is excited inside %.2f-%.2f keV",
		             cfg->elements, emin, emax);
		goto fail;
	}

	/* continuum and edges */
	if (cfg->background == MG_BG_CONTINUUM) {
		p->ncont = an_bspline_count(p->edges[0], p->edges[n], cfg->knot_kev);
		if (cfg->flags & MG_AN_EDGE_STEPS)
			p->nedge = an_matrix_edges(&p->matrix, p->edges[0] + 0.2, p->edges[n] - 0.2, 0.15,
			                           p->edge_e, MG_ARRAY_SIZE(p->edge_e));
	}
	size_t np = nfam + p->ncont + p->nedge;
	p->design.n = n;
	p->design.p = np;
	p->colbuf = calloc(np * n, sizeof(double));
	p->widebuf = calloc(nfam * n, sizeof(double));
	p->design.cols = malloc(np * sizeof(double *));
	p->design.lo = calloc(np, sizeof(size_t));
	p->design.hi = calloc(np, sizeof(size_t));
	p->design.nonneg = calloc(np, 1);
	p->coltype = calloc(np, 1);
	p->cont_shape = malloc(n * sizeof(double));
	if (!p->colbuf || !p->widebuf || !p->design.cols || !p->design.lo || !p->design.hi || !p->design.nonneg ||
	    !p->coltype || !p->cont_shape)
		goto nomem;
	for (size_t j = 0; j < np; j++)
		p->design.cols[j] = p->colbuf + j * n;
	int escape = (cfg->flags & MG_AN_ESCAPE) != 0;
	for (size_t f = 0; f < nfam; f++) {
		p->coltype[f] = p->fam[f].kind == MG_FAMILY_PILEUP ? AN_COL_PILEUP : AN_COL_FAMILY;
		p->design.nonneg[f] = 1;
		if (p->fam[f].kind == MG_FAMILY_PILEUP) {
			p->design.lo[f] = 0;
			p->design.hi[f] = n;
			continue;
		}
		an_render_family(&p->fam[f], p->lines, &p->shape, escape, p->edges, n, p->design.cols[f],
		                 &p->design.lo[f], &p->design.hi[f]);
		if (p->fam[f].kind == MG_FAMILY_ELEMENT) {
			/* the same lines √2 × wider: a diffraction peak or a foreign line fits this better */
			an_family wide = p->fam[f];
			wide.extra_sigma = an_sigma(&p->shape, wide.e_main);
			size_t a, b;
			an_render_family(&wide, p->lines, &p->shape, escape, p->edges, n, p->widebuf + f * n,
			                 &a, &b);
		}
	}
	for (size_t g = 0; g < ngroup; g++)
		if (p->groups[g].kind != MG_FAMILY_PILEUP)
			family_ranges(p, g);
	an_continuum_shape(&p->cfg, &p->matrix, &p->shape, p->edges, n, p->cont_shape);
	for (size_t j = 0; j < p->ncont; j++) {
		p->coltype[nfam + j] = AN_COL_CONTINUUM;
		p->design.nonneg[nfam + j] = 1; /* B-splines >= 0: a continuum >= 0 */
	}
	for (size_t j = 0; j < p->nedge; j++)
		p->coltype[nfam + p->ncont + j] = AN_COL_EDGE;
	an_render_static(p, p->edges, p->design.cols, p->design.lo, p->design.hi);

	/* FFT engines and kernels */
	double fw_mid = an_sigma(&p->shape, 0.5 * (p->edges[0] + p->edges[n])) * AN_FWHM_PER_SIGMA;
	double gmid = (p->edges[n] - p->edges[0]) / (double)n;
	p->fwhm_mid_ch = fw_mid / gmid;
	double sig_ch = p->fwhm_mid_ch / AN_FWHM_PER_SIGMA;
	int sw = cfg->smooth_width > 2 ? cfg->smooth_width : 0;
	size_t pad = (size_t)ceil(12 * sig_ch) + (size_t)sw + 16;
	int measure = (cfg->flags & MG_AN_FFT_MEASURE) != 0;
	rc = an_fft_init(&p->fw, n + pad, measure);
	if (rc < 0)
		goto fail;
	p->k_smooth = an_kernel_gauss(&p->fw, 0.4 * sig_ch, 0, 0);
	p->k_match = an_kernel_gauss(&p->fw, sig_ch, 0, 0);
	p->k_match2 = an_kernel_gauss(&p->fw, sig_ch, 0, 1);
	if (!p->k_smooth || !p->k_match || !p->k_match2)
		goto nomem;
	if (sw) {
		p->k_sg = an_kernel_savgol(&p->fw, sw / 2, 2, 0);
		if (!p->k_sg)
			goto nomem;
	}
	p->snip_width = cfg->snip_width > 0 ? cfg->snip_width : (int)ceil(2 * p->fwhm_mid_ch);
	if (p->pileup_col >= 0) {
		rc = an_fft_init(&p->fp, 2 * cfg->nchan, measure);
		if (rc < 0)
			goto fail;
		/* every event above the noise and the zero peak piles up (low-energy continuum
		 * + a strong line = a shoulder above the line), so from 0.5 keV */
		size_t k = 0;
		double from = 0.5;
		while (k < cfg->nchan && cal_energy(cal, (double)k) < from)
			k++;
		p->pile_from = k;
		p->pile_shift = cal->offset_kev / cal->gain_kev;
	}
	rc = an_cands_build(&p->cands, &p->ncands, p->edges[0], p->edges[n]);
	if (rc < 0)
		goto fail;
	mg_dbg(AN_DOM, "plan: window %.3f-%.3f keV (%zu channels), %zu families (%zu columns), %zu lines, "
	               "%zu continuum, %zu edges, FFT %zu",
	       p->edges[0], p->edges[n], n, ngroup, nfam, p->nlines, p->ncont, p->nedge, p->fw.nfft);
	*out = p;
	return 0;
nomem:
	rc = mg_fail(MG_ERR_NOMEM, AN_DOM, "plan: out of memory");
fail:
	mg_analysis_plan_free(p);
	return rc;
}

/* ---------------------------------------------------------------- context */

void mg_analysis_ctx_free(mg_analysis_ctx *c)
{
	if (!c)
		return;
	free(c->y);
	free(c->w);
	free(c->m);
	free(c->bg);
	free(c->yfit);
	free(c->t1);
	free(c->t2);
	fftw_free(c->ftmp);
	fftw_free(c->fspec);
	free(c->pile);
	free(c->pilein);
	free(c->pilecol);
	free(c->d.cols);
	free(c->coef);
	free(c->cov);
	an_nnls_ws_destroy(&c->ws);
	an_nl_free(c);
	free(c->edges);
	free(c->nlbuf);
	free(c->nld.cols);
	free(c->nld.lo);
	free(c->nld.hi);
	free(c->fcache);
	free(c);
}

mg_analysis_ctx *mg_analysis_ctx_new(const mg_analysis_plan *p)
{
	if (!p) {
		mg_fail(MG_ERR_ARG, AN_DOM, "ctx: no plan");
		return NULL;
	}
	mg_analysis_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	const size_t n = p->n, np = p->design.p;
	c->n = n;
	c->p = np;
	c->nchan = p->cfg.nchan;
	size_t nf = p->fw.nfft > p->fp.nfft ? p->fw.nfft : p->fp.nfft;
	c->nfft_w = p->fw.nfft;
	c->nfft_p = p->fp.nfft;
	c->y = malloc(n * sizeof(double));
	c->w = malloc(n * sizeof(double));
	c->m = malloc(n * sizeof(double));
	c->bg = calloc(n, sizeof(double));
	c->yfit = malloc(n * sizeof(double));
	c->t1 = malloc(n * sizeof(double));
	c->t2 = malloc((n + AN_MAX_NL) * sizeof(double));
	c->ftmp = fftw_malloc(nf * sizeof(double));
	c->fspec = fftw_malloc((nf / 2 + 1) * sizeof(fftw_complex));
	c->pilecol = calloc(n, sizeof(double));
	c->pile = calloc(2 * c->nchan, sizeof(double));
	c->pilein = calloc(c->nchan, sizeof(double));
	c->d.cols = malloc(np * sizeof(double *));
	c->coef = calloc(np, sizeof(double));
	c->cov = calloc(np * np, sizeof(double));
	c->edges = malloc((n + 1) * sizeof(double));
	c->nlbuf = calloc(np * n, sizeof(double));
	c->nld.cols = malloc(np * sizeof(double *));
	c->nld.lo = calloc(np, sizeof(size_t));
	c->nld.hi = calloc(np, sizeof(size_t));
	c->fcache = malloc((n + AN_MAX_NL) * sizeof(double));
	if (!c->y || !c->w || !c->m || !c->bg || !c->yfit || !c->t1 || !c->t2 || !c->ftmp ||
	    !c->fspec || !c->pilecol || !c->pile || !c->pilein || !c->d.cols || !c->coef || !c->cov || !c->edges ||
	    !c->nlbuf || !c->nld.cols || !c->nld.lo || !c->nld.hi || !c->fcache)
		goto nomem;
	if (an_nnls_ws_init(&c->ws, np) < 0)
		goto nomem;
	double **cols = c->d.cols;
	c->d = p->design;
	c->d.cols = memcpy(cols, p->design.cols, np * sizeof(double *));
	if (p->pileup_col >= 0)
		c->d.cols[p->pileup_col] = c->pilecol;
	c->nld.n = n;
	c->nld.p = np;
	c->nld.nonneg = p->design.nonneg;
	for (size_t j = 0; j < np; j++)
		c->nld.cols[j] = c->nlbuf + j * n;
	return c;
nomem:
	mg_analysis_ctx_free(c);
	mg_fail(MG_ERR_NOMEM, AN_DOM, "ctx: out of memory");
	return NULL;
}

/* ---------------------------------------------------------------- fast path pieces */

void an_pileup_autoconv(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts)
{
	const size_t nch = p->cfg.nchan;
	double *x = c->pile; /* first nch entries as input, then the result (2·nch − 1) */
	double tot = 0;
	for (size_t i = 0; i < nch; i++) {
		double v = i >= p->pile_from ? counts[i] : 0.0;
		x[i] = v > 0 ? v : 0.0;
		tot += x[i];
	}
	an_fft_autoconv(&p->fp, x, nch, x, c->ftmp, c->fspec);
	double sc = tot > 0 ? 1.0 / (tot * tot) : 0.0;
	for (size_t k = 0; k < 2 * nch - 1; k++)
		x[k] = x[k] > 0 ? x[k] * sc : 0.0;
}

/* The pile-up column from the autoconvolution, shifted by `shift` channels:
 * a pair of events in channels i and j sums to the energy of channel i + j + shift. */
void an_pileup_fill(const mg_analysis_plan *p, const mg_analysis_ctx *c, double shift, double *col)
{
	const size_t nch = p->cfg.nchan, m = 2 * nch - 1;
	for (size_t i = 0; i < p->n; i++) {
		double k = (double)(p->w0 + i) - shift;
		double fl = floor(k);
		long k0 = (long)fl;
		double f = k - fl;
		double a = (k0 >= 0 && (size_t)k0 < m) ? c->pile[k0] : 0.0;
		double b = (k0 + 1 >= 0 && (size_t)(k0 + 1) < m) ? c->pile[k0 + 1] : 0.0;
		col[i] = (1 - f) * a + f * b;
	}
}

void an_pileup_column(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                      double shift)
{
	an_pileup_autoconv(p, c, counts);
	an_pileup_fill(p, c, shift, c->pilecol);
}

/* The pile-up column should be the self-convolution of the events recorded
 * alone; the spectrum also holds the piled-up events, whose convolution would
 * add triple sums that pull the fit away. When pile-up is strong (> 3 % of
 * the window), convolve instead the fitted model without its pile-up inside the
 * window (the data outside it), as PyMca convolves its model. Returns 1 if it did. */
static int pileup_correct(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts)
{
	const size_t nch = p->cfg.nchan;
	const int pc = p->pileup_col;
	double a = c->coef[pc], tot = 0;
	for (size_t i = 0; i < p->n; i++)
		tot += c->y[i];
	if (!(a > 0.03 * tot))
		return 0;
	an_model(&c->d, c->coef, c->m);
	double *x = c->pilein;
	memcpy(x, counts, nch * sizeof(double));
	for (size_t i = 0; i < p->n; i++)
		x[p->w0 + i] = c->m[i] + c->bg[i] - a * c->pilecol[i];
	an_pileup_column(p, c, x, p->pile_shift);
	return 1;
}

int an_pileup_settle(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                     double *cov)
{
	int rc = an_linfit(&c->d, c->yfit, c->w, &c->ws, c->coef, cov);
	if (rc < 0)
		return rc;
	/* strong pile-up: iterate column ↔ fit until the pile-up area settles */
	for (int it = 0; it < 8 && p->pileup_col >= 0; it++) {
		double before = c->coef[p->pileup_col];
		if (!pileup_correct(p, c, counts))
			break;
		rc = an_linfit(&c->d, c->yfit, c->w, &c->ws, c->coef, cov);
		if (rc < 0)
			return rc;
		if (fabs(c->coef[p->pileup_col] - before) <= 0.01 * before)
			break;
	}
	return 0;
}

void an_weights(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *y)
{
	const size_t n = p->n;
	if (p->cfg.flags & MG_AN_PLAIN_WEIGHTS) {
		for (size_t i = 0; i < n; i++)
			c->w[i] = 1.0 / (y[i] > 1 ? y[i] : 1.0);
		return;
	}
	an_fft_convolve(&p->fw, p->k_smooth, y, n, 1, c->t1, c->ftmp, c->fspec);
	for (size_t i = 0; i < n; i++)
		c->w[i] = 1.0 / (c->t1[i] > 1 ? c->t1[i] : 1.0);
}

void an_prepare_data(const mg_analysis_plan *p, mg_analysis_ctx *c)
{
	const size_t n = p->n;
	const mg_analysis_config *cfg = &p->cfg;
	if (cfg->background == MG_BG_SNIP || cfg->background == MG_BG_STRIP) {
		double *s = c->t1;
		if (p->k_sg)
			an_fft_convolve(&p->fw, p->k_sg, c->y, n, 1, s, c->ftmp, c->fspec);
		else
			memcpy(s, c->y, n * sizeof(double));
		if (cfg->background == MG_BG_SNIP) {
			an_snip(s, n, p->snip_width, cfg->snip_lls, c->bg, c->t2);
		} else {
			/* PyMca's recipe: [¼ ½ ¼] smoothing, then for many iterations of width 1:
			 * iterations/20 at width 4 followed by iterations/4 at width 1 */
			memcpy(c->t2, s, n * sizeof(double));
			for (size_t i = 1; i + 1 < n; i++)
				s[i] = 0.25 * c->t2[i - 1] + 0.5 * c->t2[i] + 0.25 * c->t2[i + 1];
			s[0] = 0.5 * (s[0] + s[1]);
			s[n - 1] = 0.5 * (s[n - 1] + s[n - 2]);
			int it = cfg->strip_iterations, w = cfg->strip_width;
			if (it > 1000 && w == 1) {
				an_strip(s, n, it / 20, 4, c->bg, c->t2);
				an_strip(c->bg, n, it / 4, 1, c->bg, c->t2);
			} else {
				an_strip(s, n, it, w, c->bg, c->t2);
			}
		}
		for (size_t i = 0; i < n; i++)
			c->yfit[i] = c->y[i] - c->bg[i];
	} else {
		memset(c->bg, 0, n * sizeof(double));
		memcpy(c->yfit, c->y, n * sizeof(double));
	}
}

void an_model(const an_design *d, const double *coef, double *m)
{
	memset(m, 0, d->n * sizeof(double));
	for (size_t j = 0; j < d->p; j++) {
		double cj = coef[j];
		if (cj == 0)
			continue;
		const double *a = d->cols[j];
		for (size_t i = d->lo[j]; i < d->hi[j]; i++)
			m[i] += cj * a[i];
	}
}

int mg_analysis_execute(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                        size_t nchan, double live_time_s, mg_analysis_result *res)
{
	if (!p || !c || !counts || !res)
		return mg_fail(MG_ERR_ARG, AN_DOM, "execute: NULL argument");
	if (nchan != p->cfg.nchan || c->n != p->n || c->p != p->design.p || c->nchan != nchan ||
	    c->nfft_w != p->fw.nfft || c->nfft_p != p->fp.nfft || res->nfamilies != p->ngroup ||
	    res->ncoef != p->design.p)
		return mg_fail(MG_ERR_ARG, AN_DOM,
		               "execute: %zu channels, context or result made for another plan", nchan);
	for (size_t i = 0; i < nchan; i++)
		if (!(counts[i] >= 0) || !isfinite(counts[i]))
			return mg_fail(MG_ERR_ARG, AN_DOM, "execute: channel %zu holds %g", i, counts[i]);
	const size_t n = p->n;
	memcpy(c->y, counts + p->w0, n * sizeof(double));
	/* the design of this spectrum: the plan's columns + its pile-up column */
	memcpy(c->d.cols, p->design.cols, p->design.p * sizeof(double *));
	if (p->pileup_col >= 0) {
		an_pileup_column(p, c, counts, p->pile_shift);
		c->d.cols[p->pileup_col] = c->pilecol;
	}
	an_prepare_data(p, c);
	an_weights(p, c, c->y);
	int rc = an_pileup_settle(p, c, counts, c->cov);
	if (rc < 0)
		return rc;
	const double eps = p->cfg.model_error > 0 ? p->cfg.model_error : 0.0;
	if ((p->cfg.flags & MG_AN_MODEL_WEIGHTS) || eps > 0) {
		an_model(&c->d, c->coef, c->m);
		int from_model = (p->cfg.flags & MG_AN_MODEL_WEIGHTS) != 0;
		for (size_t i = 0; i < n; i++) {
			double m = c->m[i] + c->bg[i];
			double v = from_model ? (m > 1 ? m : 1.0) : 1.0 / c->w[i];
			c->w[i] = 1.0 / (v + eps * eps * m * m);
		}
		rc = an_linfit(&c->d, c->yfit, c->w, &c->ws, c->coef, c->cov);
		if (rc < 0)
			return rc;
	}
	an_model(&c->d, c->coef, c->m);
	an_result_fill(p, c, counts, live_time_s, res);
	return 0;
}

/* ---------------------------------------------------------------- convenience */

int mg_analysis_run(const mg_analysis_config *cfg, const double *counts, size_t nchan,
                    double live_time_s, unsigned what, mg_analysis_result **res_out,
                    mg_analysis_plan **plan_out)
{
	if (!cfg || !counts || !res_out)
		return mg_fail(MG_ERR_ARG, AN_DOM, "run: NULL argument");
	*res_out = NULL;
	if (plan_out)
		*plan_out = NULL;
	mg_analysis_plan *plan = NULL;
	mg_analysis_ctx *ctx = NULL;
	mg_analysis_result *res = NULL;
	int rc = mg_analysis_plan_new(cfg, &plan);
	if (rc < 0)
		return rc;
	if (what) {
		ctx = mg_analysis_ctx_new(plan);
		if (!ctx) {
			rc = MG_ERR_NOMEM;
			goto out;
		}
		mg_analysis_refinement ref;
		rc = mg_analysis_refine(plan, ctx, counts, nchan, what, &ref);
		if (rc < 0)
			goto out;
		mg_analysis_config c2 = plan->cfg;
		c2.emin_kev = cfg->emin_kev;
		c2.emax_kev = cfg->emax_kev;
		c2.cal = ref.cal;
		c2.det = ref.det;
		if (what & MG_REFINE_COMPTON) {
			c2.exc.scatter_deg = ref.scatter_deg;
			c2.compton_fwhm_kev = ref.compton_fwhm_kev;
		}
		mg_analysis_ctx_free(ctx);
		ctx = NULL;
		mg_analysis_plan *p2 = NULL;
		rc = mg_analysis_plan_new(&c2, &p2);
		if (rc < 0)
			goto out;
		mg_analysis_plan_free(plan);
		plan = p2;
	}
	ctx = mg_analysis_ctx_new(plan);
	res = mg_analysis_result_new(plan);
	if (!ctx || !res) {
		rc = MG_ERR_NOMEM;
		goto out;
	}
	rc = mg_analysis_execute(plan, ctx, counts, nchan, live_time_s, res);
	if (rc == 0 && what) {
		/* the refined nonlinear parameters count in the degrees of freedom too */
		size_t nnl = 0;
		for (unsigned b = what & 0x1ffu; b; b &= b - 1)
			nnl += (b & -b) == MG_REFINE_TAIL || (b & -b) == MG_REFINE_COMPTON ? 2 : 1;
		double chi = res->chi2_reduced * (double)(res->npoints - res->nparams);
		res->nparams += nnl;
		res->chi2_reduced = res->npoints > res->nparams ? chi / (double)(res->npoints - res->nparams) : NAN;
	}
out:
	mg_analysis_ctx_free(ctx);
	if (rc < 0) {
		mg_analysis_result_free(res);
		mg_analysis_plan_free(plan);
		return rc;
	}
	*res_out = res;
	if (plan_out)
		*plan_out = plan;
	else
		mg_analysis_plan_free(plan);
	return 0;
}
