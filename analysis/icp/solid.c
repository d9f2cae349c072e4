/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES: solution concentration → mass fraction in the digested solid.
 *   w [g/g] = C [mg/L] · V [L] · DF / (m [g] · 1000 mg/g)
 *   w [wt%] = C · V[mL] · DF / (m · 10⁴)
 * The relative standard uncertainties of C, V, DF and m add in quadrature
 * (GUM, a product of independent quantities). */
#include <math.h>

#include "internal.h"
#include "magassay/icp_analysis.h"

static double rel(double u, double v)
{
	return isfinite(u) && v != 0 ? u / v : 0;
}

int mg_icp_solid(double c_mg_l, double u_c, const mg_icp_digest *d, double *w_pct, double *u_w_pct)
{
	if (!d || !w_pct)
		return mg_fail(MG_ERR_ARG, "icp", "solid: missing arguments");
	if (!(d->mass_g > 0) || !(d->volume_ml > 0) || !(d->dilution >= 1) || !isfinite(d->mass_g) ||
	    !isfinite(d->volume_ml) || !isfinite(d->dilution))
		return mg_fail(MG_ERR_ARG, "icp",
		               "solid: digest mass %g g, volume %g mL, dilution %g: mass and volume must be "
		               "positive and the dilution at least 1",
		               d->mass_g, d->volume_ml, d->dilution);
	double w = c_mg_l * d->volume_ml * d->dilution / (d->mass_g * 1e4);
	*w_pct = w;
	if (u_w_pct) {
		double rc = rel(u_c, c_mg_l), rm = rel(d->u_mass_g, d->mass_g), rv = rel(d->u_volume_ml, d->volume_ml);
		double rd = isfinite(d->u_dilution_rel) ? d->u_dilution_rel : 0;
		double r2 = rm * rm + rv * rv + rd * rd;
		/* u_C enters absolutely (C may be ~0 for a blank) */
		double uc_abs = isfinite(u_c) ? u_c * d->volume_ml * d->dilution / (d->mass_g * 1e4) : 0;
		(void)rc;
		*u_w_pct = sqrt(uc_abs * uc_abs + w * w * r2);
	}
	return MG_OK;
}

double mg_icp_solution_conc(double w_pct, const mg_icp_digest *d)
{
	if (!d || !(d->volume_ml > 0) || !(d->dilution > 0))
		return NAN;
	return w_pct * d->mass_g * 1e4 / (d->volume_ml * d->dilution);
}
