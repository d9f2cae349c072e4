/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The figures from plot data as PNG files: a canvas of the size asked, the
 * header from the metadata (title, subtitle, the source in small print), the
 * figure, and the file with its text chunks. */
#include "internal.h"
#include "report_internal.h"

/* Write the figure when it was drawn, and free it. */
static int finish(pl_fig *f, int rc, const char *kind, const mg_plot_meta *meta, const char *path)
{
	if (rc == MG_OK)
		rc = pl_fig_write_png(f, kind, meta, path);
	pl_fig_end(f);
	return rc;
}

int mg_plot_xrf_png(const mg_plot_xrf *d, const mg_plot_meta *meta, const mg_plot_opts *o, const char *path)
{
	if (!d)
		return mg_fail(MG_ERR_ARG, RP_DOM, "XRF plot: no spectrum");
	pl_fig f;
	int rc = pl_fig_canvas(&f, o, 0);
	if (rc != MG_OK)
		return rc;
	pl_fig_header(&f, meta);
	return finish(&f, rp_fig_xrf(&f, d, o ? o->log_y : -1), "xrf-spectrum", meta, path);
}

int mg_plot_icp_png(const mg_plot_icp_window *w, size_t nwin, const mg_plot_meta *meta, const mg_plot_opts *o,
                    const char *path)
{
	if (!w || nwin == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "ICP plot: no line windows");
	pl_fig f;
	int rc = pl_fig_canvas(&f, o, 0);
	if (rc != MG_OK)
		return rc;
	pl_fig_header(&f, meta);
	return finish(&f, rp_fig_icp(&f, w, nwin), "icp-windows", meta, path);
}

int mg_plot_calibration_png(const mg_plot_calcurve *c, size_t n, const mg_plot_meta *meta, const mg_plot_opts *o,
                            const char *path)
{
	if (!c || n == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "calibration plot: no curve");
	pl_fig f;
	int rc = pl_fig_canvas(&f, o, 0);
	if (rc != MG_OK)
		return rc;
	pl_fig_header(&f, meta);
	return finish(&f, rp_fig_calibration(&f, c, n), "calibration", meta, path);
}

int mg_plot_control_png(const mg_plot_control *c, size_t n, const mg_plot_meta *meta, const mg_plot_opts *o,
                        const char *path)
{
	if (!c || n == 0)
		return mg_fail(MG_ERR_ARG, RP_DOM, "control chart: nothing to draw");
	/* stacked charts: the canvas grows with their number */
	mg_plot_size size = o ? o->size : MG_PLOT_SCREEN;
	pl_theme th;
	pl_theme_for(size, &th);
	double base = size == MG_PLOT_PAGE ? 300 : 750, per = size == MG_PLOT_PAGE ? 190 : 430;
	double head = th.font * 4.5 + th.pad * 2;
	pl_fig f;
	int rc = pl_fig_canvas(&f, o, n == 1 ? base : head + per * (double)n);
	if (rc != MG_OK)
		return rc;
	pl_fig_header(&f, meta);
	return finish(&f, rp_fig_control(&f, c, n, 1), "control-chart", meta, path);
}

int mg_report_plot_fit_png(const mg_analysis_plan *plan, const double *counts, size_t nchan,
                           const mg_analysis_result *res, const mg_plot_meta *meta, const mg_plot_opts *o,
                           const char *path)
{
	if (!plan || !counts || !res || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_plot_fit_png: bad arguments");
	rp_xrf x;
	int rc = rp_xrf_from_fit(plan, counts, nchan, res, &x);
	if (rc != MG_OK)
		return rc;
	mg_plot_meta m = {0};
	if (meta)
		m = *meta;
	char sub[200];
	if (!m.subtitle) {
		snprintf(sub, sizeof(sub),
		         "fit by the analysis engine: \xCF\x87\xC2\xB2/\xCE\xBD = %.2f over %zu channels, %zu parameters; "
		         "residuals below",
		         res->chi2_reduced, res->npoints, res->nparams);
		m.subtitle = sub;
	}
	if (!m.calibration)
		m.calibration = x.calib;
	rc = mg_plot_xrf_png(&x.d, &m, o, path);
	rp_xrf_clear(&x);
	return rc;
}
