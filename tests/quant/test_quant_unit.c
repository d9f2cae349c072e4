/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the quantification: the instrument file (strict parser,
 * round trip, spectrum values taking part with conflicts), compositions, the
 * standards table, the FP model against the simulator's independent
 * implementation (drivers/sim: a different beam grid, de Boer's closed form
 * with cached terms), the matrix iteration on exact FP intensities (and what
 * ignoring secondary fluorescence does), k-ratios, LOD/LOQ and the counting
 * uncertainty, flags (below LOD, coating, total), grades, the empirical
 * calibration on an exact Lachance–Traill model, calibration payloads and
 * records (JSON files never overwritten, versions in the store). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <xraylib.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/fileio.h"
#include "magassay/quant.h"
#include "magassay/store.h"
#include "magassay/xrfsim.h"

/* ---------------------------------------------------------------- instrument file */

static int parse_fails(const char *text, const char *want_in_detail)
{
	mg_instrument_desc d;
	int rc = mg_instrument_desc_parse(text, strlen(text), "t.ini", &d);
	int ok = rc == MG_ERR_FORMAT && strstr(mg_error_detail(), want_in_detail) != NULL;
	if (!ok)
		fprintf(stderr, "  parse of [%s]: rc %d, detail '%s' (wanted '%s')\n", text, rc, mg_error_detail(),
		        want_in_detail);
	return ok;
}

