/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CSV spectra for spreadsheets and LIMS:
 *
 *   # magassay spectrum
 *   # live_time_s: 120.005            (metadata lines: fields.h keys)
 *   channel,energy_keV,counts
 *   0,-0.9553045,0
 *
 * The reader takes ',', ';' or TAB as the separator, the columns in the
 * header's order, and "energy_keV" optional. Channels must run 0..n-1. When
 * no "# calibration_kev:" line is present the calibration is the least-squares
 * quadratic through the energy column. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "formats.h"
#include "internal.h"
#include "text.h"

#define DOM "csv"

static int header_columns(const char *line, size_t n, char sep, int *col_ch, int *col_e, int *col_c,
                          int *ncols)
{
	int col = 0;
	*col_ch = *col_e = *col_c = -1;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != sep)
			continue;
		const char *f = line + start;
		size_t fn = i - start;
		mg_trim(&f, &fn);
		if (fn >= 2 && f[0] == '"' && f[fn - 1] == '"') {
			f++;
			fn -= 2;
		}
		if (mg_equals_ci(f, fn, "channel"))
			*col_ch = col;
		else if (mg_equals_ci(f, fn, "energy_keV") || mg_equals_ci(f, fn, "energy"))
			*col_e = col;
		else if (mg_equals_ci(f, fn, "counts"))
			*col_c = col;
		else
			return 0;
		col++;
		start = i + 1;
	}
	*ncols = col;
	return *col_ch >= 0 && *col_c >= 0;
}

static char find_separator(const char *line, size_t n)
{
	const char seps[] = {',', ';', '\t'};
	for (size_t k = 0; k < sizeof(seps); k++)
		if (memchr(line, seps[k], n))
			return seps[k];
	return 0;
}

static int probe(const unsigned char *data, size_t len)
{
	mg_lines it;
	const char *l;
	size_t n;
	if (mg_looks_binary(data, len < 4096 ? len : 4096))
		return 0;
	mg_lines_init(&it, data, len);
	while (mg_lines_next(&it, &l, &n) && it.lineno < 200) {
		mg_trim(&l, &n);
		if (n == 0 || l[0] == '#')
			continue;
		char sep = find_separator(l, n);
		int a, b, c, k;
		return sep && header_columns(l, n, sep, &a, &b, &c, &k) ? 90 : 0;
	}
	return 0;
}

static int parse_metadata(mg_spectrum *s, const char *l, size_t n, long lineno)
{
	/* "# key: value"; other comments are kept verbatim as meta "csv.comment" */
	l++;
	n--;
	mg_trim(&l, &n);
	const char *colon = memchr(l, ':', n);
	if (!colon || n == 0)
		goto comment;
	size_t kn = (size_t)(colon - l);
	for (size_t i = 0; i < kn; i++)
		if (l[i] == ' ')
			goto comment;
	char key[256], value[4096];
	const char *v = colon + 1;
	size_t vn = n - kn - 1;
	mg_trim(&v, &vn);
	if (kn == 0 || kn >= sizeof(key) || vn >= sizeof(value))
		goto comment;
	memcpy(key, l, kn);
	key[kn] = '\0';
	memcpy(value, v, vn);
	value[vn] = '\0';
	int rc = mg_fields_set(s, key, value);
	if (rc < 0)
		return mg_fail_line(rc, DOM, lineno, "%s", mg_error_detail());
	if (rc == 1)
		return MG_OK;
comment:
	if (n == 0 || mg_equals_ci(l, n, "magassay spectrum"))
		return MG_OK;
	char *text = mg_strndup_view(l, n);
	if (!text)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	int r = mg_kvlist_add(&s->meta, "csv.comment", text, NULL);
	free(text);
	return r;
}

