/* SPDX-License-Identifier: GPL-3.0-or-later */
/* XRF plot data from the analysis engine (include/magassay/analysis.h): the
 * spectrum, the fitted model, the background, each family's curve and
 * labelled markers at the fitted families. Either from an analysis just made
 * (`magassay analyze --plot`), or for a stored measurement: its spectrum file
 * from the archive with the fit re-computed when its latest result names a
 * calibration and the fitted elements (the fast path, that calibration
 * fixed). Without a usable result the spectrum is drawn with markers at the
 * Kα / Lα lines (xraylib) of the elements the result names. Nothing here
 * fits on its own: the engine's fit is the one shown. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib-lines.h>

#include "elements.h"
#include "internal.h"
#include "magassay/analysis.h"
#include "magassay/format.h"
#include "magassay/xray.h"
#include "report_internal.h"

void rp_xrf_clear(rp_xrf *x)
{
	free(x->energy);
	free(x->counts);
	free(x->fit);
	free(x->background);
	for (size_t i = 0; i < x->nfamy; i++)
		free(x->famy[i]);
	free(x->famy);
	free(x->fam);
	free(x->mk);
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	memset(x, 0, sizeof(*x));
}

static const char *keep(rp_xrf *x, const char *s)
{
	char **n = realloc(x->labels, (x->nlabels + 1) * sizeof(*n));
	if (!n)
		return NULL;
	x->labels = n;
	n[x->nlabels] = strdup(s);
	return n[x->nlabels] ? n[x->nlabels++] : NULL;
}

static int add_marker(rp_xrf *x, size_t *cap, const char *label, double e)
{
	if (!(e > 0))
		return MG_OK;
	for (size_t i = 0; i < x->d.nmarkers; i++)
		if (strcmp(x->mk[i].label, label) == 0)
			return MG_OK;
	if (rp_grow((void **)&x->mk, cap, x->d.nmarkers, sizeof(*x->mk)) != MG_OK)
		return MG_ERR_NOMEM;
	const char *l = keep(x, label);
	if (!l)
		return MG_ERR_NOMEM;
	x->mk[x->d.nmarkers++] = (mg_plot_marker){l, e};
	x->d.markers = x->mk;
	return MG_OK;
}

/* Element symbol → Z (0 if not an element). */
static int element_z(const char *sym)
{
	int z = mg_element_z(sym, strlen(sym));
	return z > 0 ? z : 0;
}

/* Energy of a line, NAN where the data has none. */
static double line_energy(int z, int line)
{
	double e = mg_xrf_line_energy(z, line);
	return e > 0 ? e : NAN;
}

/* Markers at the main lines of an element that fall inside (0.8, emax). */
static int element_markers(rp_xrf *x, size_t *cap, const char *el, const char *family, double emax)
{
	int z = element_z(el);
	if (z <= 0)
		return MG_OK;
	char lab[32];
	int want_k = !family || family[0] == 'K', want_l = !family || family[0] == 'L';
	double ek = line_energy(z, KL3_LINE), el_ = line_energy(z, L3M5_LINE);
	int e = MG_OK;
	if (want_k && ek > 0.8 && ek < emax) {
		snprintf(lab, sizeof(lab), "%s K\xCE\xB1", el);
		e = add_marker(x, cap, lab, ek);
	}
	if (e == MG_OK && want_l && el_ > 0.8 && el_ < emax && (!want_k || !(ek < emax) || z >= 50)) {
		snprintf(lab, sizeof(lab), "%s L\xCE\xB1", el);
		e = add_marker(x, cap, lab, el_);
	}
	return e;
}

static const char *family_greek(const char *f, char *buf, size_t cap)
{
	if (!strcmp(f, "Ka"))
		return "K\xCE\xB1";
	if (!strcmp(f, "Kb"))
		return "K\xCE\xB2";
	if (!strcmp(f, "La"))
		return "L\xCE\xB1";
	if (!strcmp(f, "Lb"))
		return "L\xCE\xB2";
	snprintf(buf, cap, "%s", f);
	return buf;
}

static int is_scatter(const char *family)
{
	return !strcmp(family, "Rayleigh") || !strcmp(family, "Compton") || !strcmp(family, "sum") || !*family;
}

