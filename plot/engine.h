/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plot engine (private to the library; the layer `plot`, which uses only
 * core). One look for every figure: the Okabe–Ito palette, DejaVu Sans through
 * Pango, axes with units and readable ticks (10ⁿ with a real superscript on
 * log axes), a legend above the data, margins computed from the measured
 * text so that no label is ever clipped.
 *
 * A figure (pl_fig) draws either on its own canvas, written as PNG by libpng
 * with text chunks (provenance), or into a box of a caller's cairo context (a
 * PDF page). Its header (title, subtitle, legend) and footer (small print)
 * take their room from the box; what is left is for the panels (pl_panel):
 * axes placed in a box, then series drawn through the panel's mapping.
 *
 *   style.c   palette, theme sizes, dashes, marker shapes, grids of panels
 *   text.c    Pango text: measured, aligned, rotated, cut with an ellipsis
 *   axis.c    ticks: nice linear steps, decades, minor ticks, labels
 *   panel.c   the plot area: margins from the text, frame, grid, tick labels
 *   series.c  lines, steps, points, error bars, bands, spans, rules, limits
 *   marks.c   labelled line markers above a panel (element lines)
 *   legend.c  the legend
 *   figure.c  the figure: canvas or context, title, legend, small print
 *   png.c     PNG with text chunks, written atomically */
#ifndef MAGASSAY_PLOT_ENGINE_H
#define MAGASSAY_PLOT_ENGINE_H

#include <cairo.h>
#include <stddef.h>

#include "magassay/plot.h"

#define PL_DOM "plot"

/* ---- style (style.c) ------------------------------------------------------------ */

typedef struct pl_rgb {
	double r, g, b;
} pl_rgb;

/* Okabe & Ito (2008), "Color Universal Design". */
enum { PL_BLACK, PL_ORANGE, PL_SKY, PL_GREEN, PL_YELLOW, PL_BLUE, PL_VERMILLION, PL_PURPLE, PL_NCOLOURS };
extern const pl_rgb pl_okabe_ito[PL_NCOLOURS];
extern const pl_rgb pl_grey, pl_light_grey;

/* The i-th colour of a sequence of series (strong colours first, yellow
 * last; cycling), and the dash that tells series apart once colours repeat. */
pl_rgb pl_series_colour(size_t i);
int pl_series_dash(size_t i);
/* c, or black where c is too pale to be read as text on white. */
pl_rgb pl_ink(pl_rgb c);
void pl_set(cairo_t *cr, pl_rgb c);

enum { PL_SOLID, PL_DASHED, PL_DOTTED, PL_DASHDOT };
/* Dash pattern scaled with the line width. */
void pl_set_dash(cairo_t *cr, int dash, double width);

enum { PL_CIRCLE, PL_SQUARE, PL_DIAMOND, PL_TRIANGLE };
/* A marker of radius r at (x, y) (user units): filled with a thin black
 * outline, or outlined only. */
void pl_marker(cairo_t *cr, double x, double y, double r, int shape, pl_rgb c, int filled);

/* Sizes in user units (px on screen, pt on a page). */
typedef struct pl_theme {
	double font;   /* base text size */
	double line;   /* base line width */
	double pad;    /* spacing unit */
} pl_theme;

void pl_theme_for(mg_plot_size size, pl_theme *th);

/* Columns and rows of a grid of n small panels in a box w × h. */
void pl_grid(size_t n, double w, double h, size_t *cols, size_t *rows);

/* ---- the figure (figure.c) ---------------------------------------------------- */

/* A text's box on the device (pixels on a canvas), for checking that nothing
 * leaves the picture and that no two texts overlap: the bounds, and the
 * corners of the (maybe turned) box in order. */
typedef struct pl_textbox {
	double x0, y0, x1, y1;
	double qx[4], qy[4];
} pl_textbox;

struct pl_text;

