/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The XRF spectrum figure: counts per channel (log scale by default), and
 * when a fit is known the fitted model, the background, each line family's
 * contribution drawn on the background and a residual panel, (counts −
 * fit)/√fit; the element lines marked and labelled above the spectrum.
 * Without a fit the spectrum is drawn as a histogram. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

/* The x range: the fitted window, else where there are counts (above the
 * noise peak near zero), padded by 1 %; or as given. */
static void xrf_range(const mg_plot_xrf *d, double *lo, double *hi)
{
	if (d->emax_kev > d->emin_kev) {
		*lo = d->emin_kev;
		*hi = d->emax_kev;
		return;
	}
	double a = INFINITY, b = -INFINITY;
	for (size_t i = 0; i < d->n; i++) {
		double e = d->energy_kev[i];
		int use = d->fit ? d->fit[i] > 0 : (d->counts[i] > 0 && (d->x_label || e > 0.3));
		if (use && isfinite(e)) {
			a = fmin(a, e);
			b = fmax(b, e);
		}
	}
	if (!(b > a)) {
		a = d->energy_kev[0];
		b = d->energy_kev[d->n - 1];
	}
	double pad = (b - a) * 0.01;
	*lo = fmax(0, a - pad);
	*hi = b + pad;
}

/* The family a marker names: the family whose label begins the marker's
 * ("Fe K" for "Fe Kα", "Rh Compton" for itself), else one of its element
 * ("Nd L..." for "Nd Lβ"); -1 when none. */
static int family_of(const mg_plot_xrf *d, const char *label)
{
	for (size_t f = 0; f < d->nfamilies; f++) {
		const char *fl = d->families[f].label;
		if (fl && *fl && strncmp(fl, label, strlen(fl)) == 0)
			return (int)f;
	}
	for (size_t f = 0; f < d->nfamilies; f++) {
		const char *fl = d->families[f].label;
		size_t el = strcspn(fl ? fl : "", " ");
		if (fl && el > 0 && strncmp(fl, label, el) == 0 && label[el] == ' ')
			return (int)f;
	}
	return -1;
}

/* The markers inside [lo, hi], each reaching down to the highest fit (or
 * counts) within 60 eV of its line, in its family's colour. */
static size_t make_marks(const mg_plot_xrf *d, double lo, double hi, pl_mark *m)
{
	size_t nm = 0;
	for (size_t i = 0; i < d->nmarkers; i++) {
		double e = d->markers[i].x;
		if (!(e >= lo && e <= hi) || !d->markers[i].label)
			continue;
		double peak = 0;
		for (size_t k = 0; k < d->n; k++)
			if (fabs(d->energy_kev[k] - e) < 0.06)
				peak = fmax(peak, d->fit ? d->fit[k] : d->counts[k]);
		int f = family_of(d, d->markers[i].label);
		m[nm++] = (pl_mark){e, peak > 0 ? peak : NAN, d->markers[i].label,
		                    f >= 0 ? pl_series_colour((size_t)f) : pl_okabe_ito[PL_BLACK]};
	}
	return nm;
}

static void legend(pl_fig *f, const mg_plot_xrf *d)
{
	const pl_theme *th = &f->th;
	pl_legend_item it[24];
	size_t ni = 0;
	it[ni++] = (pl_legend_item){"Measured", d->fit ? pl_grey : pl_okabe_ito[PL_BLACK], d->fit ? -1 : PL_SOLID,
	                            d->fit ? PL_CIRCLE : -1, th->line * 0.7, 0};
	if (d->fit)
		it[ni++] = (pl_legend_item){"Fit", pl_okabe_ito[PL_VERMILLION], PL_SOLID, -1, th->line * 1.3, 0};
	if (d->background)
		it[ni++] = (pl_legend_item){"Background", pl_okabe_ito[PL_BLUE], PL_DASHED, -1, th->line, 0};
	for (size_t k = 0; k < d->nfamilies && ni < MG_ARRAY_SIZE(it); k++)
		it[ni++] = (pl_legend_item){d->families[k].label, pl_series_colour(k), pl_series_dash(k), -1, th->line, 0};
	pl_fig_legend(f, it, ni);
}

/* The y axis of the spectrum from the counts (and fit) inside [lo, hi]. */
static pl_axis counts_axis(const mg_plot_xrf *d, double lo, double hi, int log_y)
{
	double ymax = 1, ymin_pos = INFINITY;
	for (size_t i = 0; i < d->n; i++) {
		double e = d->energy_kev[i];
		if (e < lo || e > hi)
			continue;
		ymax = fmax(ymax, d->counts[i]);
		if (d->fit)
			ymax = fmax(ymax, d->fit[i]);
		if (d->counts[i] > 0)
			ymin_pos = fmin(ymin_pos, d->counts[i]);
	}
	if (!log_y)
		return (pl_axis){.min = 0, .max = ymax * 1.06, .label = "Counts per channel"};
	double ymin = isfinite(ymin_pos) ? fmax(0.5, ymin_pos * 0.7) : 0.5;
	if (ymin > ymax / 100)
		ymin = ymax / 100;
	return (pl_axis){.min = ymin, .max = ymax * 2.5, .log = 1, .label = "Counts per channel"};
}

static double resid_max(const mg_plot_xrf *d, double lo, double hi)
{
	double rmax = 4;
	for (size_t i = 0; i < d->n; i++) {
		double e = d->energy_kev[i];
		if (e < lo || e > hi || !(d->fit[i] > 0))
			continue;
		rmax = fmax(rmax, fabs((d->counts[i] - d->fit[i]) / sqrt(fmax(d->fit[i], 1))));
	}
	return fmin(ceil(rmax * 1.1), 12);
}

