/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES text formats: the example method, QC profile and sequence
 * parse to what they say; malformed files fail with the right line number;
 * the structure check of a sequence lists every problem with its line; the
 * vendor CSV reader takes the usual export variants and refuses bad rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/icp_analysis.h"
#include "magassay/sequence.h"

#define EX MG_SOURCE_DIR "/examples/"

static int detail_has(const char *s)
{
	return strstr(mg_error_detail(), s) != NULL;
}

#define CHECK_DETAIL(s) CHECK_MSG(detail_has(s), "detail '%s' lacks '%s'", mg_error_detail(), s)

/* ---- method ---- */

static void test_method_example(void)
{
	mg_icp_method *m;
	CHECK_RC(mg_icp_method_load(EX "ndfeb-icp-method.ini", &m), MG_OK);
	if (!m)
		return;
	CHECK(strcmp(m->name, "ndfeb-icp") == 0);
	CHECK(m->nanalytes == 10 && m->replicates == 3 && m->integration_s == 2);
	CHECK(m->has_is && strcmp(m->is_line.label, "Y 371.030") == 0 && m->is_line.is_internal_std);
	CHECK(m->nmatrix == 2 && strcmp(m->matrix[0], "Fe") == 0);
	int b = mg_icp_method_analyte(m, "B"), tb = mg_icp_method_analyte(m, "Tb");
	CHECK(b >= 0 && fabs(m->analyte[b].line.wavelength_nm - 208.957) < 1e-9 && m->analyte[b].nalt == 2);
	CHECK(strstr(m->analyte[b].interference_note, "Fe 249.782") != NULL);
	CHECK(tb >= 0 && m->analyte[tb].fit.nneighbours == 2 && m->analyte[tb].curve == MG_ICP_CURVE_WEIGHTED_1X);
	CHECK(m->analyte[tb].lloq == 0.01);
	CHECK(m->analyte[mg_icp_method_analyte(m, "Nd")].curve == MG_ICP_CURVE_QUADRATIC);
	CHECK(m->digest.mass_g == 0.1 && m->digest.volume_ml == 100 && m->digest.dilution == 10);
	mg_icp_line lines[MG_ICP_MAX_LINES];
	int n = mg_icp_method_lines(m, lines, MG_ICP_MAX_LINES);
	CHECK(n == 10 + 9 + 1);
	CHECK(n > 0 && lines[n - 1].is_internal_std && strcmp(lines[0].label, "Nd 430.358") == 0);
	CHECK_RC(mg_icp_method_lines(m, lines, 5), MG_ERR_ARG);
	const mg_icp_solution *s5 = mg_icp_method_solution(m, "STD5", MG_ICP_SOL_STANDARD);
	CHECK(s5 && s5->value[tb] == 2 && s5->value[mg_icp_method_analyte(m, "Fe")] == 120);
	CHECK(mg_icp_method_solution(m, "STD5", MG_ICP_SOL_CHECK) == NULL);
	const mg_icp_solution *crm = mg_icp_method_solution(m, "CRM-NdFeB-1", MG_ICP_SOL_CRM);
	CHECK(crm && crm->value[tb] == 0.21 && crm->u[tb] == 0.01);
	const mg_icp_solution *spk = mg_icp_method_solution(m, "SPK1", MG_ICP_SOL_SPIKE);
	CHECK(spk && isnan(spk->value[mg_icp_method_analyte(m, "Fe")]) && spk->value[tb] == 0.4);
	char by[4] = "";
	CHECK(mg_icp_known_overlap("B", 249.773, by) && strcmp(by, "Fe") == 0);
	CHECK(mg_icp_known_overlap("B", 208.957, NULL) == NULL);
	mg_icp_method_free(m);
}

static const char base_method[] = "[method]\nname = m1\nmatrix = Fe, Nd\n"
                                  "[analyte Fe]\nline = 259.940\n"
                                  "[analyte Nd]\nline = 430.358\n";

