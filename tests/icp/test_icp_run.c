/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES runner end to end against a fake instrument (fake_icp.h: this
 * test's own line physics, not the simulator's): a full sequence with
 * calibration, ICV/ICB, LLOQ check, NdFeB digests, duplicate, matrix spike,
 * CRM, method blank, CCV/CCB brackets; mass fractions against the truth;
 * every QC outcome; a CCV failure flagging the samples since the last good
 * CCV; a device error mid-run (clear error, what was measured kept);
 * results, measurements and versioned calibrations in the store; the same
 * readings through the vendor CSV path (intensities, and concentrations
 * only); a stop from the event callback. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_icp.h"
#include "magassay/error.h"
#include "magassay/icp_analysis.h"
#include "magassay/sequence.h"
#include "magassay/store.h"

static const char method_text[] =
	"# test method for the fake instrument\n"
	"[method]\nname = test-ndfeb\nmatrix = Fe, Nd\nreplicates = 3\nintegration_s = 1\n"
	"internal_standard = Y 371.030\nshape = pseudo-voigt\nbackground = linear\nfit_half_width_nm = 0.057\n"
	"total_other_pct = 0.25\n"
	"[digest]\nmass_g = 0.1000\nu_mass_g = 0.0001\nvolume_ml = 100\nu_volume_ml = 0.08\ndilution = 10\n"
	"u_dilution_rel = 0.002\n"
	"[analyte Nd]\nline = 430.358\ncurve = quadratic\nlloq = 0.2\n"
	"[analyte Pr]\ncurve = weighted-1/x\nline = 414.311\nlloq = 0.1\n"
	"[analyte Dy]\ncurve = weighted-1/x\nline = 353.170\nlloq = 0.05\n"
	"[analyte Tb]\ncurve = weighted-1/x\nline = 350.917\nlloq = 0.02\n"
	"[analyte Fe]\nline = 259.940\ncurve = quadratic\nlloq = 0.5\n"
	"[analyte Co]\ncurve = weighted-1/x\nline = 228.616\nlloq = 0.05\n"
	"[analyte B]\ncurve = weighted-1/x\nline = 208.957   # B 249.773 has Fe 249.782 on it\nalt = 249.773\nlloq = 0.05\n"
	"[standard STD1]\nNd = 4\nPr = 1\nDy = 1\nTb = 0.2\nCo = 0.3\nB = 0.2\n"
	"[standard STD2]\nNd = 10\nPr = 2.5\nDy = 2.5\nTb = 0.5\nCo = 0.75\nB = 0.5\n"
	"[standard STD3]\nNd = 20\nPr = 5\nDy = 5\nTb = 1\nCo = 1.5\nB = 1\n"
	"[standard STD4]\nNd = 40\nPr = 10\nDy = 10\nTb = 2\nCo = 3\nB = 2\n"
	"[standard FE1]\nFe = 20\n[standard FE2]\nFe = 50\n[standard FE3]\nFe = 100\n"
	"[check ICV]\nNd = 15\nPr = 4\nDy = 4\nTb = 0.8\nFe = 60\nCo = 1.2\nB = 0.8\n"
	"[check CCV]\nNd = 20\nPr = 5\nDy = 5\nTb = 1\nFe = 50\nCo = 1.5\nB = 1\n"
	"[check LLOQ]\nNd = 0.2\nPr = 0.1\nDy = 0.05\nTb = 0.02\nFe = 0.5\nCo = 0.05\nB = 0.05\n"
	"[spike SPK]\nNd = 5\nPr = 2\nDy = 2\nTb = 0.5\nFe = 20\nCo = 0.5\nB = 0.5\n"
	"[crm CRM-N48]\nNd = 24.0 ± 0.2\nPr = 5.8 ± 0.1\nDy = 2.0 ± 0.05\nTb = 0.40 ± 0.02\nFe = 65.5 ± 0.4\n"
	"Co = 1.10 ± 0.03\nB = 0.95 ± 0.03\n";

/* wt% of the samples: Nd Pr Dy Tb Fe Co B (the rest 0.25 % not measured) */
typedef struct grade {
	const char *label;
	double w[7];
	double mass_g;
} grade;

