/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Plot data made in the test (not read from a store): an NdFeB-like XRF
 * spectrum whose family contributions are known because they were made here,
 * ICP windows, calibration curves and a control chart. Shared by the report
 * tests and the tool that renders docs/img. Header-only. */
#ifndef MG_TEST_SYNTH_PLOTS_H
#define MG_TEST_SYNTH_PLOTS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/qc.h"
#include "magassay/report.h"

#define SP_N 1024
#define SP_NF 6

typedef struct sp_xrf {
	double e[SP_N], y[SP_N], fit[SP_N], bg[SP_N], fam[SP_NF][SP_N];
	mg_plot_curve families[SP_NF];
	mg_plot_marker markers[12];
	mg_plot_xrf d;
} sp_xrf;

static inline double sp_gauss(double e, double c, double fwhm)
{
	double s = fwhm / 2.3548, z = (e - c) / s;
	return exp(-0.5 * z * z) / (s * sqrt(2 * M_PI));
}

static inline void sp_xrf_make(sp_xrf *x)
{
	static const struct {
		const char *label;
		double lines[4][2]; /* keV, relative intensity */
		double area;
	} F[SP_NF] = {
		{"Fe K", {{6.404, 1.0}, {7.058, 0.13}}, 9.0e5},
		{"Co K", {{6.930, 1.0}, {7.649, 0.13}}, 1.6e4},
		{"Nd L", {{5.230, 1.0}, {5.722, 0.55}, {6.090, 0.12}, {4.633, 0.05}}, 2.2e5},
		{"Pr L", {{5.034, 1.0}, {5.489, 0.55}, {5.850, 0.12}, {4.453, 0.05}}, 5.2e4},
		{"Dy L", {{6.495, 1.0}, {7.248, 0.55}, {7.638, 0.12}, {5.743, 0.05}}, 3.0e4},
		{"Tb L", {{6.273, 1.0}, {6.978, 0.55}, {7.367, 0.12}, {5.546, 0.05}}, 4.0e3},
	};
	unsigned long long r = 12345;
	memset(x, 0, sizeof(*x));
	for (int i = 0; i < SP_N; i++) {
		double e = 0.02 * i;
		x->e[i] = e;
		x->bg[i] = e > 1 ? 40 + 900 * exp(-0.5 * ((e - 9.5) / 4.0) * (e - 9.5) / 4.0) : 0;
		double m = x->bg[i];
		for (int f = 0; f < SP_NF; f++) {
			double sum = 0, v = 0;
			for (int k = 0; k < 4; k++)
				sum += F[f].lines[k][1];
			for (int k = 0; k < 4; k++) {
				double c = F[f].lines[k][0];
				if (c <= 0)
					continue;
				double fw = sqrt(0.08 * 0.08 + 2.3548 * 2.3548 * 0.114 * 0.00385 * c);
				v += F[f].area * F[f].lines[k][1] / sum * sp_gauss(e, c, fw) * 0.02;
			}
			x->fam[f][i] = v;
			m += v;
		}
		x->fit[i] = e > 1.0 && e < 12 ? m : NAN;
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		double g = ((double)(r % 20001) / 10000.0 - 1.0) * 1.7;
		double c = m + sqrt(m + 1) * g;
		x->y[i] = c > 0 ? round(c) : 0;
		if (e <= 1)
			x->y[i] = 0;
	}
	for (int f = 0; f < SP_NF; f++)
		x->families[f] = (mg_plot_curve){F[f].label, x->fam[f]};
	static const mg_plot_marker mk[] = {
		{"Fe K\xCE\xB1", 6.404}, {"Fe K\xCE\xB2", 7.058}, {"Co K\xCE\xB1", 6.930}, {"Nd L\xCE\xB1", 5.230},
		{"Nd L\xCE\xB2", 5.722}, {"Pr L\xCE\xB1", 5.034}, {"Dy L\xCE\xB1", 6.495}, {"Tb L\xCE\xB1", 6.273},
		{"Pr L\xCE\xB2", 5.489}, {"Dy L\xCE\xB2", 7.248}, {"Tb L\xCE\xB2", 6.978}, {"Nd L\xCE\xB3", 6.090},
	};
	memcpy(x->markers, mk, sizeof(mk));
	x->d = (mg_plot_xrf){SP_N, x->e, x->y, x->fit, x->bg, SP_NF, x->families, 12, x->markers, 0, 0, NULL};
}

