/* SPDX-License-Identifier: GPL-3.0-or-later */
/* EMSA/MSA spectra (EMSA/MAS Spectral Data File, ISO 22029), read and write.
 *
 *   #FORMAT      : EMSA/MAS Spectral Data File     first keyword, always
 *   #KEYWORD-unit: value                           keyword padded to column 13
 *   ##VENDORKEY  : value                           vendor keywords
 *   #SPECTRUM    :                                 then the values, then
 *   #ENDOFDATA   :
 *
 * Read: DATATYPE Y (values only; x = OFFSET + i*XPERCHAN) and XY (x, y
 * pairs; the calibration is the least-squares fit over x, which must rise).
 * Values are separated by commas and/or blanks, any number per line (NCOLUMNS
 * is only checked to be a count); "2048." numbers are fine. NPOINTS must
 * equal the number of values (pairs for XY) between #SPECTRUM and #ENDOFDATA.
 *   XUNITS keV or eV + XPERCHAN/OFFSET -> calibration (eV converted to keV; no
 *      XUNITS: eV when XPERCHAN >= 1, else keV). Other units: no calibration.
 *   LIVETIME/REALTIME (s, ms, us) -> live/real time; DATE DD-MMM-YYYY + TIME
 *      HH:MM[:SS] -> start_time (no zone); TITLE (the first) -> description;
 *      BEAMKV (kV) -> acq.tube_kv; PROBECUR (nA) -> acq.tube_ua = nA/1000;
 *      ELEVANGLE (dg) -> acq.takeoff_deg.
 *   Every other keyword -> meta "msa.#KEY" / "msa.##KEY", with " -unit" when
 *      the line had a unit ("msa.##MNFWHM -keV"), in file order. VERSION 1.0,
 *      empty OWNER, SIGNALTYPE XRF, YUNITS counts are what the writer writes
 *      anyway and are not stored.
 *   Negative values (Bruker's spectra carry a few near 0.3 keV, presumably
 *      left by its pile-up/escape corrections) are not counts: they read as 0, and meta
 *      "msa.clamped_counts" ("126:-2 130:-235") keeps them; the writer puts them
 *      back, so the file round-trips unchanged.
 *
 * Write: the required keywords in the standard's order, DATATYPE Y with one
 * value a line, keV, SIGNALTYPE XRF (or the kept one), LIVETIME/REALTIME -s,
 * BEAMKV -kV, PROBECUR -nA, ELEVANGLE -dg, the kept msa.* keywords, then what
 * these cannot carry exactly as "##MG_FIELD   : key: value" lines (core/fields.h
 * keys, e.g. "calibration_kev: o g q" for a quadratic calibration, whose
 * XPERCHAN/OFFSET are then the least-squares line) cut into 80-character lines
 * continued by "##MG_FIELD+  :". TITLE is cut to 64 characters (the whole text
 * then goes to ##MG_FIELD). Lines end in CRLF. Text is written in UTF-8 (ASCII
 * stays ASCII): PyMca's EMSA parser decodes files with the locale's encoding
 * and fails on latin-1 bytes; the reader takes UTF-8 and falls back to latin-1. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fields.h"
#include "formats.h"
#include "internal.h"
#include "text.h"

#define DOM "msa"
#define MSA_MAX_VALUES (2 * MG_SPECTRUM_MAX_CHANNELS) /* XY: pairs */
#define MSA_LINE 80
#define MSA_PAYLOAD_KEY "MG_FIELD"

static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

/* ---- keywords ------------------------------------------------------------ */

/* How a keyword is handled; one table for the reader and the writer. */
enum kw_class {
	KW_META,      /* kept in meta, written in the kept block */
	KW_STRUCT,    /* consumed: FORMAT, NPOINTS, NCOLUMNS, XUNITS, DATATYPE, XPERCHAN, OFFSET, ... */
	KW_DEFAULTED, /* VERSION, OWNER, SIGNALTYPE, YUNITS: meta unless the writer's default */
	KW_TITLE,
	KW_DATE,
	KW_TIME,
	KW_MAPPED,    /* a named field in a unit the reader converts */
	KW_PAYLOAD,   /* ##MG_FIELD, ##MG_FIELD+ */
};