static const grade grades[] = {
	{"S01", {23.5, 6.5, 0.6, 0.05, 66.35, 1.0, 1.0}, 0.1},
	{"S02", {25.0, 6.2, 0.3, 0.10, 66.25, 0.95, 0.95}, 0.1},
	{"S03", {21.0, 5.0, 4.5, 0.80, 66.0, 1.5, 0.95}, 0.1},
	{"S04", {19.0, 4.5, 7.5, 1.20, 64.45, 2.1, 1.0}, 0.1},
	{"S05", {24.0, 5.8, 2.0, 0.40, 65.55, 1.05, 0.95}, 0.1},
	{"S06", {22.0, 6.0, 1.0, 0.20, 67.45, 1.1, 2.0}, 0.1},
	{"S07", {26.0, 3.0, 3.0, 0.50, 64.95, 1.3, 1.0}, 0.1},
	{"S08", {20.5, 5.5, 5.5, 1.00, 64.75, 1.5, 1.0}, 0.1},
	{"S09", {23.0, 6.0, 1.5, 0.30, 66.7, 1.25, 1.0}, 0.1},
	{"S01-D", {23.5, 6.5, 0.6, 0.05, 66.35, 1.0, 1.0}, 0.105},
	{"CRM1", {24.0, 5.8, 2.0, 0.40, 65.5, 1.10, 0.95}, 0.1},
};

static const char sequence_text[] =
	"# fake run\n"
	"batch = FAKE-LOT-1\noperator = test\n"
	"position,type,label,solution,of,mass_g,volume_ml,dilution,notes\n"
	"1,cal-blank,CAL0,,,,,,\n"
	"2,cal-std,STD1,STD1,,,,,\n3,cal-std,STD2,STD2,,,,,\n4,cal-std,STD3,STD3,,,,,\n5,cal-std,STD4,STD4,,,,,\n"
	"6,cal-std,FE1,FE1,,,,,\n7,cal-std,FE2,FE2,,,,,\n8,cal-std,FE3,FE3,,,,,\n"
	"9,icv,ICV,,,,,,\n1,icb,ICB,,,,,,\n10,lloq,LLOQ,,,,,,\n"
	"21,sample,S01,,,,,,N42 from motor\n22,sample,S02,,,,,,\n23,dup,S01-D,,S01,0.105,,,\n"
	"24,spike,S02-MS,SPK,S02,,,,\n25,sample,S03,,,,,,\n26,crm,CRM1,CRM-N48,,,,,\n"
	"11,ccv,CCV,,,,,,\n1,ccb,CCB,,,,,,\n"
	"27,sample,S04,,,,,,\n28,sample,S05,,,,,,\n29,sample,S06,,,,,,\n30,method-blank,MB1,,,,,,\n"
	"11,ccv,CCV,,,,,,\n1,ccb,CCB,,,,,,\n"
	"31,sample,S07,,,,,,\n32,sample,S08,,,,,,\n33,sample,S09,,,,,,\n"
	"11,ccv,CCV,,,,,,\n1,ccb,CCB,,,,,,\n";

static fake_solution rack[40];
static size_t nrack;

static void add_sol(const char *label, const double *c7, double y)
{
	fake_solution *s = &rack[nrack++];
	s->label = label;
	for (int e = 0; e < 7; e++)
		s->c[e] = c7 ? c7[e] : 0;
	s->c[7] = y;
}

static const mg_icp_method *method;

/* the method's solution values → a fake solution (mg/L) */
static void add_from_method(const char *label, const char *name)
{
	const mg_icp_solution *so = mg_icp_method_solution(method, name, 0);
	double c[7] = {0};
	for (int e = 0; e < 7; e++) {
		int a = mg_icp_method_analyte(method, fake_elements[e]);
		c[e] = a >= 0 && so && isfinite(so->value[a]) ? so->value[a] : 0;
	}
	add_sol(label, c, 1);
}

static double grade_conc(const grade *g, int e, double mass)
{
	return g->w[e] * mass * 1e4 / (100.0 * 10);
}

static void build_rack(void)
{
	nrack = 0;
	add_sol("CAL0", NULL, 1);
	add_sol("ICB", NULL, 1);
	add_sol("CCB", NULL, 1);
	add_sol("MB1", NULL, 1);
	const char *stds[] = {"STD1", "STD2", "STD3", "STD4", "FE1", "FE2", "FE3", "ICV", "CCV", "LLOQ"};
	for (size_t i = 0; i < sizeof(stds) / sizeof(stds[0]); i++)
		add_from_method(stds[i], stds[i]);
	for (size_t g = 0; g < sizeof(grades) / sizeof(grades[0]); g++) {
		double c[7];
		for (int e = 0; e < 7; e++)
			c[e] = grade_conc(&grades[g], e, grades[g].mass_g);
		add_sol(grades[g].label, c, 1);
	}
	/* S02 + spike */
	const mg_icp_solution *spk = mg_icp_method_solution(method, "SPK", MG_ICP_SOL_SPIKE);
	double c[7];
	for (int e = 0; e < 7; e++)
		c[e] = grade_conc(&grades[1], e, 0.1) + spk->value[mg_icp_method_analyte(method, fake_elements[e])];
	add_sol("S02-MS", c, 1);
}

