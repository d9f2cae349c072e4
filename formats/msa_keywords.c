/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The EMSA/MSA keywords (formats/msa.h): one table for the reader and the
 * writer (how each keyword is handled, its units), the keyword line syntax,
 * the meta keys kept keywords go to, and the date, time and x unit values. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "internal.h"
#include "msa.h"
#include "text.h"

#define DOM "msa"

const char *const msa_months[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

static int unit_is(const char *u, size_t un, const char *const *list)
{
	for (; *list; list++)
		if (mg_equals_ci(u, un, *list))
			return 1;
	return 0;
}

/* Scale of a mapped keyword's unit to the field's unit, 0 when not mapped. */
double msa_mapped_scale(const char *k, size_t kn, const char *u, size_t un)
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

enum kw_class msa_classify(int vendor, const char *k, size_t kn, const char *u, size_t un)
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
	return msa_mapped_scale(k, kn, u, un) != 0 ? KW_MAPPED : KW_META;
}

const char *msa_default_of(const char *k, size_t kn)
{
	if (mg_equals_ci(k, kn, "VERSION"))
		return "1.0";
	if (mg_equals_ci(k, kn, "SIGNALTYPE"))
		return "XRF";
	if (mg_equals_ci(k, kn, "YUNITS"))
		return "counts";
	return ""; /* OWNER */
}
/* Parse "#KEY[ -unit]: value" (line without its end). 0 or MG_ERR_FORMAT. */
int msa_parse_kw(const char *l, size_t n, msa_kw *kw, long lineno)
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
char *msa_meta_key(const msa_kw *kw)
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
int msa_split_meta_key(const char *mk, msa_kw *kw)
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
int msa_kw_writable(const msa_kw *kw)
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

/* keV per x unit; 0 when not an energy unit. */
double msa_xunit_scale(const char *u, double xperchan)
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

int msa_parse_date(const char *d, int *y, int *mo, int *day)
{
	char mon[4];
	int pos = 0;
	if (sscanf(d, "%2d-%3[A-Za-z]-%4d%n", day, mon, y, &pos) != 3 || d[pos] || strlen(mon) != 3)
		return 0;
	for (int i = 0; i < 12; i++)
		if (strcasecmp(mon, msa_months[i]) == 0) {
			*mo = i + 1;
			return *day >= 1 && *day <= 31 && *y >= 1900 && *y <= 9999;
		}
	return 0;
}

int msa_parse_time(const char *t, int *h, int *mi, int *se)
{
	int pos = 0;
	*se = 0;
	if (!((sscanf(t, "%2d:%2d:%2d%n", h, mi, se, &pos) == 3 && !t[pos]) ||
	      (pos = 0, sscanf(t, "%2d:%2d%n", h, mi, &pos) == 2 && !t[pos])))
		return 0;
	return *h >= 0 && *h <= 23 && *mi >= 0 && *mi <= 59 && *se >= 0 && *se <= 60;
}
