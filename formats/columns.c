/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bare columns of numbers, PyMca's "simplest" format (its XRFSpectrum.mca):
 *
 *   # optional comment lines, only before the data -> meta "columns.comment"
 *   5.00000000E+00                                    one column: counts
 *   ...
 * or
 *   0   12                                            two columns: x, counts
 *
 * Columns are separated by blanks (space or tab); a comma is not a separator
 * (it could be a decimal comma), so "1,5" is rejected. Every data line has the
 * same number of columns. With two columns, x is
 *   - a channel number when it runs k, k+1, k+2 ... (integers): the spectrum
 *     then has k + rows channels, the first k zero;
 *   - otherwise an energy in keV, strictly increasing, and the calibration is
 *     the least-squares quadratic through (row, x) -- rejected if x is not
 *     such a smooth axis (a residual over 5 % of the mean step).
 * Blank lines are skipped; a comment after the data starts is an error.
 * Probe score 10: every specific format wins over this one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "internal.h"
#include "text.h"

#define DOM "columns"

/* Split a trimmed line into at most 3 numbers; returns the number of fields
 * (3 means "three or more"), or -1 (and *bad_col) when a field is no number. */
static int fields(const char *l, size_t n, double *v, int *bad_col)
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t s = i;
		while (i < n && l[i] != ' ' && l[i] != '\t')
			i++;
		if (k == 3)
			return 3;
		if (mg_parse_double(l + s, i - s, &v[k]) != MG_OK) {
			*bad_col = k + 1;
			return -1;
		}
		k++;
	}
	return k;
}

static int probe(const unsigned char *data, size_t len)
{
	size_t n = len < 65536 ? len : 65536;
	mg_lines it;
	const char *l;
	size_t ln;
	int ncols = 0, rows = 0;
	if (mg_looks_binary(data, n))
		return 0;
	mg_lines_init(&it, data, n);
	while (mg_lines_next(&it, &l, &ln) && rows < 50 && it.lineno < 2000) {
		if (it.pos >= n && n < len)
			break; /* a line cut by the probe window */
		mg_trim(&l, &ln);
		if (ln == 0)
			continue;
		if (l[0] == '#') {
			if (rows)
				return 0;
			continue;
		}
		double v[3];
		int bad, k = fields(l, ln, v, &bad);
		if (k < 1 || k > 2 || (ncols && k != ncols))
			return 0;
		ncols = k;
		rows++;
	}
	return rows ? 10 : 0;
}

static int add_comment(mg_spectrum *s, const char *l, size_t n)
{
	l++;
	n--;
	mg_trim(&l, &n);
	char *text = mg_strndup_view(l, n);
	if (!text)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	int rc = mg_kvlist_add(&s->meta, "columns.comment", text, NULL);
	free(text);
	return rc;
}

/* Two columns whose x is not a channel number: x is energy (keV). */
static int energy_axis(mg_spectrum *s, const double *x, size_t rows, long first_lineno)
{
	if (rows < 2)
		return mg_fail_line(MG_ERR_FORMAT, DOM, first_lineno,
		                    "one row with x = %g: neither channel 0 nor an energy axis", x[0]);
	for (size_t i = 0; i < rows; i++)
		if (fabs(x[i]) > 1e6)
			return mg_fail(MG_ERR_FORMAT, DOM, "data row %zu: x = %g is neither a channel nor an energy in keV",
			               i + 1, x[i]);
	for (size_t i = 1; i < rows; i++)
		if (!(x[i] > x[i - 1]))
			return mg_fail(MG_ERR_FORMAT, DOM, "data row %zu: x = %g does not increase (previous %g)",
			               i + 1, x[i], x[i - 1]);
	double *ch = malloc(rows * sizeof(double));
	if (!ch)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	for (size_t i = 0; i < rows; i++)
		ch[i] = (double)i;
	int rc = mg_energy_cal_fit(&s->cal, ch, x, rows, rows >= 3);
	free(ch);
	if (rc != MG_OK)
		return rc;
	double step = (x[rows - 1] - x[0]) / (double)(rows - 1);
	if (!isfinite(step) || !isfinite(s->cal.offset_kev) || !isfinite(s->cal.gain_kev) ||
	    !isfinite(s->cal.quad_kev) || s->cal.gain_kev == 0) {
		s->cal.valid = 0;
		return mg_fail_line(MG_ERR_FORMAT, DOM, first_lineno, "the energy column gives no usable calibration");
	}
	for (size_t i = 0; i < rows; i++) {
		double e = s->cal.offset_kev + s->cal.gain_kev * (double)i + s->cal.quad_kev * (double)i * (double)i;
		if (!(fabs(e - x[i]) <= 0.05 * step)) {
			s->cal.valid = 0;
			return mg_fail(MG_ERR_FORMAT, DOM,
			               "data row %zu: x = %g is off a smooth energy axis by %g (step %g)", i + 1, x[i],
			               e - x[i], step);
		}
	}
	/* an exactly linear axis should not grow a round-off quadratic term */
	if (fabs(s->cal.quad_kev) * (double)rows * (double)rows < 1e-9 * fabs(x[rows - 1] - x[0]))
		s->cal.quad_kev = 0;
	s->cal.valid = 1;
	return MG_OK;
}

