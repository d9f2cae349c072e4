/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The accuracy audit of issue 14: how right the suite is, as bias and
 * coverage over many spectra, on spectra made with OTHER physics than its own
 * (tests/xrfgen/xrfgen.h: another tube model, a scattered background with the
 * sample's absorption edges, its own detector response, escape and pile-up,
 * and three sources of line data: xraylib, xraylib perturbed ±10 %, PyMca's
 * fisx). No proof by symmetry: the suite's forward model is not used.
 *
 * Seven magnet grades over the grade range (Nd 20–31, Pr 0–8, Dy 0–10,
 * Tb 0–1.5, Co 0–5 wt%; Dy-free and Tb-free magnets, Tb 0.2–1.5 wt%), N
 * Poisson repeats each, analysed the way a lab does (as test_quant_ndfeb):
 * the engine's calibration and line shape refined once on a long reference
 * measurement, pure Fe, Co, Nd, Pr, Dy, Tb standards made by the same
 * generator measured with their composition as the matrix, every unknown
 * (measured with a gain drift) refined for offset and gain, then quantified
 * by mg_quant_analyzer with k-ratios against the pure standards and by
 * standardless FP. Printed per line-data physics and element: family-area
 * bias, wt% bias (mean and worst grade), how often the stated 2σ covers the
 * truth, Dy/Tb reported above the LOD where absent, Tb detected where it
 * holds ≥ 0.2 wt%. With the perturbed data every repeat is another draw of
 * the database (seed, seed + 1, ...) with its own reference and standards.
 * No thresholds (yet): the ctest run checks only that it ran.
 * docs/validation-accuracy.md has today's figures and the command.
 *
 *   accuracy_audit [--repeats N] [--live S] [--physics xraylib,perturbed,fisx]
 *                  [--seed N] [--tube kramers|depth] [--kv KV] [--filter EL:UM]
 *                  [--drift PCT] [--instrument FILE] [--json FILE|-] [--verbose]
 *                  [--no-refine] [--no-reference]
 * The last two leave out a step of the recipe, to see what it is worth. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xraylib.h>

#include "magassay/error.h"
#include "magassay/log.h"
#include "magassay/quant.h"
#include "audit.h"
#include "xrfgen.h"

#define NCH 2048
#define ELEMENTS "Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb"
#define FP_ELEMENTS "Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb,B"

/* ---------------------------------------------------------------- what is measured */

const grade grades[NGRADE] = {
	{"N, Nd only", 31.0, 0.0, 0.0, 0.0, 0.0},     {"N, didymium", 24.5, 6.5, 0.0, 0.2, 1.0},
	{"M-H", 23.0, 6.0, 1.2, 0.0, 1.5},            {"SH", 22.0, 5.5, 3.0, 0.5, 2.0},
	{"UH", 21.0, 4.0, 6.0, 1.0, 3.0},             {"EH", 20.0, 3.0, 10.0, 0.0, 5.0},
	{"GBD, Tb-diffused", 26.0, 8.0, 0.5, 1.5, 0.5},
};
static const grade reference = {"reference N42", 23.0, 6.5, 0.5, 0.0, 1.0};

static const int pure_z[] = {26, 27, 60, 59, 66, 65};
#define NPURE 6

const int el_z[NEL] = {60, 59, 66, 65, 27, 26};
const char *const el_sym[NEL] = {"Nd", "Pr", "Dy", "Tb", "Co", "Fe"};
const char *const meth_key[NMETH] = {"kratio", "fp_standardless"};

static void usage(FILE *f)
{
	fprintf(f, "usage: accuracy_audit [--repeats N] [--live S] [--physics xraylib,perturbed,fisx] [--seed N]\n"
	           "                      [--tube kramers|depth] [--kv KV] [--filter EL:UM] [--drift PCT]\n"
	           "                      [--instrument FILE] [--json FILE|-] [--verbose] [--no-refine] [--no-reference]\n"
	           "Bias and coverage of the suite's quantification on spectra made with other physics\n"
	           "(tests/xrfgen): 7 magnet grades x N Poisson repeats per line-data physics.\n"
	           "Defaults: --repeats 2 --live 300 --physics xraylib,perturbed,fisx --seed 1 --tube kramers\n"
	           "          --kv 40 --drift 0.3 --instrument examples/instruments/benchtop-sdd.ini\n"
	           "--no-refine: unknowns fitted on the standards' calibration (no offset/gain refinement);\n"
	           "--no-reference: the configured line shape (nothing refined on a reference magnet).\n");
}