static int unit_is(const char *u, size_t un, const char *const *list)
{
	for (; *list; list++)
		if (mg_equals_ci(u, un, *list))
			return 1;
	return 0;
}

/* Scale of a mapped keyword's unit to the field's unit, 0 when not mapped. */
static double mapped_scale(const char *k, size_t kn, const char *u, size_t un)
{
	if (mg_equals_ci(k, kn, "LIVETIME") || mg_equals_ci(k, kn, "REALTIME")) {
		if (un == 0 || mg_equals_ci(u, un, "s") || mg_equals_ci(u, un, "sec"))
			return 1;
		if (mg_equals_ci(u, un, "ms"))
			return 1e-3;
		if (mg_equals_ci(u, un, "us") || (un == 3 && memcmp(u, "\xc2\xb5s", 3) == 0))
			return 1e-6;
		return 0;
	}
	if (mg_equals_ci(k, kn, "BEAMKV")) {
		if (un == 0 || mg_equals_ci(u, un, "kV"))
			return 1;
		return mg_equals_ci(u, un, "V") ? 1e-3 : 0;
	}
	if (mg_equals_ci(k, kn, "PROBECUR")) { /* to uA */
		if (un == 0 || mg_equals_ci(u, un, "nA"))
			return 1e-3;
		if (mg_equals_ci(u, un, "uA") || (un == 3 && memcmp(u, "\xc2\xb5" "A", 3) == 0))
			return 1;
		if (mg_equals_ci(u, un, "pA"))
			return 1e-6;
		return mg_equals_ci(u, un, "mA") ? 1e3 : 0;
	}
	if (mg_equals_ci(k, kn, "ELEVANGLE")) {
		static const char *const deg[] = {"dg", "deg", "degree", "degrees", NULL};
		if (un == 0 || unit_is(u, un, deg))
			return 1;
		return mg_equals_ci(u, un, "rad") ? 180.0 / M_PI : 0;
	}
	return 0;
}

static enum kw_class classify(int vendor, const char *k, size_t kn, const char *u, size_t un)
{
	if (vendor)
		return mg_equals_ci(k, kn, MSA_PAYLOAD_KEY) || mg_equals_ci(k, kn, MSA_PAYLOAD_KEY "+") ? KW_PAYLOAD
		                                                                                        : KW_META;
	static const char *const structural[] = {"FORMAT",   "NPOINTS", "NCOLUMNS", "XUNITS", "DATATYPE",
	                                         "XPERCHAN", "OFFSET",  "SPECTRUM", "ENDOFDATA", NULL};
	static const char *const defaulted[] = {"VERSION", "OWNER", "SIGNALTYPE", "YUNITS", NULL};
	if (unit_is(k, kn, structural))
		return KW_STRUCT;
	if (unit_is(k, kn, defaulted))
		return KW_DEFAULTED;
	if (mg_equals_ci(k, kn, "TITLE"))
		return KW_TITLE;
	if (mg_equals_ci(k, kn, "DATE"))
		return KW_DATE;
	if (mg_equals_ci(k, kn, "TIME"))
		return KW_TIME;
	return mapped_scale(k, kn, u, un) != 0 ? KW_MAPPED : KW_META;
}

static const char *default_of(const char *k, size_t kn)
{
	if (mg_equals_ci(k, kn, "VERSION"))
		return "1.0";
	if (mg_equals_ci(k, kn, "SIGNALTYPE"))
		return "XRF";
	if (mg_equals_ci(k, kn, "YUNITS"))
		return "counts";
	return ""; /* OWNER */
}