typedef struct sp_icp {
	double x[3][41], y[3][41], f[3][41], b[3][41];
	mg_plot_icp_window w[3];
} sp_icp;

static inline void sp_icp_make(sp_icp *s)
{
	static const char *const lab[] = {"Nd 430.358", "Dy 353.170", "B 208.957"};
	static const double nm[] = {430.358, 353.170, 208.957}, amp[] = {21000, 3100, 900};
	for (int k = 0; k < 3; k++) {
		for (int p = 0; p < 41; p++) {
			double x = nm[k] - 0.1 + 0.005 * p, d = (x - nm[k]) / 0.011;
			s->x[k][p] = x;
			s->b[k][p] = 300 + 400 * (x - nm[k] + 0.1);
			s->f[k][p] = s->b[k][p] + amp[k] * (0.7 * exp(-0.5 * d * d) + 0.3 / (1 + d * d));
			s->y[k][p] = s->f[k][p] + sqrt(s->f[k][p]) * sin(3.1 * p + k);
		}
		s->w[k] = (mg_plot_icp_window){lab[k], nm[k], 41, s->x[k], s->y[k], s->f[k], s->b[k]};
	}
}

typedef struct sp_cal {
	double x[2][6], y[2][6];
	mg_plot_calcurve c[2];
} sp_cal;

static inline void sp_cal_make(sp_cal *s)
{
	static const double xs[6] = {0, 1, 2, 5, 10, 20};
	for (int i = 0; i < 6; i++) {
		s->x[0][i] = s->x[1][i] = xs[i];
		s->y[0][i] = 4 + 210 * xs[i] + 3 * sin(i * 1.7);
		s->y[1][i] = 1 + 260 * xs[i] - 1.5 * xs[i] * xs[i] + 2 * cos(i * 2.1);
	}
	s->c[0] = (mg_plot_calcurve){"Nd 430.358", "Concentration (mg/L)", "Net intensity (counts)", 6, s->x[0], s->y[0],
	                             2, {4, 210, 0}, NAN};
	s->c[1] = (mg_plot_calcurve){"Dy 353.170", "Concentration (mg/L)", "Net intensity (counts)", 6, s->x[1], s->y[1],
	                             3, {1, 260, -1.5}, NAN};
}

typedef struct sp_ctl {
	double v[30];
	unsigned f[30];
	int b[30];
	mg_plot_control c;
} sp_ctl;

/* 24 history points, then a batch of 6 with a 2-2s and a 1-3s. */
static inline void sp_ctl_make(sp_ctl *s)
{
	static const double z[30] = {-1.2, 0.8, 0.3, -0.5, 1.1, -0.9, 0.2, -0.1, 0.6, -1.0, 0.9, -0.4, 0.0, 0.5, -0.7,
	                             1.0,  -0.3, 0.4, -0.8, 0.7, -0.2, 0.1, -0.6, 0.3, 0.4, 2.4, 2.6, 1.2, 3.3, 0.5};
	for (int i = 0; i < 30; i++) {
		s->v[i] = 8.048 + 0.00066 * z[i] / 0.66;
		s->b[i] = i >= 24;
	}
	double m, sd;
	mg_qc_mean_sd(s->v, 24, &m, &sd);
	mg_westgard(s->v, 30, m, sd, MG_WG_ALL, s->f);
	s->c = (mg_plot_control){"Peak position Cu K\xCE\xB1 \xE2\x80\x94 SN-4711", "keV", 30, s->v, s->f, s->b, m, sd, NULL};
}

#endif
