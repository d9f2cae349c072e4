/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The accuracy audit's report: bias, coverage, LOD and detection statistics
 * per physics, element and method; the markdown table; the JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "magassay/quant.h"

/* ---------------------------------------------------------------- statistics */

typedef struct stat {
	int n;                        /* results */
	double bias_rel, bias_abs;    /* mean over spectra that hold the element */
	double worst_rel, worst_abs;  /* the grade whose mean is the largest in magnitude */
	int worst_rel_grade, worst_abs_grade;
	int npresent;
	double cover2, cover2_present;
	int absent, false_pos;        /* reported above the LOD where absent */
	int present02, detected02;    /* holding >= 0.2 wt%, of which reported above the LOD */
	double sigma_rel, sigma_abs;  /* mean stated σ where present: relative, wt% */
	double rms_z;                 /* rms of (w − truth)/σ over every result */
} stat;

static void stat_method(const physics_run *pr, int m, int e, stat *st)
{
	memset(st, 0, sizeof *st);
	double gr[NGRADE] = {0}, ga[NGRADE] = {0};
	int gn[NGRADE] = {0}, in2 = 0, in2p = 0;
	st->worst_rel_grade = st->worst_abs_grade = -1;
	for (size_t i = 0; i < pr->nrec; i++) {
		const record *rec = &pr->rec[i];
		const result *r = &rec->r[m][e];
		if (!r->ok)
			continue;
		double t = rec->truth[e];
		st->n++;
		if (r->sigma > 0)
			st->rms_z += (r->wt - t) * (r->wt - t) / (r->sigma * r->sigma);
		int covered = fabs(r->wt - t) <= 2 * r->sigma;
		in2 += covered;
		int above = !(r->flags & MG_QE_BELOW_LOD);
		if (t > 0) {
			st->npresent++;
			in2p += covered;
			st->bias_rel += r->wt / t - 1;
			st->bias_abs += r->wt - t;
			st->sigma_rel += r->sigma / t;
			st->sigma_abs += r->sigma;
			gr[rec->grade] += r->wt / t - 1;
			ga[rec->grade] += r->wt - t;
			gn[rec->grade]++;
		} else {
			st->absent++;
			st->false_pos += above;
		}
		if (t >= 0.2) {
			st->present02++;
			st->detected02 += above;
		}
	}
	st->cover2 = st->n ? (double)in2 / st->n : NAN;
	st->cover2_present = st->npresent ? (double)in2p / st->npresent : NAN;
	st->bias_rel = st->npresent ? st->bias_rel / st->npresent : NAN;
	st->bias_abs = st->npresent ? st->bias_abs / st->npresent : NAN;
	st->sigma_rel = st->npresent ? st->sigma_rel / st->npresent : NAN;
	st->sigma_abs = st->npresent ? st->sigma_abs / st->npresent : NAN;
	st->rms_z = st->n ? sqrt(st->rms_z / st->n) : NAN;
	st->worst_rel = st->worst_abs = NAN;
	for (int k = 0; k < NGRADE; k++) {
		if (!gn[k])
			continue;
		double r = gr[k] / gn[k], a = ga[k] / gn[k];
		if (st->worst_rel_grade < 0 || fabs(r) > fabs(st->worst_rel)) {
			st->worst_rel = r;
			st->worst_rel_grade = k;
		}
		if (st->worst_abs_grade < 0 || fabs(a) > fabs(st->worst_abs)) {
			st->worst_abs = a;
			st->worst_abs_grade = k;
		}
	}
}

typedef struct area_stat {
	int n;
	double bias, worst;
	int worst_grade;
} area_stat;

static void stat_area(const physics_run *pr, int e, area_stat *st)
{
	memset(st, 0, sizeof *st);
	double gs[NGRADE] = {0};
	int gn[NGRADE] = {0};
	st->worst_grade = -1;
	st->worst = NAN;
	for (size_t i = 0; i < pr->nrec; i++) {
		const record *rec = &pr->rec[i];
		if (!(rec->truth_area[e] > 0) || !isfinite(rec->area[e]))
			continue;
		double d = rec->area[e] / rec->truth_area[e] - 1;
		st->n++;
		st->bias += d;
		gs[rec->grade] += d;
		gn[rec->grade]++;
	}
	st->bias = st->n ? st->bias / st->n : NAN;
	for (int k = 0; k < NGRADE; k++)
		if (gn[k] && (st->worst_grade < 0 || fabs(gs[k] / gn[k]) > fabs(st->worst))) {
			st->worst = gs[k] / gn[k];
			st->worst_grade = k;
		}
}

/* ---------------------------------------------------------------- the table */