/* A method = base_method + extra; expect rc and (if rc != 0) "method line N" in the detail. */
static void method_case(const char *extra, int want, long line, const char *also)
{
	char text[2048];
	snprintf(text, sizeof(text), "%s%s", base_method, extra);
	mg_icp_method *m = NULL;
	int rc = mg_icp_method_parse(text, strlen(text), &m);
	CHECK_MSG(rc == want, "'%s': rc %d, wanted %d (%s)", extra, rc, want, mg_error_detail());
	if (rc != MG_OK && line > 0) {
		char l[40];
		snprintf(l, sizeof(l), "method line %ld:", line);
		CHECK_DETAIL(l);
	}
	if (rc != MG_OK && also)
		CHECK_DETAIL(also);
	mg_icp_method_free(m);
}

static void test_method_malformed(void)
{
	/* base_method is 7 lines; the extra text starts on line 8 */
	method_case("", MG_OK, 0, NULL);
	/* B 249.773 in an Fe matrix: refused, unless corrected by IEC */
	method_case("[analyte B]\nline = 249.773\n", MG_ERR_FORMAT, 9, "use B 208.957 or B 182.577");
	method_case("[analyte B]\nline = 249.773\niec = Fe: 0.0625 ± 0.002\n", MG_OK, 0, NULL);
	method_case("[analyte B]\nline = 208.957\nalt = 249.773\n", MG_OK, 0, NULL);
	method_case("[analyte Sm]\nline = 359.260\n", MG_ERR_FORMAT, 9, "Nd 359.259");
	method_case("[analyte B]\nline = 208.957\nwavelength = 3\n", MG_ERR_FORMAT, 10, "unknown key 'wavelength'");
	method_case("[analytes B]\n", MG_ERR_FORMAT, 8, "unknown section");
	method_case("[analyte Xyz]\nline = 300\n", MG_ERR_FORMAT, 8, "element symbol");
	method_case("[analyte Fe]\nline = 238.204\n", MG_ERR_FORMAT, 8, "appears twice");
	method_case("[standard S1]\nFe = 10\nCo = 1\n", MG_ERR_FORMAT, 10, "Co is not an analyte");
	method_case("[standard S1]\nFe = ten\n", MG_ERR_FORMAT, 9, "a concentration in mg/L");
	method_case("[standard S1]\nFe = 10\n[check S1]\nFe = 1\n", MG_ERR_FORMAT, 10, "defined twice (first on line 8)");
	method_case("[crm C1]\nNd = 150\n", MG_ERR_FORMAT, 9, "0..100");
	method_case("[crm C1]\nNd = 24.1 +/- 0.2\n", MG_OK, 0, NULL);
	method_case("[analyte Co]\nline = 228.616\niec = Cu: 0.01\n", MG_ERR_FORMAT, 10, "add an [analyte Cu]");
	method_case("[analyte Co]\nline = 228.616\ncurve = cubic\n", MG_ERR_FORMAT, 10, "weighted-1/x");
	method_case("[analyte Co]\nline = 228.616\nbackground = offpeak\n", MG_ERR_FORMAT, 8, "offpeak_nm");
	method_case("[analyte Co]\nline = 228.616\nbackground = offpeak\noffpeak_nm = -0.03, 0.04\n", MG_OK, 0, NULL);
	method_case("[analyte Co]\ncurve = linear\n", MG_ERR_FORMAT, 8, "has no 'line ='");
	method_case("[analyte Co]\nline = 2000\n", MG_ERR_FORMAT, 9, "wavelength in nm");
	method_case("just text\n", MG_ERR_FORMAT, 8, "expected '[section]'");
	method_case("[digest]\nmass_g = -1\n", MG_ERR_FORMAT, 9, "mass_g");
	method_case("[method]\ninternal_standard = Fe 259.940\n", MG_ERR_FORMAT, 0, "also an analyte");
	/* the whole-file cases */
	mg_icp_method *m = NULL;
	const char noname[] = "[method]\nreplicates = 3\n[analyte Fe]\nline = 259.940\n";
	CHECK_RC(mg_icp_method_parse(noname, strlen(noname), &m), MG_ERR_FORMAT);
	CHECK_DETAIL("needs a name");
	const char before[] = "name = x\n[method]\n";
	CHECK_RC(mg_icp_method_parse(before, strlen(before), &m), MG_ERR_FORMAT);
	CHECK_DETAIL("method line 1:");
	const char bin[] = "[method]\nname = a\0b\n";
	CHECK_RC(mg_icp_method_parse(bin, sizeof(bin) - 1, &m), MG_ERR_FORMAT);
	CHECK_RC(mg_icp_method_parse("", 0, &m), MG_ERR_FORMAT);
	CHECK(m == NULL);
}