/* A family's name for a legend or a marker: "Fe K", "Cu Kα", "Rh Rayleigh", "Compton". */
static void family_label(const mg_family_result *fr, char *buf, size_t cap)
{
	char g[12];
	snprintf(buf, cap, "%s%s%s", fr->element, fr->element[0] ? " " : "", family_greek(fr->family, g, sizeof(g)));
}

static int shown(const mg_family_result *fr)
{
	return fr->kind != MG_FAMILY_PILEUP && fr->status != MG_FAMILY_NOT_FITTED && fr->status != MG_FAMILY_BELOW_DL &&
	       fr->area > 0;
}

int rp_xrf_from_fit(const mg_analysis_plan *plan, const double *counts, size_t n, const mg_analysis_result *res,
                    rp_xrf *out)
{
	memset(out, 0, sizeof(*out));
	if (!plan || !counts || !res || !res->model || !res->background || n < 2)
		return mg_fail(MG_ERR_ARG, RP_DOM, "fit plot: no plan, spectrum or result");
	out->energy = malloc(n * sizeof(double));
	out->counts = malloc(n * sizeof(double));
	out->fit = malloc(n * sizeof(double));
	out->background = malloc(n * sizeof(double));
	out->famy = calloc(res->nfamilies + 1, sizeof(*out->famy));
	out->fam = calloc(res->nfamilies + 1, sizeof(*out->fam));
	if (!out->energy || !out->counts || !out->fit || !out->background || !out->famy || !out->fam)
		goto nomem;
	const mg_energy_cal *cal = &res->cal;
	for (size_t i = 0; i < n; i++) {
		double c = (double)i;
		int in = res->model[i] > 0; /* the fit window */
		out->energy[i] = cal->offset_kev + cal->gain_kev * c + cal->quad_kev * c * c;
		out->counts[i] = counts[i];
		out->fit[i] = in ? res->model[i] : NAN;
		out->background[i] = in ? res->background[i] : NAN;
	}
	out->d.n = n;
	out->d.energy_kev = out->energy;
	out->d.counts = out->counts;
	out->d.fit = out->fit;
	out->d.background = out->background;
	out->fitted = 1;
	size_t mcap = 0;
	for (size_t f = 0; f < res->nfamilies; f++) {
		const mg_family_result *fr = &res->families[f];
		if (!shown(fr))
			continue;
		char lab[32];
		family_label(fr, lab, sizeof(lab));
		if (add_marker(out, &mcap, lab, fr->energy_kev) != MG_OK)
			goto nomem;
		double *y = malloc(n * sizeof(double));
		const char *l = keep(out, lab);
		if (!y || !l) {
			free(y);
			goto nomem;
		}
		int e = mg_analysis_family_curve(plan, res, f, y, n);
		if (e != MG_OK) {
			free(y);
			rp_xrf_clear(out);
			return e;
		}
		out->famy[out->nfamy++] = y;
		out->fam[out->d.nfamilies++] = (mg_plot_curve){l, y};
	}
	out->d.families = out->fam;
	snprintf(out->calib, sizeof(out->calib), "offset_kev=%.6f gain_kev=%.8f quad_kev=%.3e noise_kev=%.5f fano=%.5f",
	         cal->offset_kev, cal->gain_kev, cal->quad_kev, res->noise_kev, res->fano);
	return MG_OK;
nomem:
	rp_xrf_clear(out);
	return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
}

