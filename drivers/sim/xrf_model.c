/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated spectrometer's model: its configuration, the expected
 * detected spectrum built once from the physics layer (beam → sample emission
 * → detector response, magassay/xray.h), first-order pile-up (self-convolution
 * by FFT) and the DP5-like pulse processor (fast channel with a pulse-pair
 * resolving time, slow channel with dead time, live time). The Poisson
 * drawing is xrf_acquire.c's. Reference: xrf-physics.md §3.5–3.6. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "internal.h"
#include "magassay/xrfsim.h"

#define DOM "xrfsim"
#define DEFAULT_BIN_KEV 0.05

/* FFTW's planner is not thread-safe; only fftw_execute* is. */
static pthread_mutex_t fftw_plan_lock = PTHREAD_MUTEX_INITIALIZER;

struct mg_xrfsim_model {
	mg_xrfsim_config cfg;
	size_t n;
	/* per µA (conv per µA²), fixed for a given configuration but the current */
	double *det1;      /* detected counts/s per channel, before pile-up/dead time */
	double above1;     /* detected counts/s above the last channel */
	double *pile1;     /* self-convolution of the detected spectrum mapped onto the axis */
	double pile1_above;
	mg_xrf_line *lines;
	size_t nlines;
	/* at the current */
	double *detected, *recorded, *pileup;
	mg_xrfsim_rates rates;
	/* FFT (pile-up) */
	size_t nfft;
	double *fin;
	fftw_complex *fout;
	fftw_plan fwd, bwd;
};

void mg_xrfsim_config_default(mg_xrfsim_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof *cfg);
	mg_xrf_tube *t = &cfg->tube;
	memcpy(t->anode, "Rh", 3);
	t->kv = 40.0;
	t->current_ua = 20.0;
	t->be_window_um = 125.0;
	t->electron_angle_deg = 75.0;
	t->takeoff_angle_deg = 15.0;
	t->line_constant = 0.0;
	mg_xrf_geometry *g = &cfg->geom;
	g->incidence_deg = 45.0;
	g->takeoff_deg = 45.0;
	g->beam_sr = 2.5e-3;
	g->det_area_mm2 = 25.0;
	g->det_distance_mm = 20.0;
	g->atmosphere = MG_XRF_AIR;
	g->tube_path_mm = 10.0;
	g->det_path_mm = 20.0;
	mg_xrf_detector *d = &cfg->det;
	d->be_um = 12.5;
	d->dead_layer_um = 0.1;
	d->thickness_mm = 0.5;
	d->noise_fwhm_kev = 0.08;
	d->fano = 0.114;
	d->tail_fraction = 0.02;
	d->tail_slope_kev = 0.5;
	d->step_height = 2e-4;
	d->lld_kev = 0.3;
	d->dead_time_us = 5.0;
	d->pileup_us = 0.25;
	d->deadtime_model = MG_XRF_PARALYSABLE;
	cfg->axis.nchan = 2048;
	cfg->axis.offset_kev = 0.0;
	cfg->axis.gain_kev = 0.02;
	mg_xrfsim_sample_lookup("ndfeb", &cfg->sample);
	cfg->beam_bin_kev = DEFAULT_BIN_KEV;
	cfg->flags = 0;
}