typedef struct pl_fig {
	cairo_t *cr;
	pl_theme th;
	mg_plot_size size;
	double x, y, w, h;       /* the figure's box, user units */
	double top, bottom;      /* the room left for panels: [top, bottom) */
	cairo_surface_t *surf;   /* own canvas (PNG), or NULL in a caller's context */
	struct pl_text *text;    /* Pango state (text.c) */
	int record;              /* record the device box of every text drawn */
	pl_textbox *boxes;
	size_t nboxes, capboxes;
} pl_fig;

/* A figure on its own canvas: the size of o (NULL: defaults); h_units > 0
 * replaces the size's height (stacked charts grow). MG_ERR_ARG for a width
 * outside 200..8000 px or a picture taller than 20000 px. */
int pl_fig_canvas(pl_fig *f, const mg_plot_opts *o, double h_units);
/* A figure in the box (x, y, w, h) of a caller's context (a PDF page), with
 * the sizes of `size`. The context is borrowed; its state is saved and
 * restored by pl_fig_end. */
int pl_fig_in(pl_fig *f, cairo_t *cr, mg_plot_size size, double x, double y, double w, double h);
/* Write the canvas as PNG with text chunks (kind: "xrf-spectrum", ...). */
int pl_fig_write_png(pl_fig *f, const char *kind, const mg_plot_meta *meta, const char *path);
/* Free what the figure holds (not a caller's context). */
void pl_fig_end(pl_fig *f);
/* Record the box of every text drawn from now on (f->boxes). */
void pl_fig_record_text(pl_fig *f, int on);
/* The text state of a figure (text.c; figure.c makes and frees it). */
int pl_text_init(pl_fig *f);
void pl_text_free(pl_fig *f);

/* The header and footer: each takes its room from the top (title, legend) or
 * the bottom (small print) of what is left. The title wraps onto a second
 * line when it is long and is cut with "…" after that. */
void pl_fig_title(pl_fig *f, const char *title, const char *subtitle);
/* Title, subtitle and the source in small print, from the metadata. */
void pl_fig_header(pl_fig *f, const mg_plot_meta *meta);
void pl_fig_footnote(pl_fig *f, const char *text);
void pl_fig_space(pl_fig *f, double h);

/* ---- text (text.c) ------------------------------------------------------------- */

/* Vertical alignment: PL_TOP puts the top of the line box at y; 0 the top of
 * the capitals, 0.5 their middle, 1 the baseline; PL_BOTTOM the bottom of the
 * line box. Horizontal: 0 left, 0.5 centre, 1 right. */
#define PL_TOP (-1.0)
#define PL_BOTTOM 2.0

/* The current font: size th.font × scale, bold or not. */
void pl_font(pl_fig *f, double scale, int bold);
double pl_font_size(const pl_fig *f);
/* Height of a line of the current font. */
double pl_line_height(pl_fig *f);

/* Plain text (any UTF-8); returns the width drawn. */
double pl_text(pl_fig *f, double x, double y, const char *s, double ha, double va);
/* Pango markup ("10<sup>3</sup>"); returns the width drawn. */
double pl_markup(pl_fig *f, double x, double y, const char *markup, double ha, double va);
double pl_text_width(pl_fig *f, const char *s);
double pl_markup_width(pl_fig *f, const char *markup);
/* Plain text cut with "…" (at the end, or in the middle when middle: file
 * names) to fit max_w; returns the width drawn. */
double pl_text_fit(pl_fig *f, double x, double y, const char *s, double max_w, double ha, double va, int middle);
/* Text turned a quarter anticlockwise (a y axis label, read upwards),
 * centred on y along its length, the bottom of its line box on x (the text
 * lies left of x); made smaller, then cut, to fit max_len. */
void pl_text_up(pl_fig *f, double x, double y, const char *s, double max_len);
/* Wrapped text in a box of width w, at most max_lines lines (cut with "…"
 * after); returns the height used. */
