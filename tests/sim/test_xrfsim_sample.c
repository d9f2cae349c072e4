/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sample side: the library and the composition parser, the de Boer L function
 * against a direct double integral of the E1 kernel, secondary-fluorescence
 * ratios against the reference table (xrf-physics.md §2.2), information
 * depths (§2.1) and coating attenuation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_expint.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/log.h"
#include "magassay/xrfsim.h"

static int nwarn;
static void on_log(int level, const char *domain, const char *msg, void *ud)
{
	(void)domain, (void)msg, (void)ud;
	if (level == MG_LOG_WARN)
		nwarn++;
}

static double wt(const mg_xrf_layer *l, int z)
{
	for (int i = 0; i < l->nel; i++)
		if (l->z[i] == z)
			return l->w[i];
	return 0.0;
}

static double wsum(const mg_xrf_layer *l)
{
	double s = 0;
	for (int i = 0; i < l->nel; i++)
		s += l->w[i];
	return s;
}

/* ---- direct double integral ∫0^d∫0^d e^(−a z − b z′)·E1(μ|z − z′|) dz′ dz */
struct dbl {
	double a, b, mu, d, z;
	gsl_integration_workspace *w2;
};
static double inner_f(double zp, void *p)
{
	struct dbl *q = p;
	double x = q->mu * fabs(q->z - zp);
	return x > 0 ? exp(-q->b * zp) * gsl_sf_expint_E1(x) : 0.0;
}
static double outer_f(double z, void *p)
{
	struct dbl *q = p;
	double r1 = 0, r2 = 0, err;
	gsl_function f = {inner_f, q};
	q->z = z;
	gsl_integration_qags(&f, 0, z, 0, 1e-10, 1000, q->w2, &r1, &err);
	gsl_integration_qags(&f, z, q->d, 0, 1e-10, 1000, q->w2, &r2, &err);
	return exp(-q->a * z) * (r1 + r2);
}
static double direct(double a, double b, double mu, double d)
{
	gsl_integration_workspace *w1 = gsl_integration_workspace_alloc(1000);
	struct dbl q = {a, b, mu, d, 0, gsl_integration_workspace_alloc(1000)};
	gsl_function f = {outer_f, &q};
	double r = 0, err;
	gsl_integration_qags(&f, 0, d, 0, 1e-8, 1000, w1, &r, &err);
	gsl_integration_workspace_free(w1);
	gsl_integration_workspace_free(q.w2);
	return r;
}

static double prim(const mg_xrf_emission *em, int z, int line)
{
	for (size_t i = 0; i < em->nlines; i++)
		if (em->lines[i].z == z && em->lines[i].line == line)
			return em->lines[i].primary;
	return 0.0;
}

