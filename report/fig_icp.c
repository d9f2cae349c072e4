/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES figure: one small panel per line window, the pixels of the
 * reading, the fitted line profile and background when known, and the line's
 * wavelength; wavelengths labelled on the bottom row, intensities on the left
 * column. */
#include <math.h>

#include "internal.h"
#include "report_internal.h"

static void draw_window(pl_fig *f, const mg_plot_icp_window *v, double cx, double cy, double cw, double ch,
                        int bottom_row, int left_col)
{
	const pl_theme *th = &f->th;
	pl_font(f, 0.95, 1);
	pl_set(f->cr, pl_okabe_ito[PL_BLACK]);
	pl_text_fit(f, cx + th->pad, cy, v->label ? v->label : "", cw - 2 * th->pad, 0, PL_TOP, 0);
	double lh = pl_line_height(f) + th->pad * 0.2;
	if (v->n < 2 || !v->wavelength_nm || !v->intensity) {
		pl_font(f, 0.9, 0);
		pl_text(f, cx + cw / 2, cy + ch / 2, "no data", 0.5, 0.5);
		return;
	}
	double xl = v->wavelength_nm[0], xh = v->wavelength_nm[v->n - 1], ymx = -INFINITY, ymn = INFINITY;
	for (size_t i = 0; i < v->n; i++) {
		ymx = fmax(ymx, v->intensity[i]);
		ymn = fmin(ymn, v->intensity[i]);
		if (v->fit)
			ymx = fmax(ymx, v->fit[i]);
		if (v->background)
			ymn = fmin(ymn, v->background[i]);
	}
	if (!(ymx > ymn))
		ymx = ymn + 1;
	double y0 = ymn > 0.3 * ymx ? ymn - 0.05 * (ymx - ymn) : fmin(0, ymn);
	double xpad = (xh - xl) * 0.02;
	pl_panel p = {.x = {.min = xl - xpad, .max = xh + xpad, .label = bottom_row ? "Wavelength (nm)" : NULL},
	              .y = {.min = y0, .max = ymx + 0.08 * (ymx - y0), .label = left_col ? "Intensity (counts)" : NULL},
	              .xlabels = 1};
	pl_panel_place(f, &p, cx, cy + lh, cw - th->pad, ch - lh);
	pl_panel_axes(f, &p);
	pl_panel_clip(f, &p);
	pl_vline(f, &p, v->line_nm, pl_grey, th->line * 0.8, PL_DOTTED);
	if (v->background)
		pl_line(f, &p, v->wavelength_nm, v->background, v->n, pl_okabe_ito[PL_BLUE], th->line, PL_DASHED, 0);
	if (v->fit)
		pl_line(f, &p, v->wavelength_nm, v->fit, v->n, pl_okabe_ito[PL_VERMILLION], th->line * 1.3, PL_SOLID, 0);
	pl_points(f, &p, v->wavelength_nm, v->intensity, v->n, PL_CIRCLE, th->font * 0.17, pl_okabe_ito[PL_BLACK]);
	pl_panel_unclip(f);
}

int rp_fig_icp(pl_fig *f, const mg_plot_icp_window *win, size_t nwin)
{
	if (!win || nwin == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "ICP plot: no line windows");
	const pl_theme *th = &f->th;
	pl_legend_item it[] = {
		{"Measured", pl_okabe_ito[PL_BLACK], -1, PL_CIRCLE, th->line, 0},
		{"Fit of the line", pl_okabe_ito[PL_VERMILLION], PL_SOLID, -1, th->line * 1.3, 0},
		{"Background", pl_okabe_ito[PL_BLUE], PL_DASHED, -1, th->line, 0},
		{"Line position", pl_grey, PL_DOTTED, -1, th->line, 0},
	};
	pl_fig_legend(f, it, MG_ARRAY_SIZE(it));
	size_t cols, rows;
	double top = f->top, h = f->bottom - top;
	pl_grid(nwin, f->w, h, &cols, &rows);
	double cw = f->w / (double)cols, ch = h / (double)rows;
	for (size_t k = 0; k < nwin; k++)
		draw_window(f, &win[k], f->x + (double)(k % cols) * cw, top + (double)(k / cols) * ch, cw, ch,
		            k / cols == rows - 1 || k + cols >= nwin, k % cols == 0);
	return MG_OK;
}
