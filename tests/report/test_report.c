/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Plots and reports from a filled store: every plot kind rendered (from data
 * and from stored records), each PNG decoded with libpng with its text
 * chunks checked; the sample and batch reports as PDF (written, well-formed
 * enough to start with %PDF and end with %%EOF), JSON (parsed, fields
 * checked) and CSV (RFC 4180; every formula prefix neutralised). The PDFs'
 * content is checked with poppler in test_report_pdf. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "magassay/error.h"
#include "magassay/fileio.h"
#include "magassay/report.h"
#include "png_check.h"
#include "synth_plots.h"

static char out_dir[600];

static const char *out(const char *name)
{
	static char p[8][700];
	static int k;
	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", out_dir, name);
	return p[k];
}

/* Decode, check size, ink, colours and the metadata every plot carries. */
static void check_png(const char *path, const char *kind, unsigned w, unsigned h, const char *sample,
                      const char *batch, const char *calib_part)
{
	pngc p;
	CHECK_MSG(pngc_read(path, &p) == 0, "%s does not decode", path);
	if (!p.ok)
		return;
	if (w)
		CHECK_MSG(p.width == w && p.height == h, "%s: %ux%u, wanted %ux%u", path, p.width, p.height, w, h);
	CHECK_MSG(p.ink > 0.02 && p.ink < 0.6, "%s: ink %.3f", path, p.ink);
	const char *sw = pngc_text(&p, "Software"), *pk = pngc_text(&p, "Plot"), *t = pngc_text(&p, "Title");
	CHECK_MSG(sw && strncmp(sw, "magassay ", 9) == 0, "%s: Software chunk", path);
	CHECK_MSG(pk && strcmp(pk, kind) == 0, "%s: Plot chunk %s", path, pk ? pk : "(none)");
	if (strcmp(path, out("xrf_bare.png")) != 0) { /* the bare one: no metadata given, black only */
		CHECK_MSG(p.colours >= 2, "%s: %d colours", path, p.colours);
		CHECK_MSG(t && *t, "%s: Title chunk", path);
	}
	CHECK_MSG(pngc_text(&p, "Creation Time") != NULL, "%s: Creation Time", path);
	if (sample) {
		const char *s = pngc_text(&p, "Sample ID");
		CHECK_MSG(s && strcmp(s, sample) == 0, "%s: Sample ID %s", path, s ? s : "(none)");
	}
	if (batch) {
		const char *b = pngc_text(&p, "Batch");
		CHECK_MSG(b && strcmp(b, batch) == 0, "%s: Batch %s", path, b ? b : "(none)");
	}
	if (calib_part) {
		const char *c = pngc_text(&p, "Calibration");
		CHECK_MSG(c && strstr(c, calib_part), "%s: Calibration %s", path, c ? c : "(none)");
	}
}

