/* SPDX-License-Identifier: GPL-3.0-or-later */
/* QC rule evaluation: the bracket tracker that turns a failed CCV (or CCB)
 * into re-run flags — per analyte, every sample since the last passing check,
 * samples after a failed check when the next one is judged, unbracketed
 * samples at the end, a check not applicable to an analyte leaving its
 * bracket open — and the names and flag texts the reports use. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/icp_analysis.h"

typedef struct flag {
	size_t item, analyte;
	mg_icp_flag_reason why;
	size_t check;
} flag;

static flag got[64];
static size_t ngot;

static void on_flag(size_t item, size_t analyte, mg_icp_flag_reason why, size_t check, void *ud)
{
	(void)ud;
	if (ngot < 64)
		got[ngot++] = (flag){item, analyte, why, check};
}

static int has(size_t item, size_t analyte, mg_icp_flag_reason why)
{
	for (size_t i = 0; i < ngot; i++)
		if (got[i].item == item && got[i].analyte == analyte && got[i].why == why)
			return 1;
	return 0;
}

static void ccv(mg_icp_bracket *b, size_t item, int f0, int f1, int f2)
{
	int judged[3] = {1, 1, 1}, failed[3] = {f0, f1, f2};
	ngot = 0;
	mg_icp_bracket_check(b, item, judged, failed, on_flag, NULL);
}

static void test_propagation(void)
{
	mg_icp_bracket b;
	mg_icp_bracket_init(&b, 3);
	/* samples 1..3, a passing CCV (10): nothing flagged */
	for (size_t i = 1; i <= 3; i++)
		CHECK(mg_icp_bracket_add_sample(&b, i) == 0);
	ccv(&b, 10, 0, 0, 0);
	CHECK(ngot == 0);
	/* samples 4, 5, then a CCV (13) failing analyte 1 only */
	mg_icp_bracket_add_sample(&b, 4);
	mg_icp_bracket_add_sample(&b, 5);
	ccv(&b, 13, 0, 1, 0);
	CHECK(ngot == 2 && has(4, 1, MG_ICP_FLAG_CHECK_FAILED) && has(5, 1, MG_ICP_FLAG_CHECK_FAILED));
	CHECK(got[0].check == 13);
	/* sample 6, then a passing CCV (15): 6 ran after a failed check */
	mg_icp_bracket_add_sample(&b, 6);
	ccv(&b, 15, 0, 0, 0);
	CHECK(ngot == 1 && has(6, 1, MG_ICP_FLAG_AFTER_FAILED));
	/* sample 7, a CCV (17) failing analytes 0 and 1, another (18) failing 1 again */
	mg_icp_bracket_add_sample(&b, 7);
	ccv(&b, 17, 1, 1, 0);
	CHECK(ngot == 2 && has(7, 0, MG_ICP_FLAG_CHECK_FAILED) && has(7, 1, MG_ICP_FLAG_CHECK_FAILED));
	ccv(&b, 18, 0, 1, 0);
	/* analyte 1: still everything since its last pass (15): sample 7 again */
	CHECK(ngot == 1 && has(7, 1, MG_ICP_FLAG_CHECK_FAILED));
	/* sample 8 and the run ends without a closing check */
	mg_icp_bracket_add_sample(&b, 8);
	ngot = 0;
	mg_icp_bracket_end(&b, on_flag, NULL);
	CHECK(ngot == 3);
	CHECK(has(8, 0, MG_ICP_FLAG_UNBRACKETED) && has(8, 2, MG_ICP_FLAG_UNBRACKETED));
	CHECK(has(8, 1, MG_ICP_FLAG_AFTER_FAILED));
	/* after the end everything is closed */
	ngot = 0;
	mg_icp_bracket_end(&b, on_flag, NULL);
	CHECK(ngot == 0);
	mg_icp_bracket_clear(&b);
	CHECK(b.samples == NULL && b.nsamples == 0);
}

