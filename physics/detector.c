/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The detector: efficiency of an Si, Ge or CdTe sensor behind its Be window
 * and dead layer (and an air path), resolution, Si Kα/Kβ escape (Reed &
 * Ware) and the solid angle it subtends. The line shape on a channel axis is
 * response.c's. Reference: xrf-physics.md §3.1–3.3. */
#include <math.h>
#include <string.h>

#include <xraylib.h>

#include "internal.h"
#include "physics_internal.h"
#include "text.h"

#define RHO_AIR 1.205e-3

static const char *const sensor_names[] = {"Si", "CdTe", "Ge"};

int mg_xrf_sensor_parse(const char *name, size_t len)
{
	for (size_t i = 0; name && i < MG_ARRAY_SIZE(sensor_names); i++)
		if (mg_equals_ci(name, len, sensor_names[i]))
			return (int)i;
	return -1;
}

const char *mg_xrf_sensor_name(enum mg_xrf_sensor s)
{
	return (unsigned)s < MG_ARRAY_SIZE(sensor_names) ? sensor_names[s] : "?";
}

static double sensor_density(enum mg_xrf_sensor s)
{
	switch (s) {
	case MG_XRF_SENSOR_CDTE: return 5.85;
	case MG_XRF_SENSOR_GE: return 5.323;
	default: return XR_RHO_SI;
	}
}

/* μ/ρ of the sensor material: total (photo = 0) or photo-absorption. */
static double sensor_mu(enum mg_xrf_sensor s, double e, int photo)
{
	if (s == MG_XRF_SENSOR_CDTE) /* Cd 46.83, Te 53.17 wt% */
		return photo ? 0.4683 * CS_Photo(48, e, NULL) + 0.5317 * CS_Photo(52, e, NULL)
		             : 0.4683 * CS_Total(48, e, NULL) + 0.5317 * CS_Total(52, e, NULL);
	int z = s == MG_XRF_SENSOR_GE ? 32 : 14;
	return photo ? CS_Photo(z, e, NULL) : CS_Total(z, e, NULL);
}

double xr_entrance(enum mg_xrf_sensor s, double be_um, double dead_layer_um, double air_mm, double e)
{
	double t = 0;
	if (be_um > 0)
		t += CS_Total(4, e, NULL) * XR_RHO_BE * be_um * 1e-4;
	if (dead_layer_um > 0)
		t += sensor_mu(s, e, 0) * sensor_density(s) * dead_layer_um * 1e-4;
	if (air_mm > 0)
		t += mg_xrf_engine_air_mu(e) * RHO_AIR * air_mm * 0.1;
	return exp(-t);
}

double mg_xrf_sensor_efficiency(enum mg_xrf_sensor s, double be_um, double dead_layer_um,
                                double thick_mm, double air_mm, double e_kev)
{
	if (!(e_kev > 0))
		return 0.0;
	double absorbed = 1.0;
	if (thick_mm > 0)
		absorbed = -expm1(-sensor_mu(s, e_kev, 1) * sensor_density(s) * thick_mm * 0.1);
	return xr_entrance(s, be_um, dead_layer_um, air_mm, e_kev) * absorbed;
}

double mg_xrf_detector_efficiency(const mg_xrf_detector *det, double e_kev)
{
	if (!det || !(e_kev > 0) || !(det->thickness_mm > 0))
		return 0.0;
	return mg_xrf_sensor_efficiency(MG_XRF_SENSOR_SI, det->be_um, det->dead_layer_um,
	                                det->thickness_mm, 0.0, e_kev);
}

double mg_xrf_detector_fwhm(const mg_xrf_detector *det, double e_kev)
{
	if (!det)
		return 0.0;
	double e = e_kev > 0 ? e_kev : 0.0;
	return sqrt(det->noise_fwhm_kev * det->noise_fwhm_kev +
	            XR_FWHM_PER_SIGMA * XR_FWHM_PER_SIGMA * det->fano * XR_EPS_SI * e);
}

/* Reed & Ware: P = ½·(Q_f(E)/μ(E))·[1 − r·ln(1 + 1/r)], r = μ(E_f)/μ(E). */
static double escape_one(double e, int line)
{
	double ef = LineEnergy(14, line, NULL);
	double q = CS_FluorLine_Kissel_Cascade(14, line, e, NULL);
	double mu = CS_Total(14, e, NULL);
	if (!(q > 0) || !(mu > 0) || !(ef > 0))
		return 0.0;
	double r = CS_Total(14, ef, NULL) / mu;
	double p = 0.5 * (q / mu) * (1.0 - r * log1p(1.0 / r));
	return p > 0 ? p : 0.0;
}

double mg_xrf_escape_fraction(double e_kev, double *kb)
{
	double edge = EdgeEnergy(14, K_SHELL, NULL);
	if (kb)
		*kb = 0.0;
	if (!(e_kev > edge))
		return 0.0;
	if (kb)
		*kb = escape_one(e_kev, KB_LINE);
	return escape_one(e_kev, KA_LINE);
}

void mg_xrf_escape_energies(double *ka_kev, double *kb_kev)
{
	if (ka_kev)
		*ka_kev = LineEnergy(14, KA_LINE, NULL);
	if (kb_kev)
		*kb_kev = LineEnergy(14, KB_LINE, NULL);
}

double mg_xrf_solid_fraction(double area_mm2, double distance_mm)
{
	if (!(area_mm2 > 0) || !(distance_mm > 0))
		return 0.0;
	double r2 = area_mm2 / M_PI, d = distance_mm;
	return 0.5 * (1.0 - d / sqrt(d * d + r2));
}

double mg_xrf_geometry_solid_fraction(const mg_xrf_geometry *g)
{
	return g ? mg_xrf_solid_fraction(g->det_area_mm2, g->det_distance_mm) : 0.0;
}
