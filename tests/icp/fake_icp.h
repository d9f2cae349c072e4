/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A fake ICP-OES for the runner tests: a mg_icp_source whose windows come
 * from this test's generator (synth_icp.h), independent of the simulator in
 * drivers/sim. Per configured line: a Voigt analyte line (sensitivity ×
 * concentration, with a mild curvature for the majors), nearby matrix lines
 * proportional to Fe or Nd (resolved ones, and an unresolved Fe line on
 * B 249.773), a continuum that rises with the Fe content, matrix suppression
 * (every line, the internal standard too) growing with the dissolved solids,
 * a slow drift and a per-replicate flicker common to all lines, Poisson
 * noise. Faults: a jump of every non-IS line from a given item on (fails a
 * CCV), a device error at a given item. */
#ifndef MG_TEST_FAKE_ICP_H
#define MG_TEST_FAKE_ICP_H

#include <stdio.h>
#include <string.h>

#include "magassay/error.h"
#include "magassay/icp_analysis.h"
#include "magassay/sequence.h"
#include "synth_icp.h"

#define FAKE_NEL 8

typedef struct fake_solution {
	const char *label;
	double c[FAKE_NEL]; /* mg/L in the measured solution, order of fake_elements */
} fake_solution;

static const char *const fake_elements[FAKE_NEL] = {"Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B", "Y"};

typedef struct fake_linedef {
	const char *el;
	double nm;
	double sens;      /* integrated counts per mg/L */
	double curv;      /* response × (1 − curv·C) */
	struct {
		int by;       /* element index, -1 = none */
		double off_nm;
		double per_mgl;
	} mx[2];
} fake_linedef;

static const fake_linedef fake_lines[] = {
	{"Nd", 430.358, 4.0e4, 0.0008, {{4, -0.042, 250}, {-1, 0, 0}}},
	{"Pr", 414.311, 6.0e4, 0, {{0, 0.038, 300}, {-1, 0, 0}}},
	{"Dy", 353.170, 1.5e5, 0, {{0, 0.045, 400}, {-1, 0, 0}}},
	{"Tb", 350.917, 1.2e5, 0, {{4, 0.030, 600}, {0, -0.036, 300}}},
	{"Fe", 259.940, 5.0e4, 0.0006, {{-1, 0, 0}, {-1, 0, 0}}},
	{"Co", 228.616, 8.0e4, 0, {{4, 0.040, 150}, {-1, 0, 0}}},
	{"B", 208.957, 4.0e4, 0, {{-1, 0, 0}, {-1, 0, 0}}},
	{"B", 249.773, 1.2e5, 0, {{4, 0.009, 800}, {-1, 0, 0}}}, /* Fe 249.782, unresolved */
	{"Y", 371.030, 3.0e5, 0, {{-1, 0, 0}, {-1, 0, 0}}},
};

typedef struct fake_icp {
	gsl_rng *rng;
	const fake_solution *rack;
	size_t nrack;
	mg_icp_line lines[MG_ICP_MAX_LINES];
	size_t nlines;
	double integration_s;
	int replicates;
	size_t calls;
	size_t jump_from;    /* measure call index (0-based) from which non-IS lines jump */
	double jump;         /* relative, e.g. 0.15 */
	size_t error_at;     /* measure call index that fails (SIZE_MAX: never) */
	double drift_per_call; /* relative per call, all lines */
	double flicker;
	double noise;        /* 0: noiseless */
} fake_icp;

static inline const fake_solution *fake_find(const fake_icp *f, const char *label)
{
	for (size_t i = 0; i < f->nrack; i++)
		if (strcmp(f->rack[i].label, label) == 0)
			return &f->rack[i];
	return NULL;
}

static inline int fake_configure(void *ctx, const mg_icp_line *lines, size_t n, double integration_s, int reps)
{
	fake_icp *f = ctx;
	memcpy(f->lines, lines, n * sizeof(*lines));
	f->nlines = n;
	f->integration_s = integration_s;
	f->replicates = reps;
	return MG_OK;
}

