/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plot kinds: an XRF spectrum (with fit, families, background, element
 * markers and a residual panel when a fit is known), ICP-OES line windows,
 * calibration curves with residuals, control charts with their limits and
 * rule violations, and the batch chart. Each draws into a box of any cairo
 * context (PNG canvas or PDF page); the mg_plot_*_png functions wrap them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

/* NAN-proof: a NAN argument is ignored (fmax/fmin semantics). */
static double dmax(double a, double b)
{
	return fmax(a, b);
}

static double dmin(double a, double b)
{
	return fmin(a, b);
}

/* ---- element markers in a band above a panel ------------------------------------- */

typedef struct mk {
	double x;            /* user units */
	double e;
	const char *label;
	rp_rgb c;
	int row;             /* -1: no room for the label */
	double l, r;         /* label extent */
} mk;

static int mk_cmp(const void *a, const void *b)
{
	const mk *x = a, *y = b;
	return (x->x > y->x) - (x->x < y->x);
}

/* Assign label rows so that no two labels overlap; returns the rows used. */
static int mk_layout(cairo_t *cr, const rp_theme *th, mk *m, size_t n, int max_rows, double xmin, double xmax)
{
	double last[8];
	int used = 0;
	for (int r = 0; r < 8; r++)
		last[r] = -1e300;
	qsort(m, n, sizeof(*m), mk_cmp);
	rp_font(cr, th->font * 0.8, 0);
	for (size_t i = 0; i < n; i++) {
		double w = rp_text_width(cr, m[i].label);
		double l = m[i].x - w / 2, r = m[i].x + w / 2;
		if (l < xmin) {
			r += xmin - l;
			l = xmin;
		}
		if (r > xmax) {
			l -= r - xmax;
			r = xmax;
		}
		m[i].row = -1;
		for (int k = 0; k < max_rows; k++)
			if (l > last[k] + th->font * 0.35) {
				m[i].row = k;
				last[k] = r;
				m[i].l = l;
				m[i].r = r;
				if (k + 1 > used)
					used = k + 1;
				break;
			}
	}
	return used;
}

/* ---- XRF spectrum ---------------------------------------------------------------------- */

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
			a = dmin(a, e);
			b = dmax(b, e);
		}
	}
	if (!(b > a)) {
		a = d->energy_kev[0];
		b = d->energy_kev[d->n - 1];
	}
	double pad = (b - a) * 0.01;
	*lo = dmax(0, a - pad);
	*hi = b + pad;
}

