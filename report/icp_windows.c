/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES line windows of a measurement for its figure: from its file
 * (format "magassay-icp-measurement", the first replicate), each line fitted
 * for the figure by the ICP analysis' line fit (public API: mg_icp_fit_line)
 * for the drawn profile and background; else the windows its result payload
 * carries. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/fileio.h"
#include "magassay/icp_analysis.h"
#include "report_internal.h"

void rp_icp_clear(rp_icp *x)
{
	for (size_t i = 0; i < x->narrays; i++)
		free(x->arrays[i]);
	free(x->arrays);
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	free(x->w);
	memset(x, 0, sizeof(*x));
}

int rp_icp_from_payload(const json_t *payload, rp_icp *out)
{
	memset(out, 0, sizeof(*out));
	json_t *lines = json_object_get(payload, "lines");
	if (!json_is_array(lines))
		lines = json_object_get(payload, "windows");
	if (!json_is_array(lines))
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "the ICP result carries no line windows (\"lines\")");
	out->w = calloc(json_array_size(lines) + 1, sizeof(*out->w));
	if (!out->w)
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	static const char *const KX[] = {"wavelength_nm", "wavelengths_nm", "wavelengths", "x", NULL};
	static const char *const KY[] = {"intensity", "intensities", "counts", "y", NULL};
	static const char *const KF[] = {"fit", "model", "profile", NULL};
	static const char *const KB[] = {"background", "bg", NULL};
	size_t i;
	json_t *l;
	json_array_foreach(lines, i, l)
	{
		if (!json_is_object(l))
			continue;
		json_t *win = json_object_get(l, "window");
		if (!json_is_object(win))
			win = l;
		size_t nx = 0, ny = 0, nf = 0, nb = 0;
		double *xv = rp_jarray(win, KX, &nx), *yv = rp_jarray(win, KY, &ny);
		if (!xv || !yv || nx != ny || nx < 2) {
			free(xv);
			free(yv);
			continue;
		}
		double *fv = rp_jarray(win, KF, &nf), *bv = rp_jarray(win, KB, &nb);
		if (fv && nf != nx) {
			free(fv);
			fv = NULL;
		}
		if (bv && nb != nx) {
			free(bv);
			bv = NULL;
		}
		mg_plot_icp_window *w = &out->w[out->n];
		if (rp_keep_array(&out->arrays, &out->narrays, xv) || rp_keep_array(&out->arrays, &out->narrays, yv) ||
		    (fv && rp_keep_array(&out->arrays, &out->narrays, fv)) ||
		    (bv && rp_keep_array(&out->arrays, &out->narrays, bv))) {
			rp_icp_clear(out);
			return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
		}
		const char *lab = rp_jstr(l, (const char *const[]){"label", "line", "name", NULL});
		char b[64];
		double lnm = rp_jnum(l, (const char *const[]){"wavelength_nm", "line_nm", NULL});
		if (!lab) {
			const char *el = rp_jstr(l, rp_keys_element);
			snprintf(b, sizeof(b), "%s %.3f", el ? el : "?", lnm);
			lab = b;
		}
		w->label = rp_keep_label(&out->labels, &out->nlabels, lab);
		w->line_nm = lnm;
		w->n = nx;
		w->wavelength_nm = xv;
		w->intensity = yv;
		w->fit = fv;
		w->background = bv;
		out->n++;
	}
	if (out->n == 0) {
		rp_icp_clear(out);
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "the ICP result's lines carry no spectral windows");
	}
	return MG_OK;
}

/* ---- ICP windows of a measurement file ----------------------------------------------------- */

