/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Renders the reference pictures of docs/reports.md from the test store:
 *   report_docs_images OUTDIR
 * One of each plot kind (page size, 150 dpi) and the first page of each PDF
 * report at 72 dpi (through pdftoppm when it is installed). Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "magassay/error.h"
#include "magassay/report.h"
#include "synth_plots.h"

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
	mg_plot_meta meta = {"XRF spectrum of an NdFeB magnet with its fit",
	                     "log scale: measured counts, fit, background, each line family; residuals below",
	                     "S1", "L2024-07", "energy: offset 0 keV, gain 20 eV/channel", "docs"};
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
