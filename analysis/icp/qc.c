/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES QC: the formulas (recovery, spike recovery, RPD), judging a value
 * against limits (read from the QC profile, qc_profile.c: none from code),
 * the names of checks, outcomes and result flags, and the bracket tracker
 * that turns a failed CCV (or CCB) into re-run flags on every sample since
 * the last passing one.
 *
 * The rules are those of EPA SW-846 6010D and EPA 200.7 (domain notes §6):
 * calibration r ≥ 0.998; ICV and CCV 90–110 %; ICB/CCB below the LLOQ; LLOQ
 * check 70–130 %; duplicate RPD ≤ 20 % above 5×LLOQ; matrix spike 75–125 %
 * unless the sample exceeds 4× the spike; internal standard 80–120 % of the
 * calibration blank; CRM recovery; for magnets a total of 98–102 wt%. The
 * example profile examples/icp-qc-epa6010d.ini holds exactly these. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_internal.h"
#include "internal.h"

#define DOM "icp-qc"

double mg_icp_recovery_pct(double measured, double truth)
{
	if (!isfinite(measured) || !isfinite(truth) || truth == 0)
		return NAN;
	return 100.0 * measured / truth;
}

double mg_icp_spike_recovery_pct(double spiked, double unspiked, double added)
{
	if (!isfinite(spiked) || !isfinite(unspiked) || !isfinite(added) || added == 0)
		return NAN;
	return 100.0 * (spiked - unspiked) / added;
}

double mg_icp_rpd_pct(double a, double b)
{
	if (!isfinite(a) || !isfinite(b) || a + b == 0)
		return NAN;
	return 100.0 * fabs(a - b) / ((a + b) / 2.0);
}

mg_icp_outcome mg_icp_judge(double v, mg_icp_limits lim)
{
	if (!isfinite(v) || (isnan(lim.lo) && isnan(lim.hi)))
		return MG_ICP_NA;
	if (isfinite(lim.lo) && v < lim.lo)
		return MG_ICP_FAIL;
	if (isfinite(lim.hi) && v > lim.hi)
		return MG_ICP_FAIL;
	return MG_ICP_PASS;
}

const char *mg_icp_check_name(mg_icp_check_type t)
{
	static const char *names[] = {"calibration", "ICV", "ICB", "LLOQ", "CCV", "CCB", "method_blank",
	                              "duplicate", "spike", "CRM", "internal_std", "total"};
	return (unsigned)t < MG_ARRAY_SIZE(names) ? names[t] : "?";
}

const char *mg_icp_outcome_name(mg_icp_outcome o)
{
	return o == MG_ICP_PASS ? "pass" : o == MG_ICP_FAIL ? "fail" : "n/a";
}

static const struct {
	unsigned bit;
	const char *name;
} flag_names[] = {
	{MG_ICP_RF_BELOW_LOD, "below_lod"},     {MG_ICP_RF_BELOW_LOQ, "below_loq"},
	{MG_ICP_RF_OVER_RANGE, "over_range"},   {MG_ICP_RF_RSD, "rsd"},
	{MG_ICP_RF_RERUN_CCV, "rerun_ccv"},     {MG_ICP_RF_RERUN_CCB, "rerun_ccb"},
	{MG_ICP_RF_UNBRACKETED, "unbracketed"}, {MG_ICP_RF_IS_FAIL, "is_fail"},
	{MG_ICP_RF_CAL_FAIL, "cal_fail"},       {MG_ICP_RF_ICV_FAIL, "icv_fail"},
	{MG_ICP_RF_FIT_FAIL, "fit_fail"},       {MG_ICP_RF_INTERFERED, "interfered"},
};

const char *mg_icp_flag_name(unsigned bit)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(flag_names); i++)
		if (flag_names[i].bit == bit)
			return flag_names[i].name;
	return NULL;
}

const char *mg_icp_flags_text(unsigned flags, char *buf, size_t cap)
{
	if (!buf || !cap)
		return "";
	buf[0] = '\0';
	size_t o = 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(flag_names); i++)
		if (flags & flag_names[i].bit) {
			int n = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", flag_names[i].name);
			if (n < 0 || (size_t)n >= cap - o)
				break;
			o += (size_t)n;
		}
	return buf;
}

/* ---- brackets ----------------------------------------------------------- */

#define NONE ((size_t)-1)

void mg_icp_bracket_init(mg_icp_bracket *b, size_t nanalytes)
{
	memset(b, 0, sizeof(*b));
	b->nanalytes = nanalytes > MG_ICP_MAX_ANALYTES ? MG_ICP_MAX_ANALYTES : nanalytes;
	for (size_t a = 0; a < MG_ICP_MAX_ANALYTES; a++)
		b->fail_from[a] = NONE;
}

void mg_icp_bracket_clear(mg_icp_bracket *b)
{
	free(b->samples);
	b->samples = NULL;
	b->nsamples = b->cap = 0;
}

int mg_icp_bracket_add_sample(mg_icp_bracket *b, size_t item)
{
	if (b->nsamples == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 32;
		size_t *p = realloc(b->samples, cap * sizeof(*p));
		if (!p)
			return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
		b->samples = p;
		b->cap = cap;
	}
	b->samples[b->nsamples++] = item;
	return MG_OK;
}

static void flag_range(const mg_icp_bracket *b, size_t from, size_t a, mg_icp_flag_reason why, size_t check_item,
                       mg_icp_flag_cb cb, void *ud)
{
	for (size_t i = from; i < b->nsamples; i++)
		if (cb)
			cb(b->samples[i], a, why, check_item, ud);
}

void mg_icp_bracket_check(mg_icp_bracket *b, size_t check_item, const int *judged, const int *failed,
                          mg_icp_flag_cb cb, void *ud)
{
	b->last_check = b->nsamples;
	for (size_t a = 0; a < b->nanalytes; a++) {
		if (judged && !judged[a])
			continue;
		if (failed && failed[a]) {
			/* everything since the last pass, including what an earlier failure already flagged */
			flag_range(b, b->start[a], a, MG_ICP_FLAG_CHECK_FAILED, check_item, cb, ud);
			b->fail_from[a] = b->nsamples;
		} else {
			if (b->fail_from[a] != NONE)
				flag_range(b, b->fail_from[a], a, MG_ICP_FLAG_AFTER_FAILED, check_item, cb, ud);
			b->start[a] = b->nsamples;
			b->fail_from[a] = NONE;
		}
	}
}

void mg_icp_bracket_end(mg_icp_bracket *b, mg_icp_flag_cb cb, void *ud)
{
	for (size_t a = 0; a < b->nanalytes; a++) {
		/* after a failure the samples are out of control: that reason wins */
		if (b->fail_from[a] != NONE)
			flag_range(b, b->fail_from[a], a, MG_ICP_FLAG_AFTER_FAILED, NONE, cb, ud);
		else
			flag_range(b, b->last_check > b->start[a] ? b->last_check : b->start[a], a, MG_ICP_FLAG_UNBRACKETED,
			           NONE, cb, ud);
		b->start[a] = b->nsamples;
		b->fail_from[a] = NONE;
	}
	b->last_check = b->nsamples;
}
