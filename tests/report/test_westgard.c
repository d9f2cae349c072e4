/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Westgard rules on constructed series (mean 0, sd 1, so a value is its z):
 * each rule fires at the point that completes its pattern — not one point
 * earlier — keeps firing while the pattern holds, and no other rejection rule
 * fires on a series built for one. Limits are strict. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/qc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned fl[64];

static void run(const double *x, size_t n, unsigned rules)
{
	memset(fl, 0xff, sizeof(fl));
	CHECK_RC(mg_westgard(x, n, 0, 1, rules, fl), MG_OK);
}

/* `rule` fires at exactly the points listed (others: not), and no other
 * rejection rule fires anywhere (unless `others` allows it). */
static void expect(const char *what, const double *x, size_t n, unsigned rule, const int *at, size_t nat,
                   unsigned others)
{
	run(x, n, MG_WG_ALL);
	for (size_t i = 0; i < n; i++) {
		int want = 0;
		for (size_t k = 0; k < nat; k++)
			if ((size_t)at[k] == i)
				want = 1;
		CHECK_MSG(!!(fl[i] & rule) == want, "%s: %s at point %zu: fired %d, wanted %d (flags 0x%x)", what,
		          mg_wg_rule_name(rule), i, !!(fl[i] & rule), want, fl[i]);
		unsigned stray = fl[i] & MG_WG_REJECT & ~rule & ~others;
		CHECK_MSG(stray == 0, "%s: unexpected rules 0x%x at point %zu", what, stray, i);
	}
}

static void test_1_3s(void)
{
	const double a[] = {0.5, -0.3, 3.01, 0.2};
	expect("1-3s high", a, N(a), MG_WG_1_3S, (int[]){2}, 1, 0);
	const double b[] = {0.5, -3.2, 0.1};
	expect("1-3s low", b, N(b), MG_WG_1_3S, (int[]){1}, 1, 0);
	const double c[] = {0.5, 2.99, -2.99};
	expect("1-3s just inside", c, N(c), MG_WG_1_3S, NULL, 0, MG_WG_R_4S);
	const double d[] = {0.0, 3.0}; /* exactly at the limit: not beyond */
	expect("1-3s at the limit", d, N(d), MG_WG_1_3S, NULL, 0, 0);
	run(d, N(d), MG_WG_ALL);
	CHECK(fl[1] == MG_WG_1_2S); /* but beyond 2s: the warning */
	const double e[] = {0.0, 2.0};
	run(e, N(e), MG_WG_ALL);
	CHECK(fl[1] == 0); /* exactly 2s is not beyond 2s */
}

static void test_2_2s(void)
{
	const double a[] = {0.1, 2.5, 2.6, 0.3};
	expect("2-2s high", a, N(a), MG_WG_2_2S, (int[]){2}, 1, 0);
	run(a, N(a), MG_WG_ALL);
	CHECK(fl[1] == MG_WG_1_2S); /* the first point alone is only a warning */
	const double b[] = {-2.1, -2.2, -2.3};
	expect("2-2s low, holding", b, N(b), MG_WG_2_2S, (int[]){1, 2}, 2, 0);
	const double c[] = {2.5, 1.9, 2.5};
	expect("2-2s broken", c, N(c), MG_WG_2_2S, NULL, 0, 0);
	const double d[] = {2.5, -2.5};
	expect("2-2s opposite sides", d, N(d), MG_WG_2_2S, NULL, 0, MG_WG_R_4S);
}

static void test_r_4s(void)
{
	const double a[] = {0.2, 2.1, -2.1, 0.0};
	expect("R-4s", a, N(a), MG_WG_R_4S, (int[]){2}, 1, 0);
	const double b[] = {-2.5, 2.5};
	expect("R-4s reversed", b, N(b), MG_WG_R_4S, (int[]){1}, 1, 0);
	const double c[] = {1.9, -2.2}; /* range 4.1s but the first is within 2s */
	expect("R-4s not beyond 2s", c, N(c), MG_WG_R_4S, NULL, 0, 0);
	const double d[] = {2.2, 0.0, -2.2}; /* not consecutive */
	expect("R-4s not consecutive", d, N(d), MG_WG_R_4S, NULL, 0, 0);
}

static void test_4_1s(void)
{
	const double a[] = {0.0, 1.1, 1.2, 1.3, 1.1, 1.5, 0.2};
	expect("4-1s high", a, N(a), MG_WG_4_1S, (int[]){4, 5}, 2, 0);
	const double b[] = {-1.5, -1.5, -1.5, -1.5};
	expect("4-1s low", b, N(b), MG_WG_4_1S, (int[]){3}, 1, 0);
	const double c[] = {1.1, 1.1, 1.1, 0.9, 1.1, 1.1, 1.1};
	expect("4-1s broken", c, N(c), MG_WG_4_1S, NULL, 0, 0);
	const double d[] = {1.1, 1.1, -1.1, 1.1};
	expect("4-1s mixed sides", d, N(d), MG_WG_4_1S, NULL, 0, 0);
	const double e[] = {1.0, 1.1, 1.1, 1.1}; /* exactly 1s is not beyond */
	expect("4-1s at the limit", e, N(e), MG_WG_4_1S, NULL, 0, 0);
}