static inline int fake_measure(void *ctx, const mg_icp_item *item, mg_icp_measurement *m)
{
	fake_icp *f = ctx;
	size_t call = f->calls++;
	if (call == f->error_at)
		return MG_ERR_DEVICE;
	const fake_solution *s = fake_find(f, item->label);
	if (!s)
		return MG_ERR_NOT_FOUND;
	double tds = 0;
	for (int e = 0; e < FAKE_NEL - 1; e++)
		tds += s->c[e];
	double supp = 1.0 / (1.0 + tds / 1500.0); /* ~0.93 for a 100 mg/L digest */
	double drift = 1.0 - f->drift_per_call * (double)call;
	snprintf(m->sample_label, sizeof(m->sample_label), "%s", item->label);
	m->position = item->position;
	m->nlines = f->nlines;
	memcpy(m->line, f->lines, f->nlines * sizeof(mg_icp_line));
	m->nreplicates = (size_t)f->replicates;
	m->plasma.lit = 1;
	m->plasma.rf_power_w = 1300;
	snprintf(m->start_time, sizeof(m->start_time), "2024-05-01T12:%02zu:00.000Z", call % 60);
	for (int k = 0; k < f->replicates; k++) {
		double flick = f->noise > 0 && f->flicker > 0 ? 1 + gsl_ran_gaussian(f->rng, f->flicker) : 1;
		m->replicate[k].integration_s = f->integration_s;
		for (size_t l = 0; l < f->nlines; l++) {
			const fake_linedef *d = NULL;
			for (size_t j = 0; j < sizeof(fake_lines) / sizeof(fake_lines[0]); j++)
				if (strcmp(fake_lines[j].el, f->lines[l].element) == 0 &&
				    fabs(fake_lines[j].nm - f->lines[l].wavelength_nm) < 0.001)
					d = &fake_lines[j];
			if (!d)
				return MG_ERR_UNSUPPORTED;
			int e = -1;
			for (int j = 0; j < FAKE_NEL; j++)
				if (strcmp(fake_elements[j], d->el) == 0)
					e = j;
			int is = e == FAKE_NEL - 1;
			double gain = supp * drift * flick * (!is && call >= f->jump_from ? 1 + f->jump : 1);
			double conc = is ? 1.0 : s->c[e];
			synth_line sl[3];
			size_t nsl = 0;
			sl[nsl++] = (synth_line){d->nm + 0.0007, d->sens * conc * (1 - d->curv * conc) * gain, 0.0032, 0.0014};
			for (int q = 0; q < 2; q++)
				if (d->mx[q].by >= 0)
					sl[nsl++] = (synth_line){d->nm + d->mx[q].off_nm, d->mx[q].per_mgl * s->c[d->mx[q].by] * gain,
					                         0.0032, 0.0014};
			synth_bg bg = {(1500 + 8 * s->c[4]) * drift, 1.5, 3e4};
			mg_icp_window *w = &m->replicate[k].window[l];
			synth_expected(w, d->nm, 0.003, 40, sl, nsl, &bg);
			if (f->noise > 0)
				synth_noise(w, f->rng, 0);
		}
	}
	return MG_OK;
}

static inline void fake_init(fake_icp *f, const fake_solution *rack, size_t n, unsigned long seed)
{
	memset(f, 0, sizeof(*f));
	f->rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(f->rng, seed);
	f->rack = rack;
	f->nrack = n;
	f->jump_from = (size_t)-1;
	f->error_at = (size_t)-1;
	f->drift_per_call = 0.002;
	f->flicker = 0.004;
	f->noise = 1;
}

static inline void fake_free(fake_icp *f)
{
	gsl_rng_free(f->rng);
}

static inline mg_icp_source fake_source(fake_icp *f)
{
	mg_icp_source s = {.ctx = f, .configure = fake_configure, .measure = fake_measure, .model = "FAKE-ICP",
	                   .serial = "F-001", .firmware = "1.0", .uri = "fake:icp"};
	return s;
}

#endif