int rp_xrf_load(mg_store *st, const rp_result *r, rp_xrf *out)
{
	memset(out, 0, sizeof(*out));
	char *path = NULL;
	mg_spectrum *s = NULL;
	int e = mg_store_abspath(st, r->m.file, &path);
	if (e == MG_OK)
		e = mg_spectrum_read_file(path, NULL, &s);
	free(path);
	if (e != MG_OK)
		return e;
	/* the energy axis: the result's fitted calibration, else the file's */
	json_t *cal = r->payload ? json_object_get(r->payload, "calibration") : NULL;
	double off = rp_jnum(cal, (const char *const[]){"offset_kev", NULL});
	double gain = rp_jnum(cal, (const char *const[]){"gain_kev", NULL});
	double quad = rp_jnum(cal, (const char *const[]){"quad_kev", NULL});
	double noise = rp_jnum(cal, (const char *const[]){"noise_kev", NULL});
	double fano = rp_jnum(cal, (const char *const[]){"fano", NULL});
	int from_result = isfinite(off) && isfinite(gain) && gain > 0;
	int channels = 0;
	if (!from_result) {
		if (s->cal.valid) {
			off = s->cal.offset_kev;
			gain = s->cal.gain_kev;
			quad = s->cal.quad_kev;
		} else { /* no calibration anywhere yet: the spectrum over its channels */
			channels = 1;
			off = 0;
			gain = 1;
			quad = 0;
		}
	}
	if (!isfinite(quad))
		quad = 0;
	size_t n = s->nchan;
	char calib[200];
	if (channels)
		snprintf(calib, sizeof(calib), "none (channels)");
	else
		snprintf(calib, sizeof(calib), "offset_kev=%.6f gain_kev=%.8f quad_kev=%.3e%s", off, gain, quad,
		         from_result ? " (fitted)" : " (file)");

	/* the fitted elements, as the engine's element list */
	char elements[MG_ANALYSIS_ELEMENTS_LEN] = "";
	size_t len = 0;
	for (size_t i = 0; i < r->nfam; i++) {
		const rp_family *f = &r->fam[i];
		if (is_scatter(f->family) || element_z(f->element) <= 0)
			continue;
		/* exact match in the comma list */
		char probe[8];
		snprintf(probe, sizeof(probe), "%s", f->element);
		int dup = 0;
		for (const char *p = elements; *p;) {
			size_t k = strcspn(p, ",");
			if (k == strlen(probe) && strncmp(p, probe, k) == 0)
				dup = 1;
			p += k + (p[k] == ',');
		}
		if (dup)
			continue;
		int k = snprintf(elements + len, sizeof(elements) - len, "%s%s", len ? "," : "", f->element);
		if (k < 0 || (size_t)k >= sizeof(elements) - len)
			break;
		len += (size_t)k;
	}

	if (len > 0 && from_result && mg_analysis_elements_check(elements) == MG_OK) {
		mg_analysis_config cfg;
		mg_analysis_config_default(&cfg);
		if (mg_analysis_config_from_spectrum(&cfg, s) != MG_OK)
			cfg.nchan = n;
		cfg.nchan = n;
		cfg.cal = (mg_energy_cal){1, off, gain, quad};
		if (isfinite(noise) && noise > 0)
			cfg.det.noise_kev = noise;
		if (isfinite(fano) && fano > 0)
			cfg.det.fano = fano;
		snprintf(cfg.elements, sizeof(cfg.elements), "%s", elements);
		mg_analysis_result *res = NULL;
		mg_analysis_plan *plan = NULL;
		int fe = mg_analysis_run(&cfg, s->counts, n, s->live_time_s, 0, &res, &plan);
		if (fe == MG_OK)
			fe = rp_xrf_from_fit(plan, s->counts, n, res, out);
		mg_analysis_result_free(res);
		mg_analysis_plan_free(plan);
		if (fe == MG_ERR_NOMEM) {
			mg_spectrum_free(s);
			return fe;
		}
		if (fe == MG_OK) {
			snprintf(out->calib, sizeof(out->calib), "%s", calib);
			mg_spectrum_free(s);
			return MG_OK;
		}
		mg_dbg(RP_DOM, "measurement %lld: no fit for the plot: %s", r->m.id, mg_error_detail());
		mg_error_clear();
	}

	/* no fit: the spectrum, and markers at the lines of the elements named */
	out->energy = malloc(n * sizeof(double));
	out->counts = malloc(n * sizeof(double));
	if (!out->energy || !out->counts) {
		mg_spectrum_free(s);
		rp_xrf_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		double c = (double)i;
		out->energy[i] = off + gain * c + quad * c * c;
		out->counts[i] = s->counts[i];
	}
	out->d.n = n;
	out->d.energy_kev = out->energy;
	out->d.counts = out->counts;
	if (channels)
		out->d.x_label = "Channel (no energy calibration yet)";
	snprintf(out->calib, sizeof(out->calib), "%s", calib);
	size_t mcap = 0;
	if (!out->fitted && !channels) {
		double emax = out->energy[n - 1];
		for (size_t i = 0; i < r->nfam; i++)
			if (!is_scatter(r->fam[i].family))
				element_markers(out, &mcap, r->fam[i].element, r->fam[i].family, emax);
		for (size_t i = 0; i < r->ncomp; i++)
			element_markers(out, &mcap, r->comp[i].element, NULL, emax);
	}
	mg_spectrum_free(s);
	return MG_OK;
}