static void test_data_plots(void)
{
	static sp_xrf x;
	sp_xrf_make(&x);
	mg_plot_meta meta = {"Sample S1 \xE2\x80\x94 XRF spectrum", "NdFeB, synthetic families", "S1", "L2024-07",
	                     "quant/dp5-sn4711 v1 (#1)", "test"};
	mg_plot_opts o;
	mg_plot_opts_default(&o);
	CHECK_RC(mg_plot_xrf_png(&x.d, &meta, &o, out("xrf_screen.png")), MG_OK);
	check_png(out("xrf_screen.png"), "xrf-spectrum", 1200, 750, "S1", "L2024-07", "quant/dp5-sn4711");
	o.size = MG_PLOT_PAGE;
	CHECK_RC(mg_plot_xrf_png(&x.d, &meta, &o, out("xrf_page.png")), MG_OK);
	check_png(out("xrf_page.png"), "xrf-spectrum", 1000, 625, "S1", NULL, NULL);
	o.size = MG_PLOT_SCREEN;
	o.log_y = 0;
	o.width_px = 800;
	CHECK_RC(mg_plot_xrf_png(&x.d, &meta, &o, out("xrf_linear.png")), MG_OK);
	check_png(out("xrf_linear.png"), "xrf-spectrum", 800, 500, NULL, NULL, NULL);
	/* without a fit: the spectrum and the markers */
	mg_plot_xrf bare = x.d;
	bare.fit = bare.background = NULL;
	bare.nfamilies = 0;
	mg_plot_opts_default(&o);
	CHECK_RC(mg_plot_xrf_png(&bare, NULL, &o, out("xrf_bare.png")), MG_OK);
	check_png(out("xrf_bare.png"), "xrf-spectrum", 1200, 750, NULL, NULL, NULL);

	static sp_icp ic;
	sp_icp_make(&ic);
	CHECK_RC(mg_plot_icp_png(ic.w, 3, &meta, &o, out("icp.png")), MG_OK);
	check_png(out("icp.png"), "icp-windows", 1200, 750, "S1", NULL, NULL);
	static sp_cal cc;
	sp_cal_make(&cc);
	CHECK_RC(mg_plot_calibration_png(cc.c, 2, &meta, &o, out("cal.png")), MG_OK);
	check_png(out("cal.png"), "calibration", 1200, 750, NULL, NULL, NULL);
	static sp_ctl ct;
	sp_ctl_make(&ct);
	CHECK(ct.f[26] & MG_WG_2_2S);
	CHECK(ct.f[28] & MG_WG_1_3S);
	CHECK_RC(mg_plot_control_png(&ct.c, 1, &meta, &o, out("ctl.png")), MG_OK);
	check_png(out("ctl.png"), "control-chart", 1200, 750, NULL, NULL, NULL);
	mg_plot_control two[2] = {ct.c, ct.c};
	CHECK_RC(mg_plot_control_png(two, 2, &meta, &o, out("ctl2.png")), MG_OK);
	pngc p;
	CHECK(pngc_read(out("ctl2.png"), &p) == 0 && p.height > 750);

	/* errors */
	CHECK_RC(mg_plot_xrf_png(NULL, NULL, NULL, out("x.png")), MG_ERR_ARG);
	o.width_px = 50;
	CHECK_RC(mg_plot_xrf_png(&x.d, NULL, &o, out("x.png")), MG_ERR_ARG);
	o.width_px = 0;
	CHECK_RC(mg_plot_xrf_png(&x.d, NULL, &o, "/nonexistent-dir/x.png"), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_plot_icp_png(ic.w, 0, NULL, &o, out("x.png")), MG_ERR_ARG);
	CHECK_RC(mg_plot_control_png(&ct.c, 0, NULL, &o, out("x.png")), MG_ERR_ARG);
}

static void test_store_plots(fx *f)
{
	mg_plot_opts o;
	mg_plot_opts_default(&o);
	CHECK_RC(mg_report_plot_measurement_png(f->st, f->xrf[0], &o, out("m_xrf.png")), MG_OK);
	check_png(out("m_xrf.png"), "xrf-spectrum", 1200, 750, "S1", "L2024-07", "quant/dp5-sn4711 v1");
	pngc p;
	if (pngc_read(out("m_xrf.png"), &p) == 0) {
		const char *d = pngc_text(&p, "Description");
		CHECK_MSG(d && strstr(d, "fit re-computed"), "the stored result's fit is drawn: %s", d ? d : "(none)");
		const char *src = pngc_text(&p, "Source");
		CHECK(src && strncmp(src, "measurement ", 12) == 0);
	}
	o.size = MG_PLOT_PAGE;
	CHECK_RC(mg_report_plot_measurement_png(f->st, f->icp[0], &o, out("m_icp.png")), MG_OK);
	check_png(out("m_icp.png"), "icp-windows", 1000, 625, "S1", "L2024-07", "icp/ndfeb-5line v1");
	o.size = MG_PLOT_SCREEN;
	CHECK_RC(mg_report_plot_calibration_png(f->st, f->icp_cal, &o, out("m_cal.png")), MG_OK);
	check_png(out("m_cal.png"), "calibration", 1200, 750, NULL, NULL, "icp/ndfeb-5line v1");
	CHECK_RC(mg_report_plot_calibration_png(f->st, f->quant_cal, &o, out("x.png")), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_report_plot_qc_png(f->st, "L2024-07", NULL, NULL, NULL, &o, out("m_qc.png")), MG_OK);
	check_png(out("m_qc.png"), "control-chart", 0, 0, NULL, "L2024-07", NULL);
	CHECK_RC(mg_report_plot_qc_png(f->st, "L2024-07", "peak_position", "Cu Ka", NULL, &o, out("m_qc1.png")), MG_OK);
	check_png(out("m_qc1.png"), "control-chart", 1200, 750, NULL, "L2024-07", NULL);
	CHECK_RC(mg_report_plot_qc_png(f->st, "L2024-07", "nothing", NULL, NULL, &o, out("x.png")), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_report_plot_batch_png(f->st, "L2024-07", &o, out("m_batch.png")), MG_OK);
	check_png(out("m_batch.png"), "batch-composition", 1200, 750, NULL, "L2024-07", NULL);
	CHECK_RC(mg_report_plot_measurement_png(f->st, 999999, &o, out("x.png")), MG_ERR_NOT_FOUND);
}