int rp_draw_xrf(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h, const mg_plot_xrf *d,
                const mg_plot_meta *meta, int log_y)
{
	if (!d || d->n < 2 || !d->energy_kev || !d->counts)
		return mg_fail(MG_ERR_ARG, RP_DOM, "XRF plot: no spectrum");
	double lo, hi;
	xrf_range(d, &lo, &hi);
	if (!(hi > lo))
		return mg_fail(MG_ERR_ARG, RP_DOM, "XRF plot: empty energy range");
	if (log_y < 0)
		log_y = 1;

	double top = y;
	top += rp_title(cr, th, x, top, w, meta ? meta->title : NULL, meta ? meta->subtitle : NULL);

	/* legend */
	rp_legend_item it[16];
	size_t ni = 0;
	it[ni++] = (rp_legend_item){"Measured", rp_grey, d->fit ? -1 : 0, d->fit ? RP_CIRCLE : -1, th->line};
	if (d->fit)
		it[ni++] = (rp_legend_item){"Fit", rp_okabe_ito[RP_VERMILLION], 0, -1, th->line * 1.3};
	if (d->background)
		it[ni++] = (rp_legend_item){"Background", rp_okabe_ito[RP_BLUE], 1, -1, th->line};
	for (size_t f = 0; f < d->nfamilies && ni < MG_ARRAY_SIZE(it); f++)
		it[ni++] = (rp_legend_item){d->families[f].label, rp_series_colour(f), rp_series_dash(f), -1, th->line};
	top += th->pad * 0.3;
	top += rp_legend(cr, th, x + th->pad, top, w - 2 * th->pad, it, ni, 1);

	/* the panels (geometry first: the marker band needs the x mapping) */
	double rest = y + h - top;
	int resid = d->fit != NULL;
	double band_guess = th->font * 0.8 * 1.25 * 3 + th->pad;
	const char *xl = d->x_label ? d->x_label : "Energy (keV)";
	rp_panel main = {.x = {lo, hi, 0, xl}};
	rp_panel res = {.x = {lo, hi, 0, xl}};
	double ymax = 1, ymin_pos = INFINITY;
	for (size_t i = 0; i < d->n; i++) {
		double e = d->energy_kev[i];
		if (e < lo || e > hi)
			continue;
		ymax = dmax(ymax, d->counts[i]);
		if (d->fit)
			ymax = dmax(ymax, d->fit[i]);
		if (d->counts[i] > 0)
			ymin_pos = dmin(ymin_pos, d->counts[i]);
	}
	if (log_y) {
		double ymin = isfinite(ymin_pos) ? dmax(0.5, ymin_pos * 0.7) : 0.5;
		if (ymin > ymax / 100)
			ymin = ymax / 100;
		main.y = (rp_axis){ymin, ymax * 2.5, 1, "Counts per channel"};
	} else {
		main.y = (rp_axis){0, ymax * 1.06, 0, "Counts per channel"};
	}
	double rmax = 4;
	if (resid) {
		for (size_t i = 0; i < d->n; i++) {
			double e = d->energy_kev[i];
			if (e < lo || e > hi || !(d->fit[i] > 0))
				continue;
			double r = (d->counts[i] - d->fit[i]) / sqrt(dmax(d->fit[i], 1));
			if (fabs(r) > rmax)
				rmax = fabs(r);
		}
		rmax = dmin(ceil(rmax * 1.1), 12);
		res.y = (rp_axis){-rmax, rmax, 0, "Residual (\xCF\x83)"};
	}
	double mh = resid ? (rest - band_guess) * 0.7 : rest - band_guess;
	double rh = resid ? rest - band_guess - mh : 0;
	/* aligned left edges */
	main.h = mh;
	res.h = rh;
	double left = rp_panel_left_margin(cr, th, &main);
	if (resid)
		left = dmax(left, rp_panel_left_margin(cr, th, &res));
	rp_panel_layout_left(cr, th, &main, left, x, top + band_guess, w, mh, !resid);

	/* markers: rows above the plot area */
	mk *m = d->nmarkers ? calloc(d->nmarkers, sizeof(*m)) : NULL;
	size_t nm = 0;
	for (size_t i = 0; m && i < d->nmarkers; i++) {
		double e = d->markers[i].x;
		if (!(e >= lo && e <= hi) || !d->markers[i].label)
			continue;
		m[nm].e = e;
		m[nm].x = rp_px(&main, e);
		m[nm].label = d->markers[i].label;
		m[nm].c = rp_okabe_ito[RP_BLACK];
		/* the family's colour when the marker names one */
		for (size_t f = 0; f < d->nfamilies; f++) {
			const char *fl = d->families[f].label;
			size_t el = strcspn(fl ? fl : "", " ");
			if (fl && el > 0 && strncmp(fl, m[nm].label, el) == 0 && m[nm].label[el] == ' ') {
				m[nm].c = rp_series_colour(f);
				break;
			}
		}
		nm++;
	}
	int rows = mk_layout(cr, th, m, nm, 3, main.x0, main.x0 + main.w);
	double band = rows ? rows * th->font * 0.8 * 1.25 + th->pad * 0.8 : th->pad * 0.3;
	/* re-layout with the band actually needed */
	mh += band_guess - band;
	rp_panel_layout_left(cr, th, &main, left, x, top + band, w, mh, !resid);
	if (resid)
		rp_panel_layout_left(cr, th, &res, left, x, top + band + mh, w, rh, 1);
	for (size_t i = 0; i < nm; i++)
		m[i].x = rp_px(&main, m[i].e);

	rp_panel_axes(cr, th, &main, !resid);
	if (resid)
		rp_panel_axes(cr, th, &res, 1);

	/* marker labels and guides */
	rp_font(cr, th->font * 0.8, 0);
	for (size_t i = 0; i < nm; i++) {
		double ytop = main.y0;
		if (m[i].row >= 0) {
			double ly = main.y0 - th->pad * 0.4 - (rows - 1 - m[i].row) * th->font * 0.8 * 1.25;
			/* light colours (yellow) as text on white: black instead */
			double lum = 0.299 * m[i].c.r + 0.587 * m[i].c.g + 0.114 * m[i].c.b;
			rp_set(cr, lum > 0.7 ? rp_okabe_ito[RP_BLACK] : m[i].c);
			rp_text(cr, (m[i].l + m[i].r) / 2, ly, m[i].label, 0.5, 1);
		}
		/* a short tick into the plot and a dotted guide down to the peak */
		double peak = 0;
		for (size_t k = 0; k < d->n; k++)
			if (fabs(d->energy_kev[k] - m[i].e) < 0.06)
				peak = dmax(peak, d->fit ? d->fit[k] : d->counts[k]);
		double yp = peak > 0 ? rp_py(&main, peak) - th->pad : main.y0 + main.h;
		if (yp < ytop + th->pad)
			yp = ytop + th->pad;
		cairo_move_to(cr, m[i].x, ytop);
		cairo_line_to(cr, m[i].x, yp);
		rp_set(cr, m[i].row >= 0 ? m[i].c : rp_grey);
		cairo_set_line_width(cr, th->line * 0.6);
		rp_set_dash(cr, 2, th->line * 0.6);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
	free(m);

	/* data, background, families, fit (clipped to the panel) */
	cairo_save(cr);
	rp_panel_clip(cr, &main);
	double floor = log_y ? main.y.min * 0.5 : 0;
	if (d->fit) {
		rp_set(cr, rp_grey);
		double r = th->line * 0.9;
		for (size_t i = 0; i < d->n; i++) {
			double e = d->energy_kev[i];
			if (e < lo || e > hi || (log_y && !(d->counts[i] > 0)))
				continue;
			cairo_new_sub_path(cr);
			cairo_arc(cr, rp_px(&main, e), rp_py(&main, d->counts[i]), r, 0, 2 * M_PI);
		}
		cairo_fill(cr);
	} else {
		rp_polyline(cr, &main, d->energy_kev, d->counts, d->n, rp_okabe_ito[RP_BLACK], th->line * 0.7, 0, floor);
	}
	if (d->background)
		rp_polyline(cr, &main, d->energy_kev, d->background, d->n, rp_okabe_ito[RP_BLUE], th->line, 1, floor);
	double *tmp = d->nfamilies ? malloc(d->n * sizeof(double)) : NULL;
	for (size_t f = 0; tmp && f < d->nfamilies; f++) {
		const double *fy = d->families[f].y;
		if (!fy)
			continue;
		double fmax = 0;
		for (size_t i = 0; i < d->n; i++)
			fmax = dmax(fmax, fy[i]);
		for (size_t i = 0; i < d->n; i++) {
			double b = d->background ? d->background[i] : 0;
			/* only where the family shows: above 0.3 % of its peak and visible over the background */
			tmp[i] = fy[i] > 0.003 * fmax && fy[i] > 0.05 * sqrt(b + 1) ? fy[i] + b : NAN;
		}
		rp_polyline(cr, &main, d->energy_kev, tmp, d->n, rp_series_colour(f), th->line, rp_series_dash(f), 0);
	}
	free(tmp);
	if (d->fit)
		rp_polyline(cr, &main, d->energy_kev, d->fit, d->n, rp_okabe_ito[RP_VERMILLION], th->line * 1.3, 0, floor);
	cairo_restore(cr);

	if (resid) {
		cairo_save(cr);
		rp_panel_clip(cr, &res);
		rp_hline(cr, &res, 0, rp_okabe_ito[RP_BLACK], th->line * 0.6, 0);
		rp_hline(cr, &res, 2, rp_grey, th->line * 0.6, 1);
		rp_hline(cr, &res, -2, rp_grey, th->line * 0.6, 1);
		double *rr = malloc(d->n * sizeof(double));
		if (rr) {
			for (size_t i = 0; i < d->n; i++)
				rr[i] = d->fit[i] > 0 && d->energy_kev[i] >= lo && d->energy_kev[i] <= hi
				                ? (d->counts[i] - d->fit[i]) / sqrt(dmax(d->fit[i], 1))
				                : NAN;
			rp_polyline(cr, &res, d->energy_kev, rr, d->n, rp_okabe_ito[RP_BLACK], th->line * 0.6, 0, 0);
			free(rr);
		}
		cairo_restore(cr);
	}
	return MG_OK;
}

/* ---- a grid of cells ---------------------------------------------------------------------- */

static void grid_shape(size_t n, double w, double h, size_t *cols, size_t *rows)
{
	size_t c = n <= 1 ? 1 : n == 3 && w > 1.3 * h ? 3 : n <= 4 ? 2 : 3;
	if (w < h && c > 2)
		c = 2;
	*cols = c;
	*rows = (n + c - 1) / c;
}

/* ---- ICP-OES windows ------------------------------------------------------------------------ */

int rp_draw_icp(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                const mg_plot_icp_window *win, size_t nwin, const mg_plot_meta *meta)
{
	if (!win || nwin == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "ICP plot: no line windows");
	double top = y + rp_title(cr, th, x, y, w, meta ? meta->title : NULL, meta ? meta->subtitle : NULL);
	rp_legend_item it[] = {
		{"Measured", rp_okabe_ito[RP_BLACK], -1, RP_CIRCLE, th->line},
		{"Fit of the line", rp_okabe_ito[RP_VERMILLION], 0, -1, th->line * 1.3},
		{"Background", rp_okabe_ito[RP_BLUE], 1, -1, th->line},
		{"Line position", rp_grey, 2, -1, th->line},
	};
	top += th->pad * 0.3;
	top += rp_legend(cr, th, x + th->pad, top, w - 2 * th->pad, it, MG_ARRAY_SIZE(it), 1) + th->pad * 0.3;
	size_t cols, rows;
	grid_shape(nwin, w, y + h - top, &cols, &rows);
	double cw = w / cols, ch = (y + h - top) / rows;
	for (size_t k = 0; k < nwin; k++) {
		const mg_plot_icp_window *v = &win[k];
		double cx = x + (k % cols) * cw, cy = top + (k / cols) * ch;
		rp_font(cr, th->font * 0.95, 1);
		rp_set(cr, rp_okabe_ito[RP_BLACK]);
		rp_text_fit(cr, cx + th->pad, cy + th->pad * 0.3, v->label ? v->label : "", cw - 2 * th->pad, 0, 0);
		double lh = th->font * 1.3 + th->pad * 0.3;
		if (v->n < 2 || !v->wavelength_nm || !v->intensity) {
			rp_font(cr, th->font * 0.9, 0);
			rp_text(cr, cx + cw / 2, cy + ch / 2, "no data", 0.5, 0.5);
			continue;
		}
		double xl = v->wavelength_nm[0], xh = v->wavelength_nm[v->n - 1], ymx = -INFINITY, ymn = INFINITY;
		for (size_t i = 0; i < v->n; i++) {
			ymx = dmax(ymx, v->intensity[i]);
			ymn = dmin(ymn, v->intensity[i]);
			if (v->fit)
				ymx = dmax(ymx, v->fit[i]);
			if (v->background)
				ymn = dmin(ymn, v->background[i]);
		}
		if (!(ymx > ymn))
			ymx = ymn + 1;
		double y0 = ymn > 0.3 * ymx ? ymn - 0.05 * (ymx - ymn) : dmin(0, ymn);
		double xpad = (xh - xl) * 0.02;
		rp_panel p = {.x = {xl - xpad, xh + xpad, 0, k / cols == rows - 1 ? "Wavelength (nm)" : NULL},
		              .y = {y0, ymx + 0.08 * (ymx - y0), 0, k % cols == 0 ? "Intensity (counts)" : NULL}};
		rp_panel_layout(cr, th, &p, cx, cy + lh, cw - th->pad, ch - lh, 1);
		rp_panel_axes(cr, th, &p, 1);
		cairo_save(cr);
		rp_panel_clip(cr, &p);
		if (isfinite(v->line_nm)) {
			double lx = rp_px(&p, v->line_nm);
			cairo_move_to(cr, lx, p.y0);
			cairo_line_to(cr, lx, p.y0 + p.h);
			rp_set(cr, rp_grey);
			cairo_set_line_width(cr, th->line * 0.8);
			rp_set_dash(cr, 2, th->line * 0.8);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
		}
		if (v->background)
			rp_polyline(cr, &p, v->wavelength_nm, v->background, v->n, rp_okabe_ito[RP_BLUE], th->line, 1, 0);
		if (v->fit)
			rp_polyline(cr, &p, v->wavelength_nm, v->fit, v->n, rp_okabe_ito[RP_VERMILLION], th->line * 1.3, 0, 0);
		for (size_t i = 0; i < v->n; i++)
			rp_marker(cr, rp_px(&p, v->wavelength_nm[i]), rp_py(&p, v->intensity[i]), th->font * 0.17,
			          RP_CIRCLE, rp_okabe_ito[RP_BLACK], 1);
		cairo_restore(cr);
	}
	return MG_OK;
}

/* ---- calibration curves ---------------------------------------------------------------------- */

static double poly(const mg_plot_calcurve *c, double x)
{
	double v = 0;
	for (size_t i = c->ncoef; i-- > 0;)
		v = v * x + c->coef[i];
	return v;
}

static double pearson(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

int rp_draw_calibration(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                        const mg_plot_calcurve *cv, size_t n, const mg_plot_meta *meta)
{
	if (!cv || n == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "calibration plot: no curve");
	double top = y + rp_title(cr, th, x, y, w, meta ? meta->title : NULL, meta ? meta->subtitle : NULL);
	rp_legend_item it[] = {
		{"Standards", rp_okabe_ito[RP_BLACK], -1, RP_CIRCLE, th->line},
		{"Calibration curve", rp_okabe_ito[RP_VERMILLION], 0, -1, th->line * 1.3},
		{"Residual: standard \xE2\x88\x92 curve", rp_okabe_ito[RP_BLUE], -1, RP_SQUARE, th->line},
	};
	top += th->pad * 0.3;
	top += rp_legend(cr, th, x + th->pad, top, w - 2 * th->pad, it, MG_ARRAY_SIZE(it), 1) + th->pad * 0.3;
	size_t cols, rows;
	grid_shape(n, w, y + h - top, &cols, &rows);
	double cw = w / cols, ch = (y + h - top) / rows;
	for (size_t k = 0; k < n; k++) {
		const mg_plot_calcurve *c = &cv[k];
		double cx = x + (k % cols) * cw, cy = top + (k / cols) * ch;
		char head[200];
		double r = isfinite(c->r) ? c->r : (c->n >= 2 ? pearson(c->x, c->y, c->n) : NAN);
		char eq[96] = "";
		size_t nc = c->ncoef == 3 && c->coef[2] == 0 ? 2 : c->ncoef;
		if (nc >= 2) {
			int el = snprintf(eq, sizeof(eq), "   y = %.4g %s %.4g x", c->coef[0], c->coef[1] < 0 ? "\xE2\x88\x92" : "+",
			                  fabs(c->coef[1]));
			if (nc == 3 && el > 0 && (size_t)el < sizeof(eq))
				snprintf(eq + el, sizeof(eq) - (size_t)el, " %s %.3g x\xC2\xB2", c->coef[2] < 0 ? "\xE2\x88\x92" : "+",
				         fabs(c->coef[2]));
		}
		if (isfinite(r))
			snprintf(head, sizeof(head), "%s   r = %.5f", c->label ? c->label : "", r);
		else
			snprintf(head, sizeof(head), "%s", c->label ? c->label : "");
		rp_font(cr, th->font * 0.95, 1);
		rp_set(cr, rp_okabe_ito[RP_BLACK]);
		rp_text_fit(cr, cx + th->pad, cy + th->pad * 0.3, head, cw - 2 * th->pad, 0, 0);
		double lh = th->font * 1.3 + th->pad * 0.3;
		if (eq[0]) { /* the equation on its own line */
			rp_font(cr, th->font * 0.85, 0);
			rp_set(cr, rp_grey);
			rp_text_fit(cr, cx + th->pad, cy + lh + th->pad * 0.1, eq + 3, cw - 2 * th->pad, 0, 0);
			rp_set(cr, rp_okabe_ito[RP_BLACK]);
			lh += th->font * 0.85 * 1.3;
		}
		if (c->n < 1 || !c->x || !c->y)
			continue;
		double xmx = 0, ymx = 0, ymn = 0, rmx = 0;
		for (size_t i = 0; i < c->n; i++) {
			xmx = dmax(xmx, c->x[i]);
			ymx = dmax(ymx, c->y[i]);
			ymn = dmin(ymn, c->y[i]);
			if (c->ncoef)
				rmx = dmax(rmx, fabs(c->y[i] - poly(c, c->x[i])));
		}
		if (!(xmx > 0))
			xmx = 1;
		if (!(ymx > ymn))
			ymx = ymn + 1;
		if (!(rmx > 0))
			rmx = 0.01 * (ymx - ymn);
		int bottom_row = k / cols == rows - 1;
		rp_panel p = {.x = {0, xmx * 1.05, 0, c->x_label}, .y = {ymn, ymx * 1.08, 0, c->y_label}};
		rp_panel q = {.x = p.x, .y = {-rmx * 1.3, rmx * 1.3, 0, "Resid."}};
		(void)bottom_row;
		double avail = ch - lh, ph = avail * 0.62, qh = avail - ph;
		p.h = ph;
		q.h = qh;
		double left = dmax(rp_panel_left_margin(cr, th, &p), rp_panel_left_margin(cr, th, &q));
		rp_panel_layout_left(cr, th, &p, left, cx, cy + lh, cw - th->pad, ph, 0);
		rp_panel_layout_left(cr, th, &q, left, cx, cy + lh + ph, cw - th->pad, qh, 1);
		rp_panel_axes(cr, th, &p, 0);
		rp_panel_axes(cr, th, &q, 1);
		cairo_save(cr);
		rp_panel_clip(cr, &p);
		if (c->ncoef) {
			double xs[101], ys[101];
			for (int i = 0; i <= 100; i++) {
				xs[i] = p.x.max * i / 100.0;
				ys[i] = poly(c, xs[i]);
			}
			rp_polyline(cr, &p, xs, ys, 101, rp_okabe_ito[RP_VERMILLION], th->line * 1.3, 0, 0);
		}
		for (size_t i = 0; i < c->n; i++)
			rp_marker(cr, rp_px(&p, c->x[i]), rp_py(&p, c->y[i]), th->font * 0.3, RP_CIRCLE,
			          rp_okabe_ito[RP_BLACK], 1);
		cairo_restore(cr);
		cairo_save(cr);
		rp_panel_clip(cr, &q);
		rp_hline(cr, &q, 0, rp_okabe_ito[RP_BLACK], th->line * 0.6, 0);
		if (c->ncoef)
			for (size_t i = 0; i < c->n; i++)
				rp_marker(cr, rp_px(&q, c->x[i]), rp_py(&q, c->y[i] - poly(c, c->x[i])), th->font * 0.28,
				          RP_SQUARE, rp_okabe_ito[RP_BLUE], 1);
		cairo_restore(cr);
	}
	return MG_OK;
}

/* ---- control charts --------------------------------------------------------------------------- */

static void rules_summary(const mg_plot_control *c, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	unsigned seen = 0;
	for (size_t i = 0; c->flags && i < c->n; i++)
		seen |= c->flags[i] & MG_WG_REJECT;
	if (!seen) {
		snprintf(buf, cap, "%s", !isfinite(c->sd) ? "No control limits yet (too little history)"
		                                           : "No rejection rule fired");
		return;
	}
	for (unsigned bit = 1; bit <= MG_WG_10_X; bit <<= 1) {
		if (!(seen & bit) || !(bit & MG_WG_REJECT))
			continue;
		int k = snprintf(buf + len, cap - len, "%s%s at point", len ? "; " : "", mg_wg_rule_name(bit));
		if (k < 0 || (size_t)k >= cap - len)
			return;
		len += (size_t)k;
		int count = 0;
		for (size_t i = 0; i < c->n; i++) {
			if (!(c->flags[i] & bit))
				continue;
			/* runs of consecutive points as "a–b" */
			size_t j = i;
			while (j + 1 < c->n && (c->flags[j + 1] & bit))
				j++;
			if (j > i)
				k = snprintf(buf + len, cap - len, "%s %zu\xE2\x80\x93%zu", count ? "," : (j > i ? "s" : ""),
				             i + 1, j + 1);
			else
				k = snprintf(buf + len, cap - len, "%s %zu", count ? "," : "", i + 1);
			if (k < 0 || (size_t)k >= cap - len)
				return;
			len += (size_t)k;
			count++;
			i = j;
		}
	}
	if (len + 1 < cap)
		snprintf(buf + len, cap - len, " (rejection)");
}

static void draw_one_control(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                             const mg_plot_control *c)
{
	double top = y;
	char head[256], sum[512];
	if (isfinite(c->mean) && isfinite(c->sd) && c->sd > 0) {
		/* the mean to the decimal of s's second significant digit, plus one */
		int dec = 2 - (int)floor(log10(c->sd));
		dec = dec < 0 ? 0 : dec > 8 ? 8 : dec;
		snprintf(head, sizeof(head), "%s (%s): mean %.*f, s %.2g", c->label ? c->label : "", c->unit ? c->unit : "",
		         dec, c->mean, c->sd);
	} else {
		snprintf(head, sizeof(head), "%s (%s)", c->label ? c->label : "", c->unit ? c->unit : "");
	}
	rp_font(cr, th->font, 1);
	rp_set(cr, rp_okabe_ito[RP_BLACK]);
	rp_text_fit(cr, x + th->pad, top + th->pad * 0.3, head, w - 2 * th->pad, 0, 0);
	top += th->font * 1.3 + th->pad * 0.3;
	rules_summary(c, sum, sizeof(sum));
	rp_font(cr, th->font * 0.85, 0);
	unsigned seen = 0;
	for (size_t i = 0; c->flags && i < c->n; i++)
		seen |= c->flags[i] & MG_WG_REJECT;
	int bad = seen != 0;
	rp_set(cr, bad ? rp_okabe_ito[RP_VERMILLION] : rp_grey);
	rp_text_fit(cr, x + th->pad, top + th->pad * 0.2, sum, w - 2 * th->pad, 0, 0);
	top += th->font * 0.85 * 1.3 + th->pad * 0.4;

	int lim = isfinite(c->mean) && isfinite(c->sd) && c->sd > 0;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < c->n; i++)
		if (isfinite(c->value[i])) {
			lo = dmin(lo, c->value[i]);
			hi = dmax(hi, c->value[i]);
		}
	if (lim) {
		lo = dmin(lo, c->mean - 3.6 * c->sd);
		hi = dmax(hi, c->mean + 3.6 * c->sd);
	}
	if (!isfinite(lo)) {
		lo = 0;
		hi = 1;
	}
	if (!(hi > lo)) {
		lo -= 1;
		hi += 1;
	}
	double padv = (hi - lo) * 0.04;
	char ylab[96];
	snprintf(ylab, sizeof(ylab), "%s", c->unit ? c->unit : "");
	rp_panel p = {.x = {0.5, dmax((double)c->n, 1) + 0.5, 0,
	                    c->x_label ? c->x_label : "QC measurement (oldest \xE2\x86\x92 newest)"},
	              .y = {lo - padv, hi + padv, 0, ylab}};
	rp_panel_layout(cr, th, &p, x, top, w, y + h - top, 1);
	/* room on the right for the limit labels */
	rp_font(cr, th->font * 0.8, 0);
	double lw = rp_text_width(cr, "mean") + th->pad;
	p.w -= lw;

	/* the batch's span */
	if (c->in_batch) {
		size_t a = c->n, b = 0;
		for (size_t i = 0; i < c->n; i++)
			if (c->in_batch[i]) {
				if (i < a)
					a = i;
				b = i;
			}
		if (a < c->n) {
			double xa = rp_px(&p, a + 0.5), xb = rp_px(&p, b + 1.5);
			cairo_rectangle(cr, xa, p.y0, xb - xa, p.h);
			cairo_set_source_rgb(cr, 0.90, 0.95, 0.99);
			cairo_fill(cr);
		}
	}
	rp_panel_axes(cr, th, &p, 1);
	if (lim) {
		struct {
			double k;
			const char *name;
			rp_rgb c;
			int dash;
		} L[] = {
			{3, "+3s", rp_okabe_ito[RP_VERMILLION], 0}, {2, "+2s", rp_okabe_ito[RP_ORANGE], 1},
			{0, "mean", rp_okabe_ito[RP_BLACK], 0},     {-2, "\xE2\x88\x92" "2s", rp_okabe_ito[RP_ORANGE], 1},
			{-3, "\xE2\x88\x92" "3s", rp_okabe_ito[RP_VERMILLION], 0},
		};
		rp_font(cr, th->font * 0.8, 0);
		for (size_t i = 0; i < MG_ARRAY_SIZE(L); i++) {
			double v = c->mean + L[i].k * c->sd;
			rp_hline(cr, &p, v, L[i].c, th->line * (L[i].k == 0 ? 0.8 : 1.0), L[i].dash);
			rp_set(cr, L[i].c);
			rp_text(cr, p.x0 + p.w + th->pad * 0.4, rp_py(&p, v), L[i].name, 0, 0.5);
		}
	}
	cairo_save(cr);
	rp_panel_clip(cr, &p);
	double *xs = malloc(c->n * sizeof(double));
	if (xs) {
		for (size_t i = 0; i < c->n; i++)
			xs[i] = (double)(i + 1);
		rp_polyline(cr, &p, xs, c->value, c->n, rp_grey, th->line * 0.7, 0, 0);
		free(xs);
	}
	double r = th->font * 0.27;
	for (size_t i = 0; i < c->n; i++) {
		if (!isfinite(c->value[i]))
			continue;
		unsigned f = c->flags ? c->flags[i] : 0;
		double px = rp_px(&p, i + 1.0), py = rp_py(&p, c->value[i]);
		if (f & MG_WG_REJECT)
			rp_marker(cr, px, py, r * 1.45, RP_DIAMOND, rp_okabe_ito[RP_VERMILLION], 1);
		else if (f & MG_WG_1_2S)
			rp_marker(cr, px, py, r * 1.3, RP_TRIANGLE, rp_okabe_ito[RP_ORANGE], 1);
		else if (c->in_batch && c->in_batch[i])
			rp_marker(cr, px, py, r, RP_CIRCLE, rp_okabe_ito[RP_BLUE], 1);
		else
			rp_marker(cr, px, py, r * 0.85, RP_CIRCLE, rp_grey, 1);
	}
	cairo_restore(cr);
	/* rule labels at the first point of each run of the same rules, never overlapping */
	rp_font(cr, th->font * 0.75, 1);
	double last_r = -1e300;
	for (size_t i = 0; c->flags && i < c->n; i++) {
		unsigned f = c->flags[i] & MG_WG_REJECT;
		if (!f || (i > 0 && (c->flags[i - 1] & MG_WG_REJECT) == f))
			continue;
		char lab[64];
		mg_wg_rules_format(f, lab, sizeof(lab));
		double tw = rp_text_width(cr, lab), px = rp_px(&p, i + 1.0), py = rp_py(&p, c->value[i]);
		double lx = dmin(dmax(px - tw / 2, p.x0 + 1), p.x0 + p.w - tw - 1);
		if (lx < last_r + th->pad * 0.5)
			continue;
		int above = !(isfinite(c->mean) && c->value[i] < c->mean);
		double ly = above ? py - r * 2.2 : py + r * 2.2 + th->font * 0.75 * 0.76;
		if (ly - th->font < p.y0)
			ly = py + r * 2.2 + th->font * 0.75 * 0.76;
		if (ly > p.y0 + p.h - 1)
			ly = py - r * 2.2;
		/* a white halo keeps the label readable over the lines */
		cairo_rectangle(cr, lx - 1, ly - th->font * 0.75 * 0.8, tw + 2, th->font * 0.75 * 0.95);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
		cairo_fill(cr);
		rp_set(cr, rp_okabe_ito[RP_VERMILLION]);
		rp_text(cr, lx, ly, lab, 0, 1);
		last_r = lx + tw;
	}
}

int rp_draw_control(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                    const mg_plot_control *c, const mg_plot_meta *meta)
{
	if (!c || !c->value)
		return mg_fail(MG_ERR_ARG, RP_DOM, "control chart: no values");
	double top = y;
	if (meta)
		top += rp_title(cr, th, x, y, w, meta->title, meta->subtitle);
	rp_legend_item it[] = {
		{"History", rp_grey, -1, RP_CIRCLE, th->line},
		{"This batch", rp_okabe_ito[RP_BLUE], -1, RP_CIRCLE, th->line},
		{"Warning (1-2s)", rp_okabe_ito[RP_ORANGE], -1, RP_TRIANGLE, th->line},
		{"Rule violated", rp_okabe_ito[RP_VERMILLION], -1, RP_DIAMOND, th->line},
		{"Mean", rp_okabe_ito[RP_BLACK], 0, -1, th->line * 0.8},
		{"\xC2\xB1" "2s", rp_okabe_ito[RP_ORANGE], 1, -1, th->line},
		{"\xC2\xB1" "3s", rp_okabe_ito[RP_VERMILLION], 0, -1, th->line},
	};
	if (meta) {
		top += th->pad * 0.3;
		top += rp_legend(cr, th, x + th->pad, top, w - 2 * th->pad, it, MG_ARRAY_SIZE(it), 1) + th->pad * 0.3;
	}
	draw_one_control(cr, th, x, top, w, y + h - top, c);
	return MG_OK;
}

/* ---- the batch chart ---------------------------------------------------------------------------- */

static const char *const element_order[] = {"Nd", "Pr", "Dy", "Tb", "Fe", "Co", "B", "Cu", "Ni", "Al", "Ga"};

static int element_rank(const char *e)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(element_order); i++)
		if (strcmp(e, element_order[i]) == 0)
			return (int)i;
	return 100;
}