double pl_text_wrap(pl_fig *f, double x, double y, const char *s, double w, int max_lines);

/* ---- axes and panels (axis.c, panel.c) ----------------------------------------- */

typedef struct pl_axis {
	double min, max;
	int log;             /* log10 axis (min, max > 0) */
	const char *label;   /* with its unit: "Energy (keV)"; NULL: none */
	const char *const *cat; /* categories (samples) at 0, 1, ... ncat − 1: a tick and */
	size_t ncat;            /* its name each (x axis; turned 45° when they crowd) */
	int integers;        /* ticks at whole numbers only (a count, an index) */
} pl_axis;

#define PL_MAX_TICKS 64

typedef struct pl_ticks {
	size_t n;
	double v[PL_MAX_TICKS];
	char label[PL_MAX_TICKS][40];  /* Pango markup */
	const char *text[PL_MAX_TICKS]; /* plain text instead of label (category names), or NULL */
	size_t nminor;
	double minor[PL_MAX_TICKS];
} pl_ticks;

/* Ticks for an axis of length len (user units), as many as fit without their
 * labels touching (horizontal: side by side; else stacked). Linear axes: 1,
 * 2 or 5 × 10ᵏ steps, minor ticks between. Log axes: every decade (or every
 * k-th when they crowd) labelled 10ⁿ, 2…9 × 10ⁿ as minor ticks; below two
 * decades 2× and 5× are labelled too. Category axes: every category (every
 * k-th beyond PL_MAX_TICKS). */
void pl_axis_ticks(pl_fig *f, const pl_axis *a, double len, int horizontal, pl_ticks *t);
/* A linear tick label with the decimals the step needs, "−" for minus. */
void pl_tick_label(char *buf, size_t cap, double v, double step);
/* "10<sup>k</sup>" (Pango markup; "−" for a negative k). */
void pl_decade_label(char *buf, size_t cap, int k);

typedef struct pl_panel {
	pl_axis x, y;
	int xlabels;         /* tick labels and axis label under the panel (0: stacked above another) */
	double left;         /* left margin imposed (stacked panels align); 0 = from the text */
	double right;        /* extra room right of the plot area (labels of limit lines) */
	double x0, y0, w, h; /* the plot area, set by pl_panel_place */
	int cat_turned;      /* category names turned 45° (pl_panel_place) */
	double cat_len;      /* longest name drawn, user units (longer ones are cut) */
	size_t cat_every;    /* every k-th name shown when even turned they would touch */
} pl_panel;

/* Data → user coordinates (clamped far outside so cairo never sees infinities). */
double pl_px(const pl_panel *p, double x);
double pl_py(const pl_panel *p, double y);
/* Place the plot area in the box, leaving room, measured from the text, for
 * the tick labels and axis labels. p->x, p->y (ranges, labels), xlabels,
 * left and right must be set. */
void pl_panel_place(pl_fig *f, pl_panel *p, double bx, double by, double bw, double bh);
/* The left margin pl_panel_place would use for a panel of height h. */
double pl_panel_left_margin(pl_fig *f, const pl_panel *p, double h);
/* Grid, frame, major and minor ticks, tick labels and axis labels. */
void pl_panel_axes(pl_fig *f, const pl_panel *p);
/* Clip to the plot area (saves the state); pl_panel_unclip restores it. */
void pl_panel_clip(pl_fig *f, const pl_panel *p);
void pl_panel_unclip(pl_fig *f);

/* ---- series (series.c), all in data coordinates of a panel -------------------------- */

/* A polyline; breaks at non-finite values (on a log axis at values <= 0,
 * unless floor > 0, which replaces them). */
void pl_line(pl_fig *f, const pl_panel *p, const double *x, const double *y, size_t n, pl_rgb c, double width,
             int dash, double floor);
/* A histogram: one step per value, the bin edges half-way between the x. */
void pl_steps(pl_fig *f, const pl_panel *p, const double *x, const double *y, size_t n, pl_rgb c, double width,
              double floor);