static int parse_options(int argc, char **argv, options *o)
{
	memset(o, 0, sizeof *o);
	o->repeats = 2;
	o->live_s = 300;
	o->seed = 1;
	o->tube = XRG_TUBE_KRAMERS;
	o->kv = 40;
	o->drift_pct = 0.3;
	snprintf(o->instrument, sizeof o->instrument, "%s/examples/instruments/benchtop-sdd.ini", MG_SOURCE_DIR);
	o->physics[0] = XRG_DATA_XRAYLIB;
	o->physics[1] = XRG_DATA_PERTURBED;
	o->physics[2] = XRG_DATA_FISX;
	o->nphysics = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--verbose") == 0) {
			o->verbose = 1;
			continue;
		} else if (strcmp(a, "--no-refine") == 0) {
			o->no_refine = 1;
			continue;
		} else if (strcmp(a, "--no-reference") == 0) {
			o->no_reference = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "accuracy_audit: %s needs a value\n", a);
			return -1;
		}
		i++;
		char *end = NULL;
		if (strcmp(a, "--repeats") == 0) {
			o->repeats = (int)strtol(v, &end, 10);
			if (*end || o->repeats < 1 || o->repeats > 1000)
				goto bad;
		} else if (strcmp(a, "--live") == 0) {
			o->live_s = strtod(v, &end);
			if (*end || !(o->live_s > 0))
				goto bad;
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = strtoul(v, &end, 10);
			if (*end)
				goto bad;
		} else if (strcmp(a, "--kv") == 0) {
			o->kv = strtod(v, &end);
			if (*end || !(o->kv >= 10 && o->kv <= 60))
				goto bad;
		} else if (strcmp(a, "--drift") == 0) {
			o->drift_pct = strtod(v, &end);
			if (*end || fabs(o->drift_pct) > 5)
				goto bad;
		} else if (strcmp(a, "--tube") == 0) {
			if (strcmp(v, "kramers") == 0)
				o->tube = XRG_TUBE_KRAMERS;
			else if (strcmp(v, "depth") == 0)
				o->tube = XRG_TUBE_DEPTH;
			else
				goto bad;
		} else if (strcmp(a, "--filter") == 0) {
			char sym[4] = "";
			if (sscanf(v, "%3[A-Za-z]:%lf", sym, &o->filter_um) != 2 || !(o->filter_um > 0) ||
			    (o->filter_z = SymbolToAtomicNumber(sym, NULL)) < 1)
				goto bad;
		} else if (strcmp(a, "--instrument") == 0) {
			snprintf(o->instrument, sizeof o->instrument, "%s", v);
		} else if (strcmp(a, "--json") == 0) {
			o->json = v;
		} else if (strcmp(a, "--physics") == 0) {
			o->nphysics = 0;
			char buf[128];
			snprintf(buf, sizeof buf, "%s", v);
			for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
				int d = strcmp(tok, "xraylib") == 0     ? XRG_DATA_XRAYLIB
				        : strcmp(tok, "perturbed") == 0 ? XRG_DATA_PERTURBED
				        : strcmp(tok, "fisx") == 0      ? XRG_DATA_FISX
				                                        : -1;
				if (d < 0 || o->nphysics == 3)
					goto bad;
				o->physics[o->nphysics++] = d;
			}
			if (o->nphysics == 0)
				goto bad;
		} else {
			fprintf(stderr, "accuracy_audit: unknown option %s\n", a);
			usage(stderr);
			return -1;
		}
		continue;
	bad:
		fprintf(stderr, "accuracy_audit: bad value for %s: '%s'\n", a, v);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- the lab */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

FILE *audit_out;

static unsigned long nlogwarn;
static int verbose;

static void log_handler(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	if (level <= MG_LOG_WARN) {
		nlogwarn++;
		if (verbose)
			fprintf(stderr, "[%s] %s\n", domain, msg);
	}
}

static void make_magnet(xrg_sample *s, const grade *g)
{
	xrg_sample_magnet(s, g->name, g->nd, g->pr, g->dy, g->tb, g->co);
}

/* Expected counts of a sample, then a Poisson draw (seed 0: the means). */
static int measure(xrg_gen *g, const xrg_sample *s, double live, unsigned long seed, double *y, xrg_truth *t)
{
	int rc = xrg_expected(g, s, live, y, t);
	if (rc == 0 && seed)
		xrg_poisson(seed, y, y, NCH);
	return rc;
}

/* Everything a lab sets up once per instrument: the engine's configuration
 * refined on the reference, the standards, the two quantifications. */
