/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ORTEC MAESTRO ASCII .Spe spectra:
 *
 *   $SPEC_ID:                  one-line description        -> sample.description
 *   $SPEC_REM:                 remarks, several lines      -> meta "spe.$SPEC_REM" (one per line)
 *   $DATE_MEA:                 mm/dd/yyyy hh:mm:ss         -> start_time (local time)
 *   $MEAS_TIM:                 live real (s)               -> live_time_s, real_time_s
 *   $DATA:                     first last, then last-first+1 counts (any number per line)
 *   $ENER_FIT:                 a b         (E = a + b*ch, keV)
 *   $MCA_CAL:                  n, then n coefficients [unit] (keV unless "eV"/"MeV")
 *   $ROI:, $PRESETS:, $SHAPE_CAL:, others -> meta "spe.$KEY" (one entry per non-empty line)
 *
 * The calibration comes from $MCA_CAL: (quadratic) when usable, else from
 * $ENER_FIT:; the section not used, or an all-zero one, stays in meta.
 * With first > 0 the channels below `first` are zero, so channel numbers (and
 * the calibration and $ROI: lines that refer to them) stay those of the file.
 * PyMca's Steel.spe ("$SPEC_ID:", blank, "$DATA:", 8 values like "9." a line)
 * is this layout. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "internal.h"
#include "text.h"

#define DOM "spe"
#define SPE_MAX_KEY 48

typedef struct spe_line {
	const char *p;
	size_t n;
	long lineno;
} spe_line;

typedef struct spe_section {
	char key[SPE_MAX_KEY]; /* "$DATA" */
	long lineno;
	size_t first, count; /* content lines [first, first+count) in the line table */
} spe_section;

typedef struct spe_file {
	spe_line *lines;
	size_t nlines, cap_lines;
	spe_section *secs;
	size_t nsecs, cap_secs;
	long last_lineno;
} spe_file;

/* ---- helpers ------------------------------------------------------------- */

/* 1 and the keyword ("$DATA") if the trimmed line is "$KEYWORD:". */
static int keyword_line(const char *l, size_t n, char *key, size_t keysize)
{
	if (n < 3 || l[0] != '$' || l[n - 1] != ':')
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (!(isalnum((unsigned char)l[i]) || l[i] == '_'))
			return 0;
	if (n - 1 >= keysize)
		return 0;
	memcpy(key, l, n - 1);
	key[n - 1] = '\0';
	for (char *c = key; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return 1;
}

/* Next blank-separated token of a line view; 0 at the end. */
static int next_token(const char **p, const char *end, const char **tok, size_t *tn)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return 0;
	const char *e = s;
	while (e < end && *e != ' ' && *e != '\t')
		e++;
	*tok = s;
	*tn = (size_t)(e - s);
	*p = e;
	return 1;
}

/* Exactly `want` numbers on one line. */
static int numbers_on_line(const spe_line *ln, const char *what, double *v, size_t want)
{
	const char *p = ln->p, *end = ln->p + ln->n, *t;
	size_t tn, k = 0;
	while (next_token(&p, end, &t, &tn)) {
		if (k == want)
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno, "%s: more than %zu values", what, want);
		if (mg_parse_double(t, tn, &v[k]) != MG_OK)
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno, "%s: '%.*s' is not a number", what,
			                    (int)(tn > 40 ? 40 : tn), t);
		k++;
	}
	if (k != want)
		return mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno, "%s: %zu value(s) where %zu were expected",
		                    what, k, want);
	return MG_OK;
}

/* The non-blank content lines of a section. */
static size_t nonblank(const spe_file *f, const spe_section *s, const spe_line **out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < s->count; i++) {
		const spe_line *ln = &f->lines[s->first + i];
		if (ln->n == 0)
			continue;
		if (k < max)
			out[k] = ln;
		k++;
	}
	return k;
}

static int add_line_meta(mg_spectrum *s, const char *key, const char *p, size_t n)
{
	char *v = mg_strndup_view(p, n);
	if (!v)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	int rc = mg_kvlist_add(&s->meta, key, v, NULL);
	free(v);
	return rc;
}

