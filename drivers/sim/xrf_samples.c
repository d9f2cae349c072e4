/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulator's library of samples (NdFeB grades, plated magnets, check
 * standards, a blank) and user compositions as one-layer samples. The
 * composition syntax and the physics of a sample are the physics layer's
 * (physics/composition.c, emission.c). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "magassay/xrfsim.h"

#define DOM "xrfsim"

int mg_xrfsim_sample_parse(const char *spec, mg_xrf_sample *out)
{
	int rc;
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "sample: NULL output");
	memset(out, 0, sizeof *out);
	/* no thickness given: 0, infinitely thick */
	if ((rc = mg_xrf_layer_parse(spec, &out->substrate)) < 0)
		return rc;
	snprintf(out->name, sizeof out->name, "custom");
	return 0;
}

/* The library. Compositions in wt% (domain.md §3 ranges). */
#define NDFEB_REST "Fe:67.9,Co:1.0,B:1.0,Al:0.4,Cu:0.2"
static const struct {
	const char *name, *comp;
	double density;
	double thickness_um; /* 0 = thick */
	int ncoat;
	struct {
		const char *comp;
		double density, um;
	} coat[3];
} library[] = {
	/* N42-type sintered magnet: RE 29.5 wt% (Nd 23, Pr 6.5), Fe balance */
	{"ndfeb", "Nd:23.0,Pr:6.5," NDFEB_REST, 7.50, 0, 0, {{0}}},
	/* high-coercivity grade: 4 wt% Dy replacing Nd */
	{"ndfeb-dy", "Nd:19.0,Pr:6.5,Dy:4.0," NDFEB_REST, 7.60, 0, 0, {{0}}},
	/* grain-boundary-diffused grade: 0.5 wt% Tb + 1 wt% Dy */
	{"ndfeb-tb", "Nd:21.5,Pr:6.5,Tb:0.5,Dy:1.0," NDFEB_REST, 7.55, 0, 0, {{0}}},
	/* the ndfeb substrate under a typical Ni 10 / Cu 15 / Ni 10 µm plating */
	{"ndfeb-nicuni", "Nd:23.0,Pr:6.5," NDFEB_REST, 7.50, 0, 3,
	 {{"Ni:100", 8.908, 10.0}, {"Cu:100", 8.96, 15.0}, {"Ni:100", 8.908, 10.0}}},
	/* check standards */
	{"fe", "Fe:100", 7.874, 0, 0, {{0}}},
	{"cu", "Cu:100", 8.96, 0, 0, {{0}}},
	/* low-Z blank: pressed cellulose (C6H10O5) pellet, 5 mm */
	{"blank", "C:44.45,H:6.22,O:49.33", 1.30, 5000.0, 0, {{0}}},
};

const char *const *mg_xrfsim_sample_names(void)
{
	static const char *const names[] = {"ndfeb", "ndfeb-dy", "ndfeb-tb", "ndfeb-nicuni",
	                                    "fe",    "cu",       "blank",    NULL};
	return names;
}

int mg_xrfsim_sample_lookup(const char *name, mg_xrf_sample *out)
{
	int rc;
	if (!name || !out)
		return mg_fail(MG_ERR_ARG, DOM, "sample lookup: NULL argument");
	for (size_t i = 0; i < MG_ARRAY_SIZE(library); i++) {
		if (strcasecmp(name, library[i].name) != 0)
			continue;
		memset(out, 0, sizeof *out);
		snprintf(out->name, sizeof out->name, "%s", library[i].name);
		if ((rc = mg_xrf_layer_parse(library[i].comp, &out->substrate)) < 0)
			return rc;
		out->substrate.density = library[i].density;
		out->substrate.thickness_um = library[i].thickness_um;
		out->ncoat = library[i].ncoat;
		for (int c = 0; c < library[i].ncoat; c++) {
			if ((rc = mg_xrf_layer_parse(library[i].coat[c].comp, &out->coat[c])) < 0)
				return rc;
			out->coat[c].density = library[i].coat[c].density;
			out->coat[c].thickness_um = library[i].coat[c].um;
		}
		return 0;
	}
	if (strchr(name, ':'))
		return mg_xrfsim_sample_parse(name, out);
	return mg_fail(MG_ERR_NOT_FOUND, DOM, "no sample '%s' in the library (ndfeb, ndfeb-dy, ndfeb-tb, "
	               "ndfeb-nicuni, fe, cu, blank) and not a composition", name);
}
