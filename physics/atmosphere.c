/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The gas between tube, sample and detector: transmission of an air or
 * helium path, and the analysis engine's air. Reference: xrf-physics.md §1.4. */
#include <math.h>

#include <xraylib.h>

#include "physics_internal.h"

double mg_xrf_atmosphere_transmission(enum mg_xrf_atmosphere atm, double path_mm, double e_kev)
{
	if (!(path_mm > 0) || !(e_kev > 0))
		return 1.0;
	double mu, rho;
	switch (atm) {
	case MG_XRF_AIR:
		/* dry air by mass: N 75.53, O 23.18, Ar 1.28, C 0.01 % */
		mu = 0.755267 * CS_Total(7, e_kev, NULL) + 0.231781 * CS_Total(8, e_kev, NULL) +
		     0.012827 * CS_Total(18, e_kev, NULL) + 0.000124 * CS_Total(6, e_kev, NULL);
		rho = 1.205e-3;
		break;
	case MG_XRF_HELIUM:
		mu = CS_Total(2, e_kev, NULL);
		rho = 1.66e-4;
		break;
	default:
		return 1.0;
	}
	return exp(-mu * rho * path_mm * 0.1);
}

double mg_xrf_engine_air_mu(double e_kev)
{
	/* dry air by mass: N 75.5, O 23.2, Ar 1.3 % (1.205e-3 g/cm³) */
	return 0.7553 * CS_Total(7, e_kev, NULL) + 0.2318 * CS_Total(8, e_kev, NULL) +
	       0.0129 * CS_Total(18, e_kev, NULL);
}