/* Nd, Pr, Dy relative (%), Tb absolute (wt%), as issue 14 reports them. */
static void cell_bias(char *buf, size_t size, int e, const stat *st)
{
	if (st->npresent == 0)
		snprintf(buf, size, "–");
	else if (e == 3)
		snprintf(buf, size, "%+.3f wt%% (%+.3f)", st->bias_abs, st->worst_abs);
	else
		snprintf(buf, size, "%+.1f %% (%+.1f)", 100 * st->bias_rel, 100 * st->worst_rel);
}

void audit_print_table(const options *o, const physics_run *pr)
{
	say("\n### %s (tube %s %.0f kV, %d grades x %d repeats of %.0f s, gain drift %+.1f %%; %.0f s)\n\n",
	       xrg_data_name(pr->data), xrg_tube_name(o->tube), o->kv, NGRADE, o->repeats, o->live_s, o->drift_pct,
	       pr->seconds);
	if (pr->skipped) {
		say("skipped: %s\n", pr->reason);
		return;
	}
	char c[NTAB][64];
	say("| | Nd | Pr | Dy | Tb |\n|---|---|---|---|---|\n");
	say("| family area, bias (worst grade) |");
	for (int e = 0; e < NTAB; e++) {
		area_stat a;
		stat_area(pr, e, &a);
		if (a.n)
			say(" %+.1f %% (%+.1f) |", 100 * a.bias, 100 * a.worst);
		else
			say(" – |");
	}
	say("\n");
	static const char *const what[NMETH] = {"with standards", "standardless FP"};
	for (int m = 0; m < NMETH; m++) {
		stat st[NTAB];
		for (int e = 0; e < NTAB; e++)
			stat_method(pr, m, e, &st[e]);
		say("| wt%% %s, bias (worst grade) |", what[m]);
		for (int e = 0; e < NTAB; e++) {
			cell_bias(c[e], sizeof c[e], e, &st[e]);
			say(" %s |", c[e]);
		}
		say("\n| stated 2σ covers the truth, %s |", what[m]);
		for (int e = 0; e < NTAB; e++)
			say(" %.0f %% |", 100 * st[e].cover2);
		say("\n| stated σ, mean (rms of z = error/σ), %s |", what[m]);
		for (int e = 0; e < NTAB; e++)
			if (e == 3)
				say(" %.3f wt%% (%.2f) |", st[e].sigma_abs, st[e].rms_z);
			else
				say(" %.1f %% (%.2f) |", 100 * st[e].sigma_rel, st[e].rms_z);
		say("\n| above the LOD where absent, %s |", what[m]);
		for (int e = 0; e < NTAB; e++)
			say(e >= 2 ? " %d of %d |" : " – |", st[e].false_pos, st[e].absent);
		say("\n| detected where ≥ 0.2 wt%%, %s |", what[m]);
		for (int e = 0; e < NTAB; e++)
			say(" %d of %d |", st[e].detected02, st[e].present02);
		say("\n");
	}
	size_t warned = 0, failed = 0;
	for (size_t i = 0; i < pr->nrec; i++) {
		warned += pr->rec[i].nwarn > 0;
		failed += !pr->rec[i].fit_ok;
	}
	say("\nworst grades (with standards):");
	for (int e = 0; e < NTAB; e++) {
		stat st;
		stat_method(pr, M_KRATIO, e, &st);
		int k = e == 3 ? st.worst_abs_grade : st.worst_rel_grade;
		say(" %s %s;", el_sym[e], k >= 0 ? grades[k].name : "–");
	}
	say("\n%zu spectra, %zu failed, %zu with an unexplained-peak warning\n", pr->nrec, failed, warned);
}

/* ---------------------------------------------------------------- JSON */

static void jnum(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fprintf(f, "null");
}

static void json_stat(FILE *f, const stat *st)
{
	fprintf(f, "{\"n\": %d, \"present\": %d, \"bias_rel\": ", st->n, st->npresent);
	jnum(f, st->bias_rel);
	fprintf(f, ", \"bias_rel_worst\": ");
	jnum(f, st->worst_rel);
	fprintf(f, ", \"bias_rel_worst_grade\": %d, \"bias_abs_wt_pct\": ", st->worst_rel_grade);
	jnum(f, st->bias_abs);
	fprintf(f, ", \"bias_abs_worst_wt_pct\": ");
	jnum(f, st->worst_abs);
	fprintf(f, ", \"bias_abs_worst_grade\": %d, \"coverage_2s\": ", st->worst_abs_grade);
	jnum(f, st->cover2);
	fprintf(f, ", \"coverage_2s_present\": ");
	jnum(f, st->cover2_present);
	fprintf(f, ", \"sigma_rel\": ");
	jnum(f, st->sigma_rel);
	fprintf(f, ", \"sigma_abs_wt_pct\": ");
	jnum(f, st->sigma_abs);
	fprintf(f, ", \"rms_z\": ");
	jnum(f, st->rms_z);
	fprintf(f, ", \"absent\": %d, \"above_lod_where_absent\": %d, \"present_ge_0_2\": %d, \"detected_ge_0_2\": %d}",
	        st->absent, st->false_pos, st->present02, st->detected02);
}

