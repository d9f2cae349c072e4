/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The example sequence (examples/ndfeb-icp-sequence.csv with its method and
 * QC profile) run to its end against the simulated ICP-OES over the two
 * transports a lab plugs an instrument in with, through the unchanged
 * driver code paths (umockdev, tests/harness):
 *  - usbtmc: an emulated USB488 device (libusb, drivers/transport/usbtmc.c),
 *    served by the simulator's USBTMC function (icp_harness.h);
 *  - tty:    an emulated /dev/ttyUSB<n> (libserialport), served by the
 *    simulator's SCPI byte stream, opened as scpi+serial:.
 * For each transport:
 *  - clean run: every QC check passes and Nd, Pr, Dy, Tb, Fe, Co, B agree
 *    with the simulator's truth within 2 % relative wherever the solution is
 *    above 10 × LOQ (the criteria of tests/icp/test_icp_sim.c, the loopback);
 *  - drift_jump=15@18: the closing CCV fails, is reported (API and JSON) with
 *    its value and limits, and exactly the samples since the last passing
 *    CCV are flagged for re-run;
 *  - error_at=13: the instrument reports an error measuring the duplicate
 *    (position 17): the run stops with an error naming the position and the
 *    instrument's SCPI error text; what was measured before stays in the
 *    run's results (and in the store).
 * Every wait is bounded by the driver's timeout; no sleeps. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "icp_common.h"
#include "icp_harness.h"
#include "magassay/error.h"
#include "magassay/icp_analysis.h"
#include "magassay/icp_device.h"
#include "magassay/sequence.h"
#include "magassay/store.h"
#include "mg_harness.h"

#define EX MG_SOURCE_DIR "/examples/"
#define TIMEOUT_MS 1500 /* any one exchange; the run itself never waits on the clock */

static mg_icp_method *method;
static mg_icp_qc_profile *qc;
static mg_icp_sequence *seq;
static mg_icpsim *truth_sim;

/* ---- from tests/icp/test_icp_sim.c (static there) ---- */