static const grade *grade_of(const char *label)
{
	for (size_t g = 0; g < sizeof(grades) / sizeof(grades[0]); g++)
		if (strcmp(grades[g].label, label) == 0)
			return &grades[g];
	return NULL;
}

typedef struct evcount {
	int n[8];
	int stop_at_measured; /* stop after this many MEASURED events (0: never) */
	int measured;
} evcount;

static int on_event(const mg_icp_event *ev, void *ud)
{
	evcount *c = ud;
	c->n[ev->kind]++;
	if (ev->kind == MG_ICP_EV_MEASURED) {
		c->measured++;
		if (c->stop_at_measured && c->measured >= c->stop_at_measured)
			return 1;
	}
	return 0;
}

static int stop_at_measuring(const mg_icp_event *ev, void *ud)
{
	evcount *c = ud;
	if (ev->kind == MG_ICP_EV_MEASURING && ++c->measured > 4)
		return 1;
	return 0;
}

static const mg_icp_check *find_check(const mg_icp_run *r, mg_icp_check_type t, size_t item, const char *el)
{
	for (size_t i = 0; i < mg_icp_run_nchecks(r); i++) {
		const mg_icp_check *c = mg_icp_run_check(r, i);
		if (c->type == t && (item == (size_t)-1 || c->item == item) && (!el || strcmp(c->element, el) == 0))
			return c;
	}
	return NULL;
}

static size_t item_of(const mg_icp_sequence *s, const char *label, int nth)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].label, label) == 0 && nth-- == 0)
			return i;
	return (size_t)-1;
}

