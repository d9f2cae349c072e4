/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every figure of the reports drawn by the plot engine with every text
 * recorded: at the screen size, the page size and a small width, with long
 * titles, long sample names and many samples, no text leaves the canvas and
 * no two texts overlap. The pictures are left in the test's folder to look
 * at. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "report/report_internal.h"
#include "synth_plots.h"

static const char *const long_title = "Sample MAG-2024-0042-\xC3\x85ngstr\xC3\xB6m \xE2\x80\x94 recycled motor "
                                      "magnet from the July intake, lot L2024-07, replicate three of three, "
                                      "with a name far too long for one line";

/* How deep two text boxes (convex quadrilaterals, maybe turned) run into
 * each other, in pixels: the smallest overlap of their projections over the
 * normals of their edges (0 when an axis separates them). */
static double overlap(const pl_textbox *a, const pl_textbox *b)
{
	double depth = INFINITY;
	for (int q = 0; q < 2; q++) {
		const pl_textbox *e = q ? b : a;
		for (int i = 0; i < 4; i++) {
			double nx = -(e->qy[(i + 1) % 4] - e->qy[i]), ny = e->qx[(i + 1) % 4] - e->qx[i];
			double len = hypot(nx, ny);
			if (!(len > 0))
				continue;
			nx /= len;
			ny /= len;
			double a0 = INFINITY, a1 = -INFINITY, b0 = INFINITY, b1 = -INFINITY;
			for (int k = 0; k < 4; k++) {
				double pa = a->qx[k] * nx + a->qy[k] * ny, pb = b->qx[k] * nx + b->qy[k] * ny;
				a0 = fmin(a0, pa);
				a1 = fmax(a1, pa);
				b0 = fmin(b0, pb);
				b1 = fmax(b1, pb);
			}
			depth = fmin(depth, fmin(a1, b1) - fmax(a0, b0));
			if (depth <= 0)
				return 0;
		}
	}
	return depth;
}

static void check_texts(const pl_fig *f, const char *what)
{
	double W = cairo_image_surface_get_width(f->surf), H = cairo_image_surface_get_height(f->surf);
	CHECK_MSG(f->nboxes > 5, "%s: %zu texts recorded", what, f->nboxes);
	for (size_t i = 0; i < f->nboxes; i++) {
		const pl_textbox *b = &f->boxes[i];
		CHECK_MSG(b->x0 >= -0.01 && b->y0 >= -0.01 && b->x1 <= W + 0.01 && b->y1 <= H + 0.01,
		          "%s: text %zu at (%.1f, %.1f)-(%.1f, %.1f) leaves the %.0f x %.0f canvas", what, i, b->x0, b->y0,
		          b->x1, b->y1, W, H);
		/* line boxes may touch (rows of a legend, stacked tick labels): a
		 * pixel is not two texts on each other */
		for (size_t k = i + 1; k < f->nboxes; k++)
			CHECK_MSG(overlap(b, &f->boxes[k]) < 1.0, "%s: texts %zu and %zu run %.1f px into each other", what, i,
			          k, overlap(b, &f->boxes[k]));
	}
}

typedef int (*draw_fn)(pl_fig *f, const void *data);

static int draw_xrf(pl_fig *f, const void *d)
{
	return rp_fig_xrf(f, d, 1);
}

static int draw_xrf_bare(pl_fig *f, const void *d)
{
	mg_plot_xrf bare = *(const mg_plot_xrf *)d;
	bare.fit = bare.background = NULL;
	bare.nfamilies = 0;
	return rp_fig_xrf(f, &bare, 1);
}

static int draw_icp(pl_fig *f, const void *d)
{
	return rp_fig_icp(f, ((const sp_icp *)d)->w, 3);
}

static int draw_cal(pl_fig *f, const void *d)
{
	return rp_fig_calibration(f, ((const sp_cal *)d)->c, 2);
}

static int draw_ctl(pl_fig *f, const void *d)
{
	return rp_fig_control(f, &((const sp_ctl *)d)->c, 1, 1);
}

typedef struct batch {
	rp_batch_point p[12 * 6];
	char names[12][64];
	size_t n;
} batch;

static int draw_batch(pl_fig *f, const void *d)
{
	return rp_fig_batch(f, ((const batch *)d)->p, ((const batch *)d)->n);
}

static void one(const char *name, const mg_plot_opts *o, draw_fn fn, const void *data)
{
	pl_fig f;
	CHECK_RC(pl_fig_canvas(&f, o, 0), MG_OK);
	pl_fig_record_text(&f, 1);
	mg_plot_meta meta = {long_title, "a subtitle long enough to need a second line at the page size, saying what "
	                                 "the figure shows and how it was made, in words",
	                     "MAG-0042", "L2024-07", NULL,
	                     "/srv/lab/archive/2024/07/05/station-3/spectra/MAG-2024-0042-replicate-3-of-3.mca"};
	pl_fig_header(&f, &meta);
	CHECK_RC(fn(&f, data), MG_OK);
	char what[200], path[800];
	snprintf(what, sizeof(what), "%s (%s, %d px)", name, o->size == MG_PLOT_PAGE ? "page" : "screen", o->width_px);
	check_texts(&f, what);
	snprintf(path, sizeof(path), "%s/%s-%s-%d.png", mg_test_tmpdir(), name, o->size == MG_PLOT_PAGE ? "page" : "screen",
	         o->width_px);
	CHECK_RC(pl_fig_write_png(&f, name, &meta, path), MG_OK);
	pl_fig_end(&f);
}

int main(void)
{
	static sp_xrf x;
	static sp_icp ic;
	static sp_cal cc;
	static sp_ctl ct;
	static batch b;
	sp_xrf_make(&x);
	sp_icp_make(&ic);
	sp_cal_make(&cc);
	sp_ctl_make(&ct);
	/* twelve samples with long names, six elements, XRF and ICP */
	static const char *const els[] = {"Nd", "Pr", "Dy", "Tb", "Fe", "Co"};
	static const double wt[] = {23.1, 5.9, 3.2, 0.48, 65.9, 0.96};
	for (size_t s = 0; s < 12; s++) {
		snprintf(b.names[s], sizeof(b.names[s]), "MAG-2024-07-%04zu-recycled-motor-magnet", s + 1);
		for (size_t e = 0; e < 6; e++)
			b.p[b.n++] = (rp_batch_point){b.names[s], els[e], (int)(s % 2), wt[e] * (1 + 0.01 * (double)s),
			                              wt[e] * 0.013};
	}
	mg_plot_opts o;
	mg_plot_opts_default(&o);
	for (int k = 0; k < 3; k++) {
		o.size = k == 1 ? MG_PLOT_PAGE : MG_PLOT_SCREEN;
		o.width_px = k == 2 ? 600 : 0;
		one("xrf", &o, draw_xrf, &x.d);
		one("xrf-bare", &o, draw_xrf_bare, &x.d);
		one("icp", &o, draw_icp, &ic);
		one("calibration", &o, draw_cal, &cc);
		one("control", &o, draw_ctl, &ct);
		one("batch", &o, draw_batch, &b);
	}
	printf("figures in %s\n", mg_test_tmpdir());
	return mg_test_finish("test_figures");
}
