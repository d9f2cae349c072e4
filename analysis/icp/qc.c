/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES QC: the profile file (every limit comes from it, none from code),
 * the formulas (recovery, spike recovery, RPD), judging a value against
 * limits, and the bracket tracker that turns a failed CCV (or CCB) into
 * re-run flags on every sample since the last passing one.
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
#include "magassay/fileio.h"
#include "text.h"

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

/* ---- the profile ------------------------------------------------------ */

typedef struct qparse {
	mg_icp_qc_profile *q;
	int in_qc;
	int have_name;
} qparse;

static int qnum(const icp_ini_kv *kv, double *out, double lo, double hi)
{
	double v;
	if (mg_parse_double(kv->value, kv->value_len, &v) != MG_OK || v < lo || v > hi)
		return mg_fail(MG_ERR_FORMAT, DOM, "QC profile line %ld: %.*s = '%.*s' is not a number in %g..%g",
		               kv->line, (int)kv->key_len, kv->key, (int)(kv->value_len > 40 ? 40 : kv->value_len),
		               kv->value, lo, hi);
	*out = v;
	return MG_OK;
}

static int qlim(const icp_ini_kv *kv, mg_icp_limits *out)
{
	if (icp_parse_limits(kv->value, kv->value_len, out) != MG_OK)
		return mg_fail(MG_ERR_FORMAT, DOM,
		               "QC profile line %ld: %.*s = '%.*s': expected 'low, high' (either may be 'none'), e.g. 90, 110",
		               kv->line, (int)kv->key_len, kv->key, (int)(kv->value_len > 40 ? 40 : kv->value_len),
		               kv->value);
	return MG_OK;
}

static int qcb(const icp_ini_kv *kv, void *ud)
{
	qparse *p = ud;
	mg_icp_qc_profile *q = p->q;
	if (!kv->key) {
		p->in_qc = icp_view_eq(kv->section, kv->section_len, "qc");
		if (!p->in_qc)
			return mg_fail(MG_ERR_FORMAT, DOM, "QC profile line %ld: unknown section [%.*s] (only [qc])", kv->line,
			               (int)(kv->section_len > 40 ? 40 : kv->section_len), kv->section);
		return MG_OK;
	}
	const struct {
		const char *k;
		mg_icp_limits *lim;
	} lims[] = {
		{"icv_recovery_pct", &q->icv},           {"ccv_recovery_pct", &q->ccv},
		{"lloq_recovery_pct", &q->lloq_check},   {"spike_recovery_pct", &q->spike},
		{"crm_recovery_pct", &q->crm},           {"internal_standard_pct", &q->is_recovery},
		{"total_pct", &q->total},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(lims); i++)
		if (icp_view_eq(kv->key, kv->key_len, lims[i].k))
			return qlim(kv, lims[i].lim);
	const struct {
		const char *k;
		double *dst;
		double lo, hi;
	} nums[] = {
		{"calibration_r_min", &q->cal_r_min, 0, 1},
		{"calibration_residual_max_pct", &q->cal_resid_max_pct, 0, 1000},
		{"calibration_residual_lowest_max_pct", &q->cal_resid_low_max_pct, 0, 1000},
		{"blank_max_lloq", &q->blank_lloq_factor, 0, 1000},
		{"duplicate_rpd_max_pct", &q->dup_rpd_max, 0, 200},
		{"duplicate_min_lloq", &q->dup_min_lloq_factor, 0, 1e6},
		{"spike_max_sample_ratio", &q->spike_max_ratio, 0, 1e6},
		{"replicate_rsd_max_pct", &q->rsd_max_pct, 0, 1000},
		{"range_max_pct", &q->range_max_pct, 1, 10000},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(nums); i++)
		if (icp_view_eq(kv->key, kv->key_len, nums[i].k))
			return qnum(kv, nums[i].dst, nums[i].lo, nums[i].hi);
	double d;
	int rc;
	if (icp_view_eq(kv->key, kv->key_len, "calibration_min_standards")) {
		if ((rc = qnum(kv, &d, 1, MG_ICP_MAX_CAL_POINTS - 1)) < 0)
			return rc;
		q->cal_min_standards = (int)d;
		return MG_OK;
	}
	if (icp_view_eq(kv->key, kv->key_len, "ccv_every")) {
		if ((rc = qnum(kv, &d, 0, 1000)) < 0)
			return rc;
		q->ccv_every = (int)d;
		return MG_OK;
	}
	if (icp_view_eq(kv->key, kv->key_len, "name")) {
		if (icp_copy(q->name, sizeof(q->name), kv->value, kv->value_len) != MG_OK || !q->name[0])
			return mg_fail(MG_ERR_FORMAT, DOM, "QC profile line %ld: the name must be 1..64 characters", kv->line);
		p->have_name = 1;
		return MG_OK;
	}
	if (icp_view_eq(kv->key, kv->key_len, "rerun_on")) {
		const char *v = kv->value, *it;
		size_t vn = kv->value_len, itn;
		q->rerun_on = 0;
		while (icp_list_next(&v, &vn, &it, &itn)) {
			if (icp_view_eq(it, itn, "ccv"))
				q->rerun_on |= MG_ICP_RERUN_CCV;
			else if (icp_view_eq(it, itn, "ccb"))
				q->rerun_on |= MG_ICP_RERUN_CCB;
			else if (icp_view_eq(it, itn, "none"))
				;
			else
				return mg_fail(MG_ERR_FORMAT, DOM, "QC profile line %ld: rerun_on takes ccv, ccb or none",
				               kv->line);
		}
		return MG_OK;
	}
	return mg_fail(MG_ERR_FORMAT, DOM, "QC profile line %ld: unknown key '%.*s' (see docs/icp.md)", kv->line,
	               (int)(kv->key_len > 40 ? 40 : kv->key_len), kv->key);
}

int mg_icp_qc_parse(const char *text, size_t len, mg_icp_qc_profile **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output");
	*out = NULL;
	mg_icp_qc_profile *q = calloc(1, sizeof(*q));
	if (!q)
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory");
	mg_icp_limits none = {NAN, NAN};
	q->cal_r_min = q->cal_resid_max_pct = q->cal_resid_low_max_pct = NAN;
	q->icv = q->ccv = q->lloq_check = q->spike = q->crm = q->is_recovery = q->total = none;
	q->blank_lloq_factor = q->dup_rpd_max = q->dup_min_lloq_factor = q->spike_max_ratio = NAN;
	q->rsd_max_pct = q->range_max_pct = NAN;
	q->cal_min_standards = 1;
	qparse p = {.q = q};
	int rc = icp_ini_parse(text, len, "QC profile", qcb, &p);
	if (rc == MG_OK && !p.have_name)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "QC profile: [qc] needs a name");
	if (rc != MG_OK) {
		free(q);
		return rc;
	}
	*out = q;
	return MG_OK;
}

int mg_icp_qc_load(const char *path, mg_icp_qc_profile **out)
{
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, 1u << 20, &data, &len);
	if (rc != MG_OK)
		return rc;
	rc = mg_icp_qc_parse((const char *)data, len, out);
	free(data);
	if (rc != MG_OK)
		return mg_fail(rc, DOM, "%s: %s", path, mg_error_detail());
	return MG_OK;
}

void mg_icp_qc_free(mg_icp_qc_profile *q)
{
	free(q);
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