/* The full run: accuracy and every QC outcome. */
static void test_full(const mg_icp_sequence *s, const mg_icp_qc_profile *q, mg_store *st)
{
	fake_icp f;
	fake_init(&f, rack, nrack, 11);
	mg_icp_source src = fake_source(&f);
	mg_icp_run *r;
	mg_icp_problems pr;
	CHECK_RC(mg_icp_run_new(s, method, q, &pr, &r), MG_OK);
	evcount ev = {.measured = 0};
	mg_icp_run_set_events(r, on_event, &ev);
	mg_icp_run_set_store(r, st, NULL);
	mg_icp_run_set_origin(r, "inline-sequence.csv", "fake:icp");
	CHECK_RC(mg_icp_run_source(r, &src), MG_OK);
	CHECK(ev.n[MG_ICP_EV_MEASURED] == (int)s->nitems);
	CHECK(ev.n[MG_ICP_EV_CALIBRATED] == 1);
	CHECK(ev.n[MG_ICP_EV_ERROR] == 0);
	CHECK(ev.n[MG_ICP_EV_FLAGGED] == 0);
	CHECK(ev.n[MG_ICP_EV_STORED] == (int)s->nitems);
	CHECK(ev.n[MG_ICP_EV_CHECK] == (int)mg_icp_run_nchecks(r));

	/* accuracy: reporting lines above 10 × LOQ within ±2 % of the truth. The
	 * LOQ is the larger of the blank's (10 σ of 3 replicates: it does not see
	 * the matrix) and the method's verified LLOQ */
	double worst[7] = {0};
	int counted[7] = {0};
	for (size_t i = 0; i < s->nitems; i++) {
		const grade *g = grade_of(s->items[i].label);
		if (!g)
			continue;
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		for (int e = 0; e < 7; e++) {
			int a = mg_icp_method_analyte(method, fake_elements[e]);
			const mg_icp_value *v = &res->line[a]; /* reporting lines come first, in analyte order */
			const mg_icp_curve *cv = mg_icp_run_curve(r, (size_t)a);
			CHECK(cv != NULL);
			double loq = cv ? fmax(cv->loq, method->analyte[a].lloq) : NAN;
			if (!cv || !(v->conc > 10 * loq))
				continue;
			double dev = 100 * (v->w_pct - g->w[e]) / g->w[e];
			if (fabs(dev) > fabs(worst[e]))
				worst[e] = dev;
			counted[e]++;
			CHECK_MSG(fabs(dev) <= 2.0, "%s %s: %.4f wt%% vs truth %.4f (%+.2f %%)", g->label, fake_elements[e],
			          v->w_pct, g->w[e], dev);
			CHECK_MSG(v->u_w_pct > 0 && v->u_w_pct < 0.05 * v->w_pct, "%s %s: u %.4g", g->label, fake_elements[e],
			          v->u_w_pct);
		}
	}
	for (size_t i = 0; i < s->nitems && getenv("ICP_DEBUG"); i++) {
		const grade *g = grade_of(s->items[i].label);
		if (!g)
			continue;
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		printf("%-6s", g->label);
		for (int e = 0; e < 7; e++) {
			int a = mg_icp_method_analyte(method, fake_elements[e]);
			printf(" %s %+.2f%%(%.3g,loq %.2g)", fake_elements[e], 100 * (res->line[a].w_pct - g->w[e]) / g->w[e],
			       res->line[a].conc, mg_icp_run_curve(r, (size_t)a)->loq);
		}
		printf("\n");
	}
	printf("fake ICP, worst deviation from truth per element (samples above 10×LOQ):");
	for (int e = 0; e < 7; e++)
		printf(" %s %+.2f%% (n=%d)", fake_elements[e], worst[e], counted[e]);
	printf("\n");
	for (int e = 0; e < 7; e++)
		CHECK_MSG(counted[e] >= 5, "%s judged on %d samples only", fake_elements[e], counted[e]);

	/* B 249.773 (alternative line) carries Fe 249.782: biased high and flagged */
	size_t s1 = item_of(s, "S01", 0);
	const mg_icp_item_result *r1 = mg_icp_run_result(r, s1);
	size_t alt = (size_t)-1;
	for (size_t l = 0; l < mg_icp_run_nlines(r); l++)
		if (fabs(mg_icp_run_line(r, l)->wavelength_nm - 249.773) < 0.001)
			alt = l;
	CHECK(alt != (size_t)-1);
	if (alt != (size_t)-1) {
		int bpri = mg_icp_method_analyte(method, "B");
		printf("B 208.957: %.3f wt%%, B 249.773 (Fe 249.782 on it): %.3f wt%%, truth 1.000\n", r1->line[bpri].w_pct,
		       r1->line[alt].w_pct);
		CHECK(r1->line[alt].flags & MG_ICP_RF_INTERFERED);
		CHECK(r1->line[alt].w_pct > 1.2);
		CHECK(!(r1->line[bpri].flags & MG_ICP_RF_INTERFERED));
	}

	/* every QC check passes (or is not applicable), none fails */
	size_t nfail = mg_icp_run_count(r, MG_ICP_FAIL);
	for (size_t i = 0; i < mg_icp_run_nchecks(r) && nfail; i++) {
		const mg_icp_check *c = mg_icp_run_check(r, i);
		if (c->outcome == MG_ICP_FAIL)
			fprintf(stderr, "  failed: %s %s %s value %g [%g, %g] %s\n", mg_icp_check_name(c->type), c->label,
			        c->element, c->value, c->lo, c->hi, c->note);
	}
	CHECK(nfail == 0);
	/* the checks that must be there */
	CHECK(find_check(r, MG_ICP_CHECK_CALIBRATION, (size_t)-1, "Tb") != NULL);
	const mg_icp_check *c;
	c = find_check(r, MG_ICP_CHECK_ICV, item_of(s, "ICV", 0), "Nd");
	CHECK(c && c->outcome == MG_ICP_PASS && c->lo == 90 && c->hi == 110 && fabs(c->value - 100) < 5);
	c = find_check(r, MG_ICP_CHECK_ICB, item_of(s, "ICB", 0), "Dy");
	CHECK(c && c->outcome == MG_ICP_PASS && c->hi == 0.05);
	c = find_check(r, MG_ICP_CHECK_LLOQ, item_of(s, "LLOQ", 0), "Tb");
	CHECK(c && c->outcome == MG_ICP_PASS && c->lo == 70);
	for (int k = 0; k < 3; k++) {
		c = find_check(r, MG_ICP_CHECK_CCV, item_of(s, "CCV", k), "Fe");
		CHECK(c && c->outcome == MG_ICP_PASS);
		c = find_check(r, MG_ICP_CHECK_CCB, item_of(s, "CCB", k), "Nd");
		CHECK(c && c->outcome == MG_ICP_PASS);
	}
	c = find_check(r, MG_ICP_CHECK_DUPLICATE, item_of(s, "S01-D", 0), "Nd");
	CHECK(c && c->outcome == MG_ICP_PASS && c->value < 3);
	c = find_check(r, MG_ICP_CHECK_DUPLICATE, item_of(s, "S01-D", 0), "Tb");
	CHECK_MSG(c && c->outcome == MG_ICP_NA, "%s %g %s", c ? mg_icp_outcome_name(c->outcome) : "none", c ? c->value : NAN, c ? c->note : ""); /* 0.05 wt% Tb = 0.05 mg/L: below 5 × LLOQ (0.1) */
	c = find_check(r, MG_ICP_CHECK_SPIKE, item_of(s, "S02-MS", 0), "Dy");
	CHECK(c && c->outcome == MG_ICP_PASS && fabs(c->value - 100) < 10);
	printf("spike recovery Dy %.1f %%", c ? c->value : NAN);
	c = find_check(r, MG_ICP_CHECK_SPIKE, item_of(s, "S02-MS", 0), "Nd");
	CHECK(c && c->outcome == MG_ICP_NA); /* 25 mg/L Nd in the sample vs 5 added: > 4× */
	c = find_check(r, MG_ICP_CHECK_SPIKE, item_of(s, "S02-MS", 0), "Fe");
	CHECK(c && c->outcome == MG_ICP_PASS); /* 66 mg/L Fe vs 20 added: < 4×, judged */
	c = find_check(r, MG_ICP_CHECK_CRM, item_of(s, "CRM1", 0), "Nd");
	CHECK(c && c->outcome == MG_ICP_PASS);
	printf(", CRM Nd recovery %.2f %%", c ? c->value : NAN);
	c = find_check(r, MG_ICP_CHECK_METHOD_BLANK, item_of(s, "MB1", 0), "Fe");
	CHECK(c && c->outcome == MG_ICP_PASS);
	c = find_check(r, MG_ICP_CHECK_TOTAL, item_of(s, "S03", 0), NULL);
	CHECK(c && c->outcome == MG_ICP_PASS);
	printf(", S03 total %.2f wt%%", c ? c->value : NAN);
	c = find_check(r, MG_ICP_CHECK_INTERNAL_STD, item_of(s, "S04", 0), NULL);
	CHECK(c && c->outcome == MG_ICP_PASS && c->value < 99); /* suppressed a little by the matrix */
	printf(", S04 IS recovery %.1f %%\n", c ? c->value : NAN);
	printf("checks: %zu pass, %zu fail, %zu n/a\n", mg_icp_run_count(r, MG_ICP_PASS), mg_icp_run_count(r, MG_ICP_FAIL),
	       mg_icp_run_count(r, MG_ICP_NA));

	/* the report */
	char *json;
	CHECK_RC(mg_icp_run_json(r, &json), MG_OK);
	CHECK(json && strstr(json, "\"status\":\"complete\"") && strstr(json, "\"rerun\":[]"));
	free(json);

	/* the store: every item a measurement with one result referring to the calibration */
	long long cal_id;
	int cal_ver;
	mg_icp_run_calibration(r, &cal_id, &cal_ver);
	CHECK(cal_id > 0 && cal_ver == 1);
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		CHECK(res->measurement_id > 0 && res->result_version == 1);
		mg_result rr;
		CHECK_RC(mg_store_result_get(st, res->measurement_id, 0, &rr), MG_OK);
		CHECK(rr.calibration_id == cal_id && strstr(rr.payload_json, "\"kind\":\"icp\""));
		mg_result_clear(&rr);
	}
	mg_measurement m;
	CHECK_RC(mg_store_measurement_get(st, mg_icp_run_result(r, item_of(s, "CCV", 2))->measurement_id, &m), MG_OK);
	CHECK(m.replicate == 3 && strcmp(m.kind, "icp") == 0 && strcmp(m.sample_id, "FAKE-LOT-1.CCV") == 0);
	CHECK(strcmp(m.instrument_model, "FAKE-ICP") == 0);
	CHECK_RC(mg_store_measurement_verify(st, &m, NULL), MG_OK);
	mg_measurement_clear(&m);
	mg_calibration cal;
	CHECK_RC(mg_store_calibration_find(st, "icp", "test-ndfeb", 0, &cal), MG_OK);
	CHECK(cal.version == 1 && strstr(cal.payload_json, "\"Tb 350.917\"") && strstr(cal.provenance_json, "STD4"));
	mg_calibration_clear(&cal);
	mg_icp_run_free(r);
	fake_free(&f);
}