static void test_instrument(void)
{
	mg_instrument_desc d, e;
	CHECK_RC(mg_instrument_desc_read_file(MG_SOURCE_DIR "/examples/instruments/benchtop-sdd.ini", &d), 0);
	mg_instrument_desc_default(&e);
	/* the example states the defaults */
	CHECK(strcmp(d.anode, "Rh") == 0 && d.kv == 40 && d.ua == 20 && d.window_be_um == 125 && !d.filter[0]);
	CHECK(d.incidence_deg == e.incidence_deg && d.det_thickness_mm == e.det_thickness_mm &&
	      d.det_be_um == e.det_be_um && d.path == MG_INSTR_AIR && d.path_mm == 20 && d.tube_path_mm == 10);
	CHECK(d.set & (1ul << MG_INSTR_KV));
	CHECK_RC(mg_instrument_desc_read_file(MG_SOURCE_DIR "/examples/instruments/nist-bruker-benchtop.ini", &e), 0);
	CHECK(e.path == MG_INSTR_VACUUM && e.kv == 50 && e.incidence_deg == 50);

	const char *ok = "# comment\n[tube]\nanode = mo ; trailing comment\nkv=45\nfilter = Al:100\n"
	                 "[geometry]\nincidence_deg = 60\n[detector]\nmaterial = cdte\nthickness_mm = 1\n"
	                 "[atmosphere]\npath = Helium\n";
	CHECK_RC(mg_instrument_desc_parse(ok, strlen(ok), "ok.ini", &d), 0);
	CHECK(strcmp(d.anode, "Mo") == 0 && d.kv == 45 && strcmp(d.filter, "Al") == 0 && d.filter_um == 100);
	CHECK(strcmp(d.det_material, "CdTe") == 0 && d.path == MG_INSTR_HELIUM && d.incidence_deg == 60);
	/* round trip through the formatter */
	char buf[4096];
	int n = mg_instrument_desc_format(&d, buf, sizeof buf);
	CHECK(n > 0 && (size_t)n < sizeof buf);
	CHECK_RC(mg_instrument_desc_parse(buf, strlen(buf), "fmt.ini", &e), 0);
	CHECK(strcmp(e.anode, d.anode) == 0 && e.filter_um == d.filter_um && strcmp(e.det_material, d.det_material) == 0 &&
	      e.path == d.path && e.fano == d.fano);
	CHECK(e.kv == d.kv && e.incidence_deg == d.incidence_deg && e.det_thickness_mm == d.det_thickness_mm);

	CHECK(parse_fails("[tube]\nkv = 40\nkv = 41\n", "line 3: 'kv' given twice"));
	CHECK(parse_fails("[tube]\nvoltage = 40\n", "line 2: unknown key 'voltage'"));
	CHECK(parse_fails("[tubes]\n", "line 1: unknown section [tubes]"));
	CHECK(parse_fails("kv = 40\n", "before any [section]"));
	CHECK(parse_fails("[tube]\nkv = forty\n", "line 2: kv: 'forty' is not a number"));
	CHECK(parse_fails("[tube]\nkv = 500\n", "line 2: kv = 500 outside"));
	CHECK(parse_fails("[tube]\nfilter = Al\n", "line 2: filter"));
	CHECK(parse_fails("[tube]\nfilter = Qq:10\n", "line 2: filter"));
	CHECK(parse_fails("[tube]\nanode = Xx\n", "line 2: anode"));
	CHECK(parse_fails("[detector]\nmaterial = NaI\n", "line 2: material"));
	CHECK(parse_fails("[atmosphere]\npath = nitrogen\n", "line 2: path"));
	CHECK(parse_fails("[tube\n", "line 1: a section header"));
	CHECK(parse_fails("[geometry]\nincidence_deg = 0\n", "incidence_deg = 0 outside"));
	CHECK(parse_fails("[tube]\n[tube]\n", "given twice"));
	CHECK(parse_fails("", "no section"));
	CHECK(parse_fails("[tube]\nkv\n", "line 2: expected"));
	CHECK(parse_fails("[tube]\n\x01\x02\n", "binary"));

	/* spectrum values take part; disagreements are conflicts, the spectrum's value is used */
	CHECK_RC(mg_instrument_desc_read_file(MG_SOURCE_DIR "/examples/instruments/benchtop-sdd.ini", &d), 0);
	mg_spectrum *s = mg_spectrum_new(16);
	s->acq.tube_kv = 45;
	s->acq.tube_ua = 20.05; /* within 0.5 %: no conflict */
	mg_str_set(&s->acq.anode, "Rh");
	mg_str_set(&s->acq.filter, "Ti:25");
	mg_str_set(&s->acq.atmosphere, "vacuum");
	mg_str_set(&s->instrument.detector, "SDD 30 mm2, 1 mm Si, 8 um Be");
	mg_kvlist_set(&s->meta, "msa.#TDEADLYR -cm", "0.000003", NULL);
	mg_instrument_conflict c[16];
	int nc = mg_instrument_desc_apply_spectrum(&d, s, c, 16);
	for (int i = 0; i < nc && i < 16; i++)
		printf("  conflict %s: file %s, spectrum %s\n", c[i].key, c[i].file_value, c[i].spectrum_value);
	CHECK(nc == 7); /* kv, filter, path, area, thickness, Be, dead layer */
	CHECK(d.kv == 45 && strcmp(d.filter, "Ti") == 0 && d.filter_um == 25 && d.path == MG_INSTR_VACUUM);
	CHECK(fabs(d.det_area_mm2 - 30) < 1e-9 && fabs(d.det_thickness_mm - 1) < 1e-9 && fabs(d.det_be_um - 8) < 1e-9 &&
	      fabs(d.det_dead_layer_um - 0.03) < 1e-9);
	CHECK(nc > 0 && strcmp(c[0].key, "tube.kv") == 0 && strcmp(c[0].file_value, "40") == 0 &&
	      strcmp(c[0].spectrum_value, "45") == 0);
	/* defaults (not set by a file) take the spectrum's values silently */
	mg_instrument_desc_default(&e);
	CHECK(mg_instrument_desc_apply_spectrum(&e, s, NULL, 0) == 0 && e.kv == 45);
	mg_spectrum_free(s);

	/* into an analysis configuration */
	mg_analysis_config a;
	mg_analysis_config_default(&a);
	mg_instrument_desc_to_analysis(&d, &a);
	CHECK(a.exc.kv == 45 && strcmp(a.exc.filter, "Ti") == 0 && a.det.air_mm == 0 && a.det.thickness_mm == 1);
}

/* ---------------------------------------------------------------- compositions, CSV */

