/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PDF reports read back with poppler: pdftotext finds the certificate's
 * identification, QC state and composition table (with the numbers rounded
 * as printed) and the batch summary's tables; pdftoppm renders every page to
 * a PNG that decodes and is not blank. Skips (77) where poppler-utils are not
 * installed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "magassay/error.h"
#include "magassay/report.h"
#include "png_check.h"

static int have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* pdftotext -layout path - into a malloc'ed string. */
static char *pdf_text(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "pdftotext -layout '%s' - 2>&1", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	size_t n;
	while (b && (n = fread(b + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	int st = pclose(p);
	if (b)
		b[len] = '\0';
	if (st != 0) {
		fprintf(stderr, "pdftotext failed on %s: %s\n", path, b ? b : "");
		free(b);
		return NULL;
	}
	return b;
}

static void expect(const char *text, const char *what, const char *const *needles)
{
	for (size_t i = 0; needles[i]; i++)
		CHECK_MSG(strstr(text, needles[i]) != NULL, "%s: \"%s\" not found in the text", what, needles[i]);
}

/* A table row: these cells in this order on one line. */
static void expect_row(const char *text, const char *what, const char *const *cells)
{
	const char *line = text;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *l = strndup(line, len);
		const char *p = l;
		size_t k = 0;
		for (; cells[k]; k++) {
			const char *q = strstr(p, cells[k]);
			if (!q)
				break;
			p = q + strlen(cells[k]);
		}
		int ok = cells[k] == NULL;
		free(l);
		if (ok)
			return;
		line = end ? end + 1 : NULL;
	}
	CHECK_MSG(0, "%s: no line with the cells %s, %s, ...", what, cells[0], cells[1] ? cells[1] : "");
}

/* Render every page; returns the page count. */
static int render_pages(const char *pdf, const char *prefix)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "pdftoppm -r 60 -png '%s' '%s'", pdf, prefix);
	CHECK_MSG(system(cmd) == 0, "pdftoppm failed on %s", pdf);
	int pages = 0;
	for (int i = 1; i < 50; i++) {
		char png[1400];
		/* pdftoppm numbers pages with as many digits as the count needs */
		snprintf(png, sizeof(png), "%s-%d.png", prefix, i);
		struct stat sb;
		if (stat(png, &sb) != 0) {
			snprintf(png, sizeof(png), "%s-%02d.png", prefix, i);
			if (stat(png, &sb) != 0)
				break;
		}
		pngc p;
		CHECK_MSG(pngc_read(png, &p) == 0, "%s decodes", png);
		CHECK_MSG(p.ink > 0.01, "%s is not blank (ink %.3f)", png, p.ink);
		/* A4 at 60 dpi: 496 × 702 */
		CHECK_MSG(p.width >= 490 && p.width <= 500 && p.height >= 697 && p.height <= 705, "%s: %ux%u", png,
		          p.width, p.height);
		pages++;
	}
	return pages;
}

