/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES QC profile (docs/icp.md): every limit the QC checks apply,
 * read from a [qc] section through the suite's INI reader (core/inifile.h);
 * a key left out means "not checked". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icp_internal.h"
#include "inifile.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "text.h"

#define DOM "icp-qc"

typedef struct qparse {
	mg_icp_qc_profile *q;
	int in_qc;
	int have_name;
} qparse;

static int qnum(const mg_ini_item *kv, double *out, double lo, double hi)
{
	double v;
	if (mg_parse_double(kv->value, kv->value_len, &v) != MG_OK || v < lo || v > hi)
		return mg_ini_fail(kv, "%s = '%.*s' is not a number in %g..%g", kv->key,
		                   (int)(kv->value_len > 40 ? 40 : kv->value_len), kv->value, lo, hi);
	*out = v;
	return MG_OK;
}

static int qlim(const mg_ini_item *kv, mg_icp_limits *out)
{
	if (icp_parse_limits(kv->value, kv->value_len, out) != MG_OK)
		return mg_ini_fail(kv, "%s = '%.*s': expected 'low, high' (either may be 'none'), e.g. 90, 110", kv->key,
		                   (int)(kv->value_len > 40 ? 40 : kv->value_len), kv->value);
	return MG_OK;
}

static int qcb(const mg_ini_item *kv, void *ud)
{
	qparse *p = ud;
	mg_icp_qc_profile *q = p->q;
	if (!kv->key) {
		p->in_qc = mg_ini_section_is(kv, "qc");
		if (!p->in_qc)
			return mg_ini_fail(kv, "unknown section [%.*s] (only [qc])",
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
		if (mg_ini_key_is(kv, lims[i].k))
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
		if (mg_ini_key_is(kv, nums[i].k))
			return qnum(kv, nums[i].dst, nums[i].lo, nums[i].hi);
	double d;
	int rc;
	if (mg_ini_key_is(kv, "calibration_min_standards")) {
		if ((rc = qnum(kv, &d, 1, MG_ICP_MAX_CAL_POINTS - 1)) < 0)
			return rc;
		q->cal_min_standards = (int)d;
		return MG_OK;
	}
	if (mg_ini_key_is(kv, "ccv_every")) {
		if ((rc = qnum(kv, &d, 0, 1000)) < 0)
			return rc;
		q->ccv_every = (int)d;
		return MG_OK;
	}
	if (mg_ini_key_is(kv, "name")) {
		if (icp_copy(q->name, sizeof(q->name), kv->value, kv->value_len) != MG_OK || !q->name[0])
			return mg_ini_fail(kv, "the name must be 1..64 characters");
		p->have_name = 1;
		return MG_OK;
	}
	if (mg_ini_key_is(kv, "rerun_on")) {
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
				return mg_ini_fail(kv, "rerun_on takes ccv, ccb or none");
		}
		return MG_OK;
	}
	return mg_ini_fail(kv, "unknown key '%.*s' (see docs/icp.md)", (int)(kv->key_len > 40 ? 40 : kv->key_len),
	                   kv->key);
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
	int rc = mg_ini_parse(text, len, "QC profile", DOM, qcb, &p);
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