static void test_comp_csv(void)
{
	mg_quant_comp c;
	CHECK_RC(mg_quant_comp_parse("Fe:66, Nd:24.1+-0.2;B:1 Dy:1\xc2\xb1" "0.05", &c), 0);
	CHECK(c.n == 4 && fabs(mg_quant_comp_get(&c, 60) - 0.241) < 1e-12 && fabs(c.u[1] - 0.002) < 1e-12 &&
	      fabs(c.u[3] - 0.0005) < 1e-12);
	CHECK_RC(mg_quant_comp_parse("Fe:66,Fe:3", &c), MG_ERR_FORMAT);
	CHECK_RC(mg_quant_comp_parse("Fe66", &c), MG_ERR_FORMAT);
	CHECK_RC(mg_quant_comp_parse("Qq:1", &c), MG_ERR_FORMAT);
	CHECK_RC(mg_quant_comp_parse("Fe:abc", &c), MG_ERR_FORMAT);
	CHECK_RC(mg_quant_comp_parse("Fe:101", &c), MG_ERR_FORMAT);
	CHECK_RC(mg_quant_comp_parse("", &c), MG_ERR_FORMAT);
	char buf[128];
	mg_quant_comp_parse("Fe:66,Nd:24", &c);
	mg_quant_comp_format(&c, buf, sizeof buf);
	CHECK(strcmp(buf, "Fe:66,Nd:24") == 0);

	const char *csv = "# reference magnets, ICP\nfile,name,Nd,Pr,Dy,u_Nd\n"
	                  "a.mca,A,24.1,6.0,,0.1\n\"b.mca\",,22,5.5,4.0,0.1\n";
	mg_quant_std_row *rows = NULL;
	size_t n = 0;
	CHECK_RC(mg_quant_standards_csv_parse(csv, strlen(csv), "s.csv", &rows, &n), 0);
	CHECK(n == 2 && strcmp(rows[0].name, "A") == 0 && strcmp(rows[1].name, "b.mca") == 0);
	CHECK(n == 2 && rows[0].comp.n == 2 && rows[1].comp.n == 3 && fabs(rows[0].comp.u[0] - 0.001) < 1e-12);
	free(rows);
	const char *bad[] = {"name,Nd\nA,1\n", "file,Nd\na,1,2\n", "file,Xy\na,1\n", "file,Nd\na,abc\n",
	                     "file,Nd,u_Pr\na,1,0.1\n", "file,Nd,Nd\na,1,1\n", "file,Nd\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rows = NULL;
		CHECK_MSG(mg_quant_standards_csv_parse(bad[i], strlen(bad[i]), "bad.csv", &rows, &n) == MG_ERR_FORMAT,
		          "csv %zu accepted", i);
		CHECK(rows == NULL);
	}
}

/* ---------------------------------------------------------------- FP model */

static void sim_family(const mg_xrfsim_model *m, int z, int lo, int hi, double *p, double *s)
{
	size_t n;
	const mg_xrf_line *l = mg_xrfsim_model_lines(m, &n);
	*p = *s = 0;
	for (size_t i = 0; i < n; i++) {
		if (l[i].z != z || l[i].line > lo || l[i].line < hi || !(l[i].primary + l[i].secondary > 0))
			continue;
		double kb = 0, ka = mg_xrf_escape_fraction(l[i].energy_kev, &kb);
		double det = l[i].detected / (l[i].primary + l[i].secondary) * (1 - ka - kb);
		*p += l[i].primary * det;
		*s += l[i].secondary * det;
	}
}

