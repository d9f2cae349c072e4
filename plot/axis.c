/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Ticks: linear axes step by 1, 2 or 5 × 10ᵏ with as many labels as fit
 * without touching, minor ticks between; log axes label their decades 10ⁿ
 * (a real superscript, Pango markup) with 2…9 × 10ⁿ as minor ticks, fewer
 * decades labelled when they crowd, and 2× and 5× labelled too when the axis
 * spans less than two decades. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "internal.h"

#define MINUS "\xE2\x88\x92" /* U+2212 reads better than a hyphen on an axis */

static double nice_step(double span, int target)
{
	if (!(span > 0) || target < 1)
		return 1;
	double raw = span / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
	return n * mag;
}

void pl_tick_label(char *buf, size_t cap, double v, double step)
{
	double av = fabs(v);
	if (av >= 1e6 || (av > 0 && av < 1e-4)) {
		snprintf(buf, cap, "%.3g", v);
	} else {
		int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
		if (dec > 6)
			dec = 6;
		snprintf(buf, cap, "%.*f", dec, v);
	}
	if (buf[0] == '-' && strlen(buf) + 3 < cap) {
		memmove(buf + 3, buf + 1, strlen(buf));
		memcpy(buf, MINUS, 3);
	}
}

void pl_decade_label(char *buf, size_t cap, int k)
{
	snprintf(buf, cap, "10<sup>%s%d</sup>", k < 0 ? MINUS : "", k < 0 ? -k : k);
}

static void add_major(pl_ticks *t, double v, const char *label)
{
	if (t->n >= PL_MAX_TICKS)
		return;
	t->v[t->n] = v;
	snprintf(t->label[t->n], sizeof(t->label[0]), "%s", label);
	t->n++;
}

static void add_minor(pl_ticks *t, double v)
{
	if (t->nminor < PL_MAX_TICKS)
		t->minor[t->nminor++] = v;
}

static void lin_ticks(const pl_axis *a, int target, pl_ticks *t, double *step_out)
{
	memset(t, 0, sizeof(*t));
	double step = nice_step(a->max - a->min, target);
	if (a->integers && step < 1)
		step = 1;
	*step_out = step;
	char b[40];
	for (double k = ceil(a->min / step - 1e-9); t->n < PL_MAX_TICKS; k++) {
		double v = k * step;
		if (v > a->max + step * 1e-9)
			break;
		if (fabs(v) < step * 1e-9)
			v = 0;
		pl_tick_label(b, sizeof(b), v, step);
		add_major(t, v, b);
	}
}

/* Minor ticks of a linear axis: fifths of a 1 or 5 step, quarters of a 2. */
static void lin_minor(const pl_axis *a, double step, double len, double min_gap, pl_ticks *t)
{
	double mant = step / pow(10, floor(log10(step) + 1e-9));
	double sub = step / (fabs(mant - 2) < 1e-6 ? 4 : 5);
	if (a->integers) { /* whole numbers between, or none */
		if (step < 2)
			return;
		sub = step / (fabs(mant - 2) < 1e-6 ? 2 : 5);
	}
	if (!(len * sub / (a->max - a->min) >= min_gap))
		return;
	for (double k = ceil(a->min / sub - 1e-9); t->nminor < PL_MAX_TICKS; k++) {
		double v = k * sub;
		if (v > a->max + sub * 1e-9)
			break;
		double r = v / step;
		if (fabs(r - round(r)) > 1e-6)
			add_minor(t, v);
	}
}

static void log_ticks(const pl_axis *a, int max_labels, double len, double min_gap, pl_ticks *t)
{
	memset(t, 0, sizeof(*t));
	double l0 = log10(a->min), l1 = log10(a->max);
	int lo = (int)ceil(l0 - 1e-9), hi = (int)floor(l1 + 1e-9);
	int ndec = hi - lo + 1, every = 1;
	while ((ndec + every - 1) / every > max_labels)
		every++;
	/* 2…9 × 10ⁿ as minor ticks when a decade is long enough for them */
	int minors = every == 1 && len * (log10(2)) / (l1 - l0) >= min_gap;
	char b[40];
	for (int k = (int)floor(l0); k <= hi; k++) {
		double d = pow(10, k);
		if (k >= lo) {
			if ((k - lo) % every == 0) {
				pl_decade_label(b, sizeof(b), k);
				add_major(t, d, b);
			} else {
				add_minor(t, d);
			}
		}
		for (int m = 2; m <= 9; m++) {
			double v = m * d;
			if (v < a->min || v > a->max)
				continue;
			if (ndec < 2 && (m == 2 || m == 5)) {
				snprintf(b, sizeof(b), "%g", v);
				add_major(t, v, b);
			} else if (minors) {
				add_minor(t, v);
			}
		}
	}
}

static double widest(pl_fig *f, const pl_ticks *t)
{
	double w = 0;
	for (size_t i = 0; i < t->n; i++)
		w = fmax(w, t->text[i] ? pl_text_width(f, t->text[i]) : pl_markup_width(f, t->label[i]));
	return w;
}

void pl_axis_ticks(pl_fig *f, const pl_axis *a, double len, int horizontal, pl_ticks *t)
{
	const pl_theme *th = &f->th;
	double min_gap = th->font * 0.3;
	pl_font(f, 0.9, 0);
	if (a->cat && a->ncat > 0) {
		memset(t, 0, sizeof(*t));
		size_t every = (a->ncat + PL_MAX_TICKS - 1) / PL_MAX_TICKS;
		for (size_t i = 0; i < a->ncat && t->n < PL_MAX_TICKS; i += every) {
			t->v[t->n] = (double)i;
			t->text[t->n] = a->cat[i] ? a->cat[i] : "";
			t->n++;
		}
		return;
	}
	if (a->log && a->min > 0 && a->max > a->min) {
		int maxl = (int)(len / (horizontal ? 3.5 * th->font : 1.8 * th->font));
		log_ticks(a, maxl < 2 ? 2 : maxl, len, min_gap, t);
		if (t->n >= 2)
			return;
		/* less than a decade and no 2× or 5× inside: plain values */
	}
	/* the most ticks whose labels keep apart: side by side with a gap of a
	 * font size, or stacked a line and a half apart */
	double step = 1;
	int target = horizontal ? 10 : 8;
	for (; target >= 2; target--) {
		lin_ticks(a, target, t, &step);
		double gap = len * step / fabs(a->max - a->min);
		if (gap >= (horizontal ? widest(f, t) + th->font : 1.5 * th->font))
			break;
	}
	if (target < 2)
		lin_ticks(a, 2, t, &step);
	if (!a->log)
		lin_minor(a, step, len, min_gap * 2, t);
}