typedef struct msa_kw {
	int vendor;         /* "##" */
	const char *key, *unit, *value, *raw;
	size_t kn, un, vn, rn; /* raw: after ": " untrimmed (##MG_FIELD) */
} msa_kw;

/* Parse "#KEY[ -unit]: value" (line without its end). 0 or MG_ERR_FORMAT. */
static int parse_kw(const char *l, size_t n, msa_kw *kw, long lineno)
{
	size_t i = 0;
	memset(kw, 0, sizeof(*kw));
	while (i < n && isspace((unsigned char)l[i]))
		i++;
	if (i == n || l[i] != '#')
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "expected a '#KEYWORD: value' line");
	i++;
	if (i < n && l[i] == '#') {
		kw->vendor = 1;
		i++;
	}
	kw->key = l + i;
	while (i < n && !isspace((unsigned char)l[i]) && l[i] != '-' && l[i] != ':')
		i++;
	kw->kn = (size_t)(l + i - kw->key);
	if (kw->kn == 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "a '#' line without a keyword");
	while (i < n && isspace((unsigned char)l[i]))
		i++;
	if (i < n && l[i] == '-') {
		kw->unit = l + ++i;
		while (i < n && l[i] != ':')
			i++;
		kw->un = (size_t)(l + i - kw->unit);
		mg_trim(&kw->unit, &kw->un);
	}
	if (i == n) {
		if (!kw->vendor && (mg_equals_ci(kw->key, kw->kn, "SPECTRUM") || mg_equals_ci(kw->key, kw->kn, "ENDOFDATA")))
			return MG_OK;
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "'#%.*s' without ':'", (int)(kw->kn > 30 ? 30 : kw->kn),
		                    kw->key);
	}
	if (l[i] != ':')
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "'#%.*s': expected ':' after the keyword",
		                    (int)(kw->kn > 30 ? 30 : kw->kn), kw->key);
	i++;
	kw->value = l + i;
	kw->vn = n - i;
	mg_trim(&kw->value, &kw->vn);
	if (i < n && l[i] == ' ')
		i++;
	kw->raw = l + i;
	kw->rn = n - i;
	return MG_OK;
}

/* "msa.#KEY -unit" for a keyword line (UTF-8, as values are). */
static char *meta_key(const msa_kw *kw)
{
	size_t len = 8 + kw->kn + kw->un + 3;
	char *k = malloc(len);
	if (!k)
		return NULL;
	int n = snprintf(k, len, "msa.%s%.*s%s%.*s", kw->vendor ? "##" : "#", (int)kw->kn, kw->key,
	                 kw->un ? " -" : "", (int)kw->un, kw->unit ? kw->unit : "");
	char *d = mg_fmt_text_decode(k, (size_t)n);
	free(k);
	return d;
}

/* The parts of a meta key "msa.#KEY -unit"; 0 if it is not one. */
static int split_meta_key(const char *mk, msa_kw *kw)
{
	memset(kw, 0, sizeof(*kw));
	if (strncmp(mk, "msa.#", 5) != 0)
		return 0;
	const char *p = mk + 5;
	if (*p == '#') {
		kw->vendor = 1;
		p++;
	}
	kw->key = p;
	const char *dash = strstr(p, " -");
	kw->kn = dash ? (size_t)(dash - p) : strlen(p);
	if (dash) {
		kw->unit = dash + 2;
		kw->un = strlen(kw->unit);
	}
	return 1;
}

/* 1 if the keyword and unit read back unchanged from a written line. */
static int kw_writable(const msa_kw *kw)
{
	if (kw->kn == 0 || kw->kn > 40 || (kw->unit && (kw->un == 0 || kw->un > 20)))
		return 0;
	for (size_t i = 0; i < kw->kn; i++) {
		unsigned char c = (unsigned char)kw->key[i];
		if (c <= 0x20 || c == '-' || c == ':' || c == 0x7f)
			return 0;
	}
	for (size_t i = 0; i < kw->un; i++) {
		unsigned char c = (unsigned char)kw->unit[i];
		if (c < 0x20 || c == ':' || c == 0x7f)
			return 0;
	}
	return !kw->un || (!isspace((unsigned char)kw->unit[0]) && !isspace((unsigned char)kw->unit[kw->un - 1]));
}