int rp_draw_batch(cairo_t *cr, const rp_theme *th, double x, double y, double w, double h,
                  const rp_batch_point *pts, size_t n, const mg_plot_meta *meta)
{
	double top = y + rp_title(cr, th, x, y, w, meta ? meta->title : NULL, meta ? meta->subtitle : NULL);
	if (n == 0) {
		rp_font(cr, th->font, 0);
		rp_set(cr, rp_grey);
		rp_text(cr, x + w / 2, top + (y + h - top) / 2, "No composition results in this batch yet", 0.5, 0.5);
		return MG_OK;
	}
	/* elements (in the usual order) and samples (in order of appearance) */
	const char *els[12];
	size_t nel = 0;
	const char **smp = malloc(n * sizeof(*smp));
	size_t ns = 0;
	if (!smp)
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < nel && strcmp(els[k], pts[i].element) != 0; k++)
			;
		if (k == nel && nel < MG_ARRAY_SIZE(els))
			els[nel++] = pts[i].element;
		for (k = 0; k < ns && strcmp(smp[k], pts[i].sample) != 0; k++)
			;
		if (k == ns)
			smp[ns++] = pts[i].sample;
	}
	for (size_t i = 1; i < nel; i++)
		for (size_t j = i; j > 0 && (element_rank(els[j]) < element_rank(els[j - 1]) ||
		                             (element_rank(els[j]) == element_rank(els[j - 1]) &&
		                              strcmp(els[j], els[j - 1]) < 0));
		     j--) {
			const char *t = els[j];
			els[j] = els[j - 1];
			els[j - 1] = t;
		}
	if (nel > 6)
		nel = 6;
	rp_legend_item it[] = {
		{"XRF", rp_okabe_ito[RP_BLUE], -1, RP_CIRCLE, th->line},
		{"ICP-OES", rp_okabe_ito[RP_ORANGE], -1, RP_DIAMOND, th->line},
		{"bars: \xC2\xB1" "2u (k = 2)", rp_grey, 0, -1, th->line},
	};
	top += th->pad * 0.3;
	top += rp_legend(cr, th, x + th->pad, top, w - 2 * th->pad, it, MG_ARRAY_SIZE(it), 1) + th->pad * 0.3;
	size_t cols, rows;
	grid_shape(nel, w, y + h - top, &cols, &rows);
	double cw = w / cols, ch = (y + h - top) / rows;
	/* sample labels: rotated when they do not fit side by side */
	rp_font(cr, th->font * 0.8, 0);
	double maxl = 0;
	for (size_t i = 0; i < ns; i++)
		maxl = dmax(maxl, rp_text_width(cr, smp[i]));
	for (size_t k = 0; k < nel; k++) {
		double cx = x + (k % cols) * cw, cy = top + (k / cols) * ch;
		rp_font(cr, th->font * 0.95, 1);
		rp_set(cr, rp_okabe_ito[RP_BLACK]);
		rp_text(cr, cx + th->pad, cy + th->pad * 0.3, els[k], 0, 0);
		double lh = th->font * 1.3 + th->pad * 0.3;
		double lo = INFINITY, hi = -INFINITY;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(pts[i].element, els[k]) != 0 || !isfinite(pts[i].wt))
				continue;
			double u2 = isfinite(pts[i].u) ? 2 * pts[i].u : 0;
			lo = dmin(lo, pts[i].wt - u2);
			hi = dmax(hi, pts[i].wt + u2);
		}
		if (!isfinite(lo)) {
			lo = 0;
			hi = 1;
		}
		double span = hi - lo;
		if (!(span > 0))
			span = fabs(hi) * 0.1 + 0.1;
		rp_panel p = {.x = {-0.5, ns - 0.5, 0, NULL}, .y = {lo - span * 0.12, hi + span * 0.12, 0, "wt %"}};
		double slot = 0;
		rp_panel_layout(cr, th, &p, cx, cy + lh, cw - th->pad, ch - lh, 0);
		slot = p.w / ns;
		int rotate = maxl + th->pad * 0.5 > slot;
		double lab_h = rotate ? maxl * 0.71 + th->font * 0.8 : th->font * 0.9;
		lab_h = dmin(lab_h, (ch - lh) * 0.45);
		rp_panel_layout(cr, th, &p, cx, cy + lh, cw - th->pad, ch - lh - lab_h - th->pad * 0.5, 0);
		rp_panel_axes(cr, th, &p, 0);
		rp_font(cr, th->font * 0.8, 0);
		rp_set(cr, rp_okabe_ito[RP_BLACK]);
		for (size_t i = 0; i < ns; i++) {
			double px = rp_px(&p, (double)i), py = p.y0 + p.h + th->pad * 0.6;
			if (rotate) {
				cairo_save(cr);
				cairo_translate(cr, px, py);
				cairo_rotate(cr, -M_PI / 4);
				rp_text_fit(cr, 0, 0, smp[i], lab_h / 0.71, 1, 0.5);
				cairo_restore(cr);
			} else {
				rp_text_fit(cr, px, py, smp[i], slot, 0.5, 0);
			}
		}
		cairo_save(cr);
		rp_panel_clip(cr, &p);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(pts[i].element, els[k]) != 0 || !isfinite(pts[i].wt))
				continue;
			size_t si;
			for (si = 0; si < ns && strcmp(smp[si], pts[i].sample) != 0; si++)
				;
			double off = ns > 1 ? 0.14 : 0.08;
			double px = rp_px(&p, si + (pts[i].icp ? off : -off)), py = rp_py(&p, pts[i].wt);
			rp_rgb c = rp_okabe_ito[pts[i].icp ? RP_ORANGE : RP_BLUE];
			if (isfinite(pts[i].u) && pts[i].u > 0) {
				double ya = rp_py(&p, pts[i].wt - 2 * pts[i].u), yb = rp_py(&p, pts[i].wt + 2 * pts[i].u);
				double cap = th->font * 0.25;
				cairo_move_to(cr, px, ya);
				cairo_line_to(cr, px, yb);
				cairo_move_to(cr, px - cap, ya);
				cairo_line_to(cr, px + cap, ya);
				cairo_move_to(cr, px - cap, yb);
				cairo_line_to(cr, px + cap, yb);
				rp_set(cr, c);
				cairo_set_line_width(cr, th->line * 0.9);
				cairo_stroke(cr);
			}
			rp_marker(cr, px, py, th->font * 0.28, pts[i].icp ? RP_DIAMOND : RP_CIRCLE, c, 1);
		}
		cairo_restore(cr);
	}
	free(smp);
	return MG_OK;
}