/* A CCV failure flags exactly the samples since the last passing CCV. */
static void test_ccv_failure(const mg_icp_sequence *s, const mg_icp_qc_profile *q)
{
	fake_icp f;
	fake_init(&f, rack, nrack, 12);
	/* every non-IS line reads 15 % high from the 4th item after the 2nd bracket's
	 * opening CCV: S04, S05 measured fine, S06 and MB1 high, CCV #2 fails */
	size_t ccv1 = item_of(s, "CCV", 0), s06 = item_of(s, "S06", 0);
	f.jump_from = s06;
	f.jump = 0.15;
	mg_icp_source src = fake_source(&f);
	mg_icp_run *r;
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r), MG_OK);
	evcount ev = {.measured = 0};
	mg_icp_run_set_events(r, on_event, &ev);
	CHECK_RC(mg_icp_run_source(r, &src), MG_OK);
	size_t ccv2 = item_of(s, "CCV", 1), ccv3 = item_of(s, "CCV", 2);
	const mg_icp_check *c = find_check(r, MG_ICP_CHECK_CCV, ccv2, "Nd");
	CHECK(c && c->outcome == MG_ICP_FAIL && c->value > 110);
	printf("CCV #2 Nd recovery %.1f %% (limits %g–%g): %s\n", c ? c->value : NAN, c ? c->lo : NAN, c ? c->hi : NAN,
	       c ? mg_icp_outcome_name(c->outcome) : "?");
	c = find_check(r, MG_ICP_CHECK_CCV, ccv1, "Nd");
	CHECK(c && c->outcome == MG_ICP_PASS);
	/* the jump stays: CCV #3 fails too, and flags the samples of its bracket */
	c = find_check(r, MG_ICP_CHECK_CCV, ccv3, "Nd");
	CHECK(c && c->outcome == MG_ICP_FAIL);
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item *it = &s->items[i];
		if (!mg_icp_item_is_sample(it->type))
			continue;
		unsigned fl = mg_icp_run_result(r, i)->line[0].flags; /* Nd */
		int want = i > ccv1; /* everything after the last passing CCV (#1) */
		CHECK_MSG(!!(fl & MG_ICP_RF_RERUN_CCV) == want, "%s: rerun flag %d, expected %d", it->label,
		          !!(fl & MG_ICP_RF_RERUN_CCV), want);
	}
	CHECK(ev.n[MG_ICP_EV_FLAGGED] > 0);
	char *json;
	CHECK_RC(mg_icp_run_json(r, &json), MG_OK);
	CHECK(json && strstr(json, "\"label\":\"S04\",\"position\":27") && strstr(json, "rerun_ccv"));
	CHECK(json && !strstr(json, "{\"label\":\"S03\",\"position\":25,\"item\""));
	free(json);
	mg_icp_run_free(r);
	fake_free(&f);

	/* a 15 % jump at S08 only affects the last bracket: S07..S09 flagged */
	fake_init(&f, rack, nrack, 13);
	f.jump_from = item_of(s, "S08", 0);
	f.jump = -0.15;
	src = fake_source(&f);
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r), MG_OK);
	CHECK_RC(mg_icp_run_source(r, &src), MG_OK);
	size_t s07 = item_of(s, "S07", 0);
	for (size_t i = 0; i < s->nitems; i++) {
		if (!mg_icp_item_is_sample(s->items[i].type))
			continue;
		int want = i >= s07;
		CHECK_MSG(!!(mg_icp_run_result(r, i)->line[0].flags & MG_ICP_RF_RERUN_CCV) == want, "%s", s->items[i].label);
	}
	mg_icp_run_free(r);
	fake_free(&f);
}