static void test_not_applicable(void)
{
	/* an analyte the CCV does not contain (NA) keeps its bracket open */
	mg_icp_bracket b;
	mg_icp_bracket_init(&b, 3);
	mg_icp_bracket_add_sample(&b, 1);
	int judged[3] = {1, 1, 0}, failed[3] = {0, 0, 0};
	ngot = 0;
	mg_icp_bracket_check(&b, 2, judged, failed, on_flag, NULL);
	CHECK(ngot == 0);
	mg_icp_bracket_add_sample(&b, 3);
	int judged2[3] = {1, 1, 1}, failed2[3] = {0, 0, 1};
	mg_icp_bracket_check(&b, 4, judged2, failed2, on_flag, NULL);
	CHECK(ngot == 2 && has(1, 2, MG_ICP_FLAG_CHECK_FAILED) && has(3, 2, MG_ICP_FLAG_CHECK_FAILED));
	/* many samples: the list grows */
	for (size_t i = 100; i < 300; i++)
		CHECK(mg_icp_bracket_add_sample(&b, i) == 0);
	ngot = 0;
	mg_icp_bracket_check(&b, 300, NULL, NULL, on_flag, NULL); /* NULL: every analyte judged and passed */
	CHECK(ngot == 64); /* analyte 2 was after a failure: all 200 flagged (64 kept) */
	CHECK(has(100, 2, MG_ICP_FLAG_AFTER_FAILED) && !has(100, 0, MG_ICP_FLAG_AFTER_FAILED));
	mg_icp_bracket_clear(&b);

	/* an analyte no check ever judges (not in the CCV): at the end only the
	 * samples after the last check are unbracketed, not all of them */
	mg_icp_bracket_init(&b, 2);
	mg_icp_bracket_add_sample(&b, 1);
	int j1[2] = {1, 0}, f1[2] = {0, 0};
	mg_icp_bracket_check(&b, 2, j1, f1, on_flag, NULL);
	mg_icp_bracket_add_sample(&b, 3);
	mg_icp_bracket_check(&b, 4, j1, f1, on_flag, NULL);
	mg_icp_bracket_add_sample(&b, 5);
	ngot = 0;
	mg_icp_bracket_end(&b, on_flag, NULL);
	CHECK(ngot == 2 && has(5, 0, MG_ICP_FLAG_UNBRACKETED) && has(5, 1, MG_ICP_FLAG_UNBRACKETED));
	mg_icp_bracket_clear(&b);
}

static void test_names(void)
{
	CHECK(strcmp(mg_icp_check_name(MG_ICP_CHECK_CCV), "CCV") == 0);
	CHECK(strcmp(mg_icp_check_name(MG_ICP_CHECK_INTERNAL_STD), "internal_std") == 0);
	CHECK(strcmp(mg_icp_check_name((mg_icp_check_type)99), "?") == 0);
	CHECK(strcmp(mg_icp_outcome_name(MG_ICP_NA), "n/a") == 0);
	CHECK(strcmp(mg_icp_item_type_name(MG_ICP_ITEM_METHOD_BLANK), "method-blank") == 0);
	CHECK(mg_icp_item_is_sample(MG_ICP_ITEM_CRM) && !mg_icp_item_is_sample(MG_ICP_ITEM_CCV));
	char buf[128];
	CHECK(strcmp(mg_icp_flags_text(MG_ICP_RF_RERUN_CCV | MG_ICP_RF_BELOW_LOQ, buf, sizeof(buf)), "below_loq,rerun_ccv") == 0);
	CHECK(strcmp(mg_icp_flags_text(0, buf, sizeof(buf)), "") == 0);
	char tiny[12];
	mg_icp_flags_text(MG_ICP_RF_RERUN_CCV | MG_ICP_RF_BELOW_LOQ | MG_ICP_RF_OVER_RANGE, tiny, sizeof(tiny));
	CHECK(strlen(tiny) < sizeof(tiny));
}

int main(void)
{
	test_propagation();
	test_not_applicable();
	test_names();
	return mg_test_finish("test_icp_qc");
}