/* ---- QC profile ---- */

static void test_qc(void)
{
	mg_icp_qc_profile *q;
	CHECK_RC(mg_icp_qc_load(EX "icp-qc-epa6010d.ini", &q), MG_OK);
	if (q) {
		CHECK(q->cal_r_min == 0.998 && q->icv.lo == 90 && q->icv.hi == 110 && q->ccv.lo == 90);
		CHECK(q->lloq_check.lo == 70 && q->lloq_check.hi == 130 && q->dup_rpd_max == 20);
		CHECK(q->spike.lo == 75 && q->spike.hi == 125 && q->is_recovery.lo == 80 && q->is_recovery.hi == 120);
		CHECK(q->total.lo == 98 && q->total.hi == 102 && q->ccv_every == 10 && q->blank_lloq_factor == 1);
		CHECK(q->rerun_on == (MG_ICP_RERUN_CCV | MG_ICP_RERUN_CCB) && q->cal_min_standards == 3);
		CHECK(q->cal_resid_max_pct == 10 && q->cal_resid_low_max_pct == 30);
		mg_icp_qc_free(q);
	}
	/* a key left out is not checked */
	const char small[] = "[qc]\nname = lenient\nccv_recovery_pct = 85-115\ntotal_pct = none\n";
	CHECK_RC(mg_icp_qc_parse(small, strlen(small), &q), MG_OK);
	if (q) {
		CHECK(q->ccv.lo == 85 && q->ccv.hi == 115 && isnan(q->icv.lo) && isnan(q->icv.hi) && isnan(q->cal_r_min));
		CHECK(isnan(q->total.lo) && q->rerun_on == 0 && q->ccv_every == 0);
		mg_icp_qc_free(q);
	}
	const char one_sided[] = "[qc]\nname = x\nicv_recovery_pct = 95, none\n";
	CHECK_RC(mg_icp_qc_parse(one_sided, strlen(one_sided), &q), MG_OK);
	if (q) {
		CHECK(q->icv.lo == 95 && isnan(q->icv.hi));
		mg_icp_qc_free(q);
	}
	struct {
		const char *text;
		const char *want;
	} bad[] = {
		{"[qc]\nname = x\nicv_recovery_pct = 110, 90\n", "QC profile line 3:"},
		{"[qc]\nname = x\nicv_recovery_pct = 90\n", "QC profile line 3:"},
		{"[qc]\nname = x\n\nccv_pct = 90, 110\n", "QC profile line 4: unknown key 'ccv_pct'"},
		{"[limits]\nname = x\n", "QC profile line 1: unknown section"},
		{"[qc]\ncalibration_r_min = 0.998\n", "needs a name"},
		{"[qc]\nname = x\ncalibration_r_min = 1.5\n", "QC profile line 3:"},
		{"[qc]\nname = x\nrerun_on = ccv, icv\n", "QC profile line 3: rerun_on"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = NULL;
		CHECK_RC(mg_icp_qc_parse(bad[i].text, strlen(bad[i].text), &q), MG_ERR_FORMAT);
		CHECK_DETAIL(bad[i].want);
		CHECK(q == NULL);
	}
}

/* ---- sequence ---- */

static void test_sequence_example(void)
{
	mg_icp_sequence *s;
	mg_icp_method *m;
	mg_icp_qc_profile *q;
	CHECK_RC(mg_icp_sequence_load(EX "ndfeb-icp-sequence.csv", &s), MG_OK);
	CHECK_RC(mg_icp_method_load(EX "ndfeb-icp-method.ini", &m), MG_OK);
	CHECK_RC(mg_icp_qc_load(EX "icp-qc-epa6010d.ini", &q), MG_OK);
	if (!s || !m || !q)
		return;
	CHECK(s->nitems == 22 && strcmp(s->batch, "NDFEB-2024-0117") == 0);
	CHECK(strcmp(s->method, "ndfeb-icp-method.ini") == 0 && strcmp(s->qc, "icp-qc-epa6010d.ini") == 0);
	CHECK(s->items[0].type == MG_ICP_ITEM_CAL_BLANK && s->items[5].type == MG_ICP_ITEM_CAL_STD);
	CHECK(s->items[6].type == MG_ICP_ITEM_ICV && s->items[7].type == MG_ICP_ITEM_ICB && s->items[8].type == MG_ICP_ITEM_LLOQ);
	CHECK(s->items[21].type == MG_ICP_ITEM_CCB && s->items[20].type == MG_ICP_ITEM_CCV);
	mg_icp_problems p;
	CHECK(mg_icp_sequence_validate(s, m, q, &p) == 0);
	for (size_t i = 0; i < p.count && i < 64; i++)
		fprintf(stderr, "  line %ld: %s\n", p.item[i].line, p.item[i].message);
	/* the duplicate's parent, and digests: own mass; the spike takes its parent's */
	size_t dup = 12, ms = 13;
	CHECK(s->items[dup].type == MG_ICP_ITEM_DUPLICATE && s->items[dup].parent == 11);
	mg_icp_digest d;
	mg_icp_item_digest(s, dup, m, &d);
	CHECK(d.mass_g == 0.1015 && d.volume_ml == 100 && d.dilution == 10 && d.u_mass_g == 0.0001);
	CHECK(s->items[ms].type == MG_ICP_ITEM_SPIKE && strcmp(s->items[ms].solution, "SPK1") == 0);
	mg_icp_item_digest(s, ms, m, &d);
	CHECK(d.mass_g == 0.0998);
	CHECK(strcmp(s->items[9].notes, "N35 motor scrap") == 0 && s->items[9].line == 26);
	mg_icp_sequence_free(s);
	mg_icp_method_free(m);
	mg_icp_qc_free(q);
}

static void seq_syntax(const char *text, const char *want)
{
	mg_icp_sequence *s = NULL;
	CHECK_RC(mg_icp_sequence_parse(text, strlen(text), &s), MG_ERR_FORMAT);
	CHECK_DETAIL(want);
	CHECK(s == NULL);
}

static void test_sequence_syntax(void)
{
	const char *h = "batch = B1\nposition,type,label,solution,of,mass_g\n";
	char t[1024];
	snprintf(t, sizeof(t), "%s1,cal-blank,C0\n2,smaple,X\n", h);
	seq_syntax(t, "sequence line 4: type 'smaple'");
	snprintf(t, sizeof(t), "%s1,cal-blank,C0\nabc,sample,X\n", h);
	seq_syntax(t, "sequence line 4: position 'abc'");
	snprintf(t, sizeof(t), "%s1,cal-blank,C0\n0,sample,X\n", h);
	seq_syntax(t, "sequence line 4: position '0'");
	snprintf(t, sizeof(t), "%s1,cal-blank,C0,,,,extra\n", h);
	seq_syntax(t, "sequence line 3: 7 fields, but the header has 6 columns");
	snprintf(t, sizeof(t), "%s1,sample,\"S1,2\n", h);
	seq_syntax(t, "sequence line 3: malformed row");
	snprintf(t, sizeof(t), "%s1,sample,S1,,,-0.1\n", h);
	seq_syntax(t, "sequence line 3: mass_g");
	snprintf(t, sizeof(t), "%s1,sample,,,,\n", h);
	seq_syntax(t, "sequence line 3: the label is empty");
	seq_syntax("batch = B1\nposition,type,name\n", "sequence line 2: unknown column 'name'");
	seq_syntax("batch = B1\nposition,type,solution\n", "sequence line 2: the header row needs the columns");
	seq_syntax("batch = B1\nposition,type,label,type\n", "sequence line 2: column 'type' appears twice");
	seq_syntax("# only\nbatch = B1\nlot = 7\n", "sequence line 3: unknown setting 'lot'");
	seq_syntax("batch = B1\nbatch = B2\n", "sequence line 2: 'batch' is given twice");
	seq_syntax("format = magassay-icp-sequence 2\n", "sequence line 1: format");
	seq_syntax("batch = B1\n", "no header row");
	seq_syntax("batch = B1\n\x01\x02\n", "binary");
	/* CRLF, ';' separators, quotes with "" escapes, trailing empty fields */
	const char ok[] = "batch = B1\r\nposition;type;label;notes\r\n1;cal-blank;C0\r\n2;sample;S1;\"say \"\"hi\"\"; ok\"\r\n";
	mg_icp_sequence *s;
	CHECK_RC(mg_icp_sequence_parse(ok, strlen(ok), &s), MG_OK);
	if (s) {
		CHECK(s->nitems == 2 && strcmp(s->items[1].notes, "say \"hi\"; ok") == 0 && s->items[1].line == 4);
		CHECK(isnan(s->items[1].mass_g));
		mg_icp_sequence_free(s);
	}
}

/* the structure check: every problem, with its line */
static void test_sequence_structure(void)
{
	mg_icp_method *m;
	mg_icp_qc_profile *q;
	CHECK_RC(mg_icp_method_load(EX "ndfeb-icp-method.ini", &m), MG_OK);
	CHECK_RC(mg_icp_qc_load(EX "icp-qc-epa6010d.ini", &q), MG_OK);
	if (!m || !q)
		return;
	static const char text[] =
		"batch = LOT-1\n"                              /* 1 */
		"position,type,label,solution,of,mass_g\n"     /* 2 */
		"2,cal-std,STD1,STD1,,\n"                      /* 3: not the blank first */
		"1,cal-blank,CAL0,,,\n"                        /* 4 */
		"3,cal-std,STD2,STD9,,\n"                      /* 5: no standard STD9; only 2 standards */
		"8,icb,ICB,,,\n"                               /* 6: no ICV after calibration */
		"12,sample,S1,,,0.1\n"                         /* 7 */
		"13,sample,S1,,,0.1\n"                         /* 8: duplicate sample id */
		"14,dup,S9-D,,S9,\n"                           /* 9: of an unknown sample */
		"15,spike,S1-MS,SPK7,S1,\n"                    /* 10: no spike SPK7 */
		"12,sample,S2,,,0.1\n"                         /* 11: position 12 holds S1 */
		"16,sample,bad id,,,0.1\n"                     /* 12: invalid id */
		"17,sample,S3,,,\n"                            /* 13 */
		"18,sample,S4,,,\n"                            /* 14 */
		"19,sample,S5,,,\n"                            /* 15 */
		"20,sample,S6,,,\n"                            /* 16 */
		"21,sample,S7,,,\n"                            /* 17: the 11th sample without a CCV */
		"22,sample,S8,,,\n"                            /* 18 */
		"4,cal-std,STD3,STD3,,\n"                      /* 19: calibration after the block */
		"10,ccb,CCB,,,\n"                              /* 20: CCB not after a CCV */
		"9,ccv,CCV,,,\n";                              /* 21: CCV not followed by CCB; no CCB at the end */
	mg_icp_sequence *s;
	CHECK_RC(mg_icp_sequence_parse(text, strlen(text), &s), MG_OK);
	if (!s)
		return;
	mg_icp_problems p;
	int n = mg_icp_sequence_validate(s, m, q, &p);
	struct {
		long line;
		const char *text;
	} want[] = {
		{3, "must start with the calibration blank"},
		{5, "at least 3"},
		{6, "an ICV must follow the calibration"},
		{5, "no [standard STD9]"},
		{8, "sample 'S1' is already on line 7"},
		{9, "'S9' (of) is not a sample earlier"},
		{10, "no [spike SPK7]"},
		{11, "position 12 holds 'S1'"},
		{12, "label: "},
		{17, "11 samples since the last CCV"},
		{19, "recalibration within a sequence is not supported"},
		{20, "a CCB belongs right after a CCV"},
		{21, "a CCB must follow every CCV"},
		{21, "must end with a CCV and a CCB"},
		{6, "no lloq row"},
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		int found = 0;
		for (size_t i = 0; i < p.count && i < 64; i++)
			if (p.item[i].line == want[k].line && strstr(p.item[i].message, want[k].text))
				found = 1;
		CHECK_MSG(found, "no problem on line %ld with '%s'", want[k].line, want[k].text);
	}
	printf("structure check: %d problems, e.g. line %ld: %s\n", n, p.item[0].line, p.item[0].message);
	CHECK(n >= (int)(sizeof(want) / sizeof(want[0])));
	CHECK_DETAIL("sequence line 3:");
	/* a run refuses it, with the same list */
	mg_icp_run *r = NULL;
	mg_icp_problems p2;
	CHECK_RC(mg_icp_run_new(s, m, q, &p2, &r), MG_ERR_FORMAT);
	CHECK(r == NULL && p2.count == p.count);
	/* no batch */
	mg_icp_sequence *s2;
	const char nob[] = "position,type,label\n1,cal-blank,C0\n";
	CHECK_RC(mg_icp_sequence_parse(nob, strlen(nob), &s2), MG_OK);
	if (s2) {
		CHECK(mg_icp_sequence_validate(s2, NULL, NULL, &p) > 0);
		CHECK(p.item[0].line == 0 && strstr(p.item[0].message, "batch"));
		mg_icp_sequence_free(s2);
	}
	mg_icp_sequence_free(s);
	mg_icp_method_free(m);
	mg_icp_qc_free(q);
}

/* ---- vendor CSV ---- */

static void test_csv(void)
{
	/* Agilent-style: quoted fields, "Nd 430.358 nm", intensities and concentrations */
	const char a[] = "\"Solution Label\",\"Rack:Tube\",\"Type\",\"Element\",\"Int (c/s)\",\"Soln Conc\",\"Unit\",\"Flags\"\n"
	                 "\"CAL0\",\"1:1\",\"Blank\",\"Nd 430.358 nm\",\"12.5\",\"0.001\",\"ppm\",\"\"\n"
	                 "\"S 1\",\"1:12\",\"Sample\",\"Y 371.030 nm\",\"480000\",\"\",\"ppm\",\"\"\n"
	                 "\"S 1\",\"1:12\",\"Sample\",\"B 208.957 nm\",\"n/a\",\"950\",\"ppb\",\"\"\n";
	mg_icp_csv *c;
	CHECK_RC(mg_icp_csv_parse(a, strlen(a), &c), MG_OK);
	if (c) {
		CHECK(c->nrows == 3 && c->has_intensity && c->has_conc);
		CHECK(strcmp(c->rows[0].element, "Nd") == 0 && fabs(c->rows[0].wavelength_nm - 430.358) < 1e-9);
		CHECK(c->rows[0].intensity == 12.5 && c->rows[0].replicate == 0 && c->rows[0].line == 2);
		CHECK(isnan(c->rows[1].conc) && strcmp(c->rows[1].label, "S 1") == 0);
		CHECK(isnan(c->rows[2].intensity) && fabs(c->rows[2].conc - 0.95) < 1e-12);
		mg_icp_csv_free(c);
	}
	/* European: BOM, ';', decimal commas, a wavelength column, µg/L in the header, replicates */
	const char e[] = "\xef\xbb\xbfSample Name;Element;Wavelength (nm);Rep;Concentration (\xc2\xb5g/L)\n"
	                 "STD1;Tb;350,917;1;19,8\n"
	                 "STD1;Tb;350,917;2;20,1\n"
	                 "STD1;Tb;350,917;Mean;19,95\n";
	CHECK_RC(mg_icp_csv_parse(e, strlen(e), &c), MG_OK);
	if (c) {
		CHECK(c->nrows == 3 && !c->has_intensity && c->has_conc);
		CHECK(fabs(c->rows[0].wavelength_nm - 350.917) < 1e-9 && c->rows[1].replicate == 2 && c->rows[2].replicate == 0);
		CHECK(fabs(c->rows[0].conc - 0.0198) < 1e-12);
		mg_icp_csv_free(c);
	}
	/* TAB separated, "Nd430.358" */
	const char tsv[] = "Label\tLine\tReplicate\tIntensity\nX\tNd430.358\t1\t100\n";
	CHECK_RC(mg_icp_csv_parse(tsv, strlen(tsv), &c), MG_OK);
	if (c) {
		CHECK(c->nrows == 1 && fabs(c->rows[0].wavelength_nm - 430.358) < 1e-9 && c->rows[0].intensity == 100);
		mg_icp_csv_free(c);
	}
	struct {
		const char *text;
		const char *want;
	} bad[] = {
		{"Label,Element,Intensity\nX,Nd,12x\n", "CSV line 2: intensity '12x'"},
		{"Label,Element,Intensity\nX,Nd,1\nY,Nd 9999,1\n", "CSV line 3: 'Nd 9999' is not an element line"},
		{"Label,Element,Conc,Unit\nX,Nd,1,furlongs\n", "CSV line 2: unknown unit 'furlongs'"},
		{"Label,Element,Intensity\n,Nd,1\n", "CSV line 2: the label is empty"},
		{"Label,Element,Intensity\nX,Nd,\n", "CSV line 2: no intensity and no concentration"},
		{"Label,Element,Intensity\nX,Nd,1,2\n", "CSV line 2: 4 fields"},
		{"Label,Element\nX,Nd\n", "CSV line 1: neither an intensity nor a concentration"},
		{"Sample,Intensity\nX,1\n", "CSV line 1: no label or element column"},
		{"Label,Element,Intensity,Int\nX,Nd,1,1\n", "CSV line 1: two columns for the intensity"},
		{"Label,Element,Replicate,Intensity\nX,Nd,11,1\n", "CSV line 2: replicate '11'"},
		{"Label,Element,Wavelength,Intensity\nX,Nd 430.358,406.109,1\n", "CSV line 2: the element says"},
		{"Label,Element,Intensity\n", "a header but no rows"},
		{"", "no header row"},
		{"Label,Element,Intensity\nX,Nd,\"1\n", "CSV line 2: malformed row"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		CHECK_RC(mg_icp_csv_parse(bad[i].text, strlen(bad[i].text), &c), MG_ERR_FORMAT);
		CHECK_DETAIL(bad[i].want);
		CHECK(c == NULL);
	}
}

int main(void)
{
	test_method_example();
	test_method_malformed();
	test_qc();
	test_sequence_example();
	test_sequence_syntax();
	test_sequence_structure();
	test_csv();
	return mg_test_finish("test_icp_parse");
}