/* ---- CSV ------------------------------------------------------------------------------ */

/* A strict RFC 4180 parser: rows of cells; returns the number of rows or -1. */
typedef struct csv {
	size_t nrows;
	size_t ncells[256];
	char *cell[256][32];
} csv;

static int csv_parse(const char *s, size_t len, csv *c)
{
	memset(c, 0, sizeof(*c));
	size_t i = 0;
	while (i < len) {
		if (c->nrows >= 256)
			return -1;
		size_t r = c->nrows++;
		for (;;) {
			char *b = malloc(len + 1);
			size_t o = 0;
			if (i < len && s[i] == '"') {
				i++;
				for (;;) {
					if (i >= len) {
						free(b);
						return -1;
					}
					if (s[i] == '"') {
						if (i + 1 < len && s[i + 1] == '"') {
							b[o++] = '"';
							i += 2;
							continue;
						}
						i++;
						break;
					}
					b[o++] = s[i++];
				}
			} else {
				while (i < len && s[i] != ',' && s[i] != '\r') {
					if (s[i] == '"' || s[i] == '\n') { /* bare quote or LF: not RFC 4180 */
						free(b);
						return -1;
					}
					b[o++] = s[i++];
				}
			}
			b[o] = '\0';
			if (c->ncells[r] < 32)
				c->cell[r][c->ncells[r]++] = b;
			else
				free(b);
			if (i < len && s[i] == ',') {
				i++;
				continue;
			}
			if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') {
				i += 2;
				break;
			}
			return -1; /* every record ends with CRLF */
		}
	}
	return (int)c->nrows;
}

static void csv_free(csv *c)
{
	for (size_t r = 0; r < c->nrows; r++)
		for (size_t k = 0; k < c->ncells[r]; k++)
			free(c->cell[r][k]);
}