/* ---- reader --------------------------------------------------------------- */

typedef struct payload {
	char *text;
	size_t len;
	long lineno;
} payload;

typedef struct msa_read {
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
} msa_read;

static int meta_add_kw(mg_spectrum *s, const msa_kw *kw)
{
	char *k = meta_key(kw), *v = mg_fmt_text_decode(kw->value, kw->vn);
	int rc = k && v ? mg_kvlist_add(&s->meta, k, v, NULL) : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	free(k);
	free(v);
	return rc;
}

static int number(const msa_kw *kw, double *out, long lineno)
{
	char ex[24];
	size_t m = kw->vn < sizeof(ex) - 1 ? kw->vn : sizeof(ex) - 1;
	if (mg_parse_double(kw->value, kw->vn, out) == MG_OK)
		return MG_OK;
	for (size_t i = 0; i < m; i++)
		ex[i] = kw->value[i] >= 0x20 && kw->value[i] < 0x7f ? kw->value[i] : '?';
	ex[m] = '\0';
	return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "#%.*s: '%s' is not a number", (int)(kw->kn > 30 ? 30 : kw->kn),
	                    kw->key, ex);
}

static int keyword(msa_read *r, const msa_kw *kw, long lineno)
{
	mg_spectrum *s = r->s;
	const char *k = kw->key;
	size_t kn = kw->kn;
	double d;
	int rc;
	if (r->nkw++ == 0 && (kw->vendor || !mg_equals_ci(k, kn, "FORMAT")))
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "the first keyword must be #FORMAT");
	switch (classify(kw->vendor, k, kn, kw->unit, kw->un)) {
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
		const char *def = default_of(k, kn);
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
		char **f = classify(0, k, kn, NULL, 0) == KW_DATE ? &r->date : &r->time;
		if (*f || kw->un)
			return meta_add_kw(s, kw); /* a repeated or odd one */
		if (f == &r->date)
			r->date_line = lineno;
		*f = mg_fmt_text_decode(kw->value, kw->vn);
		return *f ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	case KW_MAPPED: {
		double scale = mapped_scale(k, kn, kw->unit, kw->un);
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

static int data_line(msa_read *r, const char *l, size_t n, long lineno)
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
			if (mg_parse_double(f + j, k - j, &v) != MG_OK) {
				size_t m = k - j < sizeof(ex) - 1 ? k - j : sizeof(ex) - 1;
				for (size_t q = 0; q < m; q++)
					ex[q] = f[j + q] >= 0x20 && f[j + q] < 0x7f ? f[j + q] : '?';
				ex[m] = '\0';
				return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "'%s' is not a number", ex);
			}
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

/* keV per x unit; 0 when not an energy unit. */
static double xunit_scale(const char *u, double xperchan)
{
	if (!u)
		return fabs(xperchan) >= 1 ? 1e-3 : 1; /* no XUNITS: eV/channel when >= 1 */
	size_t n = strlen(u);
	if (mg_equals_ci(u, n, "keV"))
		return 1;
	if (mg_equals_ci(u, n, "eV"))
		return 1e-3;
	return 0;
}

static int parse_date(const char *d, int *y, int *mo, int *day)
{
	char mon[4];
	int pos = 0;
	if (sscanf(d, "%2d-%3[A-Za-z]-%4d%n", day, mon, y, &pos) != 3 || d[pos] || strlen(mon) != 3)
		return 0;
	for (int i = 0; i < 12; i++)
		if (strcasecmp(mon, months[i]) == 0) {
			*mo = i + 1;
			return *day >= 1 && *day <= 31 && *y >= 1900 && *y <= 9999;
		}
	return 0;
}

static int parse_time(const char *t, int *h, int *mi, int *se)
{
	int pos = 0;
	*se = 0;
	if (!((sscanf(t, "%2d:%2d:%2d%n", h, mi, se, &pos) == 3 && !t[pos]) ||
	      (pos = 0, sscanf(t, "%2d:%2d%n", h, mi, &pos) == 2 && !t[pos])))
		return 0;
	return *h >= 0 && *h <= 23 && *mi >= 0 && *mi <= 59 && *se >= 0 && *se <= 60;
}

static int finish_times(msa_read *r)
{
	mg_spectrum *s = r->s;
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, rc = MG_OK;
	int date_ok = r->date && parse_date(r->date, &y, &mo, &d);
	int time_ok = r->time && parse_time(r->time, &h, &mi, &se);
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

static int finish_calibration(msa_read *r, size_t npts)
{
	mg_spectrum *s = r->s;
	double scale = xunit_scale(r->xunits, r->xperchan);
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

static int finish(msa_read *r, long last_line)
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

static void skip_bom(const unsigned char **data, size_t *len)
{
	if (*len >= 3 && (*data)[0] == 0xef && (*data)[1] == 0xbb && (*data)[2] == 0xbf) {
		*data += 3;
		*len -= 3;
	}
}

static int read_msa(const unsigned char *data, size_t len, mg_spectrum **out)
{
	msa_read r;
	int rc = MG_OK;
	memset(&r, 0, sizeof(r));
	skip_bom(&data, &len);
	long line = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = data[i];
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0x1a)
			return mg_fail_line(MG_ERR_FORMAT, DOM, line, "binary byte 0x%02x at offset %zu", c, i);
		line += c == '\n';
	}
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
		if ((rc = parse_kw(l, n, &kw, it.lineno)) != MG_OK)
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
	skip_bom(&data, &len);
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

/* ---- writer --------------------------------------------------------------- */

/* "#KEY -unit: value" with the keyword and unit padded to 13 columns. */
static void put_kw(mg_buf *b, const char *key, const char *unit, const char *value)
{
	size_t w = strlen(key) + (unit ? strlen(unit) + 1 : 0);
	size_t pad = w < 13 ? 13 - w : 0;
	mg_buf_puts(b, key);
	if (unit && pad == 0)
		pad = 1;
	for (size_t i = 0; i < pad; i++)
		mg_buf_puts(b, " ");
	if (unit) {
		mg_buf_puts(b, "-");
		mg_buf_puts(b, unit);
	}
	mg_buf_puts(b, ": ");
	mg_fmt_text_put(b, value, 0);
	mg_buf_puts(b, "\r\n");
}

static void put_kw_num(mg_buf *b, const char *key, const char *unit, double v)
{
	char num[40];
	mg_fmt_num(num, sizeof(num), v);
	put_kw(b, key, unit, num);
}

/* The first writable meta value of a fixed keyword ("msa.#OWNER"), or NULL. */
static const char *fixed_meta(const mg_spectrum *s, const char *mk)
{
	const mg_kv *kv = mg_kvlist_find(&s->meta, mk);
	return kv && !kv->comment && mg_fmt_text_clean(kv->value) ? kv->value : NULL;
}

static int iso_date(const char *t, int f[6], int *has_time)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	for (i = 0; i < sizeof(pattern) - 1 && t[i]; i++)
		if (pattern[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != pattern[i])
			break;
	if (i < 10)
		return 0;
	*has_time = i == sizeof(pattern) - 1;
	memset(f, 0, 6 * sizeof(int));
	sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]);
	if (!*has_time && t[10]) /* more than a date but not a time */
		return 0;
	return f[0] >= 1900 && f[1] >= 1 && f[1] <= 12 && f[2] >= 1 && f[2] <= 31 &&
	       (!*has_time || (f[3] <= 23 && f[4] <= 59 && f[5] <= 60));
}