/* Whole section into meta "spe.$KEY", one entry per non-blank line ("" if none). */
static int section_to_meta(mg_spectrum *s, const spe_file *f, const spe_section *sec)
{
	char key[SPE_MAX_KEY + 8];
	snprintf(key, sizeof(key), "spe.%s", sec->key);
	int any = 0;
	for (size_t i = 0; i < sec->count; i++) {
		const spe_line *ln = &f->lines[sec->first + i];
		if (ln->n == 0)
			continue;
		int rc = add_line_meta(s, key, ln->p, ln->n);
		if (rc != MG_OK)
			return rc;
		any = 1;
	}
	return any ? MG_OK : mg_kvlist_add(&s->meta, key, "", NULL);
}

/* ---- probe --------------------------------------------------------------- */

static int probe(const unsigned char *data, size_t len)
{
	size_t n = len < 4096 ? len : 4096;
	mg_lines it;
	const char *l;
	size_t ln;
	int first = 1;
	if (mg_fmt_first_binary(data, n) >= 0)
		return 0;
	mg_lines_init(&it, data, n);
	while (mg_lines_next(&it, &l, &ln) && it.lineno <= 64) {
		mg_trim(&l, &ln);
		if (ln == 0)
			continue;
		if (first && l[0] != '$')
			return 0;
		first = 0;
		if (mg_equals_ci(l, ln, "$SPEC_ID:") || mg_equals_ci(l, ln, "$DATA:"))
			return 100;
	}
	return 0;
}

/* ---- split into sections ---------------------------------------------------- */

static int split(const unsigned char *data, size_t len, spe_file *f)
{
	mg_lines it;
	const char *l;
	size_t n;
	mg_lines_init(&it, data, len);
	while (mg_lines_next(&it, &l, &n)) {
		mg_trim(&l, &n);
		f->last_lineno = it.lineno;
		if (n && l[0] == '$') {
			char key[SPE_MAX_KEY];
			if (!keyword_line(l, n, key, sizeof(key)))
				return mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "'%.*s' is not a $KEYWORD: line",
				                    (int)(n > 40 ? 40 : n), l);
			if (f->nsecs == f->cap_secs) {
				size_t cap = f->cap_secs ? f->cap_secs * 2 : 16;
				spe_section *p = realloc(f->secs, cap * sizeof(*p));
				if (!p)
					return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
				f->secs = p;
				f->cap_secs = cap;
			}
			spe_section *s = &f->secs[f->nsecs++];
			snprintf(s->key, sizeof(s->key), "%s", key);
			s->lineno = it.lineno;
			s->first = f->nlines;
			s->count = 0;
			continue;
		}
		if (f->nsecs == 0) {
			if (n == 0)
				continue;
			return mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "text before the first $KEYWORD: line");
		}
		if (f->nlines == f->cap_lines) {
			size_t cap = f->cap_lines ? f->cap_lines * 2 : 1024;
			spe_line *p = realloc(f->lines, cap * sizeof(*p));
			if (!p)
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			f->lines = p;
			f->cap_lines = cap;
		}
		f->lines[f->nlines++] = (spe_line){l, n, it.lineno};
		f->secs[f->nsecs - 1].count++;
	}
	return MG_OK;
}

/* ---- sections -------------------------------------------------------------- */

