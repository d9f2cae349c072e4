/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A run of the simulated ICP-OES (icp_sim_internal.h): at the current rack
 * position, every configured line's wavelength axis and, per replicate, its
 * window from the physics (icp_physics.c: drift, jumps, flicker, noise),
 * kept for FETCh; time advances by uptake + replicates x integration +
 * rinse. And the numbers of an answer, as FORMat says. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "drivers/scpi/scpi.h"
#include "drivers/sim/icp_sim_internal.h"
#include "internal.h"

#define DOM "icpsim"

void icpsim_reset(struct mg_icpsim *s)
{
	s->nlines = 0;
	s->integration = 1.0;
	s->replicates = 3;
	s->position = 1;
	s->label[0] = '\0';
	s->fmt = FMT_ASCII;
	s->swapped = 0;
	s->have_data = 0;
	s->busy_left = 0;
}

void icpsim_conditions(struct mg_icpsim *s, double t_s, mg_icpphys_conditions *c)
{
	memset(c, 0, sizeof(*c));
	c->t_hours = (t_s - s->lit_at_s) / 3600.0;
	c->drift_pct_h = s->drift_pct_h;
	c->jump_factor = s->jump_at && s->runs >= s->jump_at ? 1.0 + s->jump_pct / 100.0 : 1.0;
	c->is_element = s->is_el;
	c->seed = s->seed;
	c->integration_s = s->integration;
	c->noise = s->noise;
	c->pixel_nm = 0.0025;
	c->npix = s->pixels;
}

void icpsim_run(struct mg_icpsim *s)
{
	if (!s->plasma) {
		icpsim_push_error(s, -221, "plasma is off");
		return;
	}
	if (!s->nlines) {
		icpsim_push_error(s, -221, "no lines configured");
		return;
	}
	struct slot *sl = icpsim_slot_at(s, s->position);
	if (!sl) {
		icpsim_push_error(s, -222, "position %d is empty", s->position);
		return;
	}
	s->runs++;
	s->st.runs++;
	s->have_data = 0;
	s->busy_left = s->busy_polls;
	if (s->error_at && s->runs == s->error_at) {
		icpsim_push_error(s, s->error_code, "nebulizer pressure low, run %u at position %d aborted", s->runs, s->position);
		s->t_s += UPTAKE_S;
		return;
	}
	double t0 = s->t_s + UPTAKE_S;
	size_t np = s->pixels;
	for (size_t l = 0; l < s->nlines; l++) {
		mg_icpphys_conditions c;
		icpsim_conditions(s, t0, &c);
		mg_icpphys_axis(&c, s->lines[l].wl, s->data_wl + l * np);
	}
	for (unsigned r = 0; r < s->replicates; r++) {
		mg_icpphys_conditions c;
		icpsim_conditions(s, t0 + (r + 0.5) * s->integration, &c);
		double flicker = s->noise > 0 ? 1.0 + gsl_ran_gaussian(s->rng, 0.004 * s->noise) : 1.0;
		for (size_t l = 0; l < s->nlines; l++)
			mg_icpphys_read(&c, &sl->phys, s->data_wl + l * np, flicker, s->rng,
			                s->data + ((size_t)r * MG_ICP_MAX_LINES + l) * np);
	}
	s->t_s = t0 + s->replicates * s->integration + RINSE_S;
	s->have_data = 1;
	s->data_reps = s->replicates;
	s->data_lines = s->nlines;
	mg_dbg(DOM, "run %u: position %d (%s), %zu lines x %u replicates, t = %.1f min", s->runs, s->position,
	       sl->sol.name, s->nlines, s->replicates, s->t_s / 60.0);
}

void icpsim_put_numbers(struct mg_icpsim *s, const double *v, size_t n, int pairs_prec, mg_buf *out)
{
	if (s->fmt == FMT_ASCII) {
		for (size_t i = 0; i < n; i++) {
			if (i)
				mg_buf_append(out, ",", 1);
			if (pairs_prec && i % 2 == 0)
				mg_buf_printf(out, "%.6f", v[i]);
			else if (pairs_prec)
				mg_buf_printf(out, "%.2f", v[i]);
			else
				mg_buf_printf(out, "%.6f", v[i]);
		}
		return;
	}
	mg_buf data;
	mg_buf_init(&data);
	mg_scpi_append_numbers(&data, v, n, s->fmt == FMT_REAL32 ? MG_SCPI_REAL32 : MG_SCPI_REAL64, !s->swapped);
	mg_scpi_append_block(out, data.data ? data.data : "", data.len);
	mg_buf_free(&data);
}