static int read_csv(const unsigned char *data, size_t len, mg_spectrum **out)
{
	mg_lines it;
	const char *l;
	size_t n;
	int col_ch = -1, col_e = -1, col_c = -1, ncols = 0;
	char sep = 0;
	int rc = MG_OK;
	/* Channel values are collected first, the spectrum sized after. */
	size_t cap = 1024, count = 0;
	double *counts = malloc(cap * sizeof(double)), *energy = malloc(cap * sizeof(double));
	mg_spectrum *meta = mg_spectrum_new(1); /* resized once the channel count is known */
	if (!counts || !energy || !meta) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		goto fail;
	}
	if (mg_looks_binary(data, len)) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "binary bytes in a text file");
		goto fail;
	}
	mg_lines_init(&it, data, len);
	while (mg_lines_next(&it, &l, &n)) {
		mg_trim(&l, &n);
		if (n == 0)
			continue;
		if (l[0] == '#') {
			if (sep) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "comment line inside the data");
				goto fail;
			}
			if ((rc = parse_metadata(meta, l, n, it.lineno)) != MG_OK)
				goto fail;
			continue;
		}
		if (!sep) {
			sep = find_separator(l, n);
			if (!sep || !header_columns(l, n, sep, &col_ch, &col_e, &col_c, &ncols)) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno,
				                  "expected the header 'channel,energy_keV,counts'");
				goto fail;
			}
			continue;
		}
		if (count == MG_SPECTRUM_MAX_CHANNELS) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "more than %d channels",
			                  MG_SPECTRUM_MAX_CHANNELS);
			goto fail;
		}
		if (count == cap) {
			cap *= 2;
			double *c2 = realloc(counts, cap * sizeof(double));
			if (c2)
				counts = c2;
			double *e2 = realloc(energy, cap * sizeof(double));
			if (e2)
				energy = e2;
			if (!c2 || !e2) {
				rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
				goto fail;
			}
		}
		int col = 0;
		size_t start = 0;
		double ch = NAN, e = NAN, c = NAN;
		for (size_t i = 0; i <= n; i++) {
			if (i < n && l[i] != sep)
				continue;
			double v;
			if (col >= ncols || mg_parse_double(l + start, i - start, &v) != MG_OK) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "column %d: not a number", col + 1);
				goto fail;
			}
			if (col == col_ch)
				ch = v;
			else if (col == col_e)
				e = v;
			else if (col == col_c)
				c = v;
			col++;
			start = i + 1;
		}
		if (col != ncols) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "%d columns, the header has %d", col, ncols);
			goto fail;
		}
		if (ch != (double)count) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "channel %g where %zu was expected", ch, count);
			goto fail;
		}
		if (!mg_check_count(c)) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "negative counts (%g)", c);
			goto fail;
		}
		counts[count] = c;
		energy[count] = e;
		count++;
	}
	if (!sep) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "no 'channel,energy_keV,counts' header");
		goto fail;
	}
	if (count == 0) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "no data rows after the header");
		goto fail;
	}
	if ((rc = mg_spectrum_resize(meta, count)) != MG_OK)
		goto fail;
	mg_spectrum *s = meta;
	meta = NULL;
	memcpy(s->counts, counts, count * sizeof(double));
	if (!s->cal.valid && col_e >= 0 && count >= 2) {
		double *chn = malloc(count * sizeof(double));
		if (!chn) {
			meta = s;
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < count; i++)
			chn[i] = (double)i;
		rc = mg_energy_cal_fit(&s->cal, chn, energy, count, 1);
		free(chn);
		if (rc != MG_OK) {
			meta = s;
			goto fail;
		}
		/* an exactly linear axis should not grow a round-off quadratic term */
		if (fabs(s->cal.quad_kev) * (double)count * (double)count < 1e-9)
			s->cal.quad_kev = 0;
	}
	free(counts);
	free(energy);
	*out = s;
	return MG_OK;
fail:
	mg_spectrum_free(meta);
	free(counts);
	free(energy);
	return rc;
}

static int write_csv(const mg_spectrum *s, mg_buf *out)
{
	mg_buf_puts(out, "# magassay spectrum\n");
	mg_fields_write(s, out, "# ", ": ");
	mg_buf_puts(out, s->cal.valid ? "channel,energy_keV,counts\n" : "channel,counts\n");
	for (size_t i = 0; i < s->nchan; i++) {
		if (s->cal.valid)
			mg_buf_printf(out, "%zu,%.6f,%.17g\n", i, mg_spectrum_energy(s, (double)i), s->counts[i]);
		else
			mg_buf_printf(out, "%zu,%.17g\n", i, s->counts[i]);
	}
	return mg_buf_status(out);
}

const mg_format mg_format_csv = {
	.id = MG_FORMAT_CSV,
	.name = "csv",
	.description = "CSV (channel, energy_keV, counts) with '# key: value' metadata",
	.extension = ".csv",
	.probe = probe,
	.read = read_csv,
	.write = write_csv,
};