static int read_data(const spe_file *f, const spe_section *sec, mg_spectrum **out)
{
	size_t i = 0;
	const spe_line *hdr = NULL;
	for (; i < sec->count; i++) {
		if (f->lines[sec->first + i].n) {
			hdr = &f->lines[sec->first + i];
			break;
		}
	}
	if (!hdr)
		return mg_fail_line(MG_ERR_FORMAT, DOM, sec->lineno, "$DATA: without its 'first last' line");
	double fl[2];
	int rc = numbers_on_line(hdr, "$DATA: 'first last'", fl, 2);
	if (rc != MG_OK)
		return rc;
	if (fl[0] != floor(fl[0]) || fl[1] != floor(fl[1]) || fl[0] < 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, hdr->lineno,
		                    "$DATA: channels %g..%g are not non-negative integers", fl[0], fl[1]);
	if (fl[1] < fl[0])
		return mg_fail_line(MG_ERR_FORMAT, DOM, hdr->lineno, "$DATA: last channel %g is below first %g",
		                    fl[1], fl[0]);
	if (fl[1] >= MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail_line(MG_ERR_FORMAT, DOM, hdr->lineno,
		                    "$DATA: channels %g..%g: more than %d channels", fl[0], fl[1],
		                    MG_SPECTRUM_MAX_CHANNELS);
	size_t first = (size_t)fl[0], last = (size_t)fl[1], want = last - first + 1;
	mg_spectrum *s = mg_spectrum_new(last + 1);
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	size_t k = 0;
	long lineno = hdr->lineno;
	for (i++; i < sec->count; i++) {
		const spe_line *ln = &f->lines[sec->first + i];
		const char *p = ln->p, *end = ln->p + ln->n, *t;
		size_t tn;
		lineno = ln->lineno;
		while (next_token(&p, end, &t, &tn)) {
			double v;
			if (k == want) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno,
				                  "$DATA: more values than channels %zu..%zu (%zu)", first, last, want);
				goto fail;
			}
			if (mg_parse_double(t, tn, &v) != MG_OK) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno, "$DATA: '%.*s' is not a number",
				                  (int)(tn > 40 ? 40 : tn), t);
				goto fail;
			}
			if (!mg_check_count(v)) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno, "$DATA: negative counts (%g) in channel %zu",
				                  v, first + k);
				goto fail;
			}
			s->counts[first + k++] = v;
		}
	}
	if (k != want) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "$DATA: %zu values where channels %zu..%zu need %zu", k,
		                  first, last, want);
		goto fail;
	}
	if (first) {
		char v[32];
		snprintf(v, sizeof(v), "%zu", first);
		if ((rc = mg_kvlist_add(&s->meta, "spe.first_channel", v, NULL)) != MG_OK)
			goto fail;
	}
	*out = s;
	return MG_OK;
fail:
	mg_spectrum_free(s);
	return rc;
}

/* $MCA_CAL: "n" then n coefficients and an optional unit. 1 = usable calibration. */
static int parse_mca_cal(const spe_file *f, const spe_section *sec, mg_energy_cal *cal)
{
	const spe_line *ln[2];
	size_t nl = nonblank(f, sec, ln, 2);
	if (nl == 0)
		return 0; /* empty: no calibration, kept in meta */
	if (nl != 2)
		return mg_fail_line(MG_ERR_FORMAT, DOM, sec->lineno,
		                    "$MCA_CAL: %zu lines where 2 (count, coefficients) were expected", nl);
	double nd;
	int rc = numbers_on_line(ln[0], "$MCA_CAL: coefficient count", &nd, 1);
	if (rc != MG_OK)
		return rc;
	if (nd != floor(nd) || nd < 1 || nd > 3)
		return mg_fail_line(MG_ERR_FORMAT, DOM, ln[0]->lineno, "$MCA_CAL: %g coefficients (1..3 supported)",
		                    nd);
	size_t want = (size_t)nd, k = 0;
	double c[3] = {0, 0, 0}, scale = 1.0;
	const char *p = ln[1]->p, *end = ln[1]->p + ln[1]->n, *t;
	size_t tn;
	while (next_token(&p, end, &t, &tn)) {
		if (k < want) {
			if (mg_parse_double(t, tn, &c[k]) != MG_OK) {
				if (mg_equals_ci(t, tn, "keV") || mg_equals_ci(t, tn, "eV") || mg_equals_ci(t, tn, "MeV"))
					break; /* the unit came early: too few coefficients */
				return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno, "$MCA_CAL: '%.*s' is not a number",
				                    (int)(tn > 40 ? 40 : tn), t);
			}
			k++;
			continue;
		}
		if (k > want) /* a unit was already read */
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno, "$MCA_CAL: more than %zu coefficients",
			                    want);
		if (mg_equals_ci(t, tn, "keV"))
			scale = 1.0;
		else if (mg_equals_ci(t, tn, "eV"))
			scale = 1e-3;
		else if (mg_equals_ci(t, tn, "MeV"))
			scale = 1e3;
		else {
			double dummy;
			if (mg_parse_double(t, tn, &dummy) == MG_OK)
				return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno,
				                    "$MCA_CAL: more than %zu coefficients", want);
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno, "$MCA_CAL: unknown energy unit '%.*s'",
			                    (int)(tn > 20 ? 20 : tn), t);
		}
		k++;
	}
	if (k < want)
		return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno, "$MCA_CAL: %zu coefficients where %zu were announced",
		                    k, want);
	if (c[1] == 0)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!isfinite(c[i] * scale))
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno, "$MCA_CAL: coefficient %g out of range", c[i]);
	cal->valid = 1;
	cal->offset_kev = c[0] * scale;
	cal->gain_kev = c[1] * scale;
	cal->quad_kev = c[2] * scale;
	return 1;
}