static int check_config(const mg_xrfsim_config *c)
{
	const mg_xrf_axis *a = &c->axis;
	const mg_xrf_detector *d = &c->det;
	if (a->nchan < MG_XRF_MIN_CHANNELS || a->nchan > MG_XRF_MAX_CHANNELS)
		return mg_fail(MG_ERR_ARG, DOM, "axis: %d channels outside %d..%d", a->nchan,
		               MG_XRF_MIN_CHANNELS, MG_XRF_MAX_CHANNELS);
	if (!(a->gain_kev > 0 && a->gain_kev < 1.0) || !isfinite(a->offset_kev) || fabs(a->offset_kev) > 10)
		return mg_fail(MG_ERR_ARG, DOM, "axis: gain %g keV/ch, offset %g keV", a->gain_kev,
		               a->offset_kev);
	if (!(d->be_um >= 0) || !(d->dead_layer_um >= 0) || !(d->thickness_mm > 0) ||
	    !(d->noise_fwhm_kev >= 0) || !(d->fano > 0 && d->fano < 1))
		return mg_fail(MG_ERR_ARG, DOM, "detector: window %g um, dead layer %g um, thickness %g mm, "
		               "noise %g keV, Fano %g", d->be_um, d->dead_layer_um, d->thickness_mm,
		               d->noise_fwhm_kev, d->fano);
	if (!(d->tail_fraction >= 0 && d->tail_fraction <= 0.5) ||
	    !(d->step_height >= 0 && d->step_height <= 0.01) ||
	    (d->tail_fraction > 0 && !(d->tail_slope_kev >= 0.005 && d->tail_slope_kev <= 10)))
		return mg_fail(MG_ERR_ARG, DOM, "detector: tail %g / %g keV, step %g", d->tail_fraction,
		               d->tail_slope_kev, d->step_height);
	if (!(d->lld_kev >= 0) || !(d->dead_time_us >= 0) || !(d->pileup_us >= 0) ||
	    d->dead_time_us > 1000 || d->pileup_us > 100 || (unsigned)d->deadtime_model > 1)
		return mg_fail(MG_ERR_ARG, DOM, "detector: LLD %g keV, dead time %g us, pile-up %g us",
		               d->lld_kev, d->dead_time_us, d->pileup_us);
	if (!(c->tube.current_ua >= 0 && c->tube.current_ua <= 1e4))
		return mg_fail(MG_ERR_ARG, DOM, "tube: current %g uA", c->tube.current_ua);
	if (!(c->beam_bin_kev >= 0 && c->beam_bin_kev <= 1.0))
		return mg_fail(MG_ERR_ARG, DOM, "beam bin %g keV", c->beam_bin_kev);
	return 0;
}

/* ------------------------------------------------------------ pulse processor */

static void apply_current(mg_xrfsim_model *m)
{
	const mg_xrf_detector *d = &m->cfg.det;
	const size_t n = m->n;
	double k = m->cfg.tube.current_ua;
	double nin = 0;
	for (size_t i = 0; i < n; i++) {
		m->detected[i] = k * m->det1[i];
		nin += m->detected[i];
	}
	double nab = k * m->above1, ntot = nin + nab;
	/* fast channel: pulses closer than τp merge (paralysable counting) */
	double tp = (m->cfg.flags & MG_XRFSIM_NO_PILEUP) ? 0.0 : d->pileup_us * 1e-6;
	double x = ntot * tp, e1 = exp(-x);
	double fast = ntot * e1;
	double singles = exp(-2 * x);        /* fraction of photons recorded alone */
	double rdbl = ntot * e1 * (-expm1(-x)); /* clusters of ≥ 2, treated as pairs */
	double pscale = ntot > 0 ? rdbl * k * k / (ntot * ntot) : 0.0;
	/* slow channel */
	double td = d->dead_time_us * 1e-6;
	double live = d->deadtime_model == MG_XRF_NONPARALYSABLE ? 1.0 / (1.0 + fast * td)
	                                                          : exp(-fast * td);
	double slow = 0, pile = 0;
	for (size_t i = 0; i < n; i++) {
		double p = pscale * m->pile1[i];
		m->pileup[i] = live * p;
		m->recorded[i] = live * (m->detected[i] * singles + p);
		slow += m->recorded[i];
		pile += m->pileup[i];
	}
	mg_xrfsim_rates *r = &m->rates;
	r->input = ntot;
	r->fast = fast;
	r->slow = slow;
	r->live_fraction = live;
	r->dead_fraction = fast > 0 ? 1.0 - slow / fast : 0.0;
	r->pileup = pile;
	r->above = live * (nab * singles + pscale * m->pile1_above);
}