typedef struct lab {
	mg_instrument_desc ins;
	mg_analysis_config base;
	mg_quant *q[NMETH];
} lab;

static void lab_free(lab *L)
{
	for (int m = 0; m < NMETH; m++)
		mg_quant_free(L->q[m]);
	memset(L->q, 0, sizeof L->q);
}

static int lab_setup(lab *L, xrg_gen *g, const options *o, double ua)
{
	double *y = malloc(NCH * sizeof(double));
	int rc = -1;
	mg_quant_standard *pure = calloc(NPURE, sizeof *pure);
	mg_analysis_result *r = NULL;
	mg_analysis_plan *p = NULL;
	mg_quant_analyzer *an = NULL;
	if (!y || !pure)
		goto out;
	mg_analysis_config_default(&L->base);
	L->base.nchan = NCH;
	L->base.cal = (mg_energy_cal){1, 0.0, 0.02, 0};
	snprintf(L->base.elements, sizeof L->base.elements, ELEMENTS);
	mg_instrument_desc_to_analysis(&L->ins, &L->base);
	/* 1000 s of the reference magnet: calibration and line shape refined */
	xrg_sample s;
	make_magnet(&s, &reference);
	if (o->no_reference) {
		say("reference: none, the configured line shape\n");
	} else if (measure(g, &s, 1000, 99, y, NULL)) {
		fprintf(stderr, "accuracy_audit: generator: %s\n", xrg_error());
		goto out;
	} else {
		if (mg_analysis_run(&L->base, y, NCH, 1000, MG_REFINE_DEFAULT | MG_REFINE_TAIL | MG_REFINE_STEP, &r,
		                    &p) < 0) {
			fprintf(stderr, "accuracy_audit: reference fit: %s\n", mg_error_detail());
			goto out;
		}
		const mg_analysis_config *pc = mg_analysis_plan_config(p);
		L->base.cal = pc->cal;
		L->base.det = pc->det;
		say("reference: gain %.6f keV/ch, noise %.4f, Fano %.4f, tail %.4f/%.3f keV, chi2 %.2f\n",
		    L->base.cal.gain_kev, L->base.det.noise_kev, L->base.det.fano, L->base.det.tail_fraction,
		    L->base.det.tail_slope_kev, r->chi2_reduced);
	}
	/* the pure standards, fitted with their own composition as the matrix */
	if (mg_quant_analyzer_new(NULL, &L->base, 0, &an) < 0)
		goto out;
	for (int i = 0; i < NPURE; i++) {
		xrg_sample ps;
		xrg_sample_pure(&ps, pure_z[i]);
		if (measure(g, &ps, o->live_s, 100 + (unsigned long)i, y, NULL)) {
			fprintf(stderr, "accuracy_audit: generator: %s\n", xrg_error());
			goto out;
		}
		mg_quant_standard *st = &pure[i];
		snprintf(st->name, sizeof st->name, "%s", ps.name);
		mg_quant_comp_set(&st->comp, pure_z[i], 0.999, 0.001);
		if (mg_quant_analyzer_run(an, y, NCH, o->live_s, ua, st->name, &st->comp, 0, &st->meas, NULL, NULL, 0,
		                          NULL) < 0) {
			fprintf(stderr, "accuracy_audit: standard %s: %s\n", st->name, mg_error_detail());
			goto out;
		}
	}
	mg_quant_options qo;
	mg_quant_options_default(&qo);
	qo.method = MG_QUANT_KRATIO;
	if (mg_quant_new(&L->ins, FP_ELEMENTS, &qo, pure, NPURE, NULL, &L->q[M_KRATIO]) < 0 ||
	    (qo.method = MG_QUANT_FP, mg_quant_new(&L->ins, FP_ELEMENTS, &qo, NULL, 0, NULL, &L->q[M_FP0])) < 0) {
		fprintf(stderr, "accuracy_audit: quantification: %s\n", mg_error_detail());
		goto out;
	}
	rc = 0;
out:
	mg_quant_analyzer_free(an);
	mg_analysis_result_free(r);
	mg_analysis_plan_free(p);
	free(pure);
	free(y);
	return rc;
}

