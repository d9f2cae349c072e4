/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Real files from ../shared/data read by content detection: the two Bruker
 * .spx files, PyMca's Steel.spe (ORTEC-like) and XRFSpectrum.mca (bare
 * column). Totals are checked against sums computed here independently, by
 * crude text extraction in plain C (no library parser involved). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/format.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b) {
		b[n] = '\0';
		*len = (size_t)n;
	}
	return b;
}

/* Sum and count of the comma-separated integers in the first <Channels> element. */
static int spx_sum(const char *path, double *sum, size_t *count)
{
	size_t len;
	char *t = slurp(path, &len);
	if (!t)
		return -1;
	char *p = strstr(t, "<Channels>"), *end = p ? strstr(p, "</Channels>") : NULL;
	if (!p || !end) {
		free(t);
		return -1;
	}
	p += strlen("<Channels>");
	*sum = 0;
	*count = 0;
	while (p < end) {
		char *q;
		long v = strtol(p, &q, 10);
		if (q == p)
			break;
		*sum += (double)v;
		(*count)++;
		p = q;
		if (*p == ',')
			p++;
	}
	free(t);
	return 0;
}

/* Sum and count of the numbers after the "first last" line of $DATA:. */
static int spe_sum(const char *path, double *sum, size_t *count)
{
	size_t len;
	char *t = slurp(path, &len);
	if (!t)
		return -1;
	char *p = strstr(t, "$DATA:");
	if (!p) {
		free(t);
		return -1;
	}
	p = strchr(p, '\n');
	p = p ? strchr(p + 1, '\n') : NULL; /* skip "first last" */
	*sum = 0;
	*count = 0;
	while (p && *p && *p != '$') {
		char *q;
		double v = strtod(p, &q);
		if (q == p) {
			if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
				p++;
				continue;
			}
			break;
		}
		*sum += v;
		(*count)++;
		p = q;
	}
	free(t);
	return 0;
}

/* Sum and count of the lines that do not start with '#'. */
static int column_sum(const char *path, double *sum, size_t *count)
{
	FILE *f = fopen(path, "r");
	char line[256];
	if (!f)
		return -1;
	*sum = 0;
	*count = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n' || line[0] == '\r')
			continue;
		*sum += strtod(line, NULL);
		(*count)++;
	}
	fclose(f);
	return 0;
}

static mg_spectrum *read_detected(const char *path, mg_format_id want)
{
	const mg_format *f = NULL;
	mg_spectrum *s = NULL;
	int rc = mg_spectrum_read_file(path, &f, &s);
	CHECK_MSG(rc == MG_OK, "%s: %s", path, mg_error_detail());
	if (rc != MG_OK)
		return NULL;
	CHECK_MSG(f && f->id == want, "%s: detected as %s", path, f ? f->name : "(null)");
	CHECK(mg_spectrum_validate(s) == MG_OK);
	return s;
}

struct spx_case {
	const char *file;
	double live_s, real_s, total;
	const char *anode, *start;
	double tube_ua;
};