int main(void)
{
	if (!have("pdftotext") || !have("pdftoppm"))
		mg_test_skip("poppler-utils (pdftotext, pdftoppm) are not installed");
	const char *tmp = mg_test_tmpdir();
	char sdir[700], pdf[800], prefix[800];
	snprintf(sdir, sizeof(sdir), "%s/store", tmp);
	fx f;
	if (fx_build(sdir, &f) != MG_OK)
		return 1;
	mg_report_opts ro = {"Rare Earth Recycling Lab", "2024-07-05T10:00:00.000Z", NULL};

	/* certificate of S1: ICP and XRF sections */
	snprintf(pdf, sizeof(pdf), "%s/S1.pdf", tmp);
	CHECK_RC(mg_report_sample_pdf(f.st, "S1", &ro, pdf), MG_OK);
	char *t = pdf_text(pdf);
	CHECK(t != NULL);
	if (t) {
		static const char *const id[] = {"Certificate of analysis", "sample S1", "L2024-07", "Rare Earth Recycling Lab",
		                                 "scrap motor magnets, lot A", "J. Doe", "DP5", "SN-4711", "Optima 8300",
		                                 "ED-XRF, fundamental parameters", "ICP-OES, ndfeb-5line",
		                                 "quant/dp5-sn4711 v1", "icp/ndfeb-5line v1", "2024-07-05T10:00:00.000Z",
		                                 "Quality control of lot L2024-07", "FAIL", "2-2s", "lot not released",
		                                 "Composition", "Element", "wt %", "u (k = 1)", "U (k = 2)", "LOD (wt %)",
		                                 "Flags", "TREE", "Nd + Pr", "Dy + Tb", "Total", "Grade: N42SH",
		                                 "Boron: nominal 1.00", "page 1 of", NULL};
		expect(t, "S1 certificate", id);
		/* XRF Nd 23.1 ± 0.31: rounded with u to two digits */
		expect_row(t, "XRF Nd row", (const char *const[]){"Nd", "23.10", "0.31", "0.62", "0.05", NULL});
		expect_row(t, "XRF Tb row", (const char *const[]){"Tb", "0.480", "0.030", "0.060", "0.04", "below-loq", NULL});
		expect_row(t, "XRF B row", (const char *const[]){"B", "1.00", "0.15", "0.30", "nominal", NULL});
		/* ICP Nd: 23.1 × 0.998 = 23.0538 ± 0.18 */
		expect_row(t, "ICP Nd row", (const char *const[]){"Nd", "23.05", "0.18", "0.36", NULL});
		expect_row(t, "Nd + Pr row", (const char *const[]){"Nd + Pr", "29.00", NULL});
		free(t);
	}
	snprintf(prefix, sizeof(prefix), "%s/S1-page", tmp);
	int pages = render_pages(pdf, prefix);
	CHECK_MSG(pages >= 2, "S1 certificate: %d pages", pages);

	/* a certificate whose description would be a formula: printed as text */
	snprintf(pdf, sizeof(pdf), "%s/S3.pdf", tmp);
	CHECK_RC(mg_report_sample_pdf(f.st, "S3", &ro, pdf), MG_OK);
	t = pdf_text(pdf);
	if (t) {
		expect(t, "S3 certificate", (const char *const[]){"=HYPERLINK(", "+SUM(1,1)", "Tb", NULL});
		/* Tb 0.02 below its LOD 0.04: "< 0.04" */
		expect_row(t, "S3 Tb row", (const char *const[]){"Tb", "< 0.04", "below LOD", NULL});
		free(t);
	}

	/* batch summary */
	snprintf(pdf, sizeof(pdf), "%s/L2024-07.pdf", tmp);
	CHECK_RC(mg_report_batch_pdf(f.st, "L2024-07", &ro, pdf), MG_OK);
	t = pdf_text(pdf);
	if (t) {
		static const char *const b[] = {"Batch summary", "lot L2024-07", "Quality control", "FAIL",
		                                "cannot be released without an override", "Peak position Cu K",
		                                "SN-4711", "2-2s", "XRF\xE2\x88\x92ICP bias Nd", "ICP run checks", "CCV CCV1",
		                                "Composition (wt %", "Sample", "Method", "S1", "S2", "S3",
		                                "XRF against ICP-OES", "Bias (%)", "Composition by sample", "Control charts",
		                                NULL};
		expect(t, "batch summary", b);
		expect_row(t, "S1 ICP row", (const char *const[]){"S1", "ICP", "23.05 \xC2\xB1 0.36", NULL});
		expect_row(t, "S1 bias row", (const char *const[]){"S1", "Nd", "23.100", "23.054", "+0.2", NULL});
		free(t);
	}
	snprintf(prefix, sizeof(prefix), "%s/batch-page", tmp);
	pages = render_pages(pdf, prefix);
	CHECK_MSG(pages >= 2, "batch summary: %d pages", pages);

	fx_close(&f);
	printf("outputs in %s\n", tmp);
	return mg_test_finish("test_report_pdf");
}