/* One unknown: offset and gain refined (the drift), then both methods. */
static void analyse(const lab *L, const double *y, double live, double ua, int refine, record *rec)
{
	mg_analysis_config cu = L->base;
	mg_analysis_plan *p = NULL;
	if (refine && mg_analysis_plan_new(&L->base, &p) == 0) {
		mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
		mg_analysis_refinement rf;
		if (ctx && mg_analysis_refine(p, ctx, y, NCH, MG_REFINE_OFFSET | MG_REFINE_GAIN, &rf) == 0)
			cu.cal = rf.cal;
		mg_analysis_ctx_free(ctx);
		mg_analysis_plan_free(p);
	}
	mg_quant_analyzer *an = NULL;
	if (mg_quant_analyzer_new(L->q[M_KRATIO], &cu, 0, &an) < 0)
		return;
	for (int m = 0; m < NMETH; m++) {
		mg_quant_result res;
		mg_quant_meas meas;
		mg_quant_analyzer_set_quant(an, L->q[m]);
		if (mg_quant_analyzer_run(an, y, NCH, live, ua, "unknown", NULL, 0, &meas, &res, NULL, 0, NULL) < 0) {
			if (verbose)
				fprintf(stderr, "  %s: %s\n", meth_key[m], mg_error_detail());
			continue;
		}
		for (int e = 0; e < NEL; e++) {
			const mg_quant_element *q = mg_quant_result_find(&res, el_z[e]);
			if (q)
				rec->r[m][e] = (result){q->wt_pct, q->sigma, q->flags, 1};
			if (m == M_KRATIO) {
				const mg_quant_line *ln = mg_quant_meas_find(&meas, el_z[e], NULL);
				rec->area[e] = ln ? ln->area : NAN;
			}
		}
		if (m == M_KRATIO) {
			const mg_analysis_result *fit = mg_quant_analyzer_last_fit(an);
			rec->fit_ok = fit != NULL;
			rec->nwarn = fit ? fit->nwarnings : 0;
			rec->chi2 = fit ? fit->chi2_reduced : NAN;
			for (size_t w = 0; verbose && fit && w < fit->nwarnings; w++)
				fprintf(stderr, "    fit warning: %s\n", fit->warnings[w].text);
		}
	}
	mg_quant_analyzer_free(an);
}

/* One world: a generator (one draw of the line data), its lab, its unknowns:
 * grades × `nrep` repeats, numbered from rep0. */
static int run_world(const options *o, xrg_data data, unsigned long seed, int rep0, int nrep, physics_run *pr)
{
	xrg_config c;
	xrg_config_default(&c);
	c.data = data;
	c.seed = seed;
	c.tube.model = o->tube;
	c.tube.kv = o->kv;
	c.tube.filter_z = o->filter_z;
	c.tube.filter_um = o->filter_um;
	xrg_gen *g = NULL;
	int rc = xrg_new(&c, &g);
	if (rc == XRG_SKIP) {
		pr->skipped = 1;
		snprintf(pr->reason, sizeof pr->reason, "%s", xrg_error());
		say("%s: skipped: %s\n", xrg_data_name(data), pr->reason);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "accuracy_audit: generator %s: %s\n", xrg_data_name(data), xrg_error());
		return -1;
	}
	/* fisx: every sample in one run of Python */
	xrg_sample all[NGRADE + NPURE + 1];
	make_magnet(&all[0], &reference);
	for (int i = 0; i < NPURE; i++)
		xrg_sample_pure(&all[1 + i], pure_z[i]);
	for (int i = 0; i < NGRADE; i++)
		make_magnet(&all[1 + NPURE + i], &grades[i]);
	lab L;
	memset(&L, 0, sizeof L);
	double *mean = malloc(NCH * sizeof(double)), *y = malloc(NCH * sizeof(double));
	rc = -1;
	if (!mean || !y)
		goto out;
	if (xrg_prepare(g, all, NGRADE + NPURE + 1)) {
		fprintf(stderr, "accuracy_audit: %s: %s\n", xrg_data_name(data), xrg_error());
		goto out;
	}
	if (mg_instrument_desc_read_file(o->instrument, &L.ins) < 0) {
		fprintf(stderr, "accuracy_audit: instrument file: %s\n", mg_error_detail());
		goto out;
	}
	/* the lab knows its tube's voltage and filter */
	L.ins.kv = o->kv;
	if (o->filter_z) {
		char *sym = AtomicNumberToSymbol(o->filter_z, NULL);
		snprintf(L.ins.filter, sizeof L.ins.filter, "%s", sym ? sym : "");
		xrlFree(sym);
		L.ins.filter_um = o->filter_um;
	}
	double ua = c.tube.current_ua;
	if (lab_setup(&L, g, o, ua))
		goto out;
	/* the unknowns, with the gain drift against the standards */
	xrg_set_calibration(g, c.offset, c.gain * (1 + o->drift_pct / 100), c.quad);
	for (int k = 0; k < NGRADE; k++) {
		xrg_sample s;
		xrg_truth t;
		make_magnet(&s, &grades[k]);
		if (xrg_expected(g, &s, o->live_s, mean, &t)) {
			fprintf(stderr, "accuracy_audit: generator: %s\n", xrg_error());
			goto out;
		}
		for (int r = rep0; r < rep0 + nrep; r++) {
			record *rec = &pr->rec[pr->nrec++];
			rec->grade = k;
			rec->repeat = r;
			for (int e = 0; e < NEL; e++) {
				rec->truth[e] = xrg_sample_wt(&s, el_z[e]);
				rec->truth_area[e] = xrg_truth_area(&t, el_z[e], el_z[e] < 50 ? 'K' : 'L');
				rec->area[e] = NAN;
			}
			xrg_poisson(1000000ul * (unsigned long)(data + 1) + 1000ul * (unsigned long)k + (unsigned long)r + 1,
			            mean, y, NCH);
			analyse(&L, y, o->live_s, ua, !o->no_refine, rec);
			if (o->verbose) {
				say("  %-16s #%d:", grades[k].name, r + 1);
				for (int e = 0; e < NTAB; e++)
					say(" %s %.3f/%.3f(%.3f)", el_sym[e], rec->r[M_KRATIO][e].wt, rec->truth[e],
					    rec->r[M_KRATIO][e].sigma);
				say("  chi2 %.2f\n", rec->chi2);
			}
		}
	}
	rc = 0;