static int icp_add_window(rp_icp *out, size_t cap, const char *label, double line_nm, const double *x,
                          const double *y, size_t n)
{
	if (out->n >= cap || n < 3)
		return MG_OK;
	mg_icp_window w;
	memset(&w, 0, sizeof(w));
	w.npix = n > MG_ICP_MAX_PIXELS ? MG_ICP_MAX_PIXELS : n;
	memcpy(w.wavelength_nm, x, w.npix * sizeof(double));
	memcpy(w.intensity, y, w.npix * sizeof(double));
	double *xv = malloc(w.npix * sizeof(double)), *yv = malloc(w.npix * sizeof(double));
	double *fv = malloc(w.npix * sizeof(double)), *bv = malloc(w.npix * sizeof(double));
	if (!xv || !yv || !fv || !bv) {
		free(xv);
		free(yv);
		free(fv);
		free(bv);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	memcpy(xv, x, w.npix * sizeof(double));
	memcpy(yv, y, w.npix * sizeof(double));
	mg_icp_fit_opts o;
	mg_icp_fit_opts_init(&o);
	mg_icp_linefit f;
	int fitted = isfinite(line_nm) && mg_icp_fit_line(&w, line_nm, &o, &f) == MG_OK && isfinite(f.net) &&
	             isfinite(f.background);
	if (!fitted)
		mg_error_clear();
	double dx = w.npix > 1 ? (xv[w.npix - 1] - xv[0]) / (double)(w.npix - 1) : 1;
	for (size_t i = 0; i < w.npix; i++) {
		bv[i] = fitted ? f.background : NAN;
		fv[i] = fitted ? f.background + f.net * dx * mg_icp_shape_value(o.shape, xv[i] - f.centre_nm, f.fwhm_nm, f.eta)
		               : NAN;
	}
	if (rp_keep_array(&out->arrays, &out->narrays, xv) || rp_keep_array(&out->arrays, &out->narrays, yv) ||
	    rp_keep_array(&out->arrays, &out->narrays, fv) || rp_keep_array(&out->arrays, &out->narrays, bv))
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	mg_plot_icp_window *pw = &out->w[out->n++];
	pw->label = rp_keep_label(&out->labels, &out->nlabels, label);
	pw->line_nm = line_nm;
	pw->n = w.npix;
	pw->wavelength_nm = xv;
	pw->intensity = yv;
	pw->fit = fitted ? fv : NULL;
	pw->background = fitted ? bv : NULL;
	return MG_OK;
}

int rp_icp_load(mg_store *st, const rp_result *r, rp_icp *out)
{
	memset(out, 0, sizeof(*out));
	char *path = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *j = NULL;
	int e = mg_store_abspath(st, r->m.file, &path);
	if (e == MG_OK && mg_file_read_all(path, 64u << 20, &data, &len) == MG_OK)
		j = json_loadb((const char *)data, len, 0, NULL);
	free(path);
	free(data);
	mg_error_clear();
	const char *fmt = rp_jstr(j, (const char *const[]){"format", NULL});
	json_t *lines = json_object_get(j, "lines"), *reps = json_object_get(j, "replicates");
	if (fmt && strcmp(fmt, "magassay-icp-measurement") == 0 && json_is_array(lines) && json_is_array(reps) &&
	    json_array_size(reps) > 0) {
		size_t nl = json_array_size(lines);
		out->w = calloc(nl + 1, sizeof(*out->w));
		if (!out->w) {
			json_decref(j);
			return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
		}
		json_t *w0 = json_object_get(json_array_get(reps, 0), "windows");
		for (size_t l = 0; l < nl && e == MG_OK; l++) {
			json_t *line = json_array_get(lines, l), *win = json_array_get(w0, l);
			size_t nx = 0, ny = 0;
			double *x = rp_jarray(win, (const char *const[]){"wavelength_nm", NULL}, &nx);
			double *y = rp_jarray(win, (const char *const[]){"intensity", NULL}, &ny);
			if (x && y && nx == ny) {
				const char *lab = rp_jstr(line, (const char *const[]){"label", NULL});
				const char *el = rp_jstr(line, rp_keys_element);
				double lnm = rp_jnum(line, (const char *const[]){"wavelength_nm", NULL});
				char b[64];
				if (!lab) {
					snprintf(b, sizeof(b), "%s %.3f", el ? el : "?", lnm);
					lab = b;
				}
				json_t *is = json_object_get(line, "internal_standard");
				char lb[96];
				snprintf(lb, sizeof(lb), "%s%s", lab, json_is_true(is) ? " (internal standard)" : "");
				e = icp_add_window(out, nl, lb, lnm, x, y, nx);
			}
			free(x);
			free(y);
		}
		json_decref(j);
		if (e != MG_OK) {
			rp_icp_clear(out);
			return e;
		}
		if (out->n > 0)
			return MG_OK;
		rp_icp_clear(out);
	} else {
		json_decref(j);
	}
	if (!r->payload)
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "measurement %lld: no ICP line windows (file or result)", r->m.id);
	return rp_icp_from_payload(r->payload, out);
}