/* The instrument fails mid-run: a clear error, everything measured kept. */
static void test_device_error(const mg_icp_sequence *s, const mg_icp_qc_profile *q, mg_store *st)
{
	fake_icp f;
	fake_init(&f, rack, nrack, 14);
	size_t bad = item_of(s, "S05", 0);
	f.error_at = bad;
	mg_icp_source src = fake_source(&f);
	mg_icp_run *r;
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r), MG_OK);
	evcount ev = {.measured = 0};
	mg_icp_run_set_events(r, on_event, &ev);
	mg_icp_run_set_store(r, st, "second operator");
	int rc = mg_icp_run_source(r, &src);
	CHECK(rc == MG_ERR_DEVICE);
	printf("device error mid-run: %s\n", mg_error_detail());
	CHECK(strstr(mg_error_detail(), "S05") && strstr(mg_error_detail(), "position 28"));
	CHECK(ev.n[MG_ICP_EV_ERROR] == 1);
	CHECK(ev.n[MG_ICP_EV_MEASURED] == (int)bad);
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		CHECK(res->measured == (i < bad));
		if (i < bad)
			CHECK(res->measurement_id > 0 && res->result_version == 1);
	}
	/* S04 (after the last CCV, before the error) has no closing CCV */
	const mg_icp_item_result *r4 = mg_icp_run_result(r, item_of(s, "S04", 0));
	CHECK(r4->line[0].flags & MG_ICP_RF_UNBRACKETED);
	CHECK(!(mg_icp_run_result(r, item_of(s, "S03", 0))->line[0].flags & MG_ICP_RF_UNBRACKETED));
	/* a second calibration version, second measurements of the same samples */
	long long cal_id;
	int cal_ver;
	mg_icp_run_calibration(r, &cal_id, &cal_ver);
	CHECK(cal_ver == 2);
	mg_measurement m;
	CHECK_RC(mg_store_measurement_get(st, r4->measurement_id, &m), MG_OK);
	CHECK(m.replicate == 2 && strcmp(m.operator_name, "second operator") == 0);
	mg_measurement_clear(&m);
	char *json;
	CHECK_RC(mg_icp_run_json(r, &json), MG_OK);
	CHECK(json && strstr(json, "\"status\":\"failed\"") && strstr(json, "MG_ERR_DEVICE") &&
	      strstr(json, "\"unbracketed\""));
	free(json);
	mg_icp_run_free(r);
	fake_free(&f);

	/* a stop from the event callback */
	fake_init(&f, rack, nrack, 15);
	src = fake_source(&f);
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r), MG_OK);
	evcount stop = {.measured = 0};
	stop.stop_at_measured = 12;
	mg_icp_run_set_events(r, on_event, &stop);
	CHECK_RC(mg_icp_run_source(r, &src), MG_ERR_INTERRUPTED);
	CHECK(mg_icp_run_result(r, 12)->measured == 0);
	CHECK_RC(mg_icp_run_json(r, &json), MG_OK);
	CHECK(json && strstr(json, "\"status\":\"stopped\""));
	free(json);
	/* a run is used once */
	CHECK_RC(mg_icp_run_source(r, &src), MG_ERR_ARG);
	mg_icp_run_free(r);
	fake_free(&f);

	/* a stop in the calibration block (the callback keeps asking to stop):
	 * what was measured is still calibrated, evaluated and stored */
	fake_init(&f, rack, nrack, 17);
	src = fake_source(&f);
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r), MG_OK);
	mg_icp_run_set_store(r, st, NULL);
	/* MEASURED events come only after the calibration: stop at the 5th MEASURING */
	evcount stop2 = {.measured = 0};
	mg_icp_run_set_events(r, stop_at_measuring, &stop2);
	CHECK_RC(mg_icp_run_source(r, &src), MG_ERR_INTERRUPTED);
	size_t nmeas = 0;
	for (size_t i = 0; i < s->nitems; i++)
		if (mg_icp_run_result(r, i)->measured) {
			nmeas++;
			CHECK(mg_icp_run_result(r, i)->result_version == 1);
		}
	CHECK(nmeas == 4);
	CHECK(mg_icp_run_curve(r, 0) != NULL); /* blank + 3 standards: a curve for Nd */
	mg_icp_run_free(r);
	fake_free(&f);
}

