/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The analysis configuration: its defaults, the values a spectrum carries
 * (calibration, tube, angles, resolution hints) and those of an instrument
 * description (magassay/instrument.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "an.h"
#include "internal.h"
#include "magassay/instrument.h"

void mg_analysis_config_default(mg_analysis_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->det = (mg_detector_model){
		.noise_kev = 0.10,
		.fano = 0.114,
		.tail_fraction = 0.01,
		.tail_slope_kev = 0.3,
		.step_height = 1e-4,
		.be_um = 12.5,
		.dead_layer_um = 0.1,
		.thickness_mm = 0.5,
		.air_mm = 10.0,
		.escape_scale = 1.0,
	};
	cfg->exc = (mg_excitation){
		.mono_kev = 0,
		.anode = "Rh",
		.kv = 40,
		.tube_be_um = 125,
		.incidence_deg = 45,
		.takeoff_deg = 45,
	};
	snprintf(cfg->elements, sizeof(cfg->elements), "Fe,Co,Nd,Pr,Dy,Tb");
	snprintf(cfg->matrix, sizeof(cfg->matrix), "Fe:66,Nd:24,Pr:6,Co:2,Dy:1,B:1");
	cfg->emin_kev = 3.0;
	cfg->emax_kev = 0; /* auto */
	cfg->background = MG_BG_CONTINUUM;
	cfg->knot_kev = 1.5;
	cfg->snip_width = 0;
	cfg->snip_lls = 1;
	cfg->strip_iterations = 20000;
	cfg->strip_width = 1;
	cfg->smooth_width = 0;
	cfg->compton_fwhm_kev = 0.35;
	cfg->warn_sigma = 5.0;
	cfg->dl_sigma = 3.29;
	cfg->poor_chi2 = 5.0;
	cfg->flags = MG_AN_ESCAPE | MG_AN_PILEUP | MG_AN_SCATTER | MG_AN_MATRIX | MG_AN_WARNINGS |
	             MG_AN_FREE_MAJOR;
}

int mg_analysis_config_from_spectrum(mg_analysis_config *cfg, const mg_spectrum *s)
{
	if (!cfg || !s)
		return mg_fail(MG_ERR_ARG, AN_DOM, "config from spectrum: NULL argument");
	cfg->nchan = s->nchan;
	if (s->cal.valid)
		cfg->cal = s->cal;
	if (s->acq.anode && mg_element_z(s->acq.anode, strlen(s->acq.anode)) > 0)
		snprintf(cfg->exc.anode, sizeof(cfg->exc.anode), "%s", s->acq.anode);
	if (isfinite(s->acq.tube_kv) && s->acq.tube_kv > 2)
		cfg->exc.kv = s->acq.tube_kv;
	if (isfinite(s->acq.incidence_deg) && s->acq.incidence_deg > 0)
		cfg->exc.incidence_deg = s->acq.incidence_deg;
	if (isfinite(s->acq.takeoff_deg) && s->acq.takeoff_deg > 0)
		cfg->exc.takeoff_deg = s->acq.takeoff_deg;
	if (s->acq.atmosphere && strcmp(s->acq.atmosphere, "vacuum") == 0)
		cfg->det.air_mm = 0;
	/* EMSA/Bruker resolution hints: ##FANO and ##MNFWHM (FWHM at Mn Kα) */
	const char *fano = NULL, *mn = NULL;
	for (size_t i = 0; i < s->meta.count; i++) {
		const char *k = s->meta.items[i].key;
		if (!k)
			continue;
		if (strstr(k, "FANO"))
			fano = s->meta.items[i].value;
		else if (strstr(k, "MNFWHM"))
			mn = s->meta.items[i].value;
	}
	double f = fano ? strtod(fano, NULL) : NAN, w = mn ? strtod(mn, NULL) : NAN;
	if (f > 0.02 && f < 0.5)
		cfg->det.fano = f;
	if (w > 0.03 && w < 1.0) {
		if (w > 10) /* given in eV */
			w /= 1000;
		double v = w * w - AN_FWHM_PER_SIGMA * AN_FWHM_PER_SIGMA * cfg->det.fano * AN_EPS_SI * 5.8988;
		if (v > 0.0004)
			cfg->det.noise_kev = sqrt(v);
	}
	if (!s->cal.valid)
		return mg_fail(MG_ERR_ARG, AN_DOM, "the spectrum has no energy calibration");
	return 0;
}

void mg_instrument_desc_to_analysis(const mg_instrument_desc *d, mg_analysis_config *cfg)
{
	if (!d || !cfg)
		return;
	mg_excitation *e = &cfg->exc;
	e->mono_kev = 0;
	snprintf(e->anode, sizeof e->anode, "%s", d->anode);
	e->kv = d->kv;
	e->tube_be_um = d->window_be_um;
	snprintf(e->filter, sizeof e->filter, "%s", d->filter);
	e->filter_um = d->filter[0] ? d->filter_um : 0;
	e->incidence_deg = d->incidence_deg;
	e->takeoff_deg = d->takeoff_deg;
	mg_detector_model *m = &cfg->det;
	m->be_um = d->det_be_um;
	m->dead_layer_um = d->det_dead_layer_um;
	m->thickness_mm = strcmp(d->det_material, "Si") == 0 ? d->det_thickness_mm : 0;
	m->air_mm = d->path == MG_INSTR_AIR ? d->path_mm : 0;
	if (d->set & (1ul << MG_INSTR_DET_NOISE))
		m->noise_kev = d->noise_kev;
	if (d->set & (1ul << MG_INSTR_DET_FANO))
		m->fano = d->fano;
}
