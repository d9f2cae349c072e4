/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plot engine on its own: log axes label their decades 10ⁿ (a real
 * superscript, not the markup shown as text) with 2…9 × 10ⁿ as minor ticks;
 * linear ticks are nice numbers with a proper minus; and a figure with a long
 * title, subtitle, small print, legend and axis labels, at every size, keeps
 * every text it draws inside the canvas (the device box of each text is
 * recorded), with the tick labels of an axis never overlapping. The PNG
 * decodes and carries its text chunks. Every kind of series, a category
 * axis and labelled line markers are drawn, inside the canvas. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "plot/engine.h"
#include "png_check.h"

static void test_log_ticks(void)
{
	pl_fig f;
	CHECK_RC(pl_fig_canvas(&f, NULL, 0), MG_OK);
	pl_ticks t;
	pl_axis a = {.min = 0.5, .max = 2e5, .log = 1, .label = "Counts"};
	pl_axis_ticks(&f, &a, 600, 0, &t);
	/* every decade from 10⁰ to 10⁵, labelled with a superscript */
	CHECK_MSG(t.n == 6, "%zu labelled ticks", t.n);
	for (size_t i = 0; i < t.n && i < 6; i++) {
		char want[40];
		snprintf(want, sizeof(want), "10<sup>%zu</sup>", i);
		CHECK_NEAR(t.v[i], pow(10, (double)i), 1e-9 * pow(10, (double)i));
		CHECK_MSG(strcmp(t.label[i], want) == 0, "tick %zu: %s, wanted %s", i, t.label[i], want);
	}
	/* 2…9 × 10ⁿ as minor ticks, none of them a decade */
	CHECK_MSG(t.nminor >= 40, "%zu minor ticks", t.nminor);
	for (size_t i = 0; i < t.nminor; i++) {
		double l = log10(t.minor[i]);
		CHECK_MSG(fabs(l - round(l)) > 1e-6, "minor tick %g is a decade", t.minor[i]);
	}
	/* a short axis: fewer decades labelled, each still a decade */
	pl_axis_ticks(&f, &a, 60, 0, &t);
	CHECK_MSG(t.n >= 2 && t.n < 6, "%zu labelled ticks on a short axis", t.n);
	for (size_t i = 0; i < t.n; i++) {
		double l = log10(t.v[i]);
		CHECK_MSG(fabs(l - round(l)) < 1e-9 && strstr(t.label[i], "<sup>"), "short axis tick %g: %s", t.v[i],
		          t.label[i]);
	}
	/* negative exponents with a minus sign */
	pl_axis s = {.min = 2e-4, .max = 0.5, .log = 1};
	pl_axis_ticks(&f, &s, 600, 1, &t);
	CHECK(t.n >= 3 && strcmp(t.label[0], "10<sup>\xE2\x88\x92" "3</sup>") == 0);
	/* under two decades: 2× and 5× labelled too, as plain numbers */
	pl_axis n = {.min = 15, .max = 900, .log = 1};
	pl_axis_ticks(&f, &n, 600, 0, &t);
	int has200 = 0, has500 = 0;
	for (size_t i = 0; i < t.n; i++) {
		has200 |= t.v[i] == 200 && strcmp(t.label[i], "200") == 0;
		has500 |= t.v[i] == 500 && strcmp(t.label[i], "500") == 0;
	}
	CHECK(has200 && has500);
	/* the superscript is typeset, not shown as markup: narrower than "103" */
	pl_font(&f, 0.9, 0);
	double sup = pl_markup_width(&f, "10<sup>3</sup>"), plain = pl_text_width(&f, "103");
	CHECK_MSG(sup > 0.5 * plain && sup < plain, "10³ is %.2f wide, \"103\" %.2f", sup, plain);
	/* linear ticks: nice steps, a real minus */
	pl_axis l = {.min = -4.2, .max = 4.2};
	pl_axis_ticks(&f, &l, 400, 0, &t);
	CHECK(t.n >= 3);
	CHECK_MSG(strncmp(t.label[0], "\xE2\x88\x92", 3) == 0, "first label %s", t.label[0]);
	CHECK(t.nminor > 0);
	pl_fig_end(&f);
}

