/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Standards-based quantification of a real spectrum: the NIST stainless-steel
 * unknown against the pure-element standards measured on the same Bruker
 * benchtop under the same conditions (../shared/data/nist-xrf-stainless: Rh
 * 50 kV, vacuum, XFlash 430, ~120 s live each). Skipped (77) with a message
 * where ../shared/data is absent.
 *
 * Recipe (docs/quantification.md §NIST): the instrument file
 * examples/instruments/nist-bruker-benchtop.ini (the spectra's own #TACTLYR
 * and #TDEADLYR take part: no conflict); the engine calibrated on the steel
 * (automatic calibration, then offset, gain, noise, Fano, tail, step and the
 * Compton geometry refined), escape peaks off (Bruker removed them), the Kβ
 * shoulder modelled; every standard fitted with its own composition as the
 * matrix; k-ratios of Si, S, Ti, Cr, Fe, Ni (and Cu) against their standards,
 * Mn and Mo (no standard here) by FP with the instrument factor the standards
 * fix; the FP matrix correction iterated (secondary fluorescence Ni K → Fe,
 * Cr; Fe K → Cr).
 *
 * Checks: every k-ratio and mass fraction computed and finite; Fe 60–75,
 * Cr 15–22, Ni 6–15 wt% (an 18/8-type stainless); the un-normalised total
 * 95–105 %; Si, S and Ti small (< 3 wt%); each pure standard quantified as
 * itself (its own element 95–105 wt%) — a closure test of the FP correction
 * on matrices from Si to Sn. The figures are printed (and recorded in
 * docs/quantification.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/log.h"
#include "magassay/quant.h"

#define DIR "nist-xrf-stainless"
#define LIST "Si,S,Ti,Cr,Mn,Fe,Ni,Cu,Mo"

static const struct {
	const char *name;
	int z;
} stds[] = {{"Si", 14}, {"S", 16}, {"Ti", 22}, {"Cr", 24}, {"Fe", 26}, {"Ni", 28}, {"Cu", 29}};
#define NSTD (sizeof(stds) / sizeof(stds[0]))

static mg_spectrum *load(const char *dir, const char *name)
{
	char rel[128];
	snprintf(rel, sizeof rel, DIR "/%s_50kv_50_ma_Rh_vac_D1.msa", name);
	mg_spectrum *s = NULL;
	int rc = mg_spectrum_read_file(mg_test_path(dir, rel), NULL, &s);
	CHECK_MSG(rc == 0, "%s: %s", rel, mg_error_detail());
	return s;
}

static void log_handler(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	if (level <= MG_LOG_WARN || (getenv("MG_TEST_DEBUG") && strcmp(domain, "quant") == 0))
		fprintf(stderr, "[%s] %s\n", domain, msg);
}

int main(void)
{
	const char *dir = mg_test_require_data_dir();
	mg_log_set_handler(log_handler, NULL);
	if (getenv("MG_TEST_DEBUG"))
		mg_log_set_level(MG_LOG_DBG);
	mg_spectrum *steel = load(dir, "Steel");
	if (!steel)
		return mg_test_finish("test_quant_nist");

	/* the instrument: the example file, with what the spectrum carries */
	mg_instrument_desc ins;
	CHECK_RC(mg_instrument_desc_read_file(MG_SOURCE_DIR "/examples/instruments/nist-bruker-benchtop.ini", &ins), 0);
	mg_instrument_conflict conf[8];
	int nc = mg_instrument_desc_apply_spectrum(&ins, steel, conf, 8);
	printf("instrument: %s, %d conflict(s) with the steel's header; detector %.3f mm Si, dead layer %.3f um\n",
	       ins.name, nc, ins.det_thickness_mm, ins.det_dead_layer_um);
	for (int i = 0; i < nc && i < 8; i++)
		printf("  conflict %s: file %s, spectrum %s\n", conf[i].key, conf[i].file_value, conf[i].spectrum_value);
	CHECK(nc == 0);

	/* the engine, calibrated on the steel (as test_analysis_nist does) */
	mg_analysis_config c;
	mg_analysis_config_default(&c);
	mg_analysis_config_from_spectrum(&c, steel);
	mg_instrument_desc_to_analysis(&ins, &c);
	c.det.tail_fraction = 0.01;
	c.det.tail_slope_kev = 0.3;
	c.det.step_height = 1e-4;
	snprintf(c.elements, sizeof c.elements, LIST);
	snprintf(c.matrix, sizeof c.matrix, "Fe:70,Cr:18,Ni:8,Mn:1.5");
	c.emin_kev = 1.2;
	c.emax_kev = 30;
	c.flags = MG_AN_PILEUP | MG_AN_SCATTER | MG_AN_WARNINGS | MG_AN_MATRIX | MG_AN_FREE_MAJOR;
	c.kb_sat_fraction = 0.04;
	c.kb_sat_shift_kev = 0.17;
	c.model_error = 0.01;
	mg_energy_cal cal0;
	CHECK_RC(mg_analysis_auto_cal(&c, steel->counts, steel->nchan, 0, 0, &cal0, NULL), 0);
	c.cal = cal0;
	mg_analysis_plan *p = NULL;
	CHECK_RC(mg_analysis_plan_new(&c, &p), 0);
	if (!p)
		return mg_test_finish("test_quant_nist");
	mg_analysis_ctx *ctx = mg_analysis_ctx_new(p);
	mg_analysis_refinement ref;
	CHECK_RC(mg_analysis_refine(p, ctx, steel->counts, steel->nchan,
	                            MG_REFINE_DEFAULT | MG_REFINE_TAIL | MG_REFINE_STEP | MG_REFINE_COMPTON, &ref),
	         0);
	mg_analysis_ctx_free(ctx);
	mg_analysis_plan_free(p);
	c.cal = ref.cal;
	c.det = ref.det;
	c.exc.scatter_deg = ref.scatter_deg;
	c.compton_fwhm_kev = ref.compton_fwhm_kev;

	/* the standards, each fitted with its own composition as the matrix */
	mg_quant_analyzer *an = NULL;
	CHECK_RC(mg_quant_analyzer_new(NULL, &c, 0, &an), 0);
	mg_quant_standard st[NSTD];
	memset(st, 0, sizeof st);
	for (size_t i = 0; i < NSTD; i++) {
		mg_spectrum *s = load(dir, stds[i].name);
		if (!s)
			return mg_test_finish("test_quant_nist");
		snprintf(st[i].name, sizeof st[i].name, "%s", stds[i].name);
		mg_quant_comp_set(&st[i].comp, stds[i].z, 1.0, 0.002);
		CHECK_RC(mg_quant_analyzer_run(an, s->counts, s->nchan, s->live_time_s, NAN, st[i].name, &st[i].comp, 0,
		                               &st[i].meas, NULL, NULL, 0, NULL),
		         0);
		const mg_quant_line *l = mg_quant_meas_find(&st[i].meas, stds[i].z, NULL);
		printf("  standard %-2s: %s area %.0f, pile-up loss %.2f %%, chi2 %.2f\n", stds[i].name, l ? l->line : "?",
		       l ? l->area : NAN, 100 * st[i].meas.pileup_loss, st[i].meas.chi2_reduced);
		mg_spectrum_free(s);
	}
	mg_quant_options o;
	mg_quant_options_default(&o);
	o.fixed.n = 0; /* no boron in a steel */
	o.method = MG_QUANT_KRATIO;
	mg_quant *q = NULL;
	CHECK_RC(mg_quant_new(&ins, LIST, &o, st, NSTD, NULL, &q), 0);
	if (!q)
		return mg_test_finish("test_quant_nist");
	mg_quant_analyzer_set_quant(an, q);

	/* the unknown */
	mg_quant_result res;
	mg_quant_kratio kr[16];
	size_t nk = 0;
	CHECK_RC(mg_quant_analyzer_run(an, steel->counts, steel->nchan, steel->live_time_s, NAN, "Steel", NULL, 0, NULL,
	                               &res, kr, 16, &nk),
	         0);
	{
		mg_quant_meas m2;
		mg_quant_analyzer_run(an, steel->counts, steel->nchan, steel->live_time_s, NAN, "Steel", NULL, 0, &m2, &res,
		                      NULL, 0, NULL);
		printf("steel: pile-up loss %.2f %%, chi2 %.2f\n", 100 * m2.pileup_loss, m2.chi2_reduced);
	}
	printf("k-ratios of the steel against the pure standards:\n");
	for (size_t i = 0; i < nk; i++) {
		printf("  %-2s %-2s k = %.5f +- %.5f (standard %s)\n", kr[i].element, kr[i].line, kr[i].k, kr[i].sigma,
		       kr[i].standard);
		CHECK(isfinite(kr[i].k) && kr[i].sigma > 0);
	}
	CHECK(nk >= 6);
	printf("composition (%s, %d iterations, %s):\n", res.method_detail, res.iterations,
	       res.converged ? "converged" : "NOT converged");
	for (size_t i = 0; i < res.n; i++) {
		const mg_quant_element *e = &res.el[i];
		char fl[128];
		mg_quant_element_flags_str(e->flags, fl, sizeof fl);
		printf("  %-2s %-2s %7.3f +- %.3f wt%% (counting %.3f, calibration %.3f, matrix %.3f; LOD %.4f) %s\n",
		       e->element, e->line, e->wt_pct, e->sigma, e->u_counting, e->u_calibration, e->u_matrix, e->lod_wt_pct,
		       fl);
	}
	printf("  total %.2f wt%%\n", res.total.wt_pct);
	for (size_t i = 0; i < res.nnotes; i++)
		printf("  note: %s\n", res.notes[i]);
	CHECK(res.converged);
	static const int want[] = {14, 16, 22, 24, 26, 28};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const mg_quant_element *e = mg_quant_result_find(&res, want[i]);
		CHECK_MSG(e && isfinite(e->wt_pct) && isfinite(e->sigma), "Z %d not quantified", want[i]);
		int has_k = 0;
		for (size_t k = 0; k < nk; k++)
			has_k |= kr[k].z == want[i];
		CHECK_MSG(has_k, "no k-ratio for Z %d", want[i]);
	}
	const mg_quant_element *fe = mg_quant_result_find(&res, 26), *cr = mg_quant_result_find(&res, 24),
	                       *ni = mg_quant_result_find(&res, 28);
	if (fe && cr && ni) {
		CHECK_MSG(fe->wt_pct > 60 && fe->wt_pct < 75, "Fe %.2f", fe->wt_pct);
		CHECK_MSG(cr->wt_pct > 15 && cr->wt_pct < 22, "Cr %.2f", cr->wt_pct);
		CHECK_MSG(ni->wt_pct > 6 && ni->wt_pct < 15, "Ni %.2f", ni->wt_pct);
	}
	CHECK_MSG(res.total.wt_pct > 95 && res.total.wt_pct < 105, "total %.2f", res.total.wt_pct);
	for (size_t i = 0; i < 3; i++) {
		const mg_quant_element *e = mg_quant_result_find(&res, want[i]);
		CHECK_MSG(e && e->wt_pct < 3, "%s %.2f wt%% in a steel", e ? e->element : "?", e ? e->wt_pct : NAN);
	}
	CHECK(!(res.flags & MG_QS_COATING)); /* Ni in a steel is no coating: no rare earth analysed */

	/* closure: each standard against the others' FP correction (its own k = 1) */
	printf("closure (each standard quantified with the k-ratio set):\n");
	mg_quant_analyzer_set_quant(an, q);
	for (size_t i = 0; i < NSTD; i++) {
		mg_quant_result r2;
		CHECK_RC(mg_quant_run(q, &st[i].meas, &r2, NULL, 0, NULL), 0);
		const mg_quant_element *e = mg_quant_result_find(&r2, stds[i].z);
		printf("  %-2s standard: %.2f wt%% %s, total %.2f\n", stds[i].name, e ? e->wt_pct : NAN,
		       stds[i].name, r2.total.wt_pct);
		CHECK(e && fabs(e->wt_pct - 100) < 5);
	}
	mg_quant_analyzer_free(an);
	mg_quant_free(q);
	mg_spectrum_free(steel);
	return mg_test_finish("test_quant_nist");
}