/* ---- PNG wrappers ------------------------------------------------------------------------------------ */

static int finish(rp_canvas *c, int rc, const char *kind, const mg_plot_meta *meta, const char *path)
{
	if (rc != MG_OK) {
		rp_canvas_free(c);
		return rc;
	}
	return rp_canvas_finish(c, kind, meta, path);
}

int mg_plot_xrf_png(const mg_plot_xrf *d, const mg_plot_meta *meta, const mg_plot_opts *o, const char *path)
{
	rp_canvas c;
	int rc = rp_canvas_new(o, 0, &c);
	if (rc != MG_OK)
		return rc;
	rc = rp_draw_xrf(c.cr, &c.th, c.th.pad, c.th.pad * 0.5, c.w - 2 * c.th.pad, c.h - c.th.pad, d, meta,
	                 o ? o->log_y : -1);
	return finish(&c, rc, "xrf-spectrum", meta, path);
}

int mg_plot_icp_png(const mg_plot_icp_window *w, size_t nwin, const mg_plot_meta *meta, const mg_plot_opts *o,
                    const char *path)
{
	rp_canvas c;
	int rc = rp_canvas_new(o, 0, &c);
	if (rc != MG_OK)
		return rc;
	rc = rp_draw_icp(c.cr, &c.th, c.th.pad, c.th.pad * 0.5, c.w - 2 * c.th.pad, c.h - c.th.pad, w, nwin, meta);
	return finish(&c, rc, "icp-windows", meta, path);
}