static void test_csv_cells(void)
{
	/* every dangerous first character, and the safe ones left alone */
	static const struct {
		const char *in, *want;
	} t[] = {
		{"=1+1", "'=1+1"},
		{"+1+1", "'+1+1"},
		{"-1+1", "'-1+1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "\"'\r=1\""},
		{"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
		{"a,b", "\"a,b\""},
		{"say \"hi\"", "\"say \"\"hi\"\"\""},
		{"two\nlines", "\"two\nlines\""},
		{"Nd 23.1", "Nd 23.1"},
		{"x=1", "x=1"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mg_buf b;
		mg_buf_init(&b);
		CHECK_RC(mg_csv_append_text(&b, t[i].in), MG_OK);
		CHECK_MSG(b.len == strlen(t[i].want) && (b.len == 0 || memcmp(b.data, t[i].want, b.len) == 0),
		          "cell %zu: got [%.*s], wanted [%s]", i, (int)b.len, b.data ? b.data : "", t[i].want);
		mg_buf_free(&b);
	}
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_csv_append_text(&b, NULL), MG_OK);
	CHECK(b.len == 0);
	mg_buf_free(&b);
}

static void test_batch_csv(fx *f)
{
	char *text = NULL;
	size_t len = 0;
	CHECK_RC(mg_report_batch_csv(f->st, "L2024-07", NULL, &text, &len), MG_OK);
	if (!text)
		return;
	CHECK(len == strlen(text));
	csv c;
	int n = csv_parse(text, len, &c);
	CHECK_MSG(n > 1, "the CSV parses as RFC 4180 (%d rows)", n);
	if (n > 1) {
		CHECK(!strcmp(c.cell[0][0], "batch_id") && !strcmp(c.cell[0][13], "element") &&
		      !strcmp(c.cell[0][14], "wt_pct"));
		size_t ncol = c.ncells[0];
		/* S1..S3: XRF 7 elements each, S1/S2 ICP 4 elements each */
		CHECK_MSG(n == 1 + 3 * 7 + 2 * 4, "%d rows", n);
		int found[16] = {0};
		for (size_t r = 0; r < c.nrows; r++) {
			CHECK_MSG(c.ncells[r] == ncol, "row %zu has %zu cells", r, c.ncells[r]);
			for (size_t k = 0; k < c.ncells[r]; k++) {
				const char *v = c.cell[r][k];
				/* no cell a spreadsheet would run, except numbers magassay wrote */
				if (v[0] && strchr("=+@\t\r", v[0]))
					CHECK_MSG(0, "row %zu cell %zu starts with a formula character: [%s]", r, k, v);
				if (v[0] == '-')
					CHECK_MSG(strtod(v, NULL) < 0 && strspn(v, "-0123456789.e") == strlen(v),
					          "row %zu cell %zu: [%s]", r, k, v);
				for (size_t i = 0; i < fx_nnasty; i++)
					if (v[0] == 39 && !strncmp(v + 1, fx_nasty[i], strlen(fx_nasty[i])))
						found[i] = 1;
			}
		}
		for (size_t i = 0; i < fx_nnasty; i++)
			CHECK_MSG(found[i], "nasty cell %zu (%s) neutralised in the CSV", i, fx_nasty[i]);
		/* a number as written: S1's ICP Nd */
		int nd = 0;
		for (size_t r = 1; r < c.nrows; r++)
			if (!strcmp(c.cell[r][1], "S1") && !strcmp(c.cell[r][5], "ICP-OES, ndfeb-5line") &&
			    !strcmp(c.cell[r][13], "Nd")) {
				nd = 1;
				CHECK_NEAR(strtod(c.cell[r][14], NULL), 23.1 * 0.998, 1e-4);
				CHECK_NEAR(strtod(c.cell[r][15], NULL), 0.18, 1e-9);
				CHECK_NEAR(strtod(c.cell[r][16], NULL), 0.36, 1e-9);
				CHECK(!strcmp(c.cell[r][21], "fail"));
			}
		CHECK(nd);
	}
	csv_free(&c);
	free(text);
	CHECK_RC(mg_report_batch_csv(f->st, "NOPE", NULL, &text, &len), MG_ERR_NOT_FOUND);
}

/* ---- JSON and PDF files ---------------------------------------------------------------- */

static void test_json(fx *f)
{
	char *text = NULL;
	mg_report_opts ro = {"Test Lab", "2024-07-05T10:00:00.000Z", NULL};
	CHECK_RC(mg_report_sample_json(f->st, "S1", &ro, &text), MG_OK);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(j != NULL);
	if (j) {
		CHECK(!strcmp(json_string_value(json_object_get(j, "type")), "sample_report"));
		CHECK(!strcmp(json_string_value(json_object_get(j, "generated_at")), "2024-07-05T10:00:00.000Z"));
		CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "batch"), "id")), "L2024-07"));
		json_t *res = json_object_get(j, "results");
		CHECK(json_array_size(res) == 2);
		json_t *icp = json_array_get(res, 0), *xrf = json_array_get(res, 1);
		CHECK(!strcmp(json_string_value(json_object_get(json_object_get(icp, "measurement"), "kind")), "icp"));
		json_t *comp = json_object_get(xrf, "composition");
		CHECK(json_array_size(comp) == 7);
		json_t *nd = json_array_get(comp, 0);
		CHECK(!strcmp(json_string_value(json_object_get(nd, "element")), "Nd"));
		CHECK_NEAR(json_real_value(json_object_get(nd, "wt_pct")), 23.1, 1e-9);
		CHECK_NEAR(json_real_value(json_object_get(nd, "u_expanded_k2")), 0.62, 1e-9);
		CHECK_NEAR(json_real_value(json_object_get(json_object_get(xrf, "totals"), "nd_pr")), 29.0, 1e-6);
		CHECK(!strcmp(json_string_value(json_object_get(xrf, "grade")), "N42SH (sintered NdFeB, 150 \xC2\xB0" "C grade)"));
		json_t *cal = json_object_get(xrf, "calibrations");
		CHECK(json_array_size(cal) >= 2);
		CHECK(strstr(json_string_value(json_object_get(json_array_get(cal, 0), "text")), "quant/dp5-sn4711 v1"));
		/* ICP: the reported line only (not the alternative), LOD scaled to the solid */
		json_t *ic = json_object_get(icp, "composition");
		CHECK(json_array_size(ic) == 4);
		CHECK_NEAR(json_real_value(json_object_get(json_array_get(ic, 0), "lod_wt_pct")), 0.004 / 100, 1e-9);
		CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "qc"), "state")), "fail"));
	}
	json_decref(j);
	free(text);
	CHECK_RC(mg_report_batch_json(f->st, "L2024-07", &ro, &text), MG_OK);
	j = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(j != NULL);
	if (j) {
		CHECK(json_array_size(json_object_get(j, "samples")) == 3);
		CHECK(json_array_size(json_object_get(j, "xrf_icp")) == 8);
		CHECK(json_array_size(json_object_get(json_object_get(j, "qc"), "series")) == 7);
	}
	json_decref(j);
	free(text);
	CHECK_RC(mg_report_sample_json(f->st, "NOPE", NULL, &text), MG_ERR_NOT_FOUND);
}