void audit_json_write(FILE *f, const options *o, const physics_run *runs, int nruns)
{
	fprintf(f, "{\n\"audit\": \"accuracy\", \"version\": 1,\n");
	fprintf(f, "\"settings\": {\"repeats\": %d, \"live_s\": %g, \"seed\": %lu, \"tube\": \"%s\", \"kv\": %g, "
	           "\"filter_z\": %d, \"filter_um\": %g, \"gain_drift_pct\": %g, \"refine_unknowns\": %s, "
	           "\"reference\": %s},\n",
	        o->repeats, o->live_s, o->seed, xrg_tube_name(o->tube), o->kv, o->filter_z, o->filter_um, o->drift_pct,
	        o->no_refine ? "false" : "true", o->no_reference ? "false" : "true");
	fprintf(f, "\"grades\": [");
	for (int k = 0; k < NGRADE; k++)
		fprintf(f, "%s\n  {\"name\": \"%s\", \"Nd\": %g, \"Pr\": %g, \"Dy\": %g, \"Tb\": %g, \"Co\": %g}", k ? "," : "",
		        grades[k].name, grades[k].nd, grades[k].pr, grades[k].dy, grades[k].tb, grades[k].co);
	fprintf(f, "],\n\"physics\": [");
	for (int p = 0; p < nruns; p++) {
		const physics_run *pr = &runs[p];
		fprintf(f, "%s\n {\"name\": \"%s\", \"skipped\": %s, \"reason\": \"", p ? "," : "", xrg_data_name(pr->data),
		        pr->skipped ? "true" : "false");
		for (const char *c = pr->reason; *c; c++)
			if (*c == '"' || *c == '\\')
				fprintf(f, "\\%c", *c);
			else if ((unsigned char)*c >= 0x20)
				fputc(*c, f);
		fprintf(f, "\", \"seconds\": %.1f,\n  \"elements\": {", pr->seconds);
		for (int e = 0; e < NEL && !pr->skipped; e++) {
			area_stat a;
			stat_area(pr, e, &a);
			fprintf(f, "%s\n   \"%s\": {\"area\": {\"n\": %d, \"bias_rel\": ", e ? "," : "", el_sym[e], a.n);
			jnum(f, a.bias);
			fprintf(f, ", \"bias_rel_worst\": ");
			jnum(f, a.worst);
			fprintf(f, ", \"worst_grade\": %d}", a.worst_grade);
			for (int m = 0; m < NMETH; m++) {
				stat st;
				stat_method(pr, m, e, &st);
				fprintf(f, ",\n    \"%s\": ", meth_key[m]);
				json_stat(f, &st);
			}
			fprintf(f, "}");
		}
		fprintf(f, "},\n  \"spectra\": [");
		for (size_t i = 0; i < pr->nrec; i++) {
			const record *rec = &pr->rec[i];
			fprintf(f, "%s\n   {\"grade\": %d, \"repeat\": %d, \"chi2\": ", i ? "," : "", rec->grade, rec->repeat);
			jnum(f, rec->chi2);
			fprintf(f, ", \"warnings\": %zu", rec->nwarn);
			for (int e = 0; e < NEL; e++) {
				fprintf(f, ", \"%s\": {\"truth\": %g, \"truth_area\": ", el_sym[e], rec->truth[e]);
				jnum(f, rec->truth_area[e]);
				fprintf(f, ", \"area\": ");
				jnum(f, rec->area[e]);
				for (int m = 0; m < NMETH; m++) {
					const result *r = &rec->r[m][e];
					fprintf(f, ", \"%s\": ", meth_key[m]);
					if (!r->ok) {
						fprintf(f, "null");
						continue;
					}
					fprintf(f, "{\"wt\": ");
					jnum(f, r->wt);
					fprintf(f, ", \"sigma\": ");
					jnum(f, r->sigma);
					fprintf(f, ", \"below_lod\": %s}", (r->flags & MG_QE_BELOW_LOD) ? "true" : "false");
				}
				fprintf(f, "}");
			}
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n]\n}\n");
}