static int parse_ener_fit(const spe_file *f, const spe_section *sec, mg_energy_cal *cal)
{
	const spe_line *ln[2];
	size_t nl = nonblank(f, sec, ln, 2);
	if (nl == 0)
		return 0;
	if (nl != 1)
		return mg_fail_line(MG_ERR_FORMAT, DOM, sec->lineno, "$ENER_FIT: %zu lines where 1 ('a b') was expected",
		                    nl);
	double ab[2];
	int rc = numbers_on_line(ln[0], "$ENER_FIT:", ab, 2);
	if (rc != MG_OK)
		return rc;
	if (ab[1] == 0)
		return 0;
	cal->valid = 1;
	cal->offset_kev = ab[0];
	cal->gain_kev = ab[1];
	cal->quad_kev = 0;
	return 1;
}

static int parse_date(const spe_line *ln, char *out, size_t size)
{
	int mo, d, y, h, mi, sc, k = 0;
	char tmp[64];
	if (ln->n >= sizeof(tmp))
		goto bad;
	memcpy(tmp, ln->p, ln->n);
	tmp[ln->n] = '\0';
	if (sscanf(tmp, "%2d/%2d/%4d %2d:%2d:%2d%n", &mo, &d, &y, &h, &mi, &sc, &k) != 6 ||
	    (size_t)k != ln->n)
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1900 || h > 23 || h < 0 || mi < 0 || mi > 59 ||
	    sc < 0 || sc > 60)
		goto bad;
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, sc);
	return MG_OK;
bad:
	return mg_fail_line(MG_ERR_FORMAT, DOM, ln->lineno, "$DATE_MEA: '%.*s' is not mm/dd/yyyy hh:mm:ss",
	                    (int)(ln->n > 40 ? 40 : ln->n), ln->p);
}

static int apply_section(mg_spectrum *s, const spe_file *f, const spe_section *sec, int cal_from_mca,
                         int cal_from_fit)
{
	const spe_line *ln[2];
	size_t nl;
	int rc;
	if (strcmp(sec->key, "$DATA") == 0)
		return MG_OK;
	if (strcmp(sec->key, "$SPEC_ID") == 0) {
		mg_buf b;
		mg_buf_init(&b);
		for (size_t i = 0; i < sec->count; i++) {
			const spe_line *l = &f->lines[sec->first + i];
			if (l->n == 0)
				continue;
			if (b.len)
				mg_buf_puts(&b, " ");
			mg_buf_append(&b, l->p, l->n);
		}
		rc = mg_buf_status(&b);
		if (rc == MG_OK && b.len)
			rc = mg_str_set(&s->sample.description, b.data);
		mg_buf_free(&b);
		return rc == MG_OK ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	if (strcmp(sec->key, "$DATE_MEA") == 0) {
		nl = nonblank(f, sec, ln, 2);
		if (nl > 1)
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln[1]->lineno, "$DATE_MEA: more than one line");
		return nl ? parse_date(ln[0], s->start_time, sizeof(s->start_time)) : MG_OK;
	}
	if (strcmp(sec->key, "$MEAS_TIM") == 0) {
		nl = nonblank(f, sec, ln, 2);
		if (nl != 1)
			return mg_fail_line(MG_ERR_FORMAT, DOM, sec->lineno,
			                    "$MEAS_TIM: %zu lines where 1 ('live real') was expected", nl);
		double t[2];
		if ((rc = numbers_on_line(ln[0], "$MEAS_TIM: 'live real'", t, 2)) != MG_OK)
			return rc;
		if (t[0] < 0 || t[1] < 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, ln[0]->lineno, "$MEAS_TIM: negative time (%g %g)", t[0],
			                    t[1]);
		s->live_time_s = t[0];
		s->real_time_s = t[1];
		return MG_OK;
	}
	if (strcmp(sec->key, "$MCA_CAL") == 0 && cal_from_mca)
		return MG_OK;
	if (strcmp(sec->key, "$ENER_FIT") == 0 && cal_from_fit)
		return MG_OK;
	return section_to_meta(s, f, sec);
}