static void check_spx(const char *dir, const struct spx_case *c)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/nist-bruker-spx/%s", dir, c->file);
	double sum = -1;
	size_t count = 0;
	CHECK_MSG(spx_sum(path, &sum, &count) == 0, "%s: no <Channels> found by text search", path);
	mg_spectrum *s = read_detected(path, MG_FORMAT_SPX);
	if (!s)
		return;
	CHECK(s->nchan == 4096);
	CHECK(count == s->nchan);
	CHECK_NEAR(mg_spectrum_total(s), sum, 0);
	CHECK_NEAR(mg_spectrum_total(s), c->total, 0);
	CHECK_NEAR(s->live_time_s, c->live_s, 1e-9);
	CHECK_NEAR(s->real_time_s, c->real_s, 1e-9);
	CHECK(s->cal.valid);
	CHECK_NEAR(s->cal.offset_kev, -0.95639563, 1e-12);
	CHECK_NEAR(s->cal.gain_kev, 0.010001, 1e-12);
	CHECK(s->cal.quad_kev == 0);
	CHECK_MSG(strcmp(s->start_time, c->start) == 0, "%s: start '%s'", c->file, s->start_time);
	CHECK(s->instrument.model && strcmp(s->instrument.model, "XFlash 430") == 0);
	CHECK(s->instrument.serial && strcmp(s->instrument.serial, "11881_0239") == 0);
	CHECK(s->instrument.detector && strstr(s->instrument.detector, "0.45 mm"));
	CHECK(s->acq.anode && strcmp(s->acq.anode, c->anode) == 0);
	CHECK_NEAR(s->acq.tube_kv, 50, 0);
	CHECK_NEAR(s->acq.tube_ua, c->tube_ua, 0);
	CHECK(s->acq.filter && strcmp(s->acq.filter, "Al:12.5") == 0);
	CHECK(s->acq.atmosphere && strcmp(s->acq.atmosphere, "vacuum") == 0);
	/* Fe K-alpha (6.404 keV) sits near channel 736 with this calibration. */
	CHECK(mg_spectrum_channel(s, 6.404) == 736);
	CHECK(mg_kvlist_get(&s->meta, "spx.TRTDetectorHeader.DetLayers") != NULL);
	CHECK(mg_kvlist_get(&s->meta, "spx.TRTSpectrumHardwareHeader.DeadTime") != NULL);
	fprintf(stderr, "%s: %zu channels, total %.0f, live %.3f s, real %.3f s, E = %.8f + %.6f ch keV, %s\n",
	        c->file, s->nchan, mg_spectrum_total(s), s->live_time_s, s->real_time_s, s->cal.offset_kev,
	        s->cal.gain_kev, s->start_time);
	mg_spectrum_free(s);
}

int main(void)
{
	const char *dir = mg_test_require_data_dir();

	static const struct spx_case spx[] = {
		{"20170510_D1_Mo_50kv_100mA_acryl_f1_0.spx", 300.313, 309.385, 6886125, "Mo", "2017-05-10T12:26:24", 100},
		{"20170510_D1_Rh_50kv_100mA_acryl_f1_0.spx", 300.313, 319.345, 10844505, "Rh", "2017-05-10T11:02:59", 99},
	};
	for (size_t i = 0; i < sizeof(spx) / sizeof(spx[0]); i++)
		check_spx(dir, &spx[i]);

	char path[1024];
	double sum = -1;
	size_t count = 0;
	snprintf(path, sizeof(path), "%s/pymca/Steel.spe", dir);
	CHECK(spe_sum(path, &sum, &count) == 0);
	mg_spectrum *s = read_detected(path, MG_FORMAT_SPE);
	if (s) {
		CHECK(s->nchan == 2048);
		CHECK(count == 2048);
		CHECK_NEAR(mg_spectrum_total(s), sum, 0);
		CHECK_NEAR(mg_spectrum_total(s), 5607017, 0);
		CHECK(!s->cal.valid); /* Steel.cfg holds the calibration, not the file */
		fprintf(stderr, "Steel.spe: %zu channels, total %.0f\n", s->nchan, mg_spectrum_total(s));
		mg_spectrum_free(s);
	}

	snprintf(path, sizeof(path), "%s/pymca/XRFSpectrum.mca", dir);
	CHECK(column_sum(path, &sum, &count) == 0);
	s = read_detected(path, MG_FORMAT_COLUMNS);
	if (s) {
		CHECK(s->nchan == 4096);
		CHECK(count == 4096);
		CHECK_NEAR(mg_spectrum_total(s), sum, 0);
		CHECK_NEAR(mg_spectrum_total(s), 56640073, 0);
		CHECK(!s->cal.valid);
		CHECK(mg_kvlist_get(&s->meta, "columns.comment") != NULL);
		fprintf(stderr, "XRFSpectrum.mca: %zu channels, total %.0f, %zu comment lines\n", s->nchan,
		        mg_spectrum_total(s), s->meta.count);
		mg_spectrum_free(s);
	}
	return mg_test_finish("test_realdata_other");
}
