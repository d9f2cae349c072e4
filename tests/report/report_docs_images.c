/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Renders the reference pictures of docs/reports.md from the test store:
 *   report_docs_images OUTDIR
 * One of each plot kind (page size, 150 dpi), the fit of `magassay analyze
 * --plot` (screen size) on a stored spectrum, and the first page of each PDF
 * report at 72 dpi (through pdftoppm when it is installed). Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/format.h"
#include "magassay/report.h"
#include "synth_plots.h"

/* What `magassay analyze FILE --elements ... --refine --plot OUT` draws, on
 * the stored spectrum of an XRF measurement. */
static int fit_png(mg_store *st, long long id, const char *out)
{
	mg_measurement m;
	char *path = NULL;
	mg_spectrum *s = NULL;
	int e = mg_store_measurement_get(st, id, &m);
	if (e != MG_OK)
		return e;
	if ((e = mg_store_abspath(st, m.file, &path)) == MG_OK)
		e = mg_spectrum_read_file(path, NULL, &s);
	mg_analysis_result *res = NULL;
	mg_analysis_plan *plan = NULL;
	if (e == MG_OK) {
		mg_analysis_config c;
		mg_analysis_config_default(&c);
		mg_analysis_config_from_spectrum(&c, s);
		snprintf(c.elements, sizeof(c.elements), "Nd,Pr,Dy,Tb,Fe,Co,Cu");
		e = mg_analysis_run(&c, s->counts, s->nchan, s->live_time_s, MG_REFINE_DEFAULT, &res, &plan);
	}
	if (e == MG_OK) {
		char title[200];
		snprintf(title, sizeof(title), "Sample %s \xE2\x80\x94 XRF spectrum and fit", m.sample_id);
		mg_plot_meta meta = {title, NULL, m.sample_id, m.batch_id, NULL, m.file};
		mg_plot_opts o;
		mg_plot_opts_default(&o);
		e = mg_report_plot_fit_png(plan, s->counts, s->nchan, res, &meta, &o, out);
	}
	mg_analysis_result_free(res);
	mg_analysis_plan_free(plan);
	mg_spectrum_free(s);
	free(path);
	mg_measurement_clear(&m);
	return e;
}

static int say(int rc, const char *what)
{
	if (rc != MG_OK)
		fprintf(stderr, "%s: %s\n", what, mg_error_detail());
	else
		printf("wrote %s\n", what);
	return rc != MG_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];
	char p[1024], sdir[700], pdf[900];
	int bad = 0;
	mg_plot_opts o;
	mg_plot_opts_default(&o);
	o.size = MG_PLOT_PAGE;

	static sp_xrf x;
	sp_xrf_make(&x);
	mg_plot_meta meta = {"Sample S1 \xE2\x80\x94 XRF spectrum of an NdFeB magnet",
	                     "log scale: measured counts, fit, background, each line family; residuals below",
	                     "S1", "L2024-07", "energy: offset 0 keV, gain 20 eV/channel",
	                     "a synthetic spectrum (tests/report/synth_plots.h)"};
	snprintf(p, sizeof(p), "%s/plot-xrf-spectrum.png", dir);
	bad += say(mg_plot_xrf_png(&x.d, &meta, &o, p), p);

	snprintf(sdir, sizeof(sdir), "%s/store", mg_test_tmpdir());
	fx f;
	if (fx_build(sdir, &f) != MG_OK)
		return 1;
	snprintf(p, sizeof(p), "%s/plot-icp-windows.png", dir);
	bad += say(mg_report_plot_measurement_png(f.st, f.icp[0], &o, p), p);
	snprintf(p, sizeof(p), "%s/plot-calibration.png", dir);
	bad += say(mg_report_plot_calibration_png(f.st, f.icp_cal, &o, p), p);
	snprintf(p, sizeof(p), "%s/plot-control-chart.png", dir);
	bad += say(mg_report_plot_qc_png(f.st, "L2024-07", "peak_position", "Cu Ka", NULL, &o, p), p);
	snprintf(p, sizeof(p), "%s/plot-batch.png", dir);
	bad += say(mg_report_plot_batch_png(f.st, "L2024-07", &o, p), p);
	snprintf(p, sizeof(p), "%s/plot-xrf-stored.png", dir);
	bad += say(mg_report_plot_measurement_png(f.st, f.xrf[0], &o, p), p);
	snprintf(p, sizeof(p), "%s/plot-fit.png", dir);
	bad += say(fit_png(f.st, f.xrf[0], p), p);

	mg_report_opts ro = {"Rare Earth Recycling Lab", "2024-07-05T10:00:00.000Z", NULL};
	snprintf(pdf, sizeof(pdf), "%s/certificate-S1.pdf", mg_test_tmpdir());
	bad += say(mg_report_sample_pdf(f.st, "S1", &ro, pdf), pdf);
	char cmd[2400];
	if (system("command -v pdftoppm >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "pdftoppm -r 72 -png -singlefile -f 1 -l 1 '%s' '%s/report-certificate'", pdf, dir);
		bad += system(cmd) != 0;
	}
	snprintf(pdf, sizeof(pdf), "%s/batch-L2024-07.pdf", mg_test_tmpdir());
	bad += say(mg_report_batch_pdf(f.st, "L2024-07", &ro, pdf), pdf);
	if (system("command -v pdftoppm >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "pdftoppm -r 72 -png -singlefile -f 1 -l 1 '%s' '%s/report-batch'", pdf, dir);
		bad += system(cmd) != 0;
	}
	printf("PDFs in %s\n", mg_test_tmpdir());
	fx_close(&f);
	return bad ? 1 : 0;
}
