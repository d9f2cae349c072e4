/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The EMSA/MSA reader and the format's table entry (formats/msa.h describes
 * the format): keyword lines through the keyword table, Y and XY data, the
 * calibration, times and ##MG_FIELD lines. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "formats.h"
#include "internal.h"
#include "msa.h"
#include "text.h"

#define DOM "msa"

/* ---- reader --------------------------------------------------------------- */

typedef struct payload {
	char *text;
	size_t len;
	long lineno;
} payload;

typedef struct msa_reader {
	mg_spectrum *s; /* MG_SPECTRUM_MAX_CHANNELS long until the end */
	double *vals;
	size_t nvals;
	int state; /* 0 header, 1 data, 2 after #ENDOFDATA */
	int nkw, titles;
	long npoints, npoints_line, spectrum_line, end_line;
	int xy;
	char *xunits, *xperchan_raw, *offset_raw;
	double xperchan, offset;
	int have_xperchan, have_offset;
	long xperchan_line;
	char *date, *time;
	long date_line;
	double last_x;
	payload *pay;
	size_t npay;
} msa_reader;

static int meta_add_kw(mg_spectrum *s, const msa_kw *kw)
{
	char *k = msa_meta_key(kw), *v = mg_fmt_text_decode(kw->value, kw->vn);
	int rc = k && v ? mg_kvlist_add(&s->meta, k, v, NULL) : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	free(k);
	free(v);
	return rc;
}

static int number(const msa_kw *kw, double *out, long lineno)
{
	char ex[24];
	if (mg_parse_double(kw->value, kw->vn, out) == MG_OK)
		return MG_OK;
	return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#%.*s: '%s' is not a number", (int)(kw->kn > 30 ? 30 : kw->kn),
	                    kw->key, mg_fmt_excerpt(kw->value, kw->vn, ex, sizeof(ex)));
}

