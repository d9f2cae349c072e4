/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Presets (live time, real time, counts) and progress: how far a measurement
 * is and how long it has left, from an instrument status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acq/acq_internal.h"
#include "text.h"

#define PRESET_TIME_MAX 99999999.9  /* the DP5's PRET/PRER range, 0.1 s steps */
#define PRESET_COUNTS_MAX 4294967295.0

mg_acq_presets mg_acq_presets_none(void)
{
	mg_acq_presets p = {NAN, NAN, NAN};
	return p;
}

int mg_acq_presets_any(const mg_acq_presets *p)
{
	return p && (!isnan(p->live_s) || !isnan(p->real_s) || !isnan(p->counts));
}

static int time_value(const char *what, double v, char out[32])
{
	if (isnan(v)) {
		snprintf(out, 32, "OFF");
		return MG_OK;
	}
	if (!isfinite(v) || v <= 0 || v > PRESET_TIME_MAX)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "%s preset %g s: must be more than 0 and at most %.1f s", what, v,
		               PRESET_TIME_MAX);
	double tenths = round(v * 10.0);
	if (fabs(tenths - v * 10.0) > 1e-6 * fmax(1.0, v * 10.0) || tenths < 1)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "%s preset %g s: the instrument counts time in steps of 0.1 s", what,
		               v);
	snprintf(out, 32, "%.1f", tenths / 10.0);
	return MG_OK;
}

int mg_acq_presets_apply(const mg_acq_presets *p, mg_acq_profile *prof)
{
	char pret[32], prer[32], prec[32];
	int rc;
	if (!p || !prof)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_presets_apply: bad arguments");
	if ((rc = time_value("live-time", p->live_s, pret)) != MG_OK ||
	    (rc = time_value("real-time", p->real_s, prer)) != MG_OK)
		return rc;
	if (isnan(p->counts)) {
		snprintf(prec, sizeof(prec), "OFF");
	} else {
		if (!isfinite(p->counts) || p->counts < 1 || p->counts > PRESET_COUNTS_MAX || floor(p->counts) != p->counts)
			return mg_fail(MG_ERR_ARG, ACQ_DOM, "counts preset %g: a whole number from 1 to %.0f is expected",
			               p->counts, PRESET_COUNTS_MAX);
		snprintf(prec, sizeof(prec), "%.0f", p->counts);
	}
	if (mg_kvlist_set(&prof->dp5, "PRET", pret, NULL) || mg_kvlist_set(&prof->dp5, "PRER", prer, NULL) ||
	    mg_kvlist_set(&prof->dp5, "PREC", prec, NULL))
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	return MG_OK;
}

/* A preset value as the DP5 writes it: a number, or OFF (0 is off too). */
static double preset_value(const mg_kvlist *c, const char *key)
{
	const char *v = mg_kvlist_get(c, key);
	double x;
	if (!v || mg_equals_ci(v, strlen(v), "OFF") || mg_parse_double(v, strlen(v), &x) != MG_OK || x <= 0)
		return NAN;
	return x;
}

mg_acq_presets mg_acq_presets_from_config(const mg_kvlist *config)
{
	mg_acq_presets p = mg_acq_presets_none();
	if (!config)
		return p;
	p.live_s = preset_value(config, "PRET");
	p.real_s = preset_value(config, "PRER");
	p.counts = preset_value(config, "PREC");
	return p;
}

/* One candidate: its value, target, and the instrument real seconds left. */
static void candidate(mg_acq_progress *best, double *best_left, const char *q, double value, double target,
                      double left_real, double wall_per_inst)
{
	double frac = target > 0 ? value / target : NAN;
	if (frac > 1)
		frac = 1;
	if (left_real < 0)
		left_real = 0;
	/* The preset that comes first: the least time left; without an estimate, the largest fraction. */
	int better;
	if (!strcmp(best->quantity, "none"))
		better = 1;
	else if (!isnan(left_real) && !isnan(*best_left))
		better = left_real < *best_left;
	else if (!isnan(left_real) != !isnan(*best_left))
		better = !isnan(left_real);
	else
		better = frac > best->fraction;
	if (!better)
		return;
	best->quantity = q;
	best->value = value;
	best->target = target;
	best->fraction = frac;
	*best_left = left_real;
	best->time_left_s = isnan(left_real) ? NAN : left_real * wall_per_inst;
}

void mg_acq_progress_compute(const mg_acq_presets *p, const mg_xrf_status *st, double wall_per_inst,
                             mg_acq_progress *out)
{
	out->quantity = "none";
	out->value = NAN;
	out->target = NAN;
	out->fraction = NAN;
	out->time_left_s = NAN;
	if (!st)
		return;
	if (!(wall_per_inst > 0) || !isfinite(wall_per_inst))
		wall_per_inst = 1;
	out->value = st->real_s;
	if (!p)
		return;
	double best_left = NAN;
	double real = st->real_s, acc = st->accumulation_s, counts = (double)st->slow_count;
	if (!isnan(p->live_s)) {
		double left = NAN;
		if (real > 0 && acc > 0)
			left = (p->live_s - acc) * (real / acc); /* live fraction so far */
		candidate(out, &best_left, "live_time", acc, p->live_s, left, wall_per_inst);
	}
	if (!isnan(p->real_s))
		candidate(out, &best_left, "real_time", real, p->real_s, p->real_s - real, wall_per_inst);
	if (!isnan(p->counts)) {
		double left = NAN;
		if (real > 0 && counts > 0)
			left = (p->counts - counts) / (counts / real);
		candidate(out, &best_left, "counts", counts, p->counts, left, wall_per_inst);
	}
	if (strcmp(out->quantity, "none") && (st->preset_reached || (!st->acquiring && out->fraction >= 1))) {
		out->time_left_s = 0;
		if (st->preset_reached)
			out->fraction = isnan(out->fraction) ? NAN : 1;
	}
}

const char *mg_acq_event_name(mg_acq_event_type type)
{
	switch (type) {
	case MG_ACQ_EV_STARTED:
		return "started";
	case MG_ACQ_EV_PROGRESS:
		return "progress";
	case MG_ACQ_EV_CHECKPOINT:
		return "checkpoint";
	case MG_ACQ_EV_SAVED:
		return "saved";
	case MG_ACQ_EV_ERROR:
		return "error";
	case MG_ACQ_EV_RESUMED:
		return "resumed";
	}
	return "unknown";
}