/* The data in the main panel: measured, background, families, fit. */
static void draw_spectrum(pl_fig *f, const pl_panel *p, const mg_plot_xrf *d, int log_y)
{
	const pl_theme *th = &f->th;
	double floor = log_y ? p->y.min * 0.5 : 0;
	pl_panel_clip(f, p);
	if (d->fit)
		pl_points(f, p, d->energy_kev, d->counts, d->n, -1, th->line * 0.9, pl_grey);
	else
		pl_steps(f, p, d->energy_kev, d->counts, d->n, pl_okabe_ito[PL_BLACK], th->line * 0.6, floor);
	if (d->background)
		pl_line(f, p, d->energy_kev, d->background, d->n, pl_okabe_ito[PL_BLUE], th->line, PL_DASHED, floor);
	double *tmp = d->nfamilies ? malloc(d->n * sizeof(double)) : NULL;
	for (size_t k = 0; tmp && k < d->nfamilies; k++) {
		const double *fy = d->families[k].y;
		if (!fy)
			continue;
		double fmx = 0;
		for (size_t i = 0; i < d->n; i++)
			fmx = fmax(fmx, fy[i]);
		for (size_t i = 0; i < d->n; i++) {
			double b = d->background ? d->background[i] : 0;
			/* only where the family shows: above 0.3 % of its peak and visible over the background */
			tmp[i] = fy[i] > 0.003 * fmx && fy[i] > 0.05 * sqrt(b + 1) ? fy[i] + b : NAN;
		}
		pl_line(f, p, d->energy_kev, tmp, d->n, pl_series_colour(k), th->line, pl_series_dash(k), 0);
	}
	free(tmp);
	if (d->fit)
		pl_line(f, p, d->energy_kev, d->fit, d->n, pl_okabe_ito[PL_VERMILLION], th->line * 1.3, PL_SOLID, floor);
	pl_panel_unclip(f);
}

static void draw_residuals(pl_fig *f, const pl_panel *p, const mg_plot_xrf *d, double lo, double hi)
{
	const pl_theme *th = &f->th;
	pl_panel_clip(f, p);
	pl_hline(f, p, 0, pl_okabe_ito[PL_BLACK], th->line * 0.6, PL_SOLID);
	pl_hline(f, p, 2, pl_grey, th->line * 0.6, PL_DASHED);
	pl_hline(f, p, -2, pl_grey, th->line * 0.6, PL_DASHED);
	double *rr = malloc(d->n * sizeof(double));
	if (rr) {
		for (size_t i = 0; i < d->n; i++)
			rr[i] = d->fit[i] > 0 && d->energy_kev[i] >= lo && d->energy_kev[i] <= hi
			                ? (d->counts[i] - d->fit[i]) / sqrt(fmax(d->fit[i], 1))
			                : NAN;
		pl_line(f, p, d->energy_kev, rr, d->n, pl_okabe_ito[PL_BLACK], th->line * 0.6, PL_SOLID, 0);
		free(rr);
	}
	pl_panel_unclip(f);
}

int rp_fig_xrf(pl_fig *f, const mg_plot_xrf *d, int log_y)
{
	if (!d || d->n < 2 || !d->energy_kev || !d->counts)
		return mg_fail(MG_ERR_ARG, RP_DOM, "XRF plot: no spectrum");
	double lo, hi;
	xrf_range(d, &lo, &hi);
	if (!(hi > lo))
		return mg_fail(MG_ERR_ARG, RP_DOM, "XRF plot: empty energy range");
	if (log_y < 0)
		log_y = 1;
	legend(f, d);

	int resid = d->fit != NULL;
	const char *xl = d->x_label ? d->x_label : "Energy (keV)";
	pl_panel main = {.x = {.min = lo, .max = hi, .label = xl}, .y = counts_axis(d, lo, hi, log_y), .xlabels = !resid};
	pl_panel res = {.x = main.x, .y = {.label = "Resid. (\xCF\x83)"}, .xlabels = 1};
	if (resid) {
		double r = resid_max(d, lo, hi);
		res.y.min = -r;
		res.y.max = r;
	}
	pl_mark *m = d->nmarkers ? calloc(d->nmarkers, sizeof(*m)) : NULL;
	size_t nm = m ? make_marks(d, lo, hi, m) : 0;

	/* The band of marker labels needs the x mapping, which needs the left
	 * margin, which needs the panel heights, which need the band: settle it. */
	double x = f->x, top = f->top, w = f->w, rest = f->bottom - f->top, band = 0;
	for (int pass = 0; pass < 4; pass++) {
		double mh = resid ? (rest - band) * 0.72 : rest - band, rh = rest - band - mh;
		main.left = res.left = 0;
		double left = pl_panel_left_margin(f, &main, mh);
		if (resid)
			left = fmax(left, pl_panel_left_margin(f, &res, rh));
		main.left = res.left = left;
		pl_panel_place(f, &main, x, top + band, w, mh);
		if (resid)
			pl_panel_place(f, &res, x, top + band + mh, w, rh);
		double need = pl_marks_band(f, &main, m, nm, 3);
		if (need <= band)
			break;
		band = need;
	}
	pl_panel_axes(f, &main);
	if (resid)
		pl_panel_axes(f, &res);
	pl_marks(f, &main, m, nm, 3);
	free(m);
	draw_spectrum(f, &main, d, log_y);
	if (resid)
		draw_residuals(f, &res, d, lo, hi);
	return MG_OK;
}
