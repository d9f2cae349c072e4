/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The primary beam on the sample, discretised: the Ebel tube spectrum
 * (tube.c) in uniform bins (the simulator) or in bins that never straddle an
 * absorption edge (the FP model), × the beam's solid angle and the tube →
 * sample atmosphere; and the analysis engine's simple Kramers excitation.
 * Formulas: /work/shared/reference/xrf-physics.md §1; docs/simulator-physics.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib.h>

#include "elements.h"
#include "internal.h"
#include "physics_internal.h"

#define KRAMERS_BIN_KEV 0.25

mg_xrf_beam *xr_beam_alloc(size_t cap)
{
	mg_xrf_beam *b = calloc(1, sizeof *b);
	if (b && cap) {
		b->energy_kev = malloc(cap * sizeof(double));
		b->flux = malloc(cap * sizeof(double));
		b->width_kev = malloc(cap * sizeof(double));
		if (!b->energy_kev || !b->flux || !b->width_kev) {
			mg_xrf_beam_free(b);
			return NULL;
		}
	}
	return b;
}

void mg_xrf_beam_free(mg_xrf_beam *beam)
{
	if (!beam)
		return;
	free(beam->energy_kev);
	free(beam->flux);
	free(beam->width_kev);
	free(beam);
}

static void put(mg_xrf_beam *b, double e, double flux, double width)
{
	b->energy_kev[b->n] = e;
	b->flux[b->n] = flux;
	b->width_kev[b->n] = width;
	b->n++;
}

/* The anode lines of a tube (allocated, *n of them; NULL when none). */
static int tube_lines(const xr_ebel *e, mg_xrf_tube_line **out, int *n)
{
	*out = NULL;
	*n = xr_ebel_lines(e, NULL, 0);
	if (*n <= 0)
		return 0;
	*out = calloc((size_t)*n, sizeof **out);
	if (!*out)
		return mg_fail(MG_ERR_NOMEM, XR_DOM, "beam: out of memory");
	xr_ebel_lines(e, *out, (size_t)*n);
	return 0;
}