static void test_fp(void)
{
	mg_instrument_desc d;
	mg_instrument_desc_default(&d); /* the simulator's geometry */
	mg_fp_model *fp = NULL;
	CHECK_RC(mg_fp_model_new(&d, "Fe,Co,Cu,Al,Nd,Pr,Dy,Tb,B", 0, &fp), 0);
	if (!fp)
		return;
	mg_xrfsim_config sc;
	mg_xrfsim_config_default(&sc);
	CHECK_RC(mg_xrfsim_sample_lookup("ndfeb-tb", &sc.sample), 0);
	mg_xrfsim_model *sm = NULL;
	CHECK_RC(mg_xrfsim_model_new(&sc, &sm), 0);
	mg_quant_comp c;
	CHECK_RC(mg_quant_comp_parse("Nd:21.5,Pr:6.5,Tb:0.5,Dy:1.0,Fe:67.9,Co:1,B:1,Al:0.4,Cu:0.2", &c), 0);
	const struct {
		int z;
		const char *l;
		int lo, hi;
	} f[] = {{26, "K", KL1_LINE, KP5_LINE}, {27, "K", KL1_LINE, KP5_LINE}, {60, "L", L1L2_LINE, L3Q1_LINE},
	         {59, "L", L1L2_LINE, L3Q1_LINE}, {66, "L", L1L2_LINE, L3Q1_LINE}, {65, "L", L1L2_LINE, L3Q1_LINE}};
	printf("FP model vs the simulator (ndfeb-tb, Rh 40 kV):\n");
	for (size_t i = 0; i < sizeof f / sizeof f[0] && sm; i++) {
		double p, s, sp, ss;
		CHECK_RC(mg_fp_intensity(fp, &c, f[i].z, f[i].l, &p, &s), 0);
		sim_family(sm, f[i].z, f[i].lo, f[i].hi, &sp, &ss);
		printf("  Z%d %s: total %.4g vs %.4g (ratio %.4f), S/P %.4f vs %.4f\n", f[i].z, f[i].l, p + s, sp + ss,
		       (p + s) / (sp + ss), s / p, ss / sp);
		CHECK_NEAR((p + s) / (sp + ss), 1.0, 0.015);
		if (ss / sp > 0.01)
			CHECK_NEAR((s / p) / (ss / sp), 1.0, 0.03);
	}
	/* Fe K enhances Nd L by ~19 % here (xrf-physics.md §2.2: 29 % for Nd Lα alone, 45°/45°, Ebel 40 kV) */
	double p, s;
	mg_fp_intensity(fp, &c, 60, "L", &p, &s);
	CHECK(s / p > 0.12 && s / p < 0.3);
	/* Dy L3 (7.79 keV) lies above every Fe/Co line: next to no enhancement */
	mg_fp_intensity(fp, &c, 66, "L", &p, &s);
	CHECK(s / p < 0.01);
	/* sub-families add up */
	double k, ka, kb, ps;
	mg_fp_intensity(fp, &c, 26, "K", &k, &ps);
	k += ps;
	mg_fp_intensity(fp, &c, 26, "Ka", &ka, &ps);
	ka += ps;
	mg_fp_intensity(fp, &c, 26, "Kb", &kb, &ps);
	kb += ps;
	CHECK_NEAR(ka + kb, k, 1e-9 * k);
	CHECK_NEAR(kb / ka, 0.135, 0.03);
	CHECK_RC(mg_fp_intensity(fp, &c, 60, "K", &p, &s), MG_ERR_NOT_FOUND); /* Nd K not excited at 40 kV */
	CHECK_RC(mg_fp_intensity(fp, &c, 29, "Q", &p, &s), MG_ERR_ARG);
	mg_quant_comp x;
	mg_quant_comp_parse("W:100", &x);
	CHECK_RC(mg_fp_intensity(fp, &x, 74, "L", &p, &s), MG_ERR_ARG); /* W is not in the model */
	/* detector efficiency: Be 12.5 µm, 0.1 µm dead layer, 0.5 mm Si (reference §3.1: 0.93 at 3 keV) */
	CHECK_NEAR(mg_fp_detector_efficiency(fp, 3.0), 0.93, 0.02);
	CHECK_NEAR(mg_fp_detector_efficiency(fp, 6.4), 0.99, 0.015);
	mg_xrfsim_model_free(sm);
	mg_fp_model_free(fp);
}

/* ---------------------------------------------------------------- matrix iteration */

/* Exact intensities of composition c (FP rate × t × I), as a measurement. */
static void exact_meas(const mg_fp_model *fp, const mg_quant_comp *c, const char *const *lines, const int *zs,
                       size_t n, double scale, mg_quant_meas *m)
{
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "exact");
	m->live_time_s = 100;
	m->current_ua = 20;
	for (size_t i = 0; i < n; i++) {
		double p, s;
		CHECK_RC(mg_fp_intensity(fp, c, zs[i], lines[i], &p, &s), 0);
		mg_quant_line *l = &m->lines[m->n++];
		l->z = zs[i];
		snprintf(l->element, sizeof l->element, "%s", zs[i] == 26 ? "Fe" : zs[i] == 27 ? "Co" : zs[i] == 60 ? "Nd"
		                                                                   : zs[i] == 59 ? "Pr"
		                                                                   : zs[i] == 66 ? "Dy"
		                                                                   : zs[i] == 28 ? "Ni"
		                                                                                 : "Tb");
		snprintf(l->line, sizeof l->line, "%s", lines[i]);
		l->area = scale * (p + s) * 100 * 20;
		l->sigma = sqrt(l->area + 100);
		l->sigma_bg = 300;
	}
}