int mg_plot_calibration_png(const mg_plot_calcurve *cv, size_t n, const mg_plot_meta *meta, const mg_plot_opts *o,
                            const char *path)
{
	rp_canvas c;
	int rc = rp_canvas_new(o, 0, &c);
	if (rc != MG_OK)
		return rc;
	rc = rp_draw_calibration(c.cr, &c.th, c.th.pad, c.th.pad * 0.5, c.w - 2 * c.th.pad, c.h - c.th.pad, cv, n,
	                         meta);
	return finish(&c, rc, "calibration", meta, path);
}

int mg_plot_control_png(const mg_plot_control *cc, size_t n, const mg_plot_meta *meta, const mg_plot_opts *o,
                        const char *path)
{
	if (!cc || n == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "control chart: nothing to draw");
	mg_plot_opts def;
	if (!o) {
		mg_plot_opts_default(&def);
		o = &def;
	}
	rp_theme th;
	rp_theme_for(o->size, &th);
	/* Stacked charts: the canvas grows with their number. */
	double base = o->size == MG_PLOT_PAGE ? 300 : 750;
	double per = o->size == MG_PLOT_PAGE ? 190 : 430;
	double head = th.font * 4.5 + th.pad * 2;
	double hh = n == 1 ? base : head + per * (double)n;
	rp_canvas c;
	int rc = rp_canvas_new(o, hh, &c);
	if (rc != MG_OK)
		return rc;
	double top = c.th.pad * 0.5, x = c.th.pad, w = c.w - 2 * c.th.pad;
	top += rp_title(c.cr, &c.th, x, top, w, meta ? meta->title : NULL, meta ? meta->subtitle : NULL);
	rp_legend_item it[] = {
		{"History", rp_grey, -1, RP_CIRCLE, c.th.line},
		{"This batch", rp_okabe_ito[RP_BLUE], -1, RP_CIRCLE, c.th.line},
		{"Warning (1-2s)", rp_okabe_ito[RP_ORANGE], -1, RP_TRIANGLE, c.th.line},
		{"Rule violated", rp_okabe_ito[RP_VERMILLION], -1, RP_DIAMOND, c.th.line},
		{"Mean", rp_okabe_ito[RP_BLACK], 0, -1, c.th.line * 0.8},
		{"\xC2\xB1" "2s", rp_okabe_ito[RP_ORANGE], 1, -1, c.th.line},
		{"\xC2\xB1" "3s", rp_okabe_ito[RP_VERMILLION], 0, -1, c.th.line},
	};
	top += c.th.pad * 0.3;
	top += rp_legend(c.cr, &c.th, x + c.th.pad, top, w - 2 * c.th.pad, it, MG_ARRAY_SIZE(it), 1) + c.th.pad * 0.5;
	double each = (c.h - top - c.th.pad * 0.5) / (double)n;
	for (size_t i = 0; i < n; i++)
		draw_one_control(c.cr, &c.th, x, top + each * i, w, each - c.th.pad * 0.8, &cc[i]);
	return finish(&c, MG_OK, "control-chart", meta, path);
}