static void test_10_x(void)
{
	double a[12];
	for (int i = 0; i < 12; i++)
		a[i] = 0.5;
	expect("10-x: 9 points", a, 9, MG_WG_10_X, NULL, 0, 0);
	expect("10-x: 10 and 11 points", a, 11, MG_WG_10_X, (int[]){9, 10}, 2, 0);
	double b[16];
	for (int i = 0; i < 16; i++)
		b[i] = -0.3;
	b[5] = 0.0; /* on the mean: belongs to neither side, breaks the run */
	/* after the break: points 6..15 are ten */
	expect("10-x broken by a point on the mean", b, 16, MG_WG_10_X, (int[]){15}, 1, 0);
	double c[11];
	for (int i = 0; i < 11; i++)
		c[i] = 0.4;
	c[9] = -0.1;
	expect("10-x broken at the 10th", c, 11, MG_WG_10_X, NULL, 0, 0);
}

static void test_nan_and_masks(void)
{
	double a[11];
	for (int i = 0; i < 11; i++)
		a[i] = 0.5;
	a[5] = NAN; /* missing: skipped, neither breaks nor counts */
	run(a, 11, MG_WG_ALL);
	CHECK(fl[5] == 0);
	CHECK(!(fl[9] & MG_WG_10_X));
	CHECK(fl[10] & MG_WG_10_X);
	const double b[] = {0.1, 3.5};
	run(b, 2, MG_WG_1_3S);
	CHECK(fl[1] == MG_WG_1_3S); /* only the rules asked for */
	run(b, 2, 0);
	CHECK(fl[1] == 0);
	/* every rule at once: a point completing several patterns */
	const double c[] = {2.5, 2.5, 2.5, 3.5};
	run(c, 4, MG_WG_ALL);
	CHECK(fl[3] == (MG_WG_1_2S | MG_WG_1_3S | MG_WG_2_2S | MG_WG_4_1S));
	/* errors */
	CHECK_RC(mg_westgard(c, 4, 0, 0, MG_WG_ALL, fl), MG_ERR_ARG);
	CHECK_RC(mg_westgard(c, 4, 0, NAN, MG_WG_ALL, fl), MG_ERR_ARG);
	CHECK_RC(mg_westgard(c, 4, NAN, 1, MG_WG_ALL, fl), MG_ERR_ARG);
	CHECK_RC(mg_westgard(NULL, 0, 0, 1, MG_WG_ALL, NULL), MG_OK);
	/* mean and sd rescale z */
	const double d[] = {100.0, 106.5}; /* (106.5 - 100) / 2 = 3.25 */
	CHECK_RC(mg_westgard(d, 2, 100, 2, MG_WG_ALL, fl), MG_OK);
	CHECK(fl[1] & MG_WG_1_3S);
}

static void test_names(void)
{
	char b[64];
	CHECK(strcmp(mg_wg_rule_name(MG_WG_1_3S), "1-3s") == 0);
	CHECK(strcmp(mg_wg_rule_name(MG_WG_R_4S), "R-4s") == 0);
	CHECK(strcmp(mg_wg_rule_name(MG_WG_10_X), "10-x") == 0);
	CHECK(strcmp(mg_wg_rule_name(3), "?") == 0);
	CHECK(strcmp(mg_wg_rules_format(MG_WG_1_3S | MG_WG_10_X, b, sizeof(b)), "1-3s,10-x") == 0);
	CHECK(strcmp(mg_wg_rules_format(0, b, sizeof(b)), "") == 0);
	CHECK(strcmp(mg_wg_rules_format(MG_WG_REJECT, b, 10), "1-3s,2-2s") == 0); /* truncated at a name */
	CHECK(mg_wg_rule_parse("13s") == MG_WG_1_3S);
	CHECK(mg_wg_rule_parse("R-4s") == MG_WG_R_4S);
	CHECK(mg_wg_rule_parse("10X") == MG_WG_10_X);
	CHECK(mg_wg_rule_parse("nope") == 0);
	double m, s;
	const double x[] = {2, 4, 4, 4, 5, 5, 7, 9, NAN};
	CHECK_RC(mg_qc_mean_sd(x, 9, &m, &s), MG_OK);
	CHECK_NEAR(m, 5, 1e-12);
	CHECK_NEAR(s, sqrt(32.0 / 7.0), 1e-12);
	CHECK_RC(mg_qc_mean_sd(x, 1, &m, &s), MG_ERR_ARG);
}

int main(void)
{
	test_1_3s();
	test_2_2s();
	test_r_4s();
	test_4_1s();
	test_10_x();
	test_nan_and_masks();
	test_names();
	return mg_test_finish("test_westgard");
}