static void write_head(const mg_spectrum *s, mg_buf *b)
{
	char v[128];
	int f[6], has_time;
	const char *m;
	put_kw(b, "#FORMAT", NULL, "EMSA/MAS Spectral Data File");
	put_kw(b, "#VERSION", NULL, (m = fixed_meta(s, "msa.#VERSION")) ? m : "1.0");
	/* TITLE: 64 characters at most (whole UTF-8 characters) */
	const char *d = s->sample.description ? s->sample.description : "";
	size_t dn = strlen(d);
	if (dn > 64) {
		dn = 64;
		while (dn && ((unsigned char)d[dn] & 0xc0) == 0x80)
			dn--;
	}
	char *title = mg_strndup_view(d, dn);
	if (!title) {
		b->failed = 1;
		return;
	}
	put_kw(b, "#TITLE", NULL, title);
	free(title);
	for (size_t i = 0; i < s->meta.count; i++)
		if (strcmp(s->meta.items[i].key, "msa.#TITLE") == 0 && mg_fmt_text_clean(s->meta.items[i].value) &&
		    !s->meta.items[i].comment)
			put_kw(b, "#TITLE", NULL, s->meta.items[i].value);
	/* kept DATE/TIME text only where it reads back as kept text, not as a time */
	int y, mo, dd, h, mi, se;
	const char *kd = fixed_meta(s, "msa.#DATE"), *kt = fixed_meta(s, "msa.#TIME");
	if (kd && parse_date(kd, &y, &mo, &dd))
		kd = NULL;
	if (iso_date(s->start_time, f, &has_time)) {
		snprintf(v, sizeof(v), "%02d-%s-%04d", f[2], months[f[1] - 1], f[0]);
		put_kw(b, "#DATE", NULL, v);
		if (has_time)
			snprintf(v, sizeof(v), "%02d:%02d:%02d", f[3], f[4], f[5]);
		put_kw(b, "#TIME", NULL, has_time ? v : kt && !parse_time(kt, &h, &mi, &se) ? kt : "");
	} else {
		put_kw(b, "#DATE", NULL, !s->start_time[0] && kd ? kd : "");
		put_kw(b, "#TIME", NULL, !s->start_time[0] && kt ? kt : "");
	}
	put_kw(b, "#OWNER", NULL, (m = fixed_meta(s, "msa.#OWNER")) ? m : "");
	snprintf(v, sizeof(v), "%zu", s->nchan);
	put_kw(b, "#NPOINTS", NULL, v);
	put_kw(b, "#NCOLUMNS", NULL, "1");
	if (s->cal.valid) {
		put_kw(b, "#XUNITS", NULL, "keV");
	} else {
		m = fixed_meta(s, "msa.#XUNITS");
		put_kw(b, "#XUNITS", NULL, m && xunit_scale(m, 0) == 0 ? m : "Channel");
	}
	put_kw(b, "#YUNITS", NULL, (m = fixed_meta(s, "msa.#YUNITS")) ? m : "counts");
	put_kw(b, "#DATATYPE", NULL, "Y");
	if (s->cal.valid) {
		/* a quadratic calibration as its least-squares line over the channels */
		double nn = s->nchan > 1 ? (double)(s->nchan - 1) : 0, q = s->cal.quad_kev;
		put_kw_num(b, "#XPERCHAN", NULL, s->cal.gain_kev + q * nn);
		put_kw_num(b, "#OFFSET", NULL, s->cal.offset_kev - q * nn * (nn - 1) / 6);
	} else {
		double x;
		m = fixed_meta(s, "msa.#XPERCHAN");
		put_kw(b, "#XPERCHAN", NULL, m && mg_parse_double(m, strlen(m), &x) == MG_OK && x > 0 ? m : "1");
		m = fixed_meta(s, "msa.#OFFSET");
		put_kw(b, "#OFFSET", NULL, m && mg_parse_double(m, strlen(m), &x) == MG_OK ? m : "0");
	}
	put_kw(b, "#SIGNALTYPE", NULL, (m = fixed_meta(s, "msa.#SIGNALTYPE")) ? m : "XRF");
	if (!isnan(s->live_time_s))
		put_kw_num(b, "#LIVETIME", "s", s->live_time_s);
	if (!isnan(s->real_time_s))
		put_kw_num(b, "#REALTIME", "s", s->real_time_s);
	if (!isnan(s->acq.tube_kv))
		put_kw_num(b, "#BEAMKV", "kV", s->acq.tube_kv);
	if (!isnan(s->acq.tube_ua))
		put_kw_num(b, "#PROBECUR", "nA", s->acq.tube_ua * 1000);
	if (!isnan(s->acq.takeoff_deg))
		put_kw_num(b, "#ELEVANGLE", "dg", s->acq.takeoff_deg);
	/* the kept keywords */
	for (size_t i = 0; i < s->meta.count; i++) {
		const mg_kv *kv = &s->meta.items[i];
		msa_kw kw;
		if (!split_meta_key(kv->key, &kw) || kv->comment || !kw_writable(&kw) ||
		    classify(kw.vendor, kw.key, kw.kn, kw.unit, kw.un) != KW_META || !mg_fmt_text_clean(kv->value))
			continue;
		char key[64], unit[32];
		snprintf(key, sizeof(key), "%s%.*s", kw.vendor ? "##" : "#", (int)kw.kn, kw.key);
		snprintf(unit, sizeof(unit), "%.*s", (int)kw.un, kw.unit ? kw.unit : "");
		put_kw(b, key, kw.un ? unit : NULL, kv->value);
	}
}

