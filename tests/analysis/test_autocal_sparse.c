/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Automatic energy calibration on spectra with few lines: a pure-iron check
 * standard (Fe Kα/Kβ, their escape and sum peaks, the Rh tube's scatter) and
 * pure copper, 20 Poisson draws each, as the intake demo measures them. Before
 * escape and sum peaks counted as explained, about one draw in three of the Fe
 * standard was matched with the Rh scatter taken for Cu K and Fe K for
 * low-energy lines (gain 0.0082 instead of 0.02 keV/ch). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/xrfsim.h"

int main(void)
{
	static const char *const mats[] = {"fe", "cu"};
	for (int m = 0; m < 2; m++) {
		mg_xrfsim_config sc;
		mg_xrfsim_config_default(&sc);
		CHECK_RC(mg_xrfsim_sample_lookup(mats[m], &sc.sample), 0);
		mg_xrfsim_model *model = NULL;
		CHECK_RC(mg_xrfsim_model_new(&sc, &model), 0);
		if (!model)
			continue;
		size_t n = sc.axis.nchan;
		double *y = malloc(n * sizeof *y);
		int good = 0;
		for (int seed = 1; seed <= 20; seed++) {
			for (size_t i = 0; i < n; i++)
				y[i] = 0;
			mg_xrfsim_rng *rng = mg_xrfsim_rng_new((uint64_t)(1000 * m + seed));
			mg_xrfsim_counters c = {0};
			mg_xrfsim_acquire_f64(model, &c, mg_xrfsim_real_for_live(model, 60), rng, y, n);
			mg_xrfsim_rng_free(rng);
			mg_analysis_config cfg;
			mg_analysis_config_default(&cfg);
			snprintf(cfg.elements, sizeof cfg.elements, "Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb"); /* calibrate's default */
			cfg.nchan = n;
			mg_energy_cal cal;
			int rc = mg_analysis_auto_cal(&cfg, y, n, 0, 0, &cal, NULL);
			/* the peak matching's calibration, before any refinement: right within
			 * about a peak width (the wrong matches are 15-60 % off in gain) */
			int ok = rc == 0 && fabs(cal.gain_kev / sc.axis.gain_kev - 1) < 0.02 &&
			         fabs(cal.offset_kev - sc.axis.offset_kev) < 0.15;
			if (!ok)
				fprintf(stderr, "%s seed %d: rc %d gain %.6f offset %.4f\n", mats[m], seed, rc, cal.gain_kev,
				        cal.offset_kev);
			good += ok;
		}
		printf("%s: %d of 20 draws calibrated right\n", mats[m], good);
		CHECK(good == 20);
		free(y);
		mg_xrfsim_model_free(model);
	}
	return mg_test_finish("test_autocal_sparse");
}