static int keyword(msa_reader *r, const msa_kw *kw, long lineno)
{
	mg_spectrum *s = r->s;
	const char *k = kw->key;
	size_t kn = kw->kn;
	double d;
	int rc;
	if (r->nkw++ == 0 && (kw->vendor || !mg_equals_ci(k, kn, "FORMAT")))
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "the first keyword must be #FORMAT");
	switch (msa_classify(kw->vendor, k, kn, kw->unit, kw->un)) {
	case KW_PAYLOAD: {
		int cont = kn == strlen(MSA_PAYLOAD_KEY) + 1;
		if (cont && r->npay == 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "##%s+ continues no ##%s line", MSA_PAYLOAD_KEY,
			                    MSA_PAYLOAD_KEY);
		if (!cont) {
			payload *p = realloc(r->pay, (r->npay + 1) * sizeof(*p));
			if (!p)
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			r->pay = p;
			p[r->npay++] = (payload){NULL, 0, lineno};
		}
		payload *p = &r->pay[r->npay - 1];
		char *t = realloc(p->text, p->len + kw->rn + 1);
		if (!t)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		memcpy(t + p->len, kw->raw, kw->rn);
		p->len += kw->rn;
		t[p->len] = '\0';
		p->text = t;
		return MG_OK;
	}
	case KW_META:
		return meta_add_kw(s, kw);
	case KW_DEFAULTED: {
		const char *def = msa_default_of(k, kn);
		if (!kw->un && kw->vn == strlen(def) && memcmp(kw->value, def, kw->vn) == 0)
			return MG_OK;
		return meta_add_kw(s, kw);
	}
	case KW_TITLE:
		if (r->titles++ || kw->un)
			return meta_add_kw(s, kw);
		if (!kw->vn)
			return MG_OK;
		free(s->sample.description);
		s->sample.description = mg_fmt_text_decode(kw->value, kw->vn);
		return s->sample.description ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	case KW_DATE:
	case KW_TIME: {
		char **f = msa_classify(0, k, kn, NULL, 0) == KW_DATE ? &r->date : &r->time;
		if (*f || kw->un)
			return meta_add_kw(s, kw); /* a repeated or odd one */
		if (f == &r->date)
			r->date_line = lineno;
		*f = mg_fmt_text_decode(kw->value, kw->vn);
		return *f ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	case KW_MAPPED: {
		double scale = msa_mapped_scale(k, kn, kw->unit, kw->un);
		if ((rc = number(kw, &d, lineno)) != MG_OK)
			return rc;
		if (scale < 1) { /* divide by 1000 rather than multiply by 0.001 */
			d /= 1 / scale;
			scale = 1;
		}
		if (mg_equals_ci(k, kn, "LIVETIME") || mg_equals_ci(k, kn, "REALTIME")) {
			if (d < 0)
				return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "negative #%.*s", (int)kn, k);
			*(mg_equals_ci(k, kn, "LIVETIME") ? &s->live_time_s : &s->real_time_s) = d * scale;
		} else if (mg_equals_ci(k, kn, "BEAMKV")) {
			s->acq.tube_kv = d * scale;
		} else if (mg_equals_ci(k, kn, "PROBECUR")) {
			s->acq.tube_ua = d * scale;
		} else {
			s->acq.takeoff_deg = d * scale;
		}
		return MG_OK;
	}
	case KW_STRUCT:
		break;
	}
	/* structural keywords */
	if (mg_equals_ci(k, kn, "FORMAT")) {
		if (r->nkw != 1)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "a second #FORMAT");
		for (size_t i = 0; i + 4 <= kw->vn; i++)
			if (mg_starts_with_ci(kw->value + i, kw->vn - i, "EMSA"))
				return MG_OK;
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#FORMAT is not 'EMSA/MAS Spectral Data File'");
	}
	if (mg_equals_ci(k, kn, "NPOINTS")) {
		if ((rc = number(kw, &d, lineno)) != MG_OK)
			return rc;
		if (d != floor(d) || d < 1 || d > MG_SPECTRUM_MAX_CHANNELS)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#NPOINTS %g is not a point count in 1..%d", d,
			                    MG_SPECTRUM_MAX_CHANNELS);
		r->npoints = (long)d;
		r->npoints_line = lineno;
		return MG_OK;
	}
	if (mg_equals_ci(k, kn, "NCOLUMNS")) {
		if ((rc = number(kw, &d, lineno)) != MG_OK)
			return rc;
		if (d != floor(d) || d < 1 || d > 4096)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#NCOLUMNS %g is not a column count", d);
		if (d > 5)
			mg_dbg(DOM, "line %ld: #NCOLUMNS %g (the standard allows 1..5)", lineno, d);
		return MG_OK;
	}
	if (mg_equals_ci(k, kn, "DATATYPE")) {
		if (mg_equals_ci(kw->value, kw->vn, "Y"))
			r->xy = 0;
		else if (mg_equals_ci(kw->value, kw->vn, "XY"))
			r->xy = 1;
		else
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#DATATYPE must be Y or XY");
		return MG_OK;
	}
	if (mg_equals_ci(k, kn, "XUNITS")) {
		free(r->xunits);
		return (r->xunits = mg_fmt_text_decode(kw->value, kw->vn)) ? MG_OK
		                                                          : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	if (mg_equals_ci(k, kn, "XPERCHAN") || mg_equals_ci(k, kn, "OFFSET")) {
		int per = mg_equals_ci(k, kn, "XPERCHAN");
		char **raw = per ? &r->xperchan_raw : &r->offset_raw;
		if ((rc = number(kw, per ? &r->xperchan : &r->offset, lineno)) != MG_OK)
			return rc;
		*(per ? &r->have_xperchan : &r->have_offset) = 1;
		if (per)
			r->xperchan_line = lineno;
		free(*raw);
		return (*raw = mg_strndup_view(kw->value, kw->vn)) ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	if (mg_equals_ci(k, kn, "SPECTRUM")) {
		if (r->state != 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "a second #SPECTRUM");
		r->state = 1;
		r->spectrum_line = lineno;
		return MG_OK;
	}
	/* ENDOFDATA */
	return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#ENDOFDATA %s", r->state ? "repeated" : "before #SPECTRUM");
}

static int data_line(msa_reader *r, const char *l, size_t n, long lineno)
{
	size_t start = 0, nfields = 1, field = 0;
	for (size_t i = 0; i < n; i++)
		nfields += l[i] == ',';
	for (size_t i = 0; i <= n; i++) {
		if (i < n && l[i] != ',')
			continue;
		const char *f = l + start;
		size_t fn = i - start;
		mg_trim(&f, &fn);
		start = i + 1;
		if (fn == 0) {
			if (++field == nfields && nfields > 1)
				break; /* a trailing comma, as Bruker writes */
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "empty value between commas");
		}
		field++;
		/* one field may hold several blank-separated values */
		for (size_t j = 0; j < fn;) {
			size_t k = j;
			while (k < fn && !isspace((unsigned char)f[k]))
				k++;
			double v;
			char ex[24];
			if (mg_parse_double(f + j, k - j, &v) != MG_OK)
				return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "'%s' is not a number",
				                    mg_fmt_excerpt(f + j, k - j, ex, sizeof(ex)));
			if (r->nvals == (r->xy ? (size_t)MSA_MAX_VALUES : (size_t)MG_SPECTRUM_MAX_CHANNELS))
				return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "more than %d points", MG_SPECTRUM_MAX_CHANNELS);
			if (r->xy && r->nvals % 2 == 0) {
				if (r->nvals && !(v > r->last_x))
					return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "XY data: x = %g after %g; x must rise", v,
					                    r->last_x);
				r->last_x = v;
			}
			r->vals[r->nvals++] = v;
			j = k;
			while (j < fn && isspace((unsigned char)f[j]))
				j++;
		}
	}
	return MG_OK;
}