/* The value line for channel i: negative values read as 0 go back. */
static void write_data(const mg_spectrum *s, mg_buf *b)
{
	double *out = malloc(s->nchan * sizeof(double));
	if (!out) {
		b->failed = 1;
		return;
	}
	memcpy(out, s->counts, s->nchan * sizeof(double));
	const mg_kv *kv = mg_kvlist_find(&s->meta, "msa.clamped_counts");
	const char *neg = kv && !kv->comment ? kv->value : NULL;
	for (const char *p = neg; p && *p;) {
		char *end;
		unsigned long ch = strtoul(p, &end, 10);
		double v;
		if (end == p || *end != ':' || !isdigit((unsigned char)*p))
			break;
		p = end + 1;
		size_t len = strcspn(p, " ");
		if (mg_parse_double(p, len, &v) == MG_OK && v < 0 && ch < s->nchan && s->counts[ch] == 0)
			out[ch] = v;
		p += len;
		while (*p == ' ')
			p++;
	}
	if (neg) { /* only when the reader makes the same entry of them again */
		mg_buf again;
		mg_buf_init(&again);
		for (size_t i = 0; i < s->nchan; i++) {
			char num[40];
			if (out[i] >= 0)
				continue;
			mg_fmt_num(num, sizeof(num), out[i]);
			mg_buf_printf(&again, "%s%zu:%s", again.len ? " " : "", i, num);
		}
		if (mg_buf_status(&again) != MG_OK || !again.len || strcmp(again.data, neg) != 0)
			memcpy(out, s->counts, s->nchan * sizeof(double));
		mg_buf_free(&again);
	}
	put_kw(b, "#SPECTRUM", NULL, "Spectral Data Starts Here");
	for (size_t i = 0; i < s->nchan; i++) {
		char num[40];
		mg_fmt_num(num, sizeof(num), out[i]);
		mg_buf_puts(b, num);
		mg_buf_puts(b, "\r\n");
	}
	put_kw(b, "#ENDOFDATA", NULL, "");
	free(out);
}