int main(void)
{
	gsl_set_error_handler_off(); /* test-local: the integrator reports through return codes */
	mg_log_set_handler(on_log, NULL);
	mg_log_set_level(MG_LOG_WARN);

	/* ---- the library */
	const char *const *names = mg_xrfsim_sample_names();
	int count = 0;
	for (; names[count]; count++) {
		mg_xrf_sample s;
		CHECK_RC(mg_xrfsim_sample_lookup(names[count], &s), 0);
		CHECK_NEAR(wsum(&s.substrate), 1.0, 1e-9);
		CHECK(s.substrate.density > 1.0);
		CHECK(strcmp(s.name, names[count]) == 0);
	}
	CHECK(count >= 7);
	mg_xrf_sample s;
	CHECK_RC(mg_xrfsim_sample_lookup("ndfeb", &s), 0);
	CHECK_NEAR(wt(&s.substrate, 60), 0.23, 1e-9);
	CHECK_NEAR(wt(&s.substrate, 59), 0.065, 1e-9);
	CHECK(wt(&s.substrate, 26) > 0.64 && wt(&s.substrate, 26) < 0.70);
	CHECK(wt(&s.substrate, 27) > 0.005 && wt(&s.substrate, 5) > 0.005);
	CHECK(wt(&s.substrate, 13) > 0 && wt(&s.substrate, 29) > 0);
	CHECK(s.ncoat == 0 && s.substrate.thickness_um <= 0);
	CHECK_RC(mg_xrfsim_sample_lookup("ndfeb-dy", &s), 0);
	CHECK_NEAR(wt(&s.substrate, 66), 0.04, 1e-9);
	CHECK(wt(&s.substrate, 60) < 0.23);
	CHECK_RC(mg_xrfsim_sample_lookup("ndfeb-tb", &s), 0);
	CHECK_NEAR(wt(&s.substrate, 65), 0.005, 1e-9);
	CHECK(wt(&s.substrate, 66) > 0);
	CHECK_RC(mg_xrfsim_sample_lookup("NdFeB-NiCuNi", &s), 0);
	CHECK(s.ncoat == 3);
	CHECK(s.coat[0].z[0] == 28 && s.coat[1].z[0] == 29 && s.coat[2].z[0] == 28);
	CHECK(s.coat[0].thickness_um == 10 && s.coat[1].thickness_um == 15 && s.coat[2].thickness_um == 10);
	CHECK_NEAR(wt(&s.substrate, 60), 0.23, 1e-9);
	CHECK_RC(mg_xrfsim_sample_lookup("fe", &s), 0);
	CHECK(s.substrate.nel == 1 && s.substrate.z[0] == 26);
	CHECK_RC(mg_xrfsim_sample_lookup("cu", &s), 0);
	CHECK(s.substrate.nel == 1 && s.substrate.z[0] == 29);
	CHECK_RC(mg_xrfsim_sample_lookup("blank", &s), 0);
	for (int i = 0; i < s.substrate.nel; i++)
		CHECK(s.substrate.z[i] <= 8);
	CHECK_RC(mg_xrfsim_sample_lookup("unobtainium", &s), MG_ERR_NOT_FOUND);

	/* ---- the parser */
	nwarn = 0;
	CHECK_RC(mg_xrfsim_sample_parse("Nd:24,Pr:6,Fe:66,Co:2,Dy:1,B:1", &s), 0);
	CHECK(s.substrate.nel == 6 && nwarn == 0);
	CHECK_NEAR(wt(&s.substrate, 60), 0.24, 1e-12);
	CHECK_NEAR(wt(&s.substrate, 5), 0.01, 1e-12);
	CHECK(s.substrate.density > 7.0 && s.substrate.density < 8.0); /* estimated */
	CHECK(s.substrate.thickness_um <= 0);
	CHECK_RC(mg_xrfsim_sample_lookup("Nd:24, Pr:6; Fe:66 Co:2,Dy:1,B:1,density=7.5", &s), 0);
	CHECK(s.substrate.nel == 6 && s.substrate.density == 7.5);
	CHECK_RC(mg_xrfsim_sample_parse("fe:50,NI:40", &s), 0);
	CHECK(nwarn == 1); /* 90 wt%: normalised with a warning */
	CHECK_NEAR(wt(&s.substrate, 26), 50.0 / 90.0, 1e-12);
	CHECK_RC(mg_xrfsim_sample_parse("Fe:99.8,Ni:0.5,thickness=12.5", &s), 0);
	CHECK(nwarn == 1); /* 100.3: within 0.5 */
	CHECK(s.substrate.thickness_um == 12.5);
	static const char *const badspec[] = {"", "Fe", "Xx:5", "Fe:abc", "Fe:10,Fe:90", "Fe:-5",
	                                      "Fe:100,foo=3", "Fe:100,density=-1", "Fe:100,density=",
	                                      ":5", "Fe:1e999"};
	for (size_t i = 0; i < sizeof badspec / sizeof badspec[0]; i++) {
		int rc = mg_xrfsim_sample_parse(badspec[i], &s);
		CHECK_MSG(rc == MG_ERR_FORMAT, "'%s' gave %d", badspec[i], rc);
	}
	CHECK_RC(mg_xrfsim_sample_parse("Fe:10,Xx:90", &s), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "byte 6") != NULL);
	mg_xrf_layer lay;
	CHECK_RC(mg_xrf_layer_parse("Ni:100,density=8.9", &lay), 0);
	CHECK(lay.nel == 1 && lay.density == 8.9);

	CHECK(strcmp(mg_xrf_line_name(-3), "KL3") == 0);
	CHECK(strcmp(mg_xrf_line_name(-90), "L3M5") == 0);
	CHECK(strcmp(mg_xrf_line_name(-219), "M5P5") == 0);
	CHECK(strcmp(mg_xrf_line_name(0), "?") == 0);

	/* ---- de Boer L against the direct integral */
	static const double cases[][3] = {{50, 80, 30}, {50, 80, 200}, {300, 40, 100}, {20, 20, 20}};
	static const double ds[] = {1e-4, 1e-3, 1e-2, 0.05};
	for (size_t c = 0; c < 4; c++)
		for (size_t k = 0; k < 4; k++) {
			double a = cases[c][0], b = cases[c][1], mu = cases[c][2], d = ds[k];
			double l = mg_xrf_deboer_l(a, b, mu, d) + mg_xrf_deboer_l(b, a, mu, d);
			double ref = direct(a, b, mu, d);
			CHECK_MSG(fabs(l / ref - 1) < 1e-5, "L(a=%g,b=%g,mu=%g,d=%g) = %.8g, direct %.8g", a, b,
			          mu, d, l, ref);
		}
	/* thin-layer branch and thick limit */
	{
		double l = mg_xrf_deboer_l(50, 80, 30, 5e-6) + mg_xrf_deboer_l(80, 50, 30, 5e-6);
		double ref = direct(50, 80, 30, 5e-6);
		CHECK_MSG(fabs(l / ref - 1) < 2e-3, "thin: %.6g vs %.6g", l, ref);
		double thick = (log1p(50.0 / 30) / 50 + log1p(80.0 / 30) / 80) / 130;
		double li = mg_xrf_deboer_l(50, 80, 30, INFINITY) + mg_xrf_deboer_l(80, 50, 30, INFINITY);
		CHECK_NEAR(li / thick, 1.0, 1e-12);
		double l1 = mg_xrf_deboer_l(50, 80, 30, 0.5) + mg_xrf_deboer_l(80, 50, 30, 0.5);
		CHECK_NEAR(l1 / thick, 1.0, 2e-4);
	}

	/* ---- secondary fluorescence, reference table (Fe 66, Nd 24, Pr 6, Co 2, Dy 1, B 1; 45°/45°) */
	mg_xrf_layer mag;
	CHECK_RC(mg_xrf_layer_parse("Fe:66,Nd:24,Pr:6,Co:2,Dy:1,B:1,density=7.5", &mag), 0);
	static const struct {
		int z, line;
		double e0, want, tol;
	} sf[] = {
		{60, -90, 10, 0.34, 0.02}, {60, -90, 20, 0.44, 0.02}, {60, -90, 30, 0.47, 0.02},
		{59, -90, 10, 0.35, 0.02}, {59, -90, 20, 0.46, 0.02}, {59, -90, 30, 0.49, 0.02},
		{60, -63, 10, 0.04, 0.01}, {60, -63, 20, 0.05, 0.01}, {60, -63, 30, 0.06, 0.01},
		{66, -90, 20, 0.0, 1e-3}, /* only Dy's own L1/L2 lines reach its L3 edge */  {26, -3, 10, 0.001, 0.001}, {26, -3, 30, 0.002, 0.001},
	};
	for (size_t i = 0; i < sizeof sf / sizeof sf[0]; i++) {
		double r = mg_xrf_secondary_ratio(&mag, sf[i].z, sf[i].line, sf[i].e0, 45, 45);
		CHECK_MSG(fabs(r - sf[i].want) <= sf[i].tol, "S/P Z%d %s at %g keV = %.4f, want %.3f",
		          sf[i].z, mg_xrf_line_name(sf[i].line), sf[i].e0, r, sf[i].want);
	}
	/* scales roughly with w_Fe: less Fe, less enhancement */
	mg_xrf_layer lowfe;
	CHECK_RC(mg_xrf_layer_parse("Fe:33,Nd:24,Pr:6,Co:2,Dy:1,B:1,Al:33,density=5", &lowfe), 0);
	CHECK(mg_xrf_secondary_ratio(&lowfe, 60, -90, 20, 45, 45) <
	      0.7 * mg_xrf_secondary_ratio(&mag, 60, -90, 20, 45, 45));

	/* ---- information depth (§2.1): 99 % of the thick intensity from ~22 µm (Nd Lα),
	 * ~20 µm (Fe Kα) at 20 keV, ~470 µm for Nd Kα at 60 keV */
	mg_xrf_geometry g = {.incidence_deg = 45, .takeoff_deg = 45, .beam_sr = 1, .det_area_mm2 = 25,
	                     .det_distance_mm = 20, .atmosphere = MG_XRF_VACUUM};
	double e = 20, f = 1, w0 = 0;
	mg_xrf_beam beam = {.n = 1, .energy_kev = &e, .flux = &f, .width_kev = &w0, .ncont = 1};
	mg_xrf_sample thick = {.name = "t", .substrate = mag}, thin = thick;
	thick.substrate.thickness_um = 0;
	mg_xrf_emission *et = NULL, *ef = NULL;
	CHECK_RC(mg_xrf_sample_emission(&thick, &g, &beam, MG_XRFSIM_NO_SCATTER, &et), 0);
	thin.substrate.thickness_um = 22;
	CHECK_RC(mg_xrf_sample_emission(&thin, &g, &beam, MG_XRFSIM_NO_SCATTER, &ef), 0);
	if (et && ef) {
		double r = prim(ef, 60, -90) / prim(et, 60, -90);
		CHECK_MSG(fabs(r - 0.99) < 0.006, "Nd La from 22 um: %.4f of thick", r);
		mg_xrf_emission_free(ef);
		ef = NULL;
		thin.substrate.thickness_um = 20;
		CHECK_RC(mg_xrf_sample_emission(&thin, &g, &beam, MG_XRFSIM_NO_SCATTER, &ef), 0);
		r = ef ? prim(ef, 26, -3) / prim(et, 26, -3) : 0;
		CHECK_MSG(fabs(r - 0.99) < 0.006, "Fe Ka from 20 um: %.4f of thick", r);
		/* ...and a finite layer's secondary is below the thick one's */
		CHECK(ef && ef->lines[0].secondary >= 0);
	}
	mg_xrf_emission_free(et);
	mg_xrf_emission_free(ef);
	et = ef = NULL;
	e = 60;
	CHECK_RC(mg_xrf_sample_emission(&thick, &g, &beam, MG_XRFSIM_NO_SCATTER, &et), 0);
	thin.substrate.thickness_um = 470;
	CHECK_RC(mg_xrf_sample_emission(&thin, &g, &beam, MG_XRFSIM_NO_SCATTER, &ef), 0);
	if (et && ef) {
		double r = prim(ef, 60, -3) / prim(et, 60, -3);
		CHECK_MSG(fabs(r - 0.99) < 0.006, "Nd KL3 from 470 um at 60 keV: %.4f of thick", r);
	}
	mg_xrf_emission_free(et);
	mg_xrf_emission_free(ef);
	et = ef = NULL;

	/* ---- coatings: the substrate's lines are attenuated in and out, the coating shines */
	e = 20;
	mg_xrf_sample bare, plated;
	CHECK_RC(mg_xrfsim_sample_lookup("ndfeb", &bare), 0);
	CHECK_RC(mg_xrfsim_sample_lookup("ndfeb-nicuni", &plated), 0);
	CHECK_RC(mg_xrf_sample_emission(&bare, &g, &beam, 0, &et), 0);
	CHECK_RC(mg_xrf_sample_emission(&plated, &g, &beam, 0, &ef), 0);
	if (et && ef) {
		double nd = prim(ef, 60, -90) / prim(et, 60, -90);
		CHECK_MSG(nd > 0 && nd < 1e-3, "Nd La under Ni-Cu-Ni: %.3g of bare", nd);
		/* expected: exp(−Σ μ ρ t (1/sinψ1 at 20 keV + 1/sinψ2 at 5.23 keV)) */
		double ni = 0, cu = 0;
		for (size_t i = 0; i < ef->nlines; i++) {
			if (ef->lines[i].z == 28 && ef->lines[i].line == -3)
				ni += ef->lines[i].primary;
			if (ef->lines[i].z == 29 && ef->lines[i].line == -3 && ef->lines[i].layer == 1)
				cu += ef->lines[i].primary;
		}
		CHECK_MSG(ni > 100 * prim(ef, 60, -90) && cu > 10 * prim(ef, 60, -90), "Ni %g Cu %g Nd %g", ni,
		          cu, prim(ef, 60, -90));
		CHECK(ef->rayleigh > 0 && ef->compton > 0 && ef->npeaks == 2);
		/* the Compton peak of 20 keV at 90°: 19.25 keV, Doppler FWHM a few hundred eV */
		for (size_t i = 0; i < ef->npeaks; i++) {
			const mg_xrf_peak *p = &ef->scatter[i];
			if (p->energy_kev < 19.9) {
				CHECK_NEAR(p->energy_kev, 19.247, 0.002);
				CHECK_MSG(p->extra_sigma_kev * 2.3548 > 0.15 && p->extra_sigma_kev * 2.3548 < 0.6,
				          "Compton Doppler FWHM %.3f keV", p->extra_sigma_kev * 2.3548);
			} else {
				CHECK_NEAR(p->energy_kev, 20.0, 1e-12);
				CHECK(p->extra_sigma_kev == 0.0);
			}
		}
	}
	mg_xrf_emission_free(et);
	mg_xrf_emission_free(ef);

	/* solid angle of a 25 mm² disc at 20 mm */
	CHECK_NEAR(mg_xrf_geometry_solid_fraction(&g), 0.5 * (1 - 20 / sqrt(400 + 25 / M_PI)), 1e-15);

	/* errors: mass fractions not normalised, coating without thickness */
	mg_xrf_sample badc = plated;
	badc.coat[1].thickness_um = 0;
	CHECK_RC(mg_xrf_sample_emission(&badc, &g, &beam, 0, &et), MG_ERR_ARG);
	badc = bare;
	badc.substrate.w[0] *= 2;
	CHECK_RC(mg_xrf_sample_emission(&badc, &g, &beam, 0, &et), MG_ERR_ARG);

	mg_log_set_handler(NULL, NULL);
	return mg_test_finish("test_xrfsim_sample");
}