/* Every text box inside the canvas, and the boxes of one kind (from..to) disjoint. */
static void check_boxes(const pl_fig *f, const char *what, double W, double H)
{
	CHECK_MSG(f->nboxes > 10, "%s: %zu texts recorded", what, f->nboxes);
	for (size_t i = 0; i < f->nboxes; i++) {
		const pl_textbox *b = &f->boxes[i];
		CHECK_MSG(b->x0 >= -0.01 && b->y0 >= -0.01 && b->x1 <= W + 0.01 && b->y1 <= H + 0.01,
		          "%s: text %zu at (%.1f, %.1f)-(%.1f, %.1f) leaves the %.0f x %.0f canvas", what, i, b->x0, b->y0,
		          b->x1, b->y1, W, H);
	}
}

static int overlap(const pl_textbox *a, const pl_textbox *b)
{
	return a->x0 < b->x1 - 0.01 && b->x0 < a->x1 - 0.01 && a->y0 < b->y1 - 0.01 && b->y0 < a->y1 - 0.01;
}

static void one_figure(const mg_plot_opts *o, const char *name)
{
	static const char *const title =
	        "Sample MAG-2024-0042-\xC3\x85ngstr\xC3\xB6m with an unreasonably long name that goes on and on, "
	        "far wider than any canvas, and then some more words so that even two lines cannot hold it";
	static const char *const path = "/very/long/folder/of/the/laboratory/archive/2024/07/05/station-3/"
	                                "spectra/MAG-2024-0042-replicate-3-of-3-with-a-long-name.mca";
	pl_fig f;
	CHECK_RC(pl_fig_canvas(&f, o, 0), MG_OK);
	pl_fig_record_text(&f, 1);
	mg_plot_meta meta = {title, "a subtitle that is also far too long to fit on a single line of the figure, "
	                            "with \xCE\xB1, \xCE\xB2 and \xC3\xA9\xC3\xA8 in it, repeated: far too long to fit",
	                     "MAG-0042", NULL, NULL, path};
	pl_fig_header(&f, &meta);
	pl_legend_item it[8];
	for (int i = 0; i < 8; i++)
		it[i] = (pl_legend_item){i == 3 ? "A legend entry whose label alone is wider than the whole figure, "
		                                  "which must be cut rather than run off the canvas"
		                                : "Nd L\xCE\xB1",
		                         pl_series_colour((size_t)i), i % 4, -1, 0, 0};
	pl_fig_legend(&f, it, 8);
	size_t before = f.nboxes;
	pl_panel p = {.x = {0.95, 40.3, 0, "Energy of the photons as measured by the detector, after calibration (keV)"},
	              .y = {0.4, 3.2e6, 1, "Counts per channel, summed over every replicate of the measurement"},
	              .xlabels = 1};
	pl_panel_place(&f, &p, f.x, f.top, f.w, f.bottom - f.top);
	CHECK(p.x0 > f.x && p.y0 >= f.top && p.x0 + p.w <= f.x + f.w + 1e-9 && p.y0 + p.h <= f.bottom + 1e-9);
	pl_panel_axes(&f, &p);
	/* the tick labels of this panel never overlap one another */
	for (size_t i = before; i < f.nboxes; i++)
		for (size_t k = i + 1; k < f.nboxes; k++)
			CHECK_MSG(!overlap(&f.boxes[i], &f.boxes[k]), "%s: tick/axis labels %zu and %zu overlap", name, i, k);
	double W = cairo_image_surface_get_width(f.surf), H = cairo_image_surface_get_height(f.surf);
	check_boxes(&f, name, W, H);
	char out[700];
	snprintf(out, sizeof(out), "%s/%s.png", mg_test_tmpdir(), name);
	CHECK_RC(pl_fig_write_png(&f, "test", &meta, out), MG_OK);
	pl_fig_end(&f);
	pngc pc;
	CHECK_MSG(pngc_read(out, &pc) == 0 && pc.width == (unsigned)W && pc.height == (unsigned)H, "%s decodes", out);
	const char *src = pngc_text(&pc, "Source"), *t = pngc_text(&pc, "Title");
	CHECK(src && strcmp(src, path) == 0);
	CHECK(t && strcmp(t, title) == 0);
}

