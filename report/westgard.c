/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Westgard multirule on one series (Westgard, Barry, Hunt, Groth, Clin.
 * Chem. 27 (1981) 493): 1-2s warning; 1-3s, 2-2s, R-4s, 4-1s and 10-x
 * rejection. A rule fires at the point that completes its pattern and at every
 * later point while the pattern still holds; never earlier. Limits are strict:
 * a point exactly at mean + 2s is not beyond 2s. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/qc.h"
#include "report_internal.h"

static const struct {
	unsigned bit;
	const char *name;
	const char *compact; /* the same without punctuation, for parsing */
} rules[] = {
	{MG_WG_1_2S, "1-2s", "12s"}, {MG_WG_1_3S, "1-3s", "13s"}, {MG_WG_2_2S, "2-2s", "22s"},
	{MG_WG_R_4S, "R-4s", "r4s"}, {MG_WG_4_1S, "4-1s", "41s"}, {MG_WG_10_X, "10-x", "10x"},
};

const char *mg_wg_rule_name(unsigned rule)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(rules); i++)
		if (rules[i].bit == rule)
			return rules[i].name;
	return "?";
}

char *mg_wg_rules_format(unsigned flags, char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return buf;
	buf[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(rules); i++) {
		if (!(flags & rules[i].bit))
			continue;
		int k = snprintf(buf + len, cap - len, "%s%s", len ? "," : "", rules[i].name);
		if (k < 0 || (size_t)k >= cap - len) {
			buf[len] = '\0'; /* drop a partial name rather than print half of it */
			break;
		}
		len += (size_t)k;
	}
	return buf;
}

unsigned mg_wg_rule_parse(const char *name)
{
	char c[16];
	size_t n = 0;
	if (!name)
		return 0;
	for (const char *p = name; *p && n + 1 < sizeof(c); p++)
		if (isalnum((unsigned char)*p))
			c[n++] = (char)tolower((unsigned char)*p);
	c[n] = '\0';
	for (size_t i = 0; i < MG_ARRAY_SIZE(rules); i++)
		if (strcmp(c, rules[i].compact) == 0)
			return rules[i].bit;
	return 0;
}

int mg_qc_mean_sd(const double *x, size_t n, double *mean, double *sd)
{
	if (!x || !mean || !sd)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_mean_sd: bad arguments");
	/* Two passes (Welford would do too): exact enough for QC series. */
	double s = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i])) {
			s += x[i];
			k++;
		}
	if (k < 2)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "need at least 2 values for a standard deviation, have %zu", k);
	double m = s / (double)k, ss = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i]))
			ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	*sd = sqrt(ss / (double)(k - 1));
	return MG_OK;
}

/* Do the last `len` finite z values (ending at z[k]) all satisfy side·z > lim? */
static int run_beyond(const double *z, size_t k, size_t len, double lim, int side)
{
	if (k + 1 < len)
		return 0;
	for (size_t j = k + 1 - len; j <= k; j++)
		if (!(side * z[j] > lim))
			return 0;
	return 1;
}

int mg_westgard(const double *x, size_t n, double mean, double sd, unsigned want, unsigned *flags)
{
	if ((!x || !flags) && n > 0)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_westgard: no data");
	if (!(sd > 0) || !isfinite(sd) || !isfinite(mean))
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "Westgard rules need a finite mean and a standard deviation "
		               "> 0 (mean %g, sd %g)", mean, sd);
	if (n == 0)
		return MG_OK;
	/* z of the finite points, in order; idx maps back. */
	double *z = malloc(n * sizeof(*z));
	size_t *idx = malloc(n * sizeof(*idx));
	if (!z || !idx) {
		free(z);
		free(idx);
		return mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		flags[i] = 0;
		if (isfinite(x[i])) {
			z[m] = (x[i] - mean) / sd;
			idx[m++] = i;
		}
	}
	for (size_t k = 0; k < m; k++) {
		unsigned f = 0;
		double zk = z[k];
		if (fabs(zk) > 2)
			f |= MG_WG_1_2S;
		if (fabs(zk) > 3)
			f |= MG_WG_1_3S;
		if (k >= 1) {
			double zp = z[k - 1];
			if ((zk > 2 && zp > 2) || (zk < -2 && zp < -2))
				f |= MG_WG_2_2S;
			if ((zk > 2 && zp < -2) || (zk < -2 && zp > 2))
				f |= MG_WG_R_4S;
		}
		if (run_beyond(z, k, 4, 1, 1) || run_beyond(z, k, 4, 1, -1))
			f |= MG_WG_4_1S;
		if (run_beyond(z, k, 10, 0, 1) || run_beyond(z, k, 10, 0, -1))
			f |= MG_WG_10_X;
		flags[idx[k]] = f & want;
	}
	free(z);
	free(idx);
	return MG_OK;
}