static int finish_times(msa_reader *r)
{
	mg_spectrum *s = r->s;
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, rc = MG_OK;
	int date_ok = r->date && msa_parse_date(r->date, &y, &mo, &d);
	int time_ok = r->time && msa_parse_time(r->time, &h, &mi, &se);
	if (date_ok && time_ok)
		snprintf(s->start_time, sizeof(s->start_time), "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, se);
	else if (date_ok)
		snprintf(s->start_time, sizeof(s->start_time), "%04d-%02d-%02d", y, mo, d);
	if (!date_ok && r->date && *r->date)
		rc = mg_kvlist_add(&s->meta, "msa.#DATE", r->date, NULL);
	if (rc == MG_OK && !(date_ok && time_ok) && r->time && *r->time)
		rc = mg_kvlist_add(&s->meta, "msa.#TIME", r->time, NULL);
	if ((r->date && *r->date && !date_ok) || (r->time && *r->time && !time_ok))
		mg_dbg(DOM, "#DATE '%s' / #TIME '%s' not DD-MMM-YYYY / HH:MM[:SS]; kept in meta",
		       r->date ? r->date : "", r->time ? r->time : "");
	return rc;
}

static int finish_calibration(msa_reader *r, size_t npts)
{
	mg_spectrum *s = r->s;
	double scale = msa_xunit_scale(r->xunits, r->xperchan);
	int rc = MG_OK;
	if (r->xy) {
		if (scale == 0 || npts < 2) {
			if (r->xunits && (rc = mg_kvlist_add(&s->meta, "msa.#XUNITS", r->xunits, NULL)) != MG_OK)
				return rc;
			return MG_OK;
		}
		double *ch = malloc(npts * sizeof(double)), *e = malloc(npts * sizeof(double));
		if (!ch || !e) {
			free(ch);
			free(e);
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
		for (size_t i = 0; i < npts; i++) {
			ch[i] = (double)i;
			e[i] = r->vals[2 * i] * scale;
		}
		rc = mg_energy_cal_fit(&s->cal, ch, e, npts, npts >= 3);
		double span = (double)(npts - 1);
		if (rc == MG_OK && fabs(s->cal.quad_kev) * span * span < 1e-9)
			rc = mg_energy_cal_fit(&s->cal, ch, e, npts, 0);
		double worst = 0;
		for (size_t i = 0; rc == MG_OK && i < npts; i++) {
			double dev = fabs(mg_spectrum_energy(s, ch[i]) - e[i]);
			if (dev > worst)
				worst = dev;
		}
		free(ch);
		free(e);
		if (rc == MG_OK && worst > 0.5 * fabs(s->cal.gain_kev))
			rc = mg_fail_line(MG_ERR_UNSUPPORTED, DOM, r->spectrum_line,
			                  "XY data: the x values are %g keV away from a smooth calibration; "
			                  "magassay keeps x only as a calibration polynomial",
			                  worst);
		return rc;
	}
	if (scale != 0 && r->have_xperchan) {
		if (!(r->xperchan > 0))
			return mg_fail_line(MG_ERR_FORMAT, DOM, r->xperchan_line, "#XPERCHAN %g: must be > 0", r->xperchan);
		s->cal = (mg_energy_cal){1, (r->have_offset ? r->offset : 0) * scale, r->xperchan * scale, 0};
		return MG_OK;
	}
	/* no energy axis: keep what the writer would not write by default */
	if (r->xunits && strcmp(r->xunits, "Channel") != 0 && scale == 0)
		rc = mg_kvlist_add(&s->meta, "msa.#XUNITS", r->xunits, NULL);
	if (rc == MG_OK && r->xperchan_raw && strcmp(r->xperchan_raw, "1") != 0)
		rc = mg_kvlist_add(&s->meta, "msa.#XPERCHAN", r->xperchan_raw, NULL);
	if (rc == MG_OK && r->offset_raw && strcmp(r->offset_raw, "0") != 0)
		rc = mg_kvlist_add(&s->meta, "msa.#OFFSET", r->offset_raw, NULL);
	return rc;
}

static int finish(msa_reader *r, long last_line)
{
	mg_spectrum *s = r->s;
	int rc;
	if (r->state == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "no #SPECTRUM line");
	if (r->state == 1)
		return mg_fail_line(MG_ERR_FORMAT, DOM, last_line,
		                    "the file ends after %zu values without #ENDOFDATA (#NPOINTS %ld): truncated?",
		                    r->nvals, r->npoints);
	if (!r->npoints_line)
		return mg_fail(MG_ERR_FORMAT, DOM, "no #NPOINTS");
	if (r->xy && r->nvals % 2)
		return mg_fail_line(MG_ERR_FORMAT, DOM, r->end_line, "XY data with an odd number of values (%zu)",
		                    r->nvals);
	size_t npts = r->xy ? r->nvals / 2 : r->nvals;
	if ((long)npts != r->npoints)
		return mg_fail_line(MG_ERR_FORMAT, DOM, r->end_line,
		                    "#NPOINTS (line %ld) says %ld but %zu %s follow #SPECTRUM (line %ld)",
		                    r->npoints_line, r->npoints, npts, r->xy ? "x,y pairs" : "values", r->spectrum_line);
	if ((rc = mg_spectrum_resize(s, npts)) != MG_OK)
		return rc;
	mg_buf neg;
	mg_buf_init(&neg);
	size_t nneg = 0;
	for (size_t i = 0; i < npts; i++) {
		double v = r->xy ? r->vals[2 * i + 1] : r->vals[i];
		if (v < 0) {
			char num[40];
			mg_fmt_num(num, sizeof(num), v);
			mg_buf_printf(&neg, "%s%zu:%s", nneg++ ? " " : "", i, num);
			v = 0;
		}
		s->counts[i] = v + 0.0;
	}
	if (nneg) {
		mg_dbg(DOM, "%zu negative values read as 0 counts (kept in meta msa.clamped_counts)", nneg);
		rc = mg_buf_status(&neg);
		if (rc == MG_OK)
			rc = mg_kvlist_add(&s->meta, "msa.clamped_counts", neg.data, NULL);
	}
	mg_buf_free(&neg);
	if (rc != MG_OK || (rc = finish_calibration(r, npts)) != MG_OK || (rc = finish_times(r)) != MG_OK)
		return rc;
	int last_meta = 0;
	for (size_t i = 0; i < r->npay; i++) {
		char *line = mg_fmt_text_decode(r->pay[i].text, r->pay[i].len);
		if (!line)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		rc = mg_fmt_carry_apply(s, line, &last_meta);
		free(line);
		if (rc < 0)
			return mg_fail_line(rc, DOM, r->pay[i].lineno, "##%s: %s", MSA_PAYLOAD_KEY, mg_error_detail());
	}
	return mg_spectrum_validate(s);
}

int msa_read(const unsigned char *data, size_t len, mg_spectrum **out)
{
	msa_reader r;
	int rc = MG_OK;
	memset(&r, 0, sizeof(r));
	mg_fmt_skip_bom(&data, &len);
	if ((rc = mg_fmt_refuse_binary(data, len, DOM)) != MG_OK)
		return rc;
	r.s = mg_spectrum_new(MG_SPECTRUM_MAX_CHANNELS);
	r.vals = malloc(MSA_MAX_VALUES * sizeof(double));
	if (!r.s || !r.vals) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		goto out;
	}
	mg_lines it;
	const char *l;
	size_t n;
	mg_lines_init(&it, data, len);
	while (rc == MG_OK && mg_lines_next(&it, &l, &n)) {
		const char *t = l;
		size_t tn = n;
		msa_kw kw;
		mg_trim(&t, &tn);
		if (tn == 0)
			continue;
		if (r.state == 1 && t[0] != '#') {
			rc = data_line(&r, t, tn, it.lineno);
			continue;
		}
		if ((rc = msa_parse_kw(l, n, &kw, it.lineno)) != MG_OK)
			break;
		if (r.state == 1) {
			if (kw.vendor || !mg_equals_ci(kw.key, kw.kn, "ENDOFDATA")) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno,
				                  "#%.*s inside the data (no #ENDOFDATA after #SPECTRUM, line %ld)",
				                  (int)(kw.kn > 30 ? 30 : kw.kn), kw.key, r.spectrum_line);
				break;
			}
			r.state = 2;
			r.end_line = it.lineno;
			continue;
		}
		if (r.state == 2 && !kw.vendor && mg_equals_ci(kw.key, kw.kn, "SPECTRUM")) {
			rc = mg_fail_line(MG_ERR_UNSUPPORTED, DOM, it.lineno, "a second #SPECTRUM (one spectrum per file)");
			break;
		}
		rc = keyword(&r, &kw, it.lineno);
	}
	if (rc == MG_OK && r.nkw == 0)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "no #FORMAT line: not an EMSA/MSA file");
	if (rc == MG_OK)
		rc = finish(&r, it.lineno);