/* The same readings as a vendor CSV: intensities give the same numbers;
 * concentrations only give the same QC outcomes for the checks on
 * concentrations. */
static void test_csv(const mg_icp_sequence *s, const mg_icp_qc_profile *q)
{
	fake_icp f;
	fake_init(&f, rack, nrack, 16);
	mg_icp_source src = fake_source(&f);
	mg_icp_run *r;
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r), MG_OK);
	CHECK_RC(mg_icp_run_source(r, &src), MG_OK);
	/* export, as vendor software would: net intensities per replicate, every
	 * line (the IS too); and concentrations (µg/L, ';' and decimal commas) */
	size_t cap = 4 << 20, len = 0, lenc = 0;
	char *csv = malloc(cap), *csvc = malloc(cap);
	len += (size_t)snprintf(csv + len, cap - len, "Solution Label,Type,Element,Replicate,Int (c/s),Flags\n");
	lenc += (size_t)snprintf(csvc + lenc, cap - lenc, "\xef\xbb\xbfSample Name;Element Line;Rep;Concentration;Unit\n");
	for (size_t i = 0; i < s->nitems; i++) {
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		for (size_t l = 0; l < mg_icp_run_nlines(r); l++) {
			const mg_icp_line *ln = mg_icp_run_line(r, l);
			for (size_t k = 0; k < res->nreplicates; k++)
				len += (size_t)snprintf(csv + len, cap - len, "%s,%s,%s %.3f nm,%zu,%.17g,\n", s->items[i].label,
				                        mg_icp_item_type_name(s->items[i].type), ln->element, ln->wavelength_nm,
				                        k + 1, res->net_rep[l][k]);
			if (mg_icp_run_line_analyte(r, l) < 0)
				continue;
			char num[64];
			snprintf(num, sizeof(num), "%.12g", res->line[l].conc * 1000);
			for (char *p = num; *p; p++)
				if (*p == '.')
					*p = ',';
			lenc += (size_t)snprintf(csvc + lenc, cap - lenc, "%s;%s%.3f;mean;%s;ug/L\n", s->items[i].label,
			                         ln->element, ln->wavelength_nm, num);
		}
	}
	mg_icp_csv *c1, *c2;
	CHECK_RC(mg_icp_csv_parse(csv, len, &c1), MG_OK);
	CHECK_RC(mg_icp_csv_parse(csvc, lenc, &c2), MG_OK);
	if (!c1 || !c2)
		return;
	CHECK(c1->has_intensity && !c1->has_conc && !c2->has_intensity && c2->has_conc);
	mg_icp_run *r1, *r2;
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r1), MG_OK);
	CHECK_RC(mg_icp_run_csv(r1, c1, "export.csv"), MG_OK);
	CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r2), MG_OK);
	CHECK_RC(mg_icp_run_csv(r2, c2, "export-conc.csv"), MG_OK);
	double worst = 0, worst2 = 0;
	for (size_t i = 0; i < s->nitems; i++)
		for (size_t l = 0; l < mg_icp_run_nlines(r); l++) {
			if (mg_icp_run_line_analyte(r, l) < 0)
				continue;
			double a = mg_icp_run_result(r, i)->line[l].conc, b = mg_icp_run_result(r1, i)->line[l].conc,
			       c = mg_icp_run_result(r2, i)->line[l].conc;
			worst = fmax(worst, fabs(a - b) / fmax(fabs(a), 1e-3));
			worst2 = fmax(worst2, fabs(a - c) / fmax(fabs(a), 1e-3));
		}
	printf("CSV import: intensities reproduce the run to %.2g (relative), concentrations to %.2g\n", worst, worst2);
	CHECK(worst < 1e-9);
	CHECK(worst2 < 1e-9);
	/* the same checks, the same outcomes (intensities: all; concentrations:
	 * the ones on concentrations) */
	CHECK(mg_icp_run_nchecks(r1) == mg_icp_run_nchecks(r));
	for (size_t k = 0; k < mg_icp_run_nchecks(r) && k < mg_icp_run_nchecks(r1); k++)
		CHECK(mg_icp_run_check(r, k)->outcome == mg_icp_run_check(r1, k)->outcome);
	size_t compared = 0;
	for (size_t k = 0; k < mg_icp_run_nchecks(r2); k++) {
		const mg_icp_check *b = mg_icp_run_check(r2, k);
		CHECK(b->type != MG_ICP_CHECK_CALIBRATION && b->type != MG_ICP_CHECK_INTERNAL_STD);
		const mg_icp_check *a = find_check(r, b->type, b->item, b->element[0] ? b->element : NULL);
		CHECK(a != NULL);
		if (a) {
			CHECK_MSG(a->outcome == b->outcome, "%s %s %s", mg_icp_check_name(b->type), b->label, b->element);
			compared++;
		}
	}
	CHECK(compared > 50);
	/* a sequence item missing from the CSV is an error naming it */
	mg_icp_csv *c3;
	size_t cut = 0;
	for (size_t k = 0, nl = 0; k < len; k++)
		if (csv[k] == '\n' && ++nl == 1 + 3 * 27)
			cut = k + 1; /* header + 3 items of 9 lines × 3 replicates: part of the calibration */
	CHECK_RC(mg_icp_csv_parse(csv, cut, &c3), MG_OK);
	if (c3) {
		mg_icp_run *r3;
		CHECK_RC(mg_icp_run_new(s, method, q, NULL, &r3), MG_OK);
		CHECK_RC(mg_icp_run_csv(r3, c3, "short.csv"), MG_ERR_FORMAT);
		CHECK(strstr(mg_error_detail(), "no rows for"));
		mg_icp_run_free(r3);
		mg_icp_csv_free(c3);
	}
	mg_icp_run_free(r1);
	mg_icp_run_free(r2);
	mg_icp_csv_free(c1);
	mg_icp_csv_free(c2);
	free(csv);
	free(csvc);
	mg_icp_run_free(r);
	fake_free(&f);
}