/* pile1 = detected ⊛ detected (per µA²) on the channel axis, by FFT. */
static void self_convolve(mg_xrfsim_model *m)
{
	const size_t n = m->n, nf = m->nfft;
	memset(m->pile1, 0, n * sizeof(double));
	m->pile1_above = 0;
	if (m->cfg.flags & MG_XRFSIM_NO_PILEUP)
		return;
	memset(m->fin, 0, nf * sizeof(double));
	memcpy(m->fin, m->det1, n * sizeof(double));
	fftw_execute_dft_r2c(m->fwd, m->fin, m->fout);
	for (size_t i = 0; i < nf / 2 + 1; i++) {
		double re = m->fout[i][0], im = m->fout[i][1];
		m->fout[i][0] = (re * re - im * im) / (double)nf;
		m->fout[i][1] = 2 * re * im / (double)nf;
	}
	fftw_execute_dft_c2r(m->bwd, m->fout, m->fin);
	/* a pair (i, j) lands at E = 2·offset + gain·(i + j): channel i + j + offset/gain */
	double s = m->cfg.axis.offset_kev / m->cfg.axis.gain_kev;
	double total = 0, inside = 0;
	for (size_t i = 0; i + 1 < nf; i++) {
		double v = m->fin[i];
		if (!(v > 0))
			continue;
		total += v;
		double t = (double)i + s;
		double fl = floor(t), fr = t - fl;
		long c = (long)fl;
		if (c >= 0 && c < (long)n) {
			m->pile1[c] += v * (1 - fr);
			inside += v * (1 - fr);
		}
		if (c + 1 >= 0 && c + 1 < (long)n) {
			m->pile1[c + 1] += v * fr;
			inside += v * fr;
		}
	}
	/* below the axis (negative offsets only) is dropped; the rest is above */
	double below = 0;
	for (size_t i = 0; i + 1 < nf && (double)i + s < 0; i++)
		below += m->fin[i] > 0 ? m->fin[i] : 0;
	m->pile1_above = fmax(total - inside - below, 0.0);
	/* the detected spectrum above the axis piles up too: it lands above */
	double nin = 0;
	for (size_t i = 0; i < n; i++)
		nin += m->det1[i];
	m->pile1_above += 2 * nin * m->above1 + m->above1 * m->above1;
}

/* ------------------------------------------------------------ model */

static void model_release(mg_xrfsim_model *m)
{
	free(m->det1);
	free(m->pile1);
	free(m->detected);
	free(m->recorded);
	free(m->pileup);
	free(m->lines);
	m->det1 = m->pile1 = m->detected = m->recorded = m->pileup = NULL;
	m->lines = NULL;
	m->nlines = 0;
}

static void fft_release(mg_xrfsim_model *m)
{
	pthread_mutex_lock(&fftw_plan_lock);
	if (m->fwd)
		fftw_destroy_plan(m->fwd);
	if (m->bwd)
		fftw_destroy_plan(m->bwd);
	pthread_mutex_unlock(&fftw_plan_lock);
	fftw_free(m->fin);
	fftw_free(m->fout);
	m->fwd = m->bwd = NULL;
	m->fin = NULL;
	m->fout = NULL;
	m->nfft = 0;
}

static int fft_prepare(mg_xrfsim_model *m, size_t n)
{
	if (m->nfft == 2 * n && m->fwd)
		return 0;
	fft_release(m);
	m->nfft = 2 * n;
	m->fin = fftw_malloc(m->nfft * sizeof(double));
	m->fout = fftw_malloc((m->nfft / 2 + 1) * sizeof(fftw_complex));
	if (!m->fin || !m->fout) {
		fft_release(m);
		return mg_fail(MG_ERR_NOMEM, DOM, "model: out of memory (FFT)");
	}
	pthread_mutex_lock(&fftw_plan_lock);
	m->fwd = fftw_plan_dft_r2c_1d((int)m->nfft, m->fin, m->fout, FFTW_ESTIMATE);
	m->bwd = fftw_plan_dft_c2r_1d((int)m->nfft, m->fout, m->fin, FFTW_ESTIMATE);
	pthread_mutex_unlock(&fftw_plan_lock);
	if (!m->fwd || !m->bwd) {
		fft_release(m);
		return mg_fail(MG_ERR_INTERNAL, DOM, "model: FFTW could not plan %zu points", 2 * n);
	}
	return 0;
}

