/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES inter-element corrections (EPA 6010D §7.5 style): an interferent
 * line that the fit cannot separate from the analyte line adds an apparent
 * analyte concentration proportional to the interferent's concentration,
 *   C = C_app − Σ_j k_j · C_j,
 * with k_j measured once on a single-element solution of the interferent
 * (k_j = apparent analyte / interferent). */
#include <math.h>

#include "internal.h"
#include "magassay/icp_analysis.h"

int mg_icp_iec_apply(double c_app, double u_app, const mg_icp_iec_term *t, size_t nterms, const double *c_int,
                     const double *u_int, double *c, double *u)
{
	if (!c || (nterms && (!t || !c_int)))
		return mg_fail(MG_ERR_ARG, "icp", "IEC: missing arguments");
	double v = c_app, var = isfinite(u_app) ? u_app * u_app : NAN;
	for (size_t j = 0; j < nterms; j++) {
		if (!isfinite(c_int[j]))
			return mg_fail(MG_ERR_ARG, "icp", "IEC: the %s concentration is unknown", t[j].element);
		v -= t[j].k * c_int[j];
		double uj = u_int && isfinite(u_int[j]) ? u_int[j] : 0;
		double ukj = isfinite(t[j].u_k) ? t[j].u_k : 0;
		var += t[j].k * t[j].k * uj * uj + c_int[j] * c_int[j] * ukj * ukj;
	}
	*c = v;
	if (u)
		*u = sqrt(var);
	return MG_OK;
}

double mg_icp_iec_factor(double apparent_analyte, double interferent_conc)
{
	if (!(interferent_conc > 0))
		return NAN;
	return apparent_analyte / interferent_conc;
}