int main(void)
{
	mg_icp_method *m;
	CHECK_RC(mg_icp_method_parse(method_text, sizeof(method_text) - 1, &m), MG_OK);
	if (!m)
		return mg_test_finish("test_icp_run");
	method = m;
	mg_icp_qc_profile *q;
	CHECK_RC(mg_icp_qc_load(MG_SOURCE_DIR "/examples/icp-qc-epa6010d.ini", &q), MG_OK);
	mg_icp_sequence *s;
	CHECK_RC(mg_icp_sequence_parse(sequence_text, sizeof(sequence_text) - 1, &s), MG_OK);
	if (!q || !s)
		return mg_test_finish("test_icp_run");
	mg_icp_problems pr;
	int np = mg_icp_sequence_validate(s, m, q, &pr);
	for (size_t i = 0; i < pr.count && i < 64; i++)
		fprintf(stderr, "problem: line %ld: %s\n", pr.item[i].line, pr.item[i].message);
	CHECK(np == 0);
	build_rack();
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/store", mg_test_tmpdir());
	mg_store *st;
	CHECK_RC(mg_store_open(dir, &st), MG_OK);
	test_full(s, q, st);
	test_ccv_failure(s, q);
	test_device_error(s, q, st);
	test_csv(s, q);
	mg_store_close(st);
	mg_icp_sequence_free(s);
	mg_icp_qc_free(q);
	mg_icp_method_free(m);
	return mg_test_finish("test_icp_run");
}