/* Compute everything for cfg into fresh arrays of `m` (which holds the FFT). */
static int build(mg_xrfsim_model *m, const mg_xrfsim_config *cfg)
{
	int rc;
	mg_xrf_beam *beam = NULL;
	mg_xrf_emission *em = NULL;
	mg_xrf_peak *peaks = NULL;
	const size_t n = (size_t)cfg->axis.nchan;
	double bin = cfg->beam_bin_kev > 0 ? cfg->beam_bin_kev : DEFAULT_BIN_KEV;

	m->cfg = *cfg;
	m->n = n;
	m->det1 = calloc(n, sizeof(double));
	m->pile1 = calloc(n, sizeof(double));
	m->detected = calloc(n, sizeof(double));
	m->recorded = calloc(n, sizeof(double));
	m->pileup = calloc(n, sizeof(double));
	if (!m->det1 || !m->pile1 || !m->detected || !m->recorded || !m->pileup) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "model: out of memory");
		goto out;
	}
	if ((rc = mg_xrf_beam_new(&cfg->tube, &cfg->geom, bin, &beam)) < 0)
		goto out;
	if ((rc = mg_xrf_sample_emission(&cfg->sample, &cfg->geom, beam, cfg->flags, &em)) < 0)
		goto out;
	size_t np = em->nlines + em->npeaks;
	peaks = malloc((np ? np : 1) * sizeof *peaks);
	m->lines = malloc((em->nlines ? em->nlines : 1) * sizeof *m->lines);
	if (!peaks || !m->lines) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "model: out of memory");
		goto out;
	}
	for (size_t i = 0; i < em->nlines; i++) {
		mg_xrf_line *l = &m->lines[i];
		*l = em->lines[i];
		double at_window = l->primary + l->secondary;
		l->detected = at_window * mg_xrf_detector_efficiency(&cfg->det, l->energy_kev);
		peaks[i] = (mg_xrf_peak){l->energy_kev, at_window, 0.0};
	}
	m->nlines = em->nlines;
	memcpy(peaks + em->nlines, em->scatter, em->npeaks * sizeof *peaks);
	if ((rc = mg_xrf_detector_response(&cfg->det, &cfg->axis, peaks, np, cfg->flags, m->det1,
	                                   &m->above1)) < 0)
		goto out;
	if ((rc = fft_prepare(m, n)) < 0)
		goto out;
	self_convolve(m);
	apply_current(m);
	mg_dbg(DOM, "model: %s, %s %g kV %g uA: %zu lines, %zu scatter peaks, ICR %.4g/s, OCR %.4g/s, "
	       "live %.3f", cfg->sample.name, cfg->tube.anode, cfg->tube.kv, cfg->tube.current_ua,
	       em->nlines, em->npeaks, m->rates.input, m->rates.slow, m->rates.live_fraction);
out:
	free(peaks);
	mg_xrf_emission_free(em);
	mg_xrf_beam_free(beam);
	return rc;
}

void mg_xrfsim_model_free(mg_xrfsim_model *m)
{
	if (!m)
		return;
	model_release(m);
	fft_release(m);
	free(m);
}