static void test_matrix(void)
{
	mg_instrument_desc d;
	mg_instrument_desc_default(&d);
	mg_quant_options o;
	mg_quant_options_default(&o);
	o.fixed.w[0] = 0.011; /* the true boron */
	o.flags |= MG_QUANT_NO_MATRIX_U;
	mg_quant *q = NULL;
	CHECK_RC(mg_quant_new(&d, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu", &o, NULL, 0, NULL, &q), 0);
	if (!q)
		return;
	mg_quant_comp truth;
	mg_quant_comp_parse("Fe:62.4,Nd:22,Pr:5.5,Dy:6,Tb:1,Co:2,B:1.1", &truth);
	const char *lines[] = {"K", "K", "L", "L", "L", "L"};
	const int zs[] = {26, 27, 60, 59, 66, 65};
	mg_quant_meas m;
	exact_meas(mg_quant_fp(q), &truth, lines, zs, 6, 3.7, &m);
	mg_quant_result r;
	CHECK_RC(mg_quant_run(q, &m, &r, NULL, 0, NULL), 0);
	printf("standardless FP on exact intensities: %d iterations\n", r.iterations);
	CHECK(r.converged && (r.flags & MG_QS_NORMALISED) && strcmp(r.method_detail, "fp-standardless") == 0);
	for (size_t i = 0; i < 6; i++) {
		const mg_quant_element *e = mg_quant_result_find(&r, zs[i]);
		CHECK(e != NULL);
		if (e)
			CHECK_NEAR(e->wt_pct, 100 * mg_quant_comp_get(&truth, zs[i]), 2e-4);
	}
	/* the counting uncertainty propagates the area's σ (normalised: slightly less than w·σ/A) */
	const mg_quant_element *nd = mg_quant_result_find(&r, 60);
	double rel = m.lines[2].sigma / m.lines[2].area;
	CHECK(nd && nd->u_counting > 0.5 * nd->wt_pct * rel && nd->u_counting < 1.01 * nd->wt_pct * rel);
	/* LOD = 3 σ_B / S, LOQ = 10 σ_B / S, S = area per mass fraction */
	double S = m.lines[2].area / (nd->wt_pct / 100);
	CHECK_NEAR(nd->lod_wt_pct, 100 * 3 * 300 / S, 0.05 * nd->lod_wt_pct);
	CHECK_NEAR(nd->loq_wt_pct / nd->lod_wt_pct, 10.0 / 3.0, 1e-6);
	CHECK(strstr(r.boron, "nominal") != NULL);

	/* ignoring secondary fluorescence reports Nd and Pr too high (reference §2.2) */
	mg_quant_options o2 = o;
	o2.flags |= MG_QUANT_NO_SECONDARY;
	mg_quant *q2 = NULL;
	CHECK_RC(mg_quant_new(&d, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu", &o2, NULL, 0, NULL, &q2), 0);
	mg_quant_result r2;
	CHECK_RC(mg_quant_run(q2, &m, &r2, NULL, 0, NULL), 0);
	const mg_quant_element *nd2 = mg_quant_result_find(&r2, 60);
	printf("  without secondary fluorescence: Nd %.2f wt%% (true 22)\n", nd2 ? nd2->wt_pct : NAN);
	CHECK(nd2 && nd2->wt_pct > 23.5);
	mg_quant_free(q2);

	/* FP with one standard: the standard fixes G; an unknown twice as bright per µA is
	 * quantified with the factor (not normalised: the total is a QC value) */
	mg_quant_standard st;
	memset(&st, 0, sizeof st);
	snprintf(st.name, sizeof st.name, "ref");
	mg_quant_comp_parse("Fe:66,Nd:23,Pr:6.5,Dy:0.5,Co:1,B:1", &st.comp);
	exact_meas(mg_quant_fp(q), &st.comp, lines, zs, 5, 2.0, &st.meas);
	o.flags |= MG_QUANT_NO_MATRIX_U;
	mg_quant *q3 = NULL;
	CHECK_RC(mg_quant_new(&d, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu", &o, &st, 1, NULL, &q3), 0);
	exact_meas(mg_quant_fp(q), &truth, lines, zs, 6, 2.0, &m);
	CHECK_RC(mg_quant_run(q3, &m, &r, NULL, 0, NULL), 0);
	CHECK(!(r.flags & MG_QS_NORMALISED) && strcmp(r.method_detail, "fp-1-standard") == 0);
	for (size_t i = 0; i < 6; i++) {
		const mg_quant_element *e = mg_quant_result_find(&r, zs[i]);
		if (e)
			CHECK_NEAR(e->wt_pct, 100 * mg_quant_comp_get(&truth, zs[i]), 2e-3);
	}
	CHECK_NEAR(r.total.wt_pct, 100.0, 5e-3);
	CHECK(!(r.flags & (MG_QS_TOTAL_LOW | MG_QS_TOTAL_HIGH)));

	/* k-ratios: against the standard, exactly the ratio of rates */
	o.method = MG_QUANT_KRATIO;
	mg_quant *q4 = NULL;
	CHECK_RC(mg_quant_new(&d, "Fe,Co,Nd,Pr,Dy,Tb,Ni,Cu", &o, &st, 1, NULL, &q4), 0);
	mg_quant_kratio kr[8];
	size_t nk = 0;
	CHECK_RC(mg_quant_run(q4, &m, &r, kr, 8, &nk), 0);
	CHECK(nk == 5 && strcmp(r.method_detail, "kratio") == 0);
	for (size_t i = 0; i < nk; i++)
		CHECK_NEAR(kr[i].k, m.lines[i].area / st.meas.lines[i].area, 1e-12);
	const mg_quant_element *tb = mg_quant_result_find(&r, 65);
	CHECK(tb && (tb->flags & MG_QE_NO_STANDARD)); /* Tb: not in the standard: FP with G */
	for (size_t i = 0; i < 6; i++) {
		const mg_quant_element *e = mg_quant_result_find(&r, zs[i]);
		if (e)
			CHECK_NEAR(e->wt_pct, 100 * mg_quant_comp_get(&truth, zs[i]), 2e-3);
	}
	/* a k-ratio quant without standards is refused */
	mg_quant *q5 = NULL;
	CHECK_RC(mg_quant_new(&d, "Fe", &o, NULL, 0, NULL, &q5), MG_ERR_ARG);

	/* flags: an element far below its LOD, a coated magnet, the total */
	mg_quant_comp coat;
	mg_quant_comp_parse("Ni:60,Cu:30,Fe:7,Nd:2,B:1", &coat);
	const char *cl[] = {"K", "K", "L", "K"};
	const int cz[] = {26, 28, 60, 27};
	exact_meas(mg_quant_fp(q), &coat, cl, cz, 3, 2.0, &m);
	m.lines[3] = m.lines[0];
	m.lines[3].z = 27;
	snprintf(m.lines[3].element, 4, "Co");
	m.lines[3].area = 5;
	m.lines[3].sigma = 40;
	m.n = 4;
	o.method = MG_QUANT_FP;
	CHECK_RC(mg_quant_run(q3, &m, &r, NULL, 0, NULL), 0);
	const mg_quant_element *co = mg_quant_result_find(&r, 27), *ni = mg_quant_result_find(&r, 28);
	CHECK(co && (co->flags & MG_QE_BELOW_LOD));
	CHECK((r.flags & MG_QS_COATING) && ni && (ni->flags & MG_QE_COATING));
	char fl[128];
	mg_quant_sample_flags_str(r.flags, fl, sizeof fl);
	CHECK(strstr(fl, "coating-suspected") != NULL);
	mg_quant_free(q);
	mg_quant_free(q3);
	mg_quant_free(q4);
}

/* ---------------------------------------------------------------- grades */

static void test_grades(void)
{
	mg_grade_table *t = NULL;
	CHECK_RC(mg_grade_table_read_file(MG_SOURCE_DIR "/examples/grades.ini", &t), 0);
	CHECK(mg_grade_table_count(t) == 5);
	mg_quant_result r;
	memset(&r, 0, sizeof r);
	const struct {
		int z;
		double w;
	} els[] = {{60, 23}, {59, 6}, {66, 2}, {65, 0.5}, {26, 67.5}, {5, 1}};
	for (size_t i = 0; i < 6; i++) {
		r.el[r.n].z = els[i].z;
		r.el[r.n].wt_pct = els[i].w;
		r.el[r.n].sigma = 0.1;
		r.n++;
	}
	mg_quant_totals(&r);
	CHECK_NEAR(r.tree.wt_pct, 31.5, 1e-9);
	CHECK_NEAR(r.ndpr.wt_pct, 29, 1e-9);
	CHECK_NEAR(r.dytb.wt_pct, 2.5, 1e-9);
	CHECK_NEAR(r.total.wt_pct, 100, 1e-9);
	CHECK_NEAR(r.dytb.sigma, sqrt(0.02), 1e-9);
	CHECK(mg_grade_classify(t, &r) == 1 && strcmp(r.grade, "M-H-grade") == 0); /* 2.5: inclusive, first wins */
	r.el[2].wt_pct = 7;
	mg_quant_totals(&r);
	CHECK(mg_grade_classify(t, &r) == 1 && strcmp(r.grade, "EH-AH-grade") == 0);
	r.flags |= MG_QS_COATING;
	CHECK(mg_grade_classify(t, &r) == 0 && r.grade[0] == 0);
	mg_grade_table_free(t);
	const char *bad[] = {"[A]\n", "[A]\ndy_tb = 1\n", "[A]\nfoo = 1 .. 2\n", "[A]\ndy_tb = 2 .. 1\n",
	                     "[A]\ndy_tb = 1..2\ndy_tb = 1..3\n", "[A]\ndy_tb=..\n[A]\ndy_tb=..\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t = NULL;
		CHECK_MSG(mg_grade_table_parse(bad[i], strlen(bad[i]), "g.ini", &t) == MG_ERR_FORMAT, "grade table %zu", i);
		CHECK(t == NULL);
	}
}

/* ---------------------------------------------------------------- empirical */

static void test_empirical(void)
{
	/* standards whose Nd intensity follows an exact Lachance–Traill law */
	const double b0 = 0.002, b1 = 0.0011, al = -0.45;
	mg_quant_standard st[6];
	memset(st, 0, sizeof st);
	const double nd[6] = {0.19, 0.22, 0.24, 0.27, 0.29, 0.315};
	for (int i = 0; i < 6; i++) {
		double fe = 0.99 - nd[i] - 0.01 * i;
		snprintf(st[i].name, sizeof st[i].name, "m%d", i);
		mg_quant_comp_set(&st[i].comp, 60, nd[i], 0.001);
		mg_quant_comp_set(&st[i].comp, 26, fe, 0.002);
		mg_quant_comp_set(&st[i].comp, 5, 0.01, 0);
		/* w = (b0 + b1 R)(1 + α w_Fe) → R */
		double R = (nd[i] / (1 + al * fe) - b0) / b1;
		st[i].meas.live_time_s = 100;
		st[i].meas.current_ua = 10;
		st[i].meas.n = 2;
		mg_quant_line *l = &st[i].meas.lines[0];
		l->z = 60;
		snprintf(l->element, 4, "Nd");
		snprintf(l->line, sizeof l->line, "L");
		l->area = R * 1000;
		l->sigma = sqrt(l->area);
		l->sigma_bg = 100;
		l = &st[i].meas.lines[1];
		l->z = 26;
		snprintf(l->element, 4, "Fe");
		snprintf(l->line, sizeof l->line, "K");
		l->area = 1e6 * fe * (1 + 0.1 * nd[i]); /* not used by the Nd line */
		l->sigma = sqrt(l->area);
		l->sigma_bg = 100;
	}
	mg_instrument_desc d;
	mg_instrument_desc_default(&d);
	mg_quant_options o;
	mg_quant_options_default(&o);
	mg_quant_calibration cal;
	CHECK_RC(mg_quant_calibrate(&d, "Fe,Nd,B", &o, st, 6, "Nd:Fe", &cal), 0);
	const mg_quant_empirical_line *e = NULL;
	for (size_t i = 0; i < cal.nlines; i++)
		if (cal.lines[i].z == 60)
			e = &cal.lines[i];
	CHECK(e && e->nalpha == 1 && e->alpha_z[0] == 26);
	if (e) {
		printf("Lachance-Traill fit: b0 %.6g b1 %.6g alpha %.5f (true %g %g %g), s %.2g\n", e->b0, e->b1,
		       e->alpha[0], b0, b1, al, e->s_resid);
		CHECK_NEAR(e->b0, b0, 1e-6);
		CHECK_NEAR(e->b1, b1, 1e-8);
		CHECK_NEAR(e->alpha[0], al, 1e-5);
		CHECK_NEAR(e->w_min, 0.19, 1e-12);
		CHECK_NEAR(e->w_max, 0.315, 1e-12);
	}
	/* payload round trip */
	char *js = mg_quant_calibration_to_json(&cal);
	mg_quant_calibration c2;
	CHECK_RC(mg_quant_calibration_from_json(js, strlen(js), "cal", &c2), 0);
	CHECK(c2.nlines == cal.nlines && c2.nstd == 6 && fabs(c2.lines[0].b1 - cal.lines[0].b1) < 1e-15 * fabs(cal.lines[0].b1) + 1e-30);
	mg_quant_calibration c3;
	CHECK_RC(mg_quant_calibration_from_json("{\"instrument_ini\": 3}", 20, "bad", &c3), MG_ERR_FORMAT);
	CHECK_RC(mg_quant_calibration_from_json("[", 1, "bad", &c3), MG_ERR_FORMAT);
	free(js);
	/* use: an unknown inside and one outside the calibrated range */
	o.method = MG_QUANT_EMPIRICAL;
	mg_quant *q = NULL;
	CHECK_RC(mg_quant_new(&d, "Fe,Nd,B", &o, NULL, 0, &c2, &q), 0);
	const double wnd[2] = {0.25, 0.40};
	for (int k = 0; k < 2 && q; k++) {
		mg_quant_meas m = st[2].meas;
		double fe = 0.99 - wnd[k];
		m.lines[0].area = (wnd[k] / (1 + al * fe) - b0) / b1 * 1000;
		m.lines[1].area = 1e6 * fe * (1 + 0.1 * wnd[k]);
		mg_quant_result r;
		CHECK_RC(mg_quant_run(q, &m, &r, NULL, 0, NULL), 0);
		const mg_quant_element *x = mg_quant_result_find(&r, 60);
		printf("  empirical Nd %.4f wt%% (true %.2f; Fe %.2f) +- %.4f\n", x ? x->wt_pct : NAN, 100 * wnd[k],
		       mg_quant_result_find(&r, 26)->wt_pct, x ? x->sigma : NAN);
		/* exact in Nd once Fe is right: Fe here comes from its own (inexact) calibration line */
		CHECK(x && fabs(x->wt_pct - 100 * wnd[k]) < 0.5);
		CHECK(x && (k == 0) == !(x->flags & MG_QE_OUTSIDE_RANGE));
		CHECK((k == 1) == !!(r.flags & MG_QS_OUTSIDE_RANGE));
	}
	mg_quant_free(q);
	mg_quant_calibration_clear(&cal);
	mg_quant_calibration_clear(&c2);
}

/* ---------------------------------------------------------------- records */

static void test_records(void)
{
	const char *dir = mg_test_tmpdir();
	char data[512], path[600];
	snprintf(data, sizeof data, "%s/store", dir);
	mg_store *st = NULL;
	CHECK_RC(mg_store_open(data, &st), 0);
	if (!st)
		return;
	mg_calib_record r;
	memset(&r, 0, sizeof r);
	snprintf(r.kind, sizeof r.kind, "energy");
	snprintf(r.name, sizeof r.name, "dp5-sn1");
	snprintf(r.operator_name, sizeof r.operator_name, "tester");
	mg_energy_cal cal = {1, -0.01, 0.0200, 0};
	mg_detector_model det = {.noise_kev = 0.09, .fano = 0.115};
	r.payload_json = mg_calib_energy_payload(&cal, &det);
	r.provenance_json = strdup("{\"spectrum\": \"fe.mca\"}");
	CHECK_RC(mg_calib_record_store(st, &r), 0);
	CHECK(r.version == 1 && r.id > 0 && r.created_at[0]);
	long long id1 = r.id;
	CHECK_RC(mg_calib_record_store(st, &r), 0); /* never overwritten: a new version */
	CHECK(r.version == 2 && r.id != id1);
	snprintf(path, sizeof path, "%s/energy.json", dir);
	CHECK_RC(mg_calib_record_export(&r, path), 0);
	CHECK_RC(mg_calib_record_export(&r, path), MG_ERR_EXISTS);
	/* what `analyze --calib FILE` reads */
	mg_energy_cal c2;
	mg_detector_model d2 = {0};
	CHECK_RC(mg_analysis_calib_read_file(path, &c2, &d2), 0);
	CHECK_NEAR(c2.gain_kev, 0.02, 1e-12);
	CHECK_NEAR(d2.noise_kev, 0.09, 1e-12);
	mg_calib_record back;
	CHECK_RC(mg_calib_record_import(path, &back), 0);
	CHECK(strcmp(back.kind, "energy") == 0 && back.version == 2 && back.id == r.id &&
	      strcmp(back.operator_name, "tester") == 0 && back.provenance_json &&
	      strstr(back.provenance_json, "fe.mca"));
	mg_calib_record_clear(&back);
	mg_calib_record ld;
	char ref[64];
	snprintf(ref, sizeof ref, "%lld", id1);
	CHECK_RC(mg_calib_record_load(st, ref, &ld), 0);
	CHECK(ld.version == 1);
	mg_calib_record_clear(&ld);
	CHECK_RC(mg_calib_record_load(st, "energy:dp5-sn1@2", &ld), 0);
	CHECK(ld.version == 2);
	mg_calib_record_clear(&ld);
	CHECK_RC(mg_calib_record_load(st, "dp5-sn1", &ld), 0);
	CHECK(ld.version == 2);
	mg_calib_record_clear(&ld);
	CHECK_RC(mg_calib_record_load(st, "energy:nope", &ld), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_calib_record_load(st, "nope", &ld), MG_ERR_NOT_FOUND);
	mg_calib_record_clear(&r);
	snprintf(path, sizeof path, "%s/bad.json", dir);
	mg_file_write_atomic(path, "{\"kind\": \"energy\"}", 18);
	CHECK_RC(mg_calib_record_import(path, &ld), MG_ERR_FORMAT);
	mg_store_close(st);
}

int main(void)
{
	test_instrument();
	test_comp_csv();
	test_fp();
	test_matrix();
	test_grades();
	test_empirical();
	test_records();
	return mg_test_finish("test_quant_unit");
}