out:
	free(r.vals);
	free(r.xunits);
	free(r.xperchan_raw);
	free(r.offset_raw);
	free(r.date);
	free(r.time);
	for (size_t i = 0; i < r.npay; i++)
		free(r.pay[i].text);
	free(r.pay);
	if (rc != MG_OK) {
		mg_spectrum_free(r.s);
		return rc;
	}
	*out = r.s;
	return MG_OK;
}

static int probe(const unsigned char *data, size_t len)
{
	mg_lines it;
	const char *l;
	size_t n;
	mg_fmt_skip_bom(&data, &len);
	mg_lines_init(&it, data, len < 4096 ? len : 4096);
	if (!mg_lines_next(&it, &l, &n))
		return 0;
	mg_trim(&l, &n);
	if (!mg_starts_with_ci(l, n, "#FORMAT"))
		return 0;
	for (size_t i = 0; i + 4 <= n; i++)
		if (mg_starts_with_ci(l + i, n - i, "EMSA"))
			return 100;
	return 50;
}

const mg_format mg_format_msa = {
	.id = MG_FORMAT_MSA,
	.name = "msa",
	.description = "EMSA/MSA spectral data file (ISO 22029)",
	.extension = ".msa",
	.probe = probe,
	.read = msa_read,
	.write = msa_write,
};