/* Points: markers of radius r (shape PL_CIRCLE...); shape -1 = small dots
 * (filled, no outline: thousands of channels). Non-finite values and, on a log
 * axis, values <= 0 are skipped. */
void pl_points(pl_fig *f, const pl_panel *p, const double *x, const double *y, size_t n, int shape, double r,
               pl_rgb c);
/* A vertical error bar from lo to hi at x with caps of half-width cap. */
void pl_errorbar(pl_fig *f, const pl_panel *p, double x, double lo, double hi, double cap, pl_rgb c, double width);
/* A band filled between lo and hi (non-finite values break it). */
void pl_band(pl_fig *f, const pl_panel *p, const double *x, const double *lo, const double *hi, size_t n,
             pl_rgb c, double alpha);
/* A shaded x range over the panel's height. */
void pl_xspan(pl_fig *f, const pl_panel *p, double x0, double x1, pl_rgb c, double alpha);
/* Rules across the panel. */
void pl_hline(pl_fig *f, const pl_panel *p, double y, pl_rgb c, double width, int dash);
void pl_vline(pl_fig *f, const pl_panel *p, double x, pl_rgb c, double width, int dash);
/* A limit line (control limits): a rule with its label in the right margin
 * (p->right from pl_limit_room). */
void pl_limit(pl_fig *f, const pl_panel *p, double y, const char *label, pl_rgb c, double width, int dash);
double pl_limit_room(pl_fig *f, const char *const *labels, size_t n);
/* A label beside a data point, in the current font, kept inside the plot
 * area, on a white halo; above the point, or below when above is false or
 * there is no room. */
void pl_point_label(pl_fig *f, const pl_panel *p, double x, double y, const char *s, pl_rgb c, int above,
                    double gap);

/* ---- line markers (marks.c) ---------------------------------------------------------- */

typedef struct pl_mark {
	double x;             /* data x of the line */
	double peak;          /* data y the guide reaches down to; NAN = the bottom of the panel */
	const char *label;    /* "Fe Kα" */
	pl_rgb c;
} pl_mark;

/* The height of the band above the panel's plot area that holds the labels of
 * the marks (rows so that no two overlap, at most max_rows; marks without
 * room keep their guide only). Needs the panel's horizontal placement. */
double pl_marks_band(pl_fig *f, const pl_panel *p, const pl_mark *m, size_t n, int max_rows);
/* Draw them: labels in the band above the plot area, dotted guides down to
 * the peaks. */
void pl_marks(pl_fig *f, const pl_panel *p, const pl_mark *m, size_t n, int max_rows);

/* ---- legend (legend.c) ----------------------------------------------------------------- */

typedef struct pl_legend_item {
	const char *label;
	pl_rgb c;
	int dash;        /* -1: no line, else PL_SOLID... */
	int marker;      /* -1: no marker, else PL_CIRCLE... */
	double width;    /* line width; 0 = the theme's */
	int swatch;      /* 1: a filled box (bands, spans) */
} pl_legend_item;

/* A legend laid out in rows within width w from (x, y) (top-left); returns
 * its height. draw = 0 only measures. */
double pl_legend(pl_fig *f, double x, double y, double w, const pl_legend_item *it, size_t n, int draw);
/* The legend under the title, across the figure. */
void pl_fig_legend(pl_fig *f, const pl_legend_item *it, size_t n);

/* ---- PNG (png.c) ------------------------------------------------------------------------- */

/* An image surface as PNG (8-bit RGB) with the text chunks of the metadata
 * ("Title", "Software", "Plot", "Sample ID", "Batch", "Calibration",
 * "Source", "Description", "Creation Time"; tEXt for ASCII, iTXt for other
 * UTF-8), written atomically. */
int pl_png_write(cairo_surface_t *surf, const char *path, const char *kind, const mg_plot_meta *meta);

#endif
