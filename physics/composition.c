/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compositions of sample layers: the "Nd:23,Pr:6.5,Fe:67.9,density=7.5"
 * syntax, the estimated density, and the checks a layer must pass before its
 * emission is computed. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xraylib.h>

#include "elements.h"
#include "internal.h"
#include "physics_internal.h"

static int parse_num(const char *s, size_t n, double *out)
{
	char buf[64];
	char *end;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	double v = strtod(buf, &end);
	if (end != buf + n || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Estimated density: mass-weighted harmonic mean of the condensed elements. */
static double estimate_density(const mg_xrf_layer *l)
{
	double inv = 0, wsum = 0;
	for (int i = 0; i < l->nel; i++) {
		double rho = ElementDensity(l->z[i], NULL);
		if (rho > 0.5) {
			inv += l->w[i] / rho;
			wsum += l->w[i];
		}
	}
	return inv > 0 ? wsum / inv : 1.0;
}

/* Parse a composition; thickness/density are optional keys. */
static int parse_layer(const char *spec, mg_xrf_layer *out)
{
	memset(out, 0, sizeof *out);
	int have_density = 0;
	if (!spec)
		return mg_fail(MG_ERR_ARG, XR_DOM, "composition: NULL");
	const char *p = spec;
	double sum = 0;
	while (*p) {
		while (*p == ',' || *p == ';' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *tok = p;
		while (*p && *p != ',' && *p != ';' && !isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - tok);
		const char *colon = memchr(tok, ':', n), *eq = memchr(tok, '=', n);
		long off = (long)(tok - spec);
		if (eq && !colon) {
			size_t kn = (size_t)(eq - tok);
			double v;
			if (parse_num(eq + 1, n - kn - 1, &v) < 0 || !(v > 0))
				return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: byte %ld: bad value in '%.*s'",
				               off, (int)n, tok);
			if ((kn == 7 && strncasecmp(tok, "density", 7) == 0) ||
			    (kn == 3 && strncasecmp(tok, "rho", 3) == 0)) {
				out->density = v;
				have_density = 1;
			} else if (kn == 9 && strncasecmp(tok, "thickness", 9) == 0) {
				out->thickness_um = v;
			} else {
				return mg_fail(MG_ERR_FORMAT, XR_DOM,
				               "composition: byte %ld: unknown key '%.*s' (density, thickness)",
				               off, (int)kn, tok);
			}
			continue;
		}
		if (!colon)
			return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: byte %ld: expected Symbol:wt%% in '%.*s'",
			               off, (int)n, tok);
		size_t sn = (size_t)(colon - tok);
		int z = mg_element_z(tok, sn);
		if (z < 1 || z > 94) /* compositions go up to Pu */
			return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: byte %ld: unknown element '%.*s'", off,
			               (int)sn, tok);
		double v;
		if (parse_num(colon + 1, n - sn - 1, &v) < 0 || !(v > 0) || v > 100)
			return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: byte %ld: bad wt%% in '%.*s'", off,
			               (int)n, tok);
		for (int i = 0; i < out->nel; i++)
			if (out->z[i] == z)
				return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: byte %ld: element '%.*s' twice",
				               off, (int)sn, tok);
		if (out->nel >= MG_XRF_MAX_ELEMENTS)
			return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: more than %d elements",
			               MG_XRF_MAX_ELEMENTS);
		out->z[out->nel] = z;
		out->w[out->nel] = v;
		out->nel++;
		sum += v;
	}
	if (out->nel == 0)
		return mg_fail(MG_ERR_FORMAT, XR_DOM, "composition: no element in '%s'", spec);
	if (fabs(sum - 100.0) > 0.5)
		mg_warn(XR_DOM, "composition '%s' sums to %.3g wt%%: normalised to 100", spec, sum);
	for (int i = 0; i < out->nel; i++)
		out->w[i] /= sum;
	if (!have_density) {
		out->density = estimate_density(out);
		mg_dbg(XR_DOM, "composition '%s': density estimated %.3g g/cm3", spec, out->density);
	}
	return 0;
}

int mg_xrf_layer_parse(const char *spec, mg_xrf_layer *out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, XR_DOM, "composition: NULL output");
	return parse_layer(spec, out);
}

int xr_layer_check(const mg_xrf_layer *l, const char *what, int idx, int substrate)
{
	double sum = 0;
	if (l->nel < 1 || l->nel > MG_XRF_MAX_ELEMENTS)
		return mg_fail(MG_ERR_ARG, XR_DOM, "sample: %s %d has %d elements", what, idx, l->nel);
	for (int i = 0; i < l->nel; i++) {
		if (l->z[i] < 1 || l->z[i] > 94 || !(l->w[i] >= 0))
			return mg_fail(MG_ERR_ARG, XR_DOM, "sample: %s %d: element %d (Z %d, w %g) invalid",
			               what, idx, i, l->z[i], l->w[i]);
		for (int j = 0; j < i; j++)
			if (l->z[j] == l->z[i])
				return mg_fail(MG_ERR_ARG, XR_DOM, "sample: %s %d: Z %d twice", what, idx, l->z[i]);
		sum += l->w[i];
	}
	if (fabs(sum - 1.0) > 0.01)
		return mg_fail(MG_ERR_ARG, XR_DOM, "sample: %s %d: mass fractions sum to %g, not 1", what, idx,
		               sum);
	if (!(l->density > 0) || l->density > 25)
		return mg_fail(MG_ERR_ARG, XR_DOM, "sample: %s %d: density %g g/cm3", what, idx, l->density);
	if (!substrate && !(l->thickness_um > 0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "sample: coating %d needs a thickness > 0", idx);
	return 0;
}
