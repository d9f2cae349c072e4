/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "icp_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/log.h"

static void log_to_stderr(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "[%d %s] %s\n", level, domain, msg);
}

void icp_log_init(void)
{
	const char *v = getenv("MG_ICP_VERBOSE");
	mg_log_set_handler(log_to_stderr, NULL);
	mg_log_set_level(v ? atoi(v) : MG_LOG_ERR);
}

double icp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

size_t icp_lines(mg_icp_line *l)
{
	static const struct {
		const char *el;
		double wl;
		int is;
	} set[] = {{"Nd", 430.358, 0}, {"Pr", 414.311, 0}, {"Dy", 353.170, 0}, {"Tb", 350.917, 0}, {"Fe", 259.940, 0},
	           {"Co", 228.616, 0}, {"B", 208.957, 0},  {"B", 249.773, 0},  {"Y", 371.030, 1}};
	size_t n = sizeof(set) / sizeof(set[0]);
	memset(l, 0, n * sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		snprintf(l[i].element, sizeof(l[i].element), "%s", set[i].el);
		l[i].wavelength_nm = set[i].wl;
		snprintf(l[i].label, sizeof(l[i].label), "%s %.3f", set[i].el, set[i].wl);
		l[i].is_internal_std = set[i].is;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double icp_net(const mg_icp_window *w, double wl)
{
	double bg[MG_ICP_MAX_PIXELS];
	size_t nb = 0;
	for (size_t i = 0; i < w->npix; i++)
		if (fabs(w->wavelength_nm[i] - wl) > 0.025)
			bg[nb++] = w->intensity[i];
	if (nb == 0)
		return NAN;
	qsort(bg, nb, sizeof(bg[0]), cmp_double);
	double b = nb % 2 ? bg[nb / 2] : 0.5 * (bg[nb / 2 - 1] + bg[nb / 2]);
	double net = 0;
	for (size_t i = 0; i < w->npix; i++)
		if (fabs(w->wavelength_nm[i] - wl) <= 0.016)
			net += w->intensity[i] - b;
	return net;
}

double icp_centroid(const mg_icp_window *w, double wl)
{
	double bg[MG_ICP_MAX_PIXELS];
	size_t nb = 0;
	for (size_t i = 0; i < w->npix; i++)
		if (fabs(w->wavelength_nm[i] - wl) > 0.025)
			bg[nb++] = w->intensity[i];
	qsort(bg, nb, sizeof(bg[0]), cmp_double);
	double b = nb ? bg[nb / 2] : 0, s = 0, sw = 0;
	for (size_t i = 0; i < w->npix; i++)
		if (fabs(w->wavelength_nm[i] - wl) <= 0.016) {
			s += w->intensity[i] - b;
			sw += (w->intensity[i] - b) * w->wavelength_nm[i];
		}
	return s > 0 ? sw / s : NAN;
}

double icp_ratio(const mg_icp_measurement *m, size_t l, size_t is)
{
	double sum = 0;
	for (size_t r = 0; r < m->nreplicates; r++)
		sum += icp_net(&m->replicate[r].window[l], m->line[l].wavelength_nm) /
		       icp_net(&m->replicate[r].window[is], m->line[is].wavelength_nm);
	return sum / (double)m->nreplicates;
}

void icp_check_measurement(const mg_icp_measurement *m, const char *what, int position, size_t nlines, unsigned reps)
{
	CHECK_MSG(m->position == position, "%s: position %d", what, m->position);
	CHECK_MSG(m->nlines == nlines, "%s: %zu lines", what, m->nlines);
	CHECK_MSG(m->nreplicates == reps, "%s: %zu replicates", what, m->nreplicates);
	CHECK_MSG(strlen(m->start_time) == 20 && m->start_time[19] == 'Z', "%s: start time '%s'", what, m->start_time);
	CHECK_MSG(m->plasma.lit == 1 && fabs(m->plasma.rf_power_w - 1300) < 10, "%s: plasma %d %g W", what, m->plasma.lit,
	          m->plasma.rf_power_w);
	CHECK(fabs(m->plasma.nebulizer_flow_lmin - 0.7) < 0.01 && fabs(m->plasma.plasma_flow_lmin - 12) < 0.1);
	for (size_t r = 0; r < m->nreplicates && r < MG_ICP_MAX_REPLICATES; r++) {
		CHECK_MSG(m->replicate[r].integration_s > 0, "%s: replicate %zu integration", what, r);
		for (size_t l = 0; l < m->nlines && l < MG_ICP_MAX_LINES; l++) {
			const mg_icp_window *w = &m->replicate[r].window[l];
			CHECK_MSG(w->npix >= 16 && w->npix <= MG_ICP_MAX_PIXELS, "%s: %zu pixels", what, w->npix);
			if (w->npix < 3)
				continue;
			CHECK_MSG(w->wavelength_nm[0] < m->line[l].wavelength_nm &&
			                  m->line[l].wavelength_nm < w->wavelength_nm[w->npix - 1],
			          "%s: window of %s", what, m->line[l].label);
			for (size_t i = 0; i < w->npix; i++)
				if (!isfinite(w->intensity[i]) || (i && w->wavelength_nm[i] <= w->wavelength_nm[i - 1])) {
					CHECK_MSG(0, "%s: line %zu replicate %zu pixel %zu", what, l, r, i);
					break;
				}
		}
	}
}

void icp_e2e_basic(mg_icp_device *dev, mg_icpsim *truth, const char *what)
{
	const mg_icp_identity *id = mg_icp_get_identity(dev);
	CHECK_MSG(!strcmp(id->manufacturer, "magassay") && !strcmp(id->model, "SIM-ICP-OES"), "%s: identity %s %s", what,
	          id->manufacturer, id->model);
	CHECK_MSG(!strcmp(id->profile, "magassay-sim-icp"), "%s: profile %s", what, id->profile);
	mg_icp_identity again;
	CHECK_RC(mg_icp_identify(dev, &again), MG_OK);
	CHECK(!strcmp(again.serial, id->serial));

	mg_icp_plasma pl;
	CHECK_RC(mg_icp_plasma_status(dev, &pl), MG_OK);
	CHECK_MSG(pl.lit == 1 && pl.rf_power_w > 1200 && pl.aux_flow_lmin > 0.5, "%s: plasma", what);

	mg_icp_line lines[MG_ICP_MAX_LINES];
	size_t n = icp_lines(lines);
	size_t iy = n - 1, ind = 0, ife = 4, ib208 = 6, ib249 = 7;
	CHECK_RC(mg_icp_configure(dev, lines, n, 1.0, 3), MG_OK);

	mg_icp_measurement *blank = mg_icp_measurement_new(), *std = mg_icp_measurement_new(),
	                   *dig = mg_icp_measurement_new();
	CHECK_RC(mg_icp_measure(dev, POS_BLANK, "CAL BLANK", blank), MG_OK);
	icp_check_measurement(blank, what, POS_BLANK, n, 3);
	CHECK(!strcmp(blank->sample_label, "CAL BLANK"));
	CHECK_RC(mg_icp_measure(dev, POS_STD4, "STD 4", std), MG_OK);
	icp_check_measurement(std, what, POS_STD4, n, 3);
	CHECK_RC(mg_icp_measure(dev, POS_N42SH, "N42SH-A", dig), MG_OK);
	icp_check_measurement(dig, what, POS_N42SH, n, 3);

	/* the blank has next to no Nd; the internal standard is there in every solution */
	double nd_blank = icp_net(&blank->replicate[0].window[ind], 430.358);
	double nd_std = icp_net(&std->replicate[0].window[ind], 430.358);
	double y_blank = icp_net(&blank->replicate[0].window[iy], 371.030);
	CHECK_MSG(fabs(nd_blank) < 0.002 * nd_std, "%s: blank Nd %g vs standard %g", what, nd_blank, nd_std);
	CHECK_MSG(y_blank > 1e5, "%s: internal standard in the blank %g", what, y_blank);

	/* replicates agree (RSD of the Nd net counts < 2 %) */
	double s = 0, s2 = 0;
	for (size_t r = 0; r < 3; r++) {
		double v = icp_net(&std->replicate[r].window[ind], 430.358);
		s += v;
		s2 += v * v;
	}
	double mean = s / 3, sd = sqrt(fmax(0, (s2 - 3 * mean * mean) / 2));
	CHECK_MSG(sd / mean < 0.02, "%s: Nd replicate RSD %.3f %%", what, 100 * sd / mean);

	/* internal-standard ratios follow the truth: digest / standard */
	const char *els[] = {"Nd", "Pr", "Dy", "Fe", "B"};
	size_t idx[] = {0, 1, 2, 4, 6};
	for (size_t k = 0; k < 5; k++) {
		double cs, cd;
		CHECK_RC(mg_icpsim_truth(truth, POS_STD4, els[k], &cs), MG_OK);
		CHECK_RC(mg_icpsim_truth(truth, POS_N42SH, els[k], &cd), MG_OK);
		double got = icp_ratio(dig, idx[k], iy) / icp_ratio(std, idx[k], iy), want = cd / cs;
		CHECK_MSG(fabs(got / want - 1) < 0.04, "%s: %s digest/standard %.4f, truth %.4f", what, els[k], got, want);
	}
	/* B 249.773 sits on Fe 249.782: in the Fe-rich digest the peak there is mostly Fe (its
	 * centroid moves towards 249.782); B 208.957 is clean and follows the truth */
	double cs, cd;
	mg_icpsim_truth(truth, POS_STD4, "B", &cs);
	mg_icpsim_truth(truth, POS_N42SH, "B", &cd);
	double c249 = icp_centroid(&dig->replicate[0].window[ib249], 249.773);
	double c208 = icp_centroid(&dig->replicate[0].window[ib208], 208.957);
	double b208 = icp_ratio(dig, ib208, iy) / icp_ratio(std, ib208, iy);
	CHECK_MSG(c249 > 249.7765 && fabs(c208 - 208.957) < 0.0015 && fabs(b208 / (cd / cs) - 1) < 0.04,
	          "%s: centroids B 249 %.4f, B 208 %.4f; B 208 ratio %.3f, truth %.3f", what, c249, c208, b208, cd / cs);
	(void)ife;

	/* an instrument error, drained with a clear message */
	mg_icp_line bad = lines[0];
	bad.wavelength_nm = 406.200;
	snprintf(bad.label, sizeof(bad.label), "Nd 406.200");
	int rc = mg_icp_configure(dev, &bad, 1, 1.0, 1);
	CHECK_MSG(rc == MG_ERR_DEVICE, "%s: a line not in the library gave %d", what, rc);
	CHECK_MSG(strstr(mg_error_detail(), "-224") && strstr(mg_error_detail(), "Illegal parameter value") &&
	                  strstr(mg_error_detail(), "406.2000"),
	          "%s: detail '%s'", what, mg_error_detail());
	CHECK_RC(mg_icp_drain_errors(dev, NULL, 0), 0);
	/* the configuration in force is unchanged: measuring still needs a new configure */
	CHECK_RC(mg_icp_measure(dev, POS_BLANK, "x", blank), MG_ERR_ARG);
	CHECK_RC(mg_icp_configure(dev, lines, n, 0.5, 2), MG_OK);
	CHECK_RC(mg_icp_measure(dev, POS_BLANK, "again", blank), MG_OK);
	icp_check_measurement(blank, what, POS_BLANK, n, 2);

	mg_icp_measurement_free(blank);
	mg_icp_measurement_free(std);
	mg_icp_measurement_free(dig);
}