/* ##MG_FIELD lines of at most 80 characters, continued by ##MG_FIELD+. */
static void write_payload(mg_buf *b, const mg_buf *lines)
{
	const size_t room = MSA_LINE - 15; /* "##MG_FIELD   : " */
	for (size_t i = 0; i < lines->len;) {
		const char *l = lines->data + i, *e = memchr(l, '\n', lines->len - i);
		char *line = mg_strndup_view(l, (size_t)(e - l));
		mg_buf enc;
		mg_buf_init(&enc);
		if (line)
			mg_fmt_text_put(&enc, line, 0);
		free(line);
		if (!line || mg_buf_status(&enc) != MG_OK) {
			b->failed = 1;
			mg_buf_free(&enc);
			return;
		}
		for (size_t p = 0, first = 1; p < enc.len; first = 0) {
			size_t take = enc.len - p < room ? enc.len - p : room;
			if (p + take < enc.len) { /* do not cut a UTF-8 character */
				size_t t = take;
				while (t > 0 && ((unsigned char)enc.data[p + t] & 0xc0) == 0x80)
					t--;
				if (t > 0)
					take = t;
			}
			mg_buf_puts(b, first ? "##" MSA_PAYLOAD_KEY "   : " : "##" MSA_PAYLOAD_KEY "+  : ");
			mg_buf_append(b, enc.data + p, take);
			mg_buf_puts(b, "\r\n");
			p += take;
		}
		mg_buf_free(&enc);
		i = (size_t)(e - lines->data) + 1;
	}
}

