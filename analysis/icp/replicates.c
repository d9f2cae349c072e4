/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES replicate statistics: mean, sample standard deviation, RSD. */
#include <math.h>

#include "internal.h"
#include "magassay/icp_analysis.h"

int mg_icp_stats_compute(const double *v, size_t n, mg_icp_stats *out)
{
	if (!out || (n && !v))
		return mg_fail(MG_ERR_ARG, "icp", "replicate statistics: no values");
	out->n = 0;
	out->mean = out->sd = out->rsd_pct = NAN;
	double sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i])) {
			sum += v[i];
			k++;
		}
	out->n = k;
	if (k == 0)
		return MG_OK;
	double mean = sum / (double)k;
	out->mean = mean;
	if (k < 2)
		return MG_OK;
	/* two-pass for accuracy with large offsets */
	double ss = 0, corr = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i])) {
			double d = v[i] - mean;
			ss += d * d;
			corr += d;
		}
	ss -= corr * corr / (double)k;
	out->sd = sqrt(fmax(ss, 0) / (double)(k - 1));
	if (mean != 0)
		out->rsd_pct = 100.0 * out->sd / fabs(mean);
	return MG_OK;
}