static int read_spe(const unsigned char *data, size_t len, mg_spectrum **out)
{
	spe_file f = {0};
	mg_spectrum *s = NULL;
	int rc;
	if (len > MG_FORMAT_MAX_FILE_BYTES)
		return mg_fail(MG_ERR_FORMAT, DOM, "larger than %u bytes", MG_FORMAT_MAX_FILE_BYTES);
	long bad = mg_fmt_first_binary(data, len);
	if (bad >= 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "byte %ld: binary byte 0x%02x in a text file", bad, data[bad]);
	if ((rc = split(data, len, &f)) != MG_OK)
		goto out;
	if (f.nsecs == 0) {
		rc = mg_fail(MG_ERR_FORMAT, DOM, "no $KEYWORD: sections");
		goto out;
	}
	/* Sections that make one field may appear only once. */
	static const char *const single[] = {"$DATA", "$SPEC_ID", "$DATE_MEA", "$MEAS_TIM", "$ENER_FIT",
	                                     "$MCA_CAL"};
	const spe_section *data_sec = NULL, *mca_sec = NULL, *fit_sec = NULL;
	for (size_t i = 0; i < f.nsecs; i++) {
		for (size_t k = 0; k < MG_ARRAY_SIZE(single); k++) {
			if (strcmp(f.secs[i].key, single[k]) != 0)
				continue;
			for (size_t j = 0; j < i; j++) {
				if (strcmp(f.secs[j].key, single[k]) == 0) {
					rc = mg_fail_line(MG_ERR_FORMAT, DOM, f.secs[i].lineno,
					                  "a second %s: section (the first is at line %ld)", single[k],
					                  f.secs[j].lineno);
					goto out;
				}
			}
		}
		if (strcmp(f.secs[i].key, "$DATA") == 0)
			data_sec = &f.secs[i];
		else if (strcmp(f.secs[i].key, "$MCA_CAL") == 0)
			mca_sec = &f.secs[i];
		else if (strcmp(f.secs[i].key, "$ENER_FIT") == 0)
			fit_sec = &f.secs[i];
	}
	if (!data_sec) {
		rc = mg_fail_line(MG_ERR_FORMAT, DOM, f.last_lineno, "no $DATA: section");
		goto out;
	}
	if ((rc = read_data(&f, data_sec, &s)) != MG_OK)
		goto out;
	mg_energy_cal mca_cal = {0}, fit_cal = {0};
	int use_mca = 0, use_fit = 0;
	if (mca_sec && (rc = parse_mca_cal(&f, mca_sec, &mca_cal)) < 0)
		goto out;
	use_mca = mca_sec && rc == 1;
	rc = MG_OK;
	if (fit_sec && (rc = parse_ener_fit(&f, fit_sec, &fit_cal)) < 0)
		goto out;
	use_fit = !use_mca && fit_sec && rc == 1;
	rc = MG_OK;
	if (use_mca)
		s->cal = mca_cal;
	else if (use_fit)
		s->cal = fit_cal;
	for (size_t i = 0; i < f.nsecs; i++)
		if ((rc = apply_section(s, &f, &f.secs[i], use_mca, use_fit)) != MG_OK)
			goto out;
	*out = s;
	s = NULL;
out:
	mg_spectrum_free(s);
	free(f.lines);
	free(f.secs);
	return rc;
}

const mg_format mg_format_spe = {
	.id = MG_FORMAT_SPE,
	.name = "spe",
	.description = "ORTEC MAESTRO ASCII spectrum (.Spe)",
	.extension = ".spe",
	.probe = probe,
	.read = read_spe,
	.write = NULL,
};