int mg_xrf_beam_new(const mg_xrf_tube *tube, const mg_xrf_geometry *geom, double bin_kev,
                    mg_xrf_beam **out)
{
	xr_ebel e;
	int rc;
	if (!out || !geom)
		return mg_fail(MG_ERR_ARG, XR_DOM, "beam: NULL argument");
	*out = NULL;
	if ((rc = xr_ebel_init(tube, &e)) < 0)
		return rc;
	if (!(bin_kev >= 0.001 && bin_kev <= 2.0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "beam: bin width %g keV outside [0.001, 2]", bin_kev);
	if (!(geom->beam_sr > 0 && geom->beam_sr < 4 * M_PI))
		return mg_fail(MG_ERR_ARG, XR_DOM, "beam: solid angle %g sr outside (0, 4π)", geom->beam_sr);
	if (e.e0 > 50.0 || e.e0 < 5.0)
		mg_warn(XR_DOM, "tube at %g kV: Ebel's model is validated for 5..50 kV", e.e0);

	size_t ncont = e.e0 > XR_BEAM_EMIN_KEV ? (size_t)ceil((e.e0 - XR_BEAM_EMIN_KEV) / bin_kev) : 0;
	mg_xrf_tube_line *tl;
	int nl;
	if ((rc = tube_lines(&e, &tl, &nl)) < 0)
		return rc;
	mg_xrf_beam *b = xr_beam_alloc(ncont + (size_t)(nl > 0 ? nl : 0));
	if (!b) {
		free(tl);
		return mg_fail(MG_ERR_NOMEM, XR_DOM, "beam: out of memory");
	}

	/* photons/(s·sr·mA) → photons/s per µA on the sample */
	double scale = 1e-3 * geom->beam_sr;
	double width = ncont ? (e.e0 - XR_BEAM_EMIN_KEV) / (double)ncont : 0;
	for (size_t i = 0; i < ncont; i++) {
		double en = XR_BEAM_EMIN_KEV + (i + 0.5) * width;
		double v = xr_ebel_continuum(&e, en) * width * scale *
		           mg_xrf_atmosphere_transmission(geom->atmosphere, geom->tube_path_mm, en);
		if (!(v > 0))
			continue;
		put(b, en, v, width);
	}
	b->ncont = b->n;
	for (int i = 0; i < nl; i++) {
		double en = tl[i].energy_kev;
		double v = tl[i].intensity * scale *
		           mg_xrf_atmosphere_transmission(geom->atmosphere, geom->tube_path_mm, en);
		if (!(v > 0) || en < XR_BEAM_EMIN_KEV)
			continue;
		put(b, en, v, 0.0);
	}
	free(tl);
	mg_dbg(XR_DOM, "beam: %s %g kV, %zu continuum bins of %.4f keV + %zu lines", tube->anode, e.e0,
	       b->ncont, width, b->n - b->ncont);
	*out = b;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int mg_xrf_beam_new_edges(const mg_xrf_tube *tube, const mg_xrf_geometry *geom, const int *z,
                          size_t nz, double bin_kev, mg_xrf_beam **out)
{
	xr_ebel e;
	int rc;
	if (!out || !geom || (nz && !z))
		return mg_fail(MG_ERR_ARG, XR_DOM, "beam: NULL argument");
	*out = NULL;
	if ((rc = xr_ebel_init(tube, &e)) < 0)
		return rc;
	if (!(bin_kev >= 0.001 && bin_kev <= 2.0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "beam: bin width %g keV outside [0.001, 2]", bin_kev);

	/* the bin boundaries: 1 keV, kV and every edge in between */
	size_t cap = 64 + 9 * (nz + 1);
	double *br = malloc(cap * sizeof(double));
	if (!br)
		return mg_fail(MG_ERR_NOMEM, XR_DOM, "beam: out of memory");
	size_t nbr = 0;
	br[nbr++] = XR_BEAM_EMIN_KEV;
	br[nbr++] = e.e0;
	for (size_t i = 0; i <= nz; i++) {
		int zi = i < nz ? z[i] : e.z;
		for (int s = K_SHELL; s <= M5_SHELL; s++) {
			double ed = EdgeEnergy(zi, s, NULL);
			if (ed > XR_BEAM_EMIN_KEV && ed < e.e0)
				br[nbr++] = ed;
		}
	}
	for (int s = K_SHELL; e.filter_z && s <= L3_SHELL && nbr < cap; s++) {
		double ed = EdgeEnergy(e.filter_z, s, NULL);
		if (ed > XR_BEAM_EMIN_KEV && ed < e.e0)
			br[nbr++] = ed;
	}
	qsort(br, nbr, sizeof(double), cmp_double);
	size_t nbins = 0;
	for (size_t i = 0; i + 1 < nbr; i++) {
		double w = br[i + 1] - br[i];
		if (w > 1e-6)
			nbins += (size_t)ceil(w / bin_kev - 1e-9);
	}
	mg_xrf_tube_line *tl;
	int nl;
	if ((rc = tube_lines(&e, &tl, &nl)) < 0) {
		free(br);
		return rc;
	}
	mg_xrf_beam *b = xr_beam_alloc(nbins + (size_t)(nl > 0 ? nl : 0) + 1);
	if (!b) {
		free(br);
		free(tl);
		return mg_fail(MG_ERR_NOMEM, XR_DOM, "beam: out of memory");
	}
	double scale = 1e-3 * geom->beam_sr; /* photons/(s·sr·mA) → photons/s per µA */
	for (size_t i = 0; i + 1 < nbr; i++) {
		double a = br[i], w = br[i + 1] - a;
		if (!(w > 1e-6))
			continue;
		size_t k = (size_t)ceil(w / bin_kev - 1e-9);
		double h = w / (double)k;
		for (size_t j = 0; j < k; j++) {
			double en = a + (j + 0.5) * h;
			double v = xr_ebel_continuum(&e, en) * h * scale *
			           mg_xrf_atmosphere_transmission(geom->atmosphere, geom->tube_path_mm, en);
			if (!(v > 0) || !isfinite(v))
				continue;
			put(b, en, v, h);
		}
	}
	b->ncont = b->n;
	for (int i = 0; i < nl; i++) {
		double en = tl[i].energy_kev;
		double v = tl[i].intensity * scale *
		           mg_xrf_atmosphere_transmission(geom->atmosphere, geom->tube_path_mm, en);
		if (!(v > 0) || en < XR_BEAM_EMIN_KEV || en >= e.e0)
			continue;
		put(b, en, v, 0.0);
	}
	free(br);
	free(tl);
	mg_dbg(XR_DOM, "beam: %s %g kV, %zu edge-aligned continuum bins + %zu lines", tube->anode, e.e0,
	       b->ncont, b->n - b->ncont);
	*out = b;
	return 0;
}

int mg_xrf_beam_new_kramers(double mono_kev, const char *anode, double kv, double be_um,
                            const char *filter, double filter_um, mg_xrf_beam **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, XR_DOM, "beam: NULL argument");
	*out = NULL;
	mg_xrf_beam *b;
	if (mono_kev > 0) {
		if (!(b = xr_beam_alloc(1)))
			return mg_fail(MG_ERR_NOMEM, XR_DOM, "out of memory");
		put(b, mono_kev, 1.0, 0.0);
		*out = b;
		return 0;
	}
	if (!anode)
		anode = "";
	if (!filter)
		filter = "";
	int za = mg_element_z(anode, strlen(anode));
	if (za < 1)
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube anode \"%s\" is not an element", anode);
	if (!(kv >= 2 && kv <= 200))
		return mg_fail(MG_ERR_ARG, XR_DOM, "tube voltage %g kV out of range", kv);
	int zf = filter[0] ? mg_element_z(filter, strlen(filter)) : 0;
	if (filter[0] && zf < 1)
		return mg_fail(MG_ERR_ARG, XR_DOM, "filter \"%s\" is not an element", filter);
	const double bin = KRAMERS_BIN_KEV, e0 = kv;
	size_t ncont = (size_t)ceil((e0 - 1.0) / bin);
	size_t cap = ncont + 40;
	if (!(b = xr_beam_alloc(cap)))
		return mg_fail(MG_ERR_NOMEM, XR_DOM, "out of memory");
	for (size_t i = 0; i < ncont; i++) {
		double e = 1.0 + (i + 0.5) * bin;
		if (e >= e0)
			break;
		put(b, e, za * (e0 / e - 1.0) * bin, bin);
	}
	b->ncont = b->n;
	/* anode lines with a rough yield */
	static const int shells[] = {K_SHELL, L3_SHELL};
	for (size_t s = 0; s < 2; s++) {
		double edge = EdgeEnergy(za, shells[s], NULL);
		if (!(edge > 0) || edge >= e0)
			continue;
		double u = e0 / edge;
		double yield = 3.0 * (u * log(u) - u + 1.0) * za * (e0 / edge - 1.0) * edge *
		               FluorYield(za, shells[s], NULL);
		int lo = shells[s] == K_SHELL ? KL1_LINE : L3M1_LINE;
		int hi = shells[s] == K_SHELL ? KP5_LINE : L3Q1_LINE;
		for (int line = lo; line >= hi && b->n < cap; line--) {
			double r = RadRate(za, line, NULL), e = LineEnergy(za, line, NULL);
			if (!(r > 1e-3) || !(e > 1.0))
				continue;
			put(b, e, yield * r, 0.0);
		}
	}
	/* window and filter */
	for (size_t i = 0; i < b->n; i++) {
		double t = 0;
		if (be_um > 0)
			t += CS_Total(4, b->energy_kev[i], NULL) * 1.848 * be_um * 1e-4;
		if (zf && filter_um > 0)
			t += CS_Total(zf, b->energy_kev[i], NULL) * ElementDensity(zf, NULL) * filter_um * 1e-4;
		b->flux[i] *= exp(-t);
	}
	*out = b;
	return 0;
}
