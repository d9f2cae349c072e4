/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The accuracy audit (accuracy_audit.c): what it measures and records, and
 * its report (audit_report.c: statistics, the table, JSON). */
#ifndef MG_TEST_AUDIT_H
#define MG_TEST_AUDIT_H

#include <stdio.h>

#include "xrfgen.h"

typedef struct grade {
	const char *name;
	double nd, pr, dy, tb, co;
} grade;

#define NGRADE 7
extern const grade grades[NGRADE];

/* Elements recorded per spectrum (the table prints the first NTAB). */
#define NEL 6
#define NTAB 4
extern const int el_z[NEL];
extern const char *const el_sym[NEL];

enum { M_KRATIO, M_FP0, NMETH };
extern const char *const meth_key[NMETH];

typedef struct result {
	double wt, sigma;
	unsigned flags;
	int ok;
} result;

typedef struct record {
	int grade, repeat;
	double truth[NEL], truth_area[NEL], area[NEL];
	result r[NMETH][NEL];
	int fit_ok;
	size_t nwarn;    /* unexplained-peak warnings of the final fit */
	double chi2;
} record;

typedef struct physics_run {
	xrg_data data;
	int skipped;
	char reason[512];
	record *rec;
	size_t nrec;
	double seconds;
} physics_run;

typedef struct options {
	int repeats;
	double live_s;
	unsigned long seed;
	xrg_tube_model tube;
	double kv;
	int filter_z;
	double filter_um;
	double drift_pct;
	char instrument[512];
	const char *json;
	int verbose;
	int no_refine;    /* unknowns on the standards' calibration (a fast path with a stored one) */
	int no_reference; /* the engine's line shape as configured, nothing refined on a reference */
	int physics[3];
	int nphysics;
} options;

/* The table and progress: stdout, or stderr when the JSON goes to stdout. */
extern FILE *audit_out;
#define say(...) fprintf(audit_out, __VA_ARGS__)

/* The markdown table of one physics. */
void audit_print_table(const options *o, const physics_run *pr);
/* Everything as JSON (settings, grades, per physics the statistics and every spectrum). */
void audit_json_write(FILE *f, const options *o, const physics_run *runs, int nruns);

#endif