static void check_pdf(const char *path)
{
	unsigned char *d = NULL;
	size_t n = 0;
	CHECK_RC(mg_file_read_all(path, 64u << 20, &d, &n), MG_OK);
	CHECK_MSG(n > 2000 && memcmp(d, "%PDF-", 5) == 0, "%s is a PDF", path);
	CHECK_MSG(n > 10 && strstr((const char *)d + n - 10, "%%EOF") != NULL, "%s ends with %%%%EOF", path);
	free(d);
}

static void test_pdf_files(fx *f)
{
	mg_report_opts ro = {"Test Lab", "2024-07-05T10:00:00.000Z", NULL};
	CHECK_RC(mg_report_sample_pdf(f->st, "S1", &ro, out("S1.pdf")), MG_OK);
	check_pdf(out("S1.pdf"));
	CHECK_RC(mg_report_sample_pdf(f->st, "S3", NULL, out("S3.pdf")), MG_OK);
	check_pdf(out("S3.pdf"));
	CHECK_RC(mg_report_batch_pdf(f->st, "L2024-07", &ro, out("L2024-07.pdf")), MG_OK);
	check_pdf(out("L2024-07.pdf"));
	CHECK_RC(mg_report_sample_pdf(f->st, "NOPE", NULL, out("x.pdf")), MG_ERR_NOT_FOUND);
	struct stat sb;
	CHECK(stat(out("x.pdf"), &sb) != 0); /* nothing half-written */
}

int main(void)
{
	const char *tmp = mg_test_tmpdir();
	snprintf(out_dir, sizeof(out_dir), "%s/out", tmp);
	mkdir(out_dir, 0755);
	test_csv_cells();
	test_data_plots();
	fx f;
	char sdir[700];
	snprintf(sdir, sizeof(sdir), "%s/store", tmp);
	if (fx_build(sdir, &f) != MG_OK) {
		fprintf(stderr, "cannot build the test store\n");
		return 1;
	}
	test_store_plots(&f);
	test_batch_csv(&f);
	test_json(&f);
	test_pdf_files(&f);
	fx_close(&f);
	printf("outputs in %s\n", out_dir);
	return mg_test_finish("test_report");
}