out:
	free(mean);
	free(y);
	lab_free(&L);
	xrg_free(g);
	return rc;
}

/* One line-data physics. PERTURBED: every repeat is another draw of the data
 * (seed, seed + 1, ...) with its own reference and standards, so the figures
 * are over the spread of plausible databases, not one lucky or unlucky draw. */
static int run_physics(const options *o, xrg_data data, physics_run *pr)
{
	double t0 = now();
	memset(pr, 0, sizeof *pr);
	pr->data = data;
	pr->rec = calloc((size_t)(NGRADE * o->repeats), sizeof *pr->rec);
	if (!pr->rec)
		return -1;
	say("\n%s: line data %s, tube %s %.0f kV%s\n", xrg_data_name(data), xrg_data_name(data),
	    xrg_tube_name(o->tube), o->kv, o->filter_z ? " filtered" : "");
	int nworld = data == XRG_DATA_PERTURBED ? o->repeats : 1, per = data == XRG_DATA_PERTURBED ? 1 : o->repeats;
	for (int w = 0; w < nworld && !pr->skipped; w++) {
		if (nworld > 1)
			say("draw %d of the line data (seed %lu)\n", w + 1, o->seed + (unsigned long)w);
		if (run_world(o, data, o->seed + (unsigned long)w, w * per, per, pr))
			return -1;
	}
	pr->seconds = now() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	options o;
	if (parse_options(argc, argv, &o))
		return 2;
	verbose = o.verbose;
	audit_out = o.json && strcmp(o.json, "-") == 0 ? stderr : stdout;
	setvbuf(audit_out, NULL, _IOLBF, 0); /* progress shows as it goes */
	mg_log_set_handler(log_handler, NULL);
	say("accuracy audit: %d grades x %d repeats of %.0f s, gain drift %+.2f %%, tube %s %.0f kV, seed %lu\n",
	       NGRADE, o.repeats, o.live_s, o.drift_pct, xrg_tube_name(o.tube), o.kv, o.seed);
	physics_run runs[3];
	int nruns = 0, failed = 0;
	for (int p = 0; p < o.nphysics; p++) {
		if (run_physics(&o, (xrg_data)o.physics[p], &runs[nruns]) < 0) {
			failed = 1;
			break;
		}
		nruns++;
	}
	for (int p = 0; p < nruns; p++)
		audit_print_table(&o, &runs[p]);
	say("\nlibrary warnings logged: %lu%s\n", nlogwarn, nlogwarn && !o.verbose ? " (--verbose shows them)" : "");
	if (o.json && !failed) {
		FILE *f = strcmp(o.json, "-") == 0 ? stdout : fopen(o.json, "w");
		if (!f) {
			fprintf(stderr, "accuracy_audit: cannot write %s\n", o.json);
			failed = 1;
		} else {
			audit_json_write(f, &o, runs, nruns);
			if (f != stdout && fclose(f) != 0)
				failed = 1;
		}
	}
	for (int p = 0; p < nruns; p++)
		free(runs[p].rec);
	return failed ? 1 : 0;
}