static int read_columns(const unsigned char *data, size_t len, mg_spectrum **out)
{
	mg_lines it;
	const char *l;
	size_t n;
	int rc = MG_OK, ncols = 0;
	long first_lineno = 0;
	size_t cap = 1024, rows = 0;
	double *x = malloc(cap * sizeof(double)), *y = malloc(cap * sizeof(double));
	mg_spectrum *s = mg_spectrum_new(1); /* holds the comments; resized at the end */
	if (!x || !y || !s) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		goto fail;
	}
	if (len > MG_FORMAT_MAX_FILE_BYTES) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "larger than %u bytes", MG_FORMAT_MAX_FILE_BYTES);
		goto fail;
	}
	long bin = mg_fmt_first_binary(data, len);
	if (bin >= 0) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "byte %ld: binary byte 0x%02x in a text file", bin, data[bin]);
		goto fail;
	}
	mg_lines_init(&it, data, len);
	while (mg_lines_next(&it, &l, &n)) {
		mg_trim(&l, &n);
		if (n == 0)
			continue;
		if (l[0] == '#') {
			if (rows) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "comment line inside the data");
				goto fail;
			}
			if ((rc = add_comment(s, l, n)) != MG_OK)
				goto fail;
			continue;
		}
		double v[3];
		int bad = 0, k = fields(l, n, v, &bad);
		if (k < 0) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "column %d: not a number", bad);
			goto fail;
		}
		if (k > 2) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno,
			                  "3 or more columns: expected 1 (counts) or 2 (channel or energy, counts)");
			goto fail;
		}
		if (ncols && k != ncols) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "%d column(s) where the data began with %d", k,
			                  ncols);
			goto fail;
		}
		if (!ncols) {
			ncols = k;
			first_lineno = it.lineno;
		}
		double c = v[k - 1];
		if (!mg_check_count(c)) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "negative counts (%g)", c);
			goto fail;
		}
		if (rows == MG_SPECTRUM_MAX_CHANNELS) {
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "more than %d channels",
			                  MG_SPECTRUM_MAX_CHANNELS);
			goto fail;
		}
		if (rows == cap) {
			cap *= 2;
			double *x2 = realloc(x, cap * sizeof(double));
			if (x2)
				x = x2;
			double *y2 = realloc(y, cap * sizeof(double));
			if (y2)
				y = y2;
			if (!x2 || !y2) {
				rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
				goto fail;
			}
		}
		x[rows] = k == 2 ? v[0] : (double)rows;
		y[rows] = c;
		rows++;
	}
	if (rows == 0) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "no data lines");
		goto fail;
	}
	size_t first = 0;
	int channels = 1;
	if (ncols == 2) {
		/* x is a channel number when it runs k, k+1, ... in integers */
		channels = x[0] >= 0 && x[0] == floor(x[0]) && x[0] < MG_SPECTRUM_MAX_CHANNELS;
		for (size_t i = 1; channels && i < rows; i++)
			channels = x[i] == x[0] + (double)i;
		if (channels) {
			first = (size_t)x[0];
			if (first + rows > MG_SPECTRUM_MAX_CHANNELS) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, first_lineno,
				                  "channels %zu..%zu: more than %d channels", first, first + rows - 1,
				                  MG_SPECTRUM_MAX_CHANNELS);
				goto fail;
			}
		}
	}
	if ((rc = mg_spectrum_resize(s, first + rows)) != MG_OK)
		goto fail;
	memset(s->counts, 0, first * sizeof(double));
	memcpy(s->counts + first, y, rows * sizeof(double));
	if (!channels && (rc = energy_axis(s, x, rows, first_lineno)) != MG_OK)
		goto fail;
	free(x);
	free(y);
	*out = s;
	return MG_OK;
fail:
	mg_spectrum_free(s);
	free(x);
	free(y);
	return rc;
}

const mg_format mg_format_columns = {
	.id = MG_FORMAT_COLUMNS,
	.name = "columns",
	.description = "bare column(s) of numbers (PyMca's simplest format)",
	.extension = ".txt",
	.probe = probe,
	.read = read_columns,
	.write = NULL,
};