static size_t item_of(const char *label, int nth)
{
	for (size_t i = 0; i < seq->nitems; i++)
		if (strcmp(seq->items[i].label, label) == 0 && nth-- == 0)
			return i;
	return (size_t)-1;
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

/* ---- the two transports ---- */

typedef enum { T_USBTMC, T_TTY } transport;

static const char *tname(transport t)
{
	return t == T_USBTMC ? "usbtmc" : "tty";
}

/* A simulator made from params, plugged in on transport t. */
typedef struct plugged {
	transport t;
	mg_icpsim *sim;
	mg_usbsim *usb;
	mg_ttysim *tty;
	char uri[256];
} plugged;

static int plug(transport t, const char *params, plugged *p)
{
	static int tty_index;
	memset(p, 0, sizeof(*p));
	p->t = t;
	CHECK_RC(mg_icpsim_new(params, &p->sim), MG_OK);
	if (!p->sim)
		return -1;
	if (t == T_USBTMC) {
		p->usb = icp_usbsim_start(p->sim, "ICP-E2E");
		if (p->usb)
			snprintf(p->uri, sizeof(p->uri), "%s", icp_usbsim_uri(p->usb));
	} else {
		/* a fresh /dev/ttyUSB<n> per run (ttyUSB0 first) */
		p->tty = mg_ttysim_start(tty_index++, mg_icpsim_serve, p->sim);
		if (p->tty)
			snprintf(p->uri, sizeof(p->uri), "scpi+%s", mg_ttysim_uri(p->tty));
	}
	CHECK_MSG(p->usb || p->tty, "%s: could not plug the simulator in", tname(t));
	return p->usb || p->tty ? 0 : -1;
}

static void unplug(plugged *p)
{
	if (p->usb)
		mg_usbsim_stop(p->usb);
	if (p->tty)
		mg_ttysim_stop(p->tty);
	mg_icpsim_free(p->sim); /* after the device */
}

/* Run the example sequence on transport t against a simulator made from
 * params. The run's return code; *out: the run (NULL if it was not made). */
static int run_on(transport t, const char *params, mg_store *st, mg_icp_run **out)
{
	*out = NULL;
	plugged p;
	if (plug(t, params, &p) < 0) {
		if (p.sim)
			unplug(&p);
		return MG_ERR_IO;
	}
	mg_icp_device *dev = NULL;
	int rc = mg_icp_open(p.uri, &dev);
	CHECK_MSG(rc == MG_OK, "%s: open %s: %s", tname(t), p.uri, mg_error_detail());
	if (rc == MG_OK) {
		mg_transport_kind want = t == T_USBTMC ? MG_TRANSPORT_USBTMC : MG_TRANSPORT_SERIAL;
		CHECK_MSG(mg_transport_get_kind(mg_icp_get_transport(dev)) == want, "%s: %s is not the %s path",
		          tname(t), mg_transport_description(mg_icp_get_transport(dev)), tname(t));
		printf("%s [%s]: %s via %s\n", tname(t), params, p.uri, mg_transport_description(mg_icp_get_transport(dev)));
		mg_icp_set_timeout(dev, TIMEOUT_MS);
		mg_icp_source src;
		mg_icp_source_device(dev, p.uri, &src);
		CHECK_RC(mg_icp_run_new(seq, method, qc, NULL, out), MG_OK);
		if (*out) {
			mg_icp_run_set_store(*out, st, "transport test");
			mg_icp_run_set_origin(*out, EX "ndfeb-icp-sequence.csv", p.uri);
			rc = mg_icp_run_source(*out, &src);
		} else {
			rc = MG_ERR_ARG;
		}
		mg_icp_close(dev);
	}
	unplug(&p);
	return rc;
}

static json_t *run_json(const mg_icp_run *r)
{
	char *text = NULL;
	CHECK_RC(mg_icp_run_json(r, &text), MG_OK);
	json_error_t err;
	json_t *o = text ? json_loads(text, 0, &err) : NULL;
	CHECK_MSG(o != NULL, "run JSON does not parse: %s", text ? err.text : "none");
	free(text);
	return o;
}

static double jnum(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jtext(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* ---- (a) a clean run ---- */

static void test_clean(transport t, mg_store *st)
{
	mg_icp_run *r;
	int rc = run_on(t, "seed=3", st, &r);
	CHECK_MSG(rc == MG_OK, "%s clean run: %d %s", tname(t), rc, mg_error_detail());
	if (!r)
		return;
	static const char *els[] = {"Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B"};
	enum { NE = sizeof(els) / sizeof(els[0]) };
	double worst[NE] = {0};
	int n[NE] = {0};
	for (size_t i = 0; i < seq->nitems; i++) {
		const mg_icp_item *it = &seq->items[i];
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		CHECK_MSG(res->measured && res->status == MG_OK, "%s: %s not measured", tname(t), it->label);
		if (it->type != MG_ICP_ITEM_SAMPLE && it->type != MG_ICP_ITEM_DUPLICATE && it->type != MG_ICP_ITEM_CRM)
			continue;
		mg_icpsim_solution sol;
		CHECK_RC(mg_icpsim_solution_at(truth_sim, it->position, &sol), MG_OK);
		for (size_t e = 0; e < NE; e++) {
			int a = mg_icp_method_analyte(method, els[e]);
			CHECK(a >= 0);
			if (a < 0)
				continue;
			double w_true = NAN, c_true = 0;
			for (size_t k = 0; k < sol.nelements; k++)
				if (strcmp(sol.element[k], els[e]) == 0) {
					w_true = sol.mass_pct[k];
					c_true = sol.mg_per_l[k];
				}
			const mg_icp_curve *cv = mg_icp_run_curve(r, (size_t)a);
			CHECK(cv != NULL);
			/* ±2 % relative wherever the solution is above 10 × the LOQ (10 σ of the blank) */
			if (!cv || !(w_true > 0) || !(c_true > 10 * cv->loq))
				continue;
			double w = res->line[a].w_pct, dev = 100 * (w - w_true) / w_true;
			n[e]++;
			if (!(fabs(dev) <= fabs(worst[e])))
				worst[e] = dev;
			CHECK_MSG(fabs(dev) <= 2.0, "%s: %s %s: %.4f wt%% vs truth %.4f (%+.2f %%)", tname(t), it->label,
			          els[e], w, w_true, dev);
		}
	}
	printf("%s clean run, worst deviation from truth above 10×LOQ:", tname(t));
	for (size_t e = 0; e < NE; e++) {
		printf(" %s %+.2f%% (n=%d)", els[e], worst[e], n[e]);
		CHECK_MSG(n[e] >= 3, "%s: %s judged on %d samples", tname(t), els[e], n[e]);
	}
	printf("\n");
	size_t np = mg_icp_run_count(r, MG_ICP_PASS), nf = mg_icp_run_count(r, MG_ICP_FAIL);
	for (size_t k = 0; k < mg_icp_run_nchecks(r); k++) {
		const mg_icp_check *c = mg_icp_run_check(r, k);
		if (c->outcome == MG_ICP_FAIL)
			printf("  %s FAIL: %s %s %s value %.5g [%g, %g] %s\n", tname(t), mg_icp_check_name(c->type), c->label,
			       c->element, c->value, c->lo, c->hi, c->note);
	}
	printf("%s QC: %zu pass, %zu fail, %zu n/a\n", tname(t), np, nf, mg_icp_run_count(r, MG_ICP_NA));
	CHECK_MSG(nf == 0, "%s clean run: %zu QC checks failed", tname(t), nf);
	CHECK(np > 50);
	/* every kind of check the sequence holds was judged and passed */
	static const mg_icp_check_type types[] = {MG_ICP_CHECK_CALIBRATION, MG_ICP_CHECK_ICV, MG_ICP_CHECK_ICB,
	                                          MG_ICP_CHECK_LLOQ, MG_ICP_CHECK_CCV, MG_ICP_CHECK_CCB,
	                                          MG_ICP_CHECK_DUPLICATE, MG_ICP_CHECK_SPIKE, MG_ICP_CHECK_CRM};
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		const mg_icp_check *c = find_check(r, types[k], (size_t)-1, "Dy");
		CHECK_MSG(c && c->outcome == MG_ICP_PASS, "%s: %s Dy %s", tname(t), mg_icp_check_name(types[k]),
		          c ? mg_icp_outcome_name(c->outcome) : "missing");
	}
	for (int k = 0; k < 2; k++) {
		const mg_icp_check *c = find_check(r, MG_ICP_CHECK_CCV, item_of("CCV", k), "Nd");
		CHECK(c && c->outcome == MG_ICP_PASS && fabs(c->value - 100) < 3 && c->lo == 90 && c->hi == 110);
	}
	/* no sample to re-run, the run complete */
	for (size_t i = 0; i < seq->nitems; i++)
		for (size_t a = 0; a < method->nanalytes; a++)
			CHECK(!(mg_icp_run_result(r, i)->line[a].flags &
			        (MG_ICP_RF_RERUN_CCV | MG_ICP_RF_RERUN_CCB | MG_ICP_RF_UNBRACKETED)));
	json_t *j = run_json(r);
	if (j) {
		CHECK(!strcmp(jtext(j, "status"), "complete") && json_is_null(json_object_get(j, "error")));
		CHECK(json_array_size(json_object_get(j, "rerun")) == 0);
		json_decref(j);
	}
	mg_icp_run_free(r);
}

/* ---- (b) a CCV failure ---- */

/* drift_jump: every line but the IS reads 15 % high from the 18th run
 * (N45SH-GBD-A) on; the closing CCV fails and flags the samples since the
 * CCV that passed: N38UH-A (measured before the jump) included. */
static void test_ccv_failure(transport t)
{
	mg_icp_run *r;
	int rc = run_on(t, "seed=4&drift_jump=15@18", NULL, &r);
	CHECK_MSG(rc == MG_OK, "%s CCV-failure run: %d %s", tname(t), rc, mg_error_detail());
	if (!r)
		return;
	size_t ccv1 = item_of("CCV", 0), ccv2 = item_of("CCV", 1);
	const mg_icp_check *c1 = find_check(r, MG_ICP_CHECK_CCV, ccv1, "Nd");
	const mg_icp_check *c2 = find_check(r, MG_ICP_CHECK_CCV, ccv2, "Nd");
	CHECK(c1 && c1->outcome == MG_ICP_PASS);
	CHECK_MSG(c2 && c2->outcome == MG_ICP_FAIL && c2->value > 110 && c2->lo == 90 && c2->hi == 110,
	          "%s: closing CCV Nd %s %.2f [%g, %g]", tname(t), c2 ? mg_icp_outcome_name(c2->outcome) : "missing",
	          c2 ? c2->value : NAN, c2 ? c2->lo : NAN, c2 ? c2->hi : NAN);
	if (c1 && c2)
		printf("%s drift_jump=15@18: CCV #1 Nd %.1f %% (%s), CCV #2 Nd %.1f %% [%g, %g] (%s)\n", tname(t),
		       c1->value, mg_icp_outcome_name(c1->outcome), c2->value, c2->lo, c2->hi,
		       mg_icp_outcome_name(c2->outcome));
	/* exactly the samples between the two CCVs, for every analyte */
	char want_labels[8][MG_ICP_LABEL_SIZE];
	size_t nwant = 0;
	for (size_t i = 0; i < seq->nitems; i++) {
		if (!mg_icp_item_is_sample(seq->items[i].type))
			continue;
		int want = i > ccv1 && i < ccv2;
		for (size_t a = 0; a < method->nanalytes; a++) {
			unsigned fl = mg_icp_run_result(r, i)->line[a].flags;
			CHECK_MSG(!!(fl & MG_ICP_RF_RERUN_CCV) == want, "%s: %s %s re-run flag %d", tname(t),
			          seq->items[i].label, method->analyte[a].element, !!(fl & MG_ICP_RF_RERUN_CCV));
		}
		if (want && nwant < 8)
			snprintf(want_labels[nwant++], MG_ICP_LABEL_SIZE, "%s", seq->items[i].label);
	}
	CHECK(nwant == 4 && !strcmp(want_labels[0], "N38UH-A"));
	/* the report: the failing CCV with value, limits and outcome; the re-run list */
	json_t *j = run_json(r);
	if (j) {
		CHECK(!strcmp(jtext(j, "status"), "complete"));
		const json_t *found = NULL, *ch;
		size_t k;
		json_array_foreach(json_object_get(j, "checks"), k, ch)
			if (!strcmp(jtext(ch, "type"), mg_icp_check_name(MG_ICP_CHECK_CCV)) && jnum(ch, "item") == (double)ccv2 &&
			    !strcmp(jtext(ch, "element"), "Nd"))
				found = ch;
		CHECK_MSG(found && !strcmp(jtext(found, "outcome"), "fail") && jnum(found, "value") > 110 &&
		                  jnum(found, "lo") == 90 && jnum(found, "hi") == 110 && jnum(found, "position") == 9,
		          "%s: JSON closing CCV Nd", tname(t));
		json_t *rerun = json_object_get(j, "rerun");
		CHECK_MSG(json_array_size(rerun) == nwant, "%s: %zu to re-run in the JSON", tname(t), json_array_size(rerun));
		for (size_t i = 0; i < json_array_size(rerun) && i < nwant; i++)
			CHECK_MSG(!strcmp(jtext(json_array_get(rerun, i), "label"), want_labels[i]), "%s: re-run #%zu %s",
			          tname(t), i, jtext(json_array_get(rerun, i), "label"));
		json_decref(j);
	}
	mg_icp_run_free(r);
}

/* ---- (c) an instrument error mid-run ---- */

/* error_at: the 13th run (the duplicate, position 17) fails with -240 in
 * the error queue. */
static void test_instrument_error(transport t, mg_store *st)
{
	mg_icp_run *r;
	int rc = run_on(t, "seed=5&error_at=13", st, &r);
	char detail[512];
	snprintf(detail, sizeof(detail), "%s", mg_error_detail());
	printf("%s error_at=13: %d %s\n", tname(t), rc, detail);
	CHECK_MSG(rc == MG_ERR_DEVICE, "%s: run returned %d", tname(t), rc);
	CHECK_MSG(strstr(detail, "N42SH-A-DUP") && strstr(detail, "position 17") && strstr(detail, "-240") &&
	                  strstr(detail, "nebulizer pressure low"),
	          "%s: error detail: %s", tname(t), detail);
	if (!r)
		return;
	size_t dup = item_of("N42SH-A-DUP", 0);
	int a_nd = mg_icp_method_analyte(method, "Nd");
	for (size_t i = 0; i < seq->nitems; i++) {
		const mg_icp_item_result *res = mg_icp_run_result(r, i);
		CHECK_MSG(res->measured == (i < dup), "%s: %s measured %d", tname(t), seq->items[i].label, res->measured);
		if (i < dup) {
			CHECK(res->status == MG_OK && res->nreplicates > 0 && isfinite(res->line[a_nd].net));
			CHECK(st == NULL || (res->measurement_id > 0 && res->result_id > 0));
		}
	}
	/* what was measured before keeps its values: N42SH-A (measured) has its Nd */
	const mg_icp_item_result *n42 = mg_icp_run_result(r, item_of("N42SH-A", 0));
	CHECK(n42->measured && n42->line[a_nd].w_pct > 10);
	/* the samples had no closing CCV */
	CHECK(n42->line[a_nd].flags & MG_ICP_RF_UNBRACKETED);
	json_t *j = run_json(r);
	if (j) {
		json_t *e = json_object_get(j, "error");
		CHECK(!strcmp(jtext(j, "status"), "failed"));
		CHECK_MSG(json_is_object(e) && jnum(e, "position") == 17 && !strcmp(jtext(e, "label"), "N42SH-A-DUP") &&
		                  strstr(jtext(e, "message"), "-240") &&
		                  strstr(jtext(e, "message"), "nebulizer pressure low"),
		          "%s: JSON error: %s", tname(t), jtext(e, "message"));
		json_decref(j);
	}
	if (st) {
		/* the store holds what was measured (after the clean run's measurements) */
		mg_batch b;
		CHECK_RC(mg_store_batch_get(st, seq->batch, &b), MG_OK);
		printf("%s store after the error: %lld measurements\n", tname(t), b.n_measurements);
		CHECK(b.n_measurements == (long long)(seq->nitems + dup));
		mg_batch_clear(&b);
		CHECK(mg_store_check(st, NULL, NULL) == 0);
	}
	mg_icp_run_free(r);
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	icp_log_init();
	CHECK_RC(mg_icp_method_load(EX "ndfeb-icp-method.ini", &method), MG_OK);
	CHECK_RC(mg_icp_qc_load(EX "icp-qc-epa6010d.ini", &qc), MG_OK);
	CHECK_RC(mg_icp_sequence_load(EX "ndfeb-icp-sequence.csv", &seq), MG_OK);
	CHECK_RC(mg_icpsim_new("", &truth_sim), MG_OK);
	if (!method || !qc || !seq || !truth_sim)
		return mg_test_finish("test_icp_sequence_transports");
	double t00 = icp_now_ms();
	static const transport ts[] = {T_USBTMC, T_TTY};
	for (size_t k = 0; k < 2; k++) {
		double t0 = icp_now_ms();
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/store-%s", mg_test_tmpdir(), tname(ts[k]));
		mg_store *st = NULL;
		CHECK_RC(mg_store_open(dir, &st), MG_OK);
		if (!st)
			continue;
		test_clean(ts[k], st);
		test_ccv_failure(ts[k]);
		test_instrument_error(ts[k], st);
		mg_store_close(st);
		fprintf(stderr, "test_icp_sequence_transports: %s: 3 runs in %.0f ms\n", tname(ts[k]), icp_now_ms() - t0);
	}
	fprintf(stderr, "test_icp_sequence_transports: %.0f ms\n", icp_now_ms() - t00);
	mg_icpsim_free(truth_sim);
	mg_icp_sequence_free(seq);
	mg_icp_qc_free(qc);
	mg_icp_method_free(method);
	return mg_test_finish("test_icp_sequence_transports");
}