int mg_xrfsim_model_new(const mg_xrfsim_config *cfg, mg_xrfsim_model **out)
{
	int rc;
	if (!cfg || !out)
		return mg_fail(MG_ERR_ARG, DOM, "model: NULL argument");
	*out = NULL;
	if ((rc = check_config(cfg)) < 0)
		return rc;
	mg_xrfsim_model *m = calloc(1, sizeof *m);
	if (!m)
		return mg_fail(MG_ERR_NOMEM, DOM, "model: out of memory");
	if ((rc = build(m, cfg)) < 0) {
		mg_xrfsim_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int same_layer(const mg_xrf_layer *a, const mg_xrf_layer *b)
{
	if (a->nel != b->nel || a->density != b->density || a->thickness_um != b->thickness_um)
		return 0;
	for (int i = 0; i < a->nel && i < MG_XRF_MAX_ELEMENTS; i++)
		if (a->z[i] != b->z[i] || a->w[i] != b->w[i])
			return 0;
	return 1;
}

/* Everything but the tube current equal? (field by field: padding may differ) */
static int same_but_current(const mg_xrfsim_config *a, const mg_xrfsim_config *b)
{
	const mg_xrf_tube *ta = &a->tube, *tb = &b->tube;
	const mg_xrf_geometry *ga = &a->geom, *gb = &b->geom;
	const mg_xrf_detector *da = &a->det, *db = &b->det;
	if (strncmp(ta->anode, tb->anode, sizeof ta->anode) || ta->kv != tb->kv ||
	    ta->be_window_um != tb->be_window_um || strncmp(ta->filter, tb->filter, sizeof ta->filter) ||
	    ta->filter_um != tb->filter_um || ta->electron_angle_deg != tb->electron_angle_deg ||
	    ta->takeoff_angle_deg != tb->takeoff_angle_deg || ta->line_constant != tb->line_constant)
		return 0;
	if (ga->incidence_deg != gb->incidence_deg || ga->takeoff_deg != gb->takeoff_deg ||
	    ga->beam_sr != gb->beam_sr || ga->det_area_mm2 != gb->det_area_mm2 ||
	    ga->det_distance_mm != gb->det_distance_mm || ga->atmosphere != gb->atmosphere ||
	    ga->tube_path_mm != gb->tube_path_mm || ga->det_path_mm != gb->det_path_mm)
		return 0;
	if (da->be_um != db->be_um || da->dead_layer_um != db->dead_layer_um ||
	    da->thickness_mm != db->thickness_mm || da->noise_fwhm_kev != db->noise_fwhm_kev ||
	    da->fano != db->fano || da->tail_fraction != db->tail_fraction ||
	    da->tail_slope_kev != db->tail_slope_kev || da->step_height != db->step_height ||
	    da->lld_kev != db->lld_kev || da->dead_time_us != db->dead_time_us ||
	    da->pileup_us != db->pileup_us || da->deadtime_model != db->deadtime_model)
		return 0;
	if (a->axis.nchan != b->axis.nchan || a->axis.offset_kev != b->axis.offset_kev ||
	    a->axis.gain_kev != b->axis.gain_kev || a->beam_bin_kev != b->beam_bin_kev ||
	    a->flags != b->flags)
		return 0;
	if (a->sample.ncoat != b->sample.ncoat || !same_layer(&a->sample.substrate, &b->sample.substrate))
		return 0;
	for (int c = 0; c < a->sample.ncoat && c < MG_XRF_MAX_COATINGS; c++)
		if (!same_layer(&a->sample.coat[c], &b->sample.coat[c]))
			return 0;
	return 1;
}

int mg_xrfsim_model_update(mg_xrfsim_model *m, const mg_xrfsim_config *cfg)
{
	int rc;
	if (!m || !cfg)
		return mg_fail(MG_ERR_ARG, DOM, "model update: NULL argument");
	if ((rc = check_config(cfg)) < 0)
		return rc;
	if (same_but_current(&m->cfg, cfg)) {
		memcpy(m->cfg.sample.name, cfg->sample.name, sizeof m->cfg.sample.name);
		return mg_xrfsim_model_set_current(m, cfg->tube.current_ua);
	}
	/* build into a scratch model (borrowing our FFT plan if the size is
	 * unchanged), then swap: on failure the model stays as it was */
	int borrow = m->fwd && m->nfft == 2 * (size_t)cfg->axis.nchan;
	mg_xrfsim_model tmp;
	memset(&tmp, 0, sizeof tmp);
	if (borrow)
		tmp.nfft = m->nfft, tmp.fin = m->fin, tmp.fout = m->fout, tmp.fwd = m->fwd, tmp.bwd = m->bwd;
	rc = build(&tmp, cfg);
	if (rc < 0) {
		if (!borrow)
			fft_release(&tmp);
		model_release(&tmp);
		return rc;
	}
	if (!borrow)
		fft_release(m);
	model_release(m);
	*m = tmp;
	return 0;
}

int mg_xrfsim_model_set_current(mg_xrfsim_model *m, double current_ua)
{
	if (!m || !(current_ua >= 0 && current_ua <= 1e4))
		return mg_fail(MG_ERR_ARG, DOM, "model: current %g uA outside [0, 1e4]", current_ua);
	m->cfg.tube.current_ua = current_ua;
	apply_current(m);
	return 0;
}

const mg_xrfsim_config *mg_xrfsim_model_config(const mg_xrfsim_model *m)
{
	return m ? &m->cfg : NULL;
}

void mg_xrfsim_model_rates(const mg_xrfsim_model *m, mg_xrfsim_rates *out)
{
	if (!out)
		return;
	if (!m) {
		memset(out, 0, sizeof *out);
		return;
	}
	*out = m->rates;
}

const double *mg_xrfsim_model_spectrum(const mg_xrfsim_model *m, enum mg_xrfsim_spectrum which,
                                       size_t *n)
{
	if (n)
		*n = m ? m->n : 0;
	if (!m)
		return NULL;
	switch (which) {
	case MG_XRFSIM_DETECTED: return m->detected;
	case MG_XRFSIM_RECORDED: return m->recorded;
	case MG_XRFSIM_PILEUP: return m->pileup;
	}
	return NULL;
}

const mg_xrf_line *mg_xrfsim_model_lines(const mg_xrfsim_model *m, size_t *n)
{
	if (n)
		*n = m ? m->nlines : 0;
	return m ? m->lines : NULL;
}

double mg_xrfsim_model_line_sum(const mg_xrfsim_model *m, int z, int line_a, int line_b)
{
	if (!m)
		return 0.0;
	int hi = line_a > line_b ? line_a : line_b, lo = line_a > line_b ? line_b : line_a;
	double s = 0;
	for (size_t i = 0; i < m->nlines; i++)
		if (m->lines[i].z == z && m->lines[i].line <= hi && m->lines[i].line >= lo)
			s += m->lines[i].detected;
	return s;
}
