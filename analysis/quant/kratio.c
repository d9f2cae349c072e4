/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Intensities and k-ratios: the analysis engine's family areas of a spectrum,
 * normalised by live time and tube current, and the k-ratio of each line of
 * an unknown against a standard measured under the same conditions:
 *   k = (A/t_live/I)_unknown / (A/t_live/I)_standard,
 *   (σ_k/k)² = (σ_A/A)²_unknown   (the standard's counting σ goes to the
 *                                  calibration part of the budget). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

double q_rate_per_count(const mg_quant_meas *m)
{
	if (!m || !(m->live_time_s > 0))
		return NAN;
	double i = isfinite(m->current_ua) && m->current_ua > 0 ? m->current_ua : 1.0;
	double keep = m->pileup_loss > 0 && m->pileup_loss < 0.5 ? 1.0 - m->pileup_loss : 1.0;
	return 1.0 / (m->live_time_s * i * keep);
}

double mg_quant_line_rate(const mg_quant_meas *m, const mg_quant_line *l)
{
	if (!l)
		return NAN;
	return l->area * q_rate_per_count(m);
}

const mg_quant_line *mg_quant_meas_find(const mg_quant_meas *m, int z, const char *line)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (m->lines[i].z == z && (!line || strcmp(m->lines[i].line, line) == 0))
			return &m->lines[i];
	return NULL;
}

/* Continuum counts within ±1 FWHM of e (0 without the background array). */
static double continuum_under(const mg_analysis_result *r, size_t nchan, double e)
{
	if (!r->background || !nchan || !r->cal.valid || !(r->cal.gain_kev > 0))
		return 0;
	double fw = sqrt(r->noise_kev * r->noise_kev + 2.3548 * 2.3548 * r->fano * 0.00385 * e);
	if (!isfinite(fw) || !(fw > 0))
		fw = 0.15;
	const mg_energy_cal *c = &r->cal;
	double b = 0;
	for (size_t k = 0; k < nchan; k++) {
		double x = (double)k, ek = c->offset_kev + c->gain_kev * x + c->quad_kev * x * x;
		if (fabs(ek - e) <= fw && isfinite(r->background[k]))
			b += r->background[k];
	}
	return b;
}

int mg_quant_meas_from_result(const mg_analysis_result *r, size_t nchan, double live_time_s,
                              double current_ua, const char *name, mg_quant_meas *out)
{
	if (!r || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "intensities: NULL argument");
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name ? name : "");
	out->live_time_s = isfinite(live_time_s) ? live_time_s : r->live_time_s;
	out->current_ua = current_ua;
	out->chi2_reduced = r->chi2_reduced;
	/* pile-up: every recorded sum event took two photons from the lines */
	if (r->model && nchan) {
		double tot = 0, pu = 0;
		for (size_t k = 0; k < nchan; k++)
			if (isfinite(r->model[k]))
				tot += r->model[k];
		for (size_t i = 0; i < r->nfamilies; i++)
			if (r->families[i].kind == MG_FAMILY_PILEUP && r->families[i].area > 0)
				pu += r->families[i].area;
		if (tot > 0 && pu > 0)
			out->pileup_loss = fmin(2 * pu / tot, 0.5);
	}
	for (size_t i = 0; i < r->nfamilies; i++) {
		const mg_family_result *f = &r->families[i];
		if (f->kind != MG_FAMILY_ELEMENT || f->z <= 0)
			continue;
		if (out->n >= MG_QUANT_MAX_EL)
			return mg_fail(MG_ERR_ARG, QDOM, "intensities: more than %d element families", MG_QUANT_MAX_EL);
		mg_quant_line *l = &out->lines[out->n++];
		l->z = f->z;
		snprintf(l->element, sizeof l->element, "%s", f->element);
		snprintf(l->line, sizeof l->line, "%s", f->family);
		l->energy_kev = f->energy_kev;
		l->area = f->area;
		l->sigma = f->sigma;
		l->status = (int)f->status;
		double var0 = f->sigma * f->sigma - (f->area > 0 ? f->area : 0);
		double b = continuum_under(r, nchan, f->energy_kev);
		l->sigma_bg = sqrt(fmax(fmax(var0, b), 1.0));
	}
	return 0;
}

int mg_quant_measure_spectrum(const mg_analysis_config *cfg, const mg_spectrum *s, unsigned refine,
                              double current_ua, mg_quant_meas *out)
{
	if (!cfg || !s || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "measure: NULL argument");
	mg_analysis_config c = *cfg;
	if (c.nchan != s->nchan || !c.cal.valid) {
		c.nchan = s->nchan;
		if (s->cal.valid)
			c.cal = s->cal;
	}
	mg_analysis_result *res = NULL;
	int rc = mg_analysis_run(&c, s->counts, s->nchan, s->live_time_s, refine, &res, NULL);
	if (rc < 0)
		return rc;
	double ua = isfinite(s->acq.tube_ua) && s->acq.tube_ua > 0 ? s->acq.tube_ua : current_ua;
	rc = mg_quant_meas_from_result(res, s->nchan, s->live_time_s, ua, s->sample.sample_id, out);
	mg_analysis_result_free(res);
	return rc;
}

int mg_quant_kratios(const mg_quant_meas *unk, const mg_quant_standard *stds, size_t nstd,
                     mg_quant_kratio *out, size_t max)
{
	if (!unk || (nstd && !stds))
		return mg_fail(MG_ERR_ARG, QDOM, "k-ratios: NULL argument");
	size_t n = 0;
	for (size_t i = 0; i < unk->n; i++) {
		const mg_quant_line *l = &unk->lines[i];
		const mg_quant_standard *best = NULL;
		const mg_quant_line *bl = NULL;
		double bw = 0;
		for (size_t s = 0; s < nstd; s++) {
			double w = mg_quant_comp_get(&stds[s].comp, l->z);
			const mg_quant_line *sl = mg_quant_meas_find(&stds[s].meas, l->z, l->line);
			if (w > bw && sl && sl->area > 0) {
				bw = w;
				best = &stds[s];
				bl = sl;
			}
		}
		if (!best)
			continue;
		double ru = mg_quant_line_rate(unk, l), rs = mg_quant_line_rate(&best->meas, bl);
		if (!isfinite(ru) || !(rs > 0))
			continue;
		if (n < max && out) {
			mg_quant_kratio *k = &out[n];
			memset(k, 0, sizeof *k);
			k->z = l->z;
			snprintf(k->element, sizeof k->element, "%s", l->element);
			snprintf(k->line, sizeof k->line, "%s", l->line);
			k->k = ru / rs;
			k->sigma = l->area != 0 ? fabs(k->k * l->sigma / l->area) : l->sigma / rs;
			snprintf(k->standard, sizeof k->standard, "%s", best->name);
			k->w_std = bw;
		}
		n++;
	}
	return (int)n;
}