static int write_msa(const mg_spectrum *s, mg_buf *out)
{
	size_t start = out->len;
	mg_buf head, data, tmp, pay;
	mg_spectrum *got = NULL;
	int rc;
	mg_buf_init(&head);
	mg_buf_init(&data);
	mg_buf_init(&tmp);
	mg_buf_init(&pay);
	write_head(s, &head);
	write_data(s, &data);
	mg_buf_append(&tmp, head.data, head.len);
	mg_buf_append(&tmp, data.data, data.len);
	if ((rc = mg_buf_status(&head)) != MG_OK || (rc = mg_buf_status(&data)) != MG_OK ||
	    (rc = mg_buf_status(&tmp)) != MG_OK)
		goto out;
	/* read the standard part back; what differs goes to ##MG_FIELD */
	if ((rc = read_msa((const unsigned char *)tmp.data, tmp.len, &got)) != MG_OK) {
		rc = mg_fail(MG_ERR_UNSUPPORTED, DOM, "a value has no readable .msa form: %s",
		             mg_error_detail());
		goto out;
	}
	if ((rc = mg_fmt_carry_diff(s, got, &pay)) != MG_OK)
		goto out;
	mg_buf_append(out, head.data, head.len);
	write_payload(out, &pay);
	mg_buf_append(out, data.data, data.len);
	if ((rc = mg_buf_status(out)) == MG_OK && pay.len) {
		/* never hand out a file the reader rejects */
		mg_spectrum_free(got);
		got = NULL;
		if (read_msa((const unsigned char *)out->data + start, out->len - start, &got) != MG_OK)
			rc = mg_fail(MG_ERR_UNSUPPORTED, DOM, "a value has no readable .msa form: %s", mg_error_detail());
	}
out:
	if (rc != MG_OK && out->len > start) { /* no partial file */
		out->len = start;
		out->data[start] = '\0';
	}
	mg_spectrum_free(got);
	mg_buf_free(&head);
	mg_buf_free(&data);
	mg_buf_free(&tmp);
	mg_buf_free(&pay);
	return rc;
}

const mg_format mg_format_msa = {
	.id = MG_FORMAT_MSA,
	.name = "msa",
	.description = "EMSA/MSA spectral data file (ISO 22029)",
	.extension = ".msa",
	.probe = probe,
	.read = read_msa,
	.write = write_msa,
};
