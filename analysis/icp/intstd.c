/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES internal standard (Y 371.030, Sc 361.383): the same amount is in
 * every solution, so its signal relative to the calibration blank measures
 * what the matrix and the nebuliser did to this solution (suppression,
 * transport, drift); every analyte net of the same replicate is scaled by
 * the inverse. */
#include <math.h>

#include "internal.h"
#include "magassay/icp_analysis.h"

int mg_icp_intstd_correct(const double *net, const double *is_net, size_t nrep, double is_ref,
                          double *corrected, double *recovery_pct)
{
	if (!net || !is_net || !corrected || nrep == 0)
		return mg_fail(MG_ERR_ARG, "icp", "internal standard: no readings");
	if (!(is_ref > 0) || !isfinite(is_ref))
		return mg_fail(MG_ERR_ARG, "icp", "internal standard: the reference intensity %g is not positive",
		               is_ref);
	double sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < nrep; i++) {
		if (!isfinite(is_net[i]) || !(is_net[i] > 0))
			return mg_fail(MG_ERR_ARG, "icp",
			               "internal standard: replicate %zu has no positive IS intensity (%g): "
			               "was the internal standard added?",
			               i + 1, is_net[i]);
		corrected[i] = isfinite(net[i]) ? net[i] * is_ref / is_net[i] : NAN;
		sum += is_net[i];
		k++;
	}
	if (recovery_pct)
		*recovery_pct = 100.0 * (sum / (double)k) / is_ref;
	return MG_OK;
}