static void test_never_clipped(void)
{
	mg_plot_opts o;
	mg_plot_opts_default(&o);
	one_figure(&o, "screen");
	o.size = MG_PLOT_PAGE;
	one_figure(&o, "page");
	o.width_px = 320;
	one_figure(&o, "page-small");
	o.size = MG_PLOT_SCREEN;
	o.width_px = 200;
	one_figure(&o, "screen-tiny");
}

/* Every series kind in two stacked panels over one x axis, and a category panel. */
static void test_series(const mg_plot_opts *o, const char *name)
{
	enum { N = 200 };
	double x[N], y[N], lo[N], hi[N], r[N];
	for (int i = 0; i < N; i++) {
		x[i] = 1 + 0.05 * i;
		y[i] = 50 + 4000 * exp(-0.5 * pow((x[i] - 5) / 0.15, 2)) + 900 * exp(-0.5 * pow((x[i] - 6.4) / 0.2, 2));
		lo[i] = y[i] * 0.8;
		hi[i] = y[i] * 1.25;
		r[i] = sin(i * 0.7) * 2;
	}
	y[10] = 0; /* a zero on a log axis: to the floor */
	pl_fig f;
	CHECK_RC(pl_fig_canvas(&f, o, 0), MG_OK);
	pl_fig_record_text(&f, 1);
	pl_fig_title(&f, "Sample S1 \xE2\x80\x94 every series", "lines, steps, points, bands, rules, limits, markers");
	pl_legend_item it[] = {
		{"Line", pl_okabe_ito[PL_VERMILLION], PL_SOLID, -1, 0, 0},
		{"Band", pl_okabe_ito[PL_SKY], -1, -1, 0, 1},
		{"Points", pl_okabe_ito[PL_BLUE], -1, PL_DIAMOND, 0, 0},
	};
	pl_fig_legend(&f, it, 3);
	pl_fig_footnote(&f, "Source: a test");
	static const char *const lim[] = {"+3s", "mean"};
	pl_panel a = {.x = {.min = 0.8, .max = 11.2, .label = "Energy (keV)"},
	              .y = {.min = 5, .max = 1e4, .log = 1, .label = "Counts per channel"},
	              .right = pl_limit_room(&f, lim, 2)};
	pl_panel b = {.x = a.x, .y = {.min = -3, .max = 3, .label = "Resid. (\xCF\x83)"}, .xlabels = 1, .right = a.right};
	double h = f.bottom - f.top;
	pl_mark mk[] = {{5, 4050, "Nd L\xCE\xB1", pl_okabe_ito[PL_GREEN]},
	                {5.05, 4000, "Pr L\xCE\xB1", pl_okabe_ito[PL_PURPLE]},
	                {6.4, 950, "Fe K\xCE\xB1", pl_okabe_ito[PL_ORANGE]},
	                {6.41, NAN, "Fe K\xCE\xB1 again", pl_okabe_ito[PL_YELLOW]},
	                {50, 1, "outside", pl_grey}};
	a.left = b.left = fmax(pl_panel_left_margin(&f, &a, h * 0.6), pl_panel_left_margin(&f, &b, h * 0.3));
	pl_panel_place(&f, &a, f.x, f.top, f.w, h * 0.7);
	double band = pl_marks_band(&f, &a, mk, 5, 3);
	CHECK_MSG(band > pl_font_size(&f), "%s: the marker band is %.1f high", name, band);
	pl_panel_place(&f, &a, f.x, f.top + band, f.w, h * 0.7 - band);
	pl_panel_place(&f, &b, f.x, f.top + h * 0.7, f.w, h * 0.3);
	CHECK_NEAR(a.x0, b.x0, 1e-9);
	CHECK_NEAR(a.w, b.w, 1e-9);
	pl_xspan(&f, &a, 8, 9, pl_okabe_ito[PL_SKY], 0.2);
	pl_panel_axes(&f, &a);
	pl_panel_axes(&f, &b);
	pl_marks(&f, &a, mk, 5, 3);
	pl_panel_clip(&f, &a);
	pl_band(&f, &a, x, lo, hi, N, pl_okabe_ito[PL_SKY], 0.3);
	pl_steps(&f, &a, x, y, N, pl_okabe_ito[PL_BLACK], 0.6, 2);
	pl_line(&f, &a, x, y, N, pl_okabe_ito[PL_VERMILLION], 1.2, PL_DASHDOT, 2);
	pl_points(&f, &a, x, y, N, -1, 1, pl_grey);
	pl_points(&f, &a, x, y, 20, PL_DIAMOND, 3, pl_okabe_ito[PL_BLUE]);
	pl_errorbar(&f, &a, 3, 200, 800, 3, pl_okabe_ito[PL_GREEN], 1);
	pl_vline(&f, &a, 7, pl_grey, 1, PL_DOTTED);
	pl_panel_unclip(&f);
	pl_limit(&f, &a, 3000, "+3s", pl_okabe_ito[PL_VERMILLION], 1, PL_SOLID);
	pl_limit(&f, &a, 300, "mean", pl_okabe_ito[PL_BLACK], 1, PL_DASHED);
	pl_font(&f, 0.75, 1);
	pl_point_label(&f, &a, 5, 4050, "1-3s", pl_okabe_ito[PL_VERMILLION], 1, 4);
	pl_point_label(&f, &a, 1, 9000, "at the top", pl_okabe_ito[PL_VERMILLION], 1, 4);
	pl_panel_clip(&f, &b);
	pl_hline(&f, &b, 0, pl_okabe_ito[PL_BLACK], 0.6, PL_SOLID);
	pl_line(&f, &b, x, r, N, pl_okabe_ito[PL_BLACK], 0.6, PL_SOLID, 0);
	pl_panel_unclip(&f);
	double W = cairo_image_surface_get_width(f.surf), H = cairo_image_surface_get_height(f.surf);
	check_boxes(&f, name, W, H);
	char out[700];
	snprintf(out, sizeof(out), "%s/series-%s.png", mg_test_tmpdir(), name);
	CHECK_RC(pl_fig_write_png(&f, "test", NULL, out), MG_OK);
	pl_fig_end(&f);
	pngc pc;
	CHECK_MSG(pngc_read(out, &pc) == 0 && pc.colours >= 5, "%s: %d colours", out, pc.colours);

	/* category names: side by side when short, turned when long, every one inside */
	static const char *const shortn[] = {"S1", "S2", "S3"};
	static const char *const longn[] = {"MAG-2024-07-0001-recycled", "MAG-2024-07-0002-recycled",
	                                    "MAG-2024-07-0003-recycled", "MAG-2024-07-0004-recycled",
	                                    "MAG-2024-07-0005-recycled", "MAG-2024-07-0006-recycled"};
	CHECK_RC(pl_fig_canvas(&f, o, 0), MG_OK);
	pl_fig_record_text(&f, 1);
	pl_panel c = {.x = {.min = -0.5, .max = 2.5, .label = "Sample", .cat = shortn, .ncat = 3},
	              .y = {.min = 0, .max = 30, .label = "Mass fraction (wt %)"},
	              .xlabels = 1};
	pl_panel d = {.x = {.min = -0.5, .max = 5.5, .label = "Sample", .cat = longn, .ncat = 6},
	              .y = c.y,
	              .xlabels = 1};
	pl_panel_place(&f, &c, f.x, f.top, f.w / 2, f.bottom - f.top);
	pl_panel_place(&f, &d, f.x + f.w / 2, f.top, f.w / 2, f.bottom - f.top);
	CHECK(!c.cat_turned && d.cat_turned);
	pl_panel_axes(&f, &c);
	pl_panel_axes(&f, &d);
	check_boxes(&f, name, cairo_image_surface_get_width(f.surf), cairo_image_surface_get_height(f.surf));
	pl_fig_end(&f);
}

int main(void)
{
	test_log_ticks();
	test_never_clipped();
	mg_plot_opts o;
	mg_plot_opts_default(&o);
	test_series(&o, "screen");
	o.size = MG_PLOT_PAGE;
	test_series(&o, "page");
	return mg_test_finish("test_plot");
}
