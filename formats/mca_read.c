/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Amptek .mca spectra (PMCA, ADMCA and DppMCA text format), read and write:
 *
 *   <<PMCA SPECTRUM>>                   line 1, always
 *   TAG - live_data                     header: "KEY - value", split on the first " - "
 *   DESCRIPTION - text                  -> sample.description
 *   GAIN - 2                            channel-count code: 0 = 256 ... 6 = 16384
 *   PRESET_TIME - 120                   -> acq.preset_time_s (0 = none)
 *   LIVE_TIME - 109.68                  -> live_time_s (0 = unknown)
 *   REAL_TIME - 120                     -> real_time_s (0 = unknown)
 *   START_TIME - 10/03/2011 10:16:08    MM/DD/YYYY local time -> "2011-10-03T10:16:08"
 *   SERIAL_NUMBER - 1668                -> instrument.serial
 *   <<CALIBRATION>>                     LABEL - keV, then "channel energy" pairs
 *   <<ROI>>                             "start end" lines, kept in meta "mca.roi"
 *   <<DATA>> ... <<END>>                one whole, non-negative count per line
 *   <<DP5 CONFIGURATION>>               "CMD=value;    description" -> meta "dp5.config.CMD"
 *   <<DPP STATUS>>                      "Key: value" -> meta "dp5.status.Key"
 *   <<MAGASSAY>>                        magassay's own "key: value" lines (core/fields.h keys)
 *
 * Header lines without a named field are kept in meta "mca.header.KEY", except
 * those that say what the writer writes anyway (TAG live_data, GAIN matching
 * the channel count, THRESHOLD 0, LIVE_MODE 0): the writer puts them back.
 * Unknown <<NAME>> sections are kept line by line in meta "mca.section.NAME"
 * (after <<END>>) or "mca.presection.NAME" (before <<DATA>>), with their
 * "<<NAME END>>" line if they had one, and written back in the same place.
 *
 * Calibration: two points give a line, three or more the least-squares
 * quadratic (DppMCA's fit), dropped to a line when the quadratic term is below
 * 1e-9 keV over the points' channel range. Labels keV, eV and MeV are energy
 * units; any other label (e.g. "Channel") means no energy calibration. The raw
 * pairs stay in meta "mca.calibration.points" ("ch e; ch e") and
 * "mca.calibration.label", so a round trip writes the same pairs.
 *
 * The writer writes Amptek's sections in Amptek's order with CRLF line ends and
 * text in latin-1 where it can. Whatever the Amptek sections cannot carry
 * exactly (fields without an Amptek home, a calibration rewritten as computed
 * points, a zone in start_time, metadata of other formats) goes into a
 * trailing <<MAGASSAY>> section that Amptek software and PyMca skip; the writer
 * finds it by reading its own Amptek sections back and comparing. */
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

#define DOM "mca"
#define MCA_MAX_CAL_POINTS 256
#define MCA_MAX_SECTION_NAME 200 /* bytes of UTF-8 */
#define MCA_MAX_COUNT 9007199254740992.0 /* 2^53: every whole count below is exact */

/* ---- small helpers ------------------------------------------------------- */

/* Skip a UTF-8 byte order mark. */
static void skip_bom(const unsigned char **data, size_t *len)
{
	if (*len >= 3 && (*data)[0] == 0xef && (*data)[1] == 0xbb && (*data)[2] == 0xbf) {
		*data += 3;
		*len -= 3;
	}
}

/* 1 and the trimmed name inside if the trimmed line is "<<NAME>>". */
static int section_line(const char *l, size_t n, const char **name, size_t *nn)
{
	if (n < 4 || l[0] != '<' || l[1] != '<' || l[n - 2] != '>' || l[n - 1] != '>')
		return 0;
	*name = l + 2;
	*nn = n - 4;
	mg_trim(name, nn);
	return 1;
}

/* A short printable excerpt of a bad value for an error message. */
static const char *excerpt(const char *s, size_t n, char *buf, size_t size)
{
	size_t m = n < size - 1 ? n : size - 1;
	for (size_t i = 0; i < m; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[m] = '\0';
	return buf;
}

/* Amptek's GAIN header value: the channel-count code 0 = 256 ... 6 = 16384. */
static int gain_code(size_t nchan)
{
	int k = 0;
	while ((256u << k) < nchan && k < 6)
		k++;
	return k;
}

/* keV per label unit; 0 when the label is not an energy unit. */
static double label_scale(const char *label)
{
	size_t n = label ? strlen(label) : 0;
	if (n == 0 || mg_equals_ci(label, n, "keV"))
		return 1.0;
	if (mg_equals_ci(label, n, "eV"))
		return 1e-3;
	if (mg_equals_ci(label, n, "MeV"))
		return 1e3;
	return 0;
}

/* The calibration the reader derives from calibration pairs (cal->valid = 0
 * for a non-energy label or fewer than two points). */
static int cal_derive(const char *label, const double *ch, const double *e, size_t n, mg_energy_cal *cal)
{
	double scale = label_scale(label), ek[MCA_MAX_CAL_POINTS], span = 0;
	memset(cal, 0, sizeof(*cal));
	if (scale == 0 || n < 2)
		return MG_OK;
	for (size_t i = 0; i < n; i++) {
		ek[i] = e[i] * scale;
		if (fabs(ch[i]) > span)
			span = fabs(ch[i]);
	}
	int rc = mg_energy_cal_fit(cal, ch, ek, n, n >= 3);
	if (rc == MG_OK && n >= 3 && fabs(cal->quad_kev) * span * span < 1e-9)
		rc = mg_energy_cal_fit(cal, ch, ek, n, 0);
	return rc;
}

/* Parse "ch e; ch e; ..." (meta mca.calibration.points). Count, or -1. */
static long parse_points(const char *text, double *ch, double *e)
{
	long n = 0;
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *f = p;
		size_t fn = len;
		mg_trim(&f, &fn);
		const char *sp = memchr(f, ' ', fn);
		if (n >= MCA_MAX_CAL_POINTS || !sp || mg_parse_double(f, (size_t)(sp - f), &ch[n]) != MG_OK ||
		    mg_parse_double(sp + 1, fn - (size_t)(sp + 1 - f), &e[n]) != MG_OK)
			return -1;
		n++;
		p += len;
		if (*p == ';')
			p++;
	}
	return n;
}

/* "YYYY-MM-DDTHH:MM:SS..." -> fields; 1 if the text starts that way. */
static int iso_split(const char *t, int f[6])
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != pattern[i])
			return 0;
	}
	sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]);
	return 1;
}

static int date_ok(int y, int mo, int d, int h, int mi, int s)
{
	return y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 &&
	       mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

/* Amptek's "MM/DD/YYYY HH:MM[:SS]" as ISO 8601 into iso; 1 if it is one. */
static int amptek_time(const char *v, size_t vn, char *iso, size_t size)
{
	int mo, dd, y, h, mi, se = 0, pos = 0;
	char buf[64];
	if (vn >= sizeof(buf))
		return 0;
	memcpy(buf, v, vn);
	buf[vn] = '\0';
	if (!((sscanf(buf, "%d/%d/%d %d:%d:%d%n", &mo, &dd, &y, &h, &mi, &se, &pos) == 6 ||
	       (se = 0, sscanf(buf, "%d/%d/%d %d:%d%n", &mo, &dd, &y, &h, &mi, &pos) == 5)) &&
	      (size_t)pos == vn && date_ok(y, mo, dd, h, mi, se)))
		return 0;
	snprintf(iso, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, dd, h, mi, se);
	return 1;
}

/* The firmware text the reader makes of Firmware and FPGA status values. */
static void compose_firmware(char *out, size_t size, const char *fw, const char *fpga)
{
	snprintf(out, size, "%s%s%s%s", fw ? fw : "", fw && fpga ? "/" : "", fpga ? "FPGA " : "", fpga ? fpga : "");
}

/* Remove every meta entry with this key. */
static void kv_remove(mg_kvlist *l, const char *key)
{
	size_t j = 0;
	for (size_t i = 0; i < l->count; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			free(l->items[i].key);
			free(l->items[i].value);
			free(l->items[i].comment);
		} else {
			l->items[j++] = l->items[i];
		}
	}
	l->count = j;
}

static int meta_add_view(mg_spectrum *s, const char *prefix, const char *key, size_t kn, const char *v,
                         size_t vn, const char *comment, size_t cn)
{
	size_t pn = strlen(prefix);
	char *dk = mg_fmt_text_decode(key, kn);
	char *k = dk ? malloc(pn + strlen(dk) + 1) : NULL;
	char *val = mg_fmt_text_decode(v, vn);
	char *com = comment ? mg_fmt_text_decode(comment, cn) : NULL;
	int rc = MG_ERR_NOMEM;
	if (k && val && (!comment || com)) {
		memcpy(k, prefix, pn);
		strcpy(k + pn, dk);
		rc = mg_kvlist_add(&s->meta, k, val, com);
	}
	free(dk);
	free(k);
	free(val);
	free(com);
	return rc == MG_OK ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
}

static int set_text_view(char **field, const char *v, size_t n)
{
	char *t = mg_fmt_text_decode(v, n);
	if (!t)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	free(*field);
	*field = t;
	return MG_OK;
}

/* ---- reader ------------------------------------------------------------- */

enum mca_sec { SEC_NONE, SEC_HEADER, SEC_CAL, SEC_ROI, SEC_DATA, SEC_CONFIG, SEC_STATUS, SEC_MAGASSAY, SEC_UNKNOWN };

typedef struct mca_read {
	mg_spectrum *s; /* MG_SPECTRUM_MAX_CHANNELS long until the end */
	size_t n;
	enum mca_sec sec;
	int seen_data, seen_cal, seen_magassay;
	long data_line;
	char unknown[256]; /* meta key of the unknown section being read */
	size_t unknown_prefix; /* length of "mca.section." or "mca.presection." in it */
	int unknown_lines;
	/* calibration */
	char *cal_label;
	double cal_ch[MCA_MAX_CAL_POINTS], cal_e[MCA_MAX_CAL_POINTS];
	size_t ncal;
	long cal_line;
	mg_buf cal_points;
	/* DP5 configuration cross-check */
	long mcac, mcac_line;
	/* DPP status */
	char *fw, *fpga, *status_serial;
	/* the <<MAGASSAY>> section, applied at the end */
	size_t mag_start, mag_end;
	long mag_line;
} mca_read;

static int close_section(mca_read *r)
{
	if (r->sec == SEC_CAL && r->cal_points.len) {
		int rc = mg_kvlist_add(&r->s->meta, "mca.calibration.points", r->cal_points.data, NULL);
		if (rc != MG_OK)
			return rc;
	}
	if (r->sec == SEC_UNKNOWN && r->unknown_lines == 0)
		return mg_kvlist_add(&r->s->meta, r->unknown, "", NULL); /* an empty section */
	return MG_OK;
}

static int header_line(mca_read *r, const char *l, size_t n, long lineno)
{
	mg_spectrum *s = r->s;
	const char *sep = NULL;
	for (size_t i = 0; i + 1 < n; i++) {
		if (l[i] == ' ' && l[i + 1] == '-' && (i + 2 == n || l[i + 2] == ' ')) {
			sep = l + i;
			break;
		}
	}
	if (!sep)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "expected 'KEY - value' in <<PMCA SPECTRUM>>");
	const char *k = l, *v = sep + 2;
	size_t kn = (size_t)(sep - l), vn = n - (size_t)(v - l);
	mg_trim(&k, &kn);
	mg_trim(&v, &vn);
	if (kn == 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "header line without a key");
	double d;
	if (mg_equals_ci(k, kn, "LIVE_TIME") || mg_equals_ci(k, kn, "REAL_TIME")) {
		char ex[24];
		if (mg_parse_double(v, vn, &d) != MG_OK || d < 0)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "%.*s '%s' is not a time in seconds", (int)kn,
			                    k, excerpt(v, vn, ex, sizeof(ex)));
		*(mg_equals_ci(k, kn, "LIVE_TIME") ? &s->live_time_s : &s->real_time_s) = d == 0 ? NAN : d;
		return MG_OK;
	}
	if (mg_equals_ci(k, kn, "DESCRIPTION"))
		return vn ? set_text_view(&s->sample.description, v, vn) : MG_OK;
	if (mg_equals_ci(k, kn, "SERIAL_NUMBER"))
		return vn ? set_text_view(&s->instrument.serial, v, vn) : MG_OK;
	if (mg_equals_ci(k, kn, "PRESET_TIME") && mg_parse_double(v, vn, &d) == MG_OK && d >= 0) {
		if (d > 0)
			s->acq.preset_time_s = d;
		return MG_OK;
	}
	if (mg_equals_ci(k, kn, "START_TIME")) {
		if (vn == 0 || amptek_time(v, vn, s->start_time, sizeof(s->start_time)))
			return MG_OK;
		mg_dbg(DOM, "line %ld: START_TIME not MM/DD/YYYY HH:MM:SS; kept in meta", lineno);
	}
	/* values the writer writes anyway when meta has none */
	if ((mg_equals_ci(k, kn, "TAG") && vn == 9 && memcmp(v, "live_data", 9) == 0) ||
	    ((mg_equals_ci(k, kn, "THRESHOLD") || mg_equals_ci(k, kn, "LIVE_MODE")) && vn == 1 && v[0] == '0'))
		return MG_OK;
	return meta_add_view(s, "mca.header.", k, kn, v, vn, NULL, 0);
}

static int cal_line(mca_read *r, const char *l, size_t n, long lineno)
{
	if (mg_starts_with_ci(l, n, "LABEL")) {
		const char *v = l + 5;
		size_t vn = n - 5;
		mg_trim(&v, &vn);
		if (vn && v[0] == '-') {
			v++;
			vn--;
			mg_trim(&v, &vn);
		}
		free(r->cal_label);
		r->cal_label = mg_fmt_text_decode(v, vn);
		if (!r->cal_label)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		return mg_kvlist_add(&r->s->meta, "mca.calibration.label", r->cal_label, NULL);
	}
	/* "channel energy" */
	size_t i = 0;
	while (i < n && !isspace((unsigned char)l[i]))
		i++;
	const char *e = l + i;
	size_t en = n - i;
	mg_trim(&e, &en);
	double ch, ev;
	if (i == n || mg_parse_double(l, i, &ch) != MG_OK || mg_parse_double(e, en, &ev) != MG_OK)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "expected 'channel energy' in <<CALIBRATION>>");
	if (r->ncal == MCA_MAX_CAL_POINTS)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "more than %d calibration points",
		                    MCA_MAX_CAL_POINTS);
	r->cal_ch[r->ncal] = ch;
	r->cal_e[r->ncal] = ev;
	r->ncal++;
	if (r->cal_points.len)
		mg_buf_puts(&r->cal_points, "; ");
	mg_buf_append(&r->cal_points, l, i);
	mg_buf_puts(&r->cal_points, " ");
	mg_buf_append(&r->cal_points, e, en);
	return mg_buf_status(&r->cal_points);
}

static int data_line(mca_read *r, const char *l, size_t n, long lineno)
{
	double v;
	char ex[24];
	if (n == 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "empty line in <<DATA>>");
	if (r->n == MG_SPECTRUM_MAX_CHANNELS)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "more than %d channels in <<DATA>>",
		                    MG_SPECTRUM_MAX_CHANNELS);
	if (mg_parse_double(l, n, &v) != MG_OK)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "'%s' is not a count",
		                    excerpt(l, n, ex, sizeof(ex)));
	if (v < 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "negative count %s", excerpt(l, n, ex, sizeof(ex)));
	if (v != floor(v) || v > MCA_MAX_COUNT)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "count %s is not a whole number of counts",
		                    excerpt(l, n, ex, sizeof(ex)));
	r->s->counts[r->n++] = v + 0.0; /* -0 -> 0 */
	return MG_OK;
}

static int config_line(mca_read *r, const char *l, size_t n, long lineno)
{
	const char *eq = memchr(l, '=', n);
	if (!eq)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "expected 'CMD=value;' in <<DP5 CONFIGURATION>>");
	const char *k = l, *v = eq + 1, *c = NULL;
	size_t kn = (size_t)(eq - l), vn = n - kn - 1, cn = 0;
	const char *semi = memchr(v, ';', vn);
	if (semi) {
		c = semi + 1;
		cn = vn - (size_t)(c - v);
		vn = (size_t)(semi - v);
		mg_trim(&c, &cn);
		if (cn == 0)
			c = NULL;
	}
	mg_trim(&k, &kn);
	mg_trim(&v, &vn);
	if (kn == 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "configuration line without a command name");
	int rc = meta_add_view(r->s, "dp5.config.", k, kn, v, vn, c, cn);
	double d;
	if (rc != MG_OK || mg_parse_double(v, vn, &d) != MG_OK)
		return rc;
	mg_acq_settings *a = &r->s->acq;
	if (mg_equals_ci(k, kn, "TPEA"))
		a->peaking_time_us = d;
	else if (mg_equals_ci(k, kn, "PRET"))
		a->preset_time_s = d;
	else if (mg_equals_ci(k, kn, "PRER"))
		a->preset_real_s = d;
	else if (mg_equals_ci(k, kn, "PREC"))
		a->preset_counts = d;
	else if (mg_equals_ci(k, kn, "MCAC")) {
		if (d != floor(d) || d < 1 || d > 1e9)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "MCAC=%g is not a channel count", d);
		r->mcac = (long)d;
		r->mcac_line = lineno;
	}
	return MG_OK;
}

static int status_line(mca_read *r, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n);
	if (!colon) /* a line that is not "Key: value" is kept whole */
		return meta_add_view(r->s, "dp5.status", "", 0, l, n, NULL, 0);
	const char *k = l, *v = colon + 1;
	size_t kn = (size_t)(colon - l), vn = n - kn - 1;
	mg_trim(&k, &kn);
	mg_trim(&v, &vn);
	int rc = meta_add_view(r->s, "dp5.status.", k, kn, v, vn, NULL, 0);
	if (rc != MG_OK || vn == 0)
		return rc;
	if (mg_equals_ci(k, kn, "Device Type"))
		return set_text_view(&r->s->instrument.model, v, vn);
	if (mg_equals_ci(k, kn, "Firmware"))
		return set_text_view(&r->fw, v, vn);
	if (mg_equals_ci(k, kn, "FPGA"))
		return set_text_view(&r->fpga, v, vn);
	if (mg_equals_ci(k, kn, "Serial Number"))
		return set_text_view(&r->status_serial, v, vn);
	return MG_OK;
}

static int open_section_named(mca_read *r, const char *name, size_t nn, const char *dname, const char *l, size_t n,
                              long lineno);

static int open_section(mca_read *r, const char *name, size_t nn, const char *l, size_t n, long lineno)
{
	int rc;
	char *dname = mg_fmt_text_decode(name, nn); /* section names too may be latin-1 */
	if (!dname)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	rc = open_section_named(r, name, nn, dname, l, n, lineno);
	free(dname);
	return rc;
}

static int open_section_named(mca_read *r, const char *name, size_t nn, const char *dname, const char *l, size_t n,
                              long lineno)
{
	int rc;
	/* the end line of the unknown section being read belongs to it */
	if (r->sec == SEC_UNKNOWN) {
		const char *uname = r->unknown + r->unknown_prefix;
		size_t unn = strlen(uname), dn = strlen(dname);
		if (dn == unn + 4 && memcmp(dname, uname, unn) == 0 && memcmp(dname + unn, " END", 4) == 0) {
			r->unknown_lines++;
			r->sec = SEC_NONE;
			return meta_add_view(r->s, r->unknown, "", 0, l, n, NULL, 0);
		}
	}
	if ((rc = close_section(r)) != MG_OK)
		return rc;
	char ex[41];
	if (r->sec == SEC_DATA && !mg_equals_ci(name, nn, "END"))
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno,
		                    "<<%s>> inside <<DATA>> (started line %ld): no <<END>>, truncated data?",
		                    excerpt(name, nn, ex, sizeof(ex)), r->data_line);
	if (mg_equals_ci(name, nn, "END")) {
		if (r->sec != SEC_DATA)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "<<END>> without <<DATA>>");
		r->sec = SEC_NONE;
	} else if (mg_equals_ci(name, nn, "DATA")) {
		if (r->seen_data)
			return mg_fail_line(MG_ERR_UNSUPPORTED, DOM, lineno,
			                    "a second <<DATA>> section (one spectrum per file)");
		r->seen_data = 1;
		r->data_line = lineno;
		r->sec = SEC_DATA;
	} else if (mg_equals_ci(name, nn, "PMCA SPECTRUM")) {
		return mg_fail_line(MG_ERR_UNSUPPORTED, DOM, lineno,
		                    "a second <<PMCA SPECTRUM>> (one spectrum per file)");
	} else if (mg_equals_ci(name, nn, "CALIBRATION")) {
		if (r->seen_cal)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "a second <<CALIBRATION>> section");
		r->seen_cal = 1;
		r->cal_line = lineno;
		r->sec = SEC_CAL;
	} else if (mg_equals_ci(name, nn, "ROI")) {
		r->sec = SEC_ROI;
	} else if (mg_equals_ci(name, nn, "DP5 CONFIGURATION")) {
		r->sec = SEC_CONFIG;
	} else if (mg_equals_ci(name, nn, "DPP STATUS")) {
		r->sec = SEC_STATUS;
	} else if (mg_equals_ci(name, nn, "MAGASSAY")) {
		if (r->seen_magassay)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "a second <<MAGASSAY>> section");
		r->seen_magassay = 1;
		r->mag_line = lineno + 1;
		r->mag_start = r->mag_end = 0; /* set by the caller */
		r->sec = SEC_MAGASSAY;
	} else if (mg_equals_ci(name, nn, "DP5 CONFIGURATION END") || mg_equals_ci(name, nn, "DPP STATUS END") ||
	           mg_equals_ci(name, nn, "MAGASSAY END")) {
		r->sec = SEC_NONE;
	} else {
		if (nn == 0 || strlen(dname) > MCA_MAX_SECTION_NAME)
			return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "section name empty or longer than %d bytes",
			                    MCA_MAX_SECTION_NAME);
		const char *prefix = r->seen_data ? "mca.section." : "mca.presection.";
		r->unknown_prefix = strlen(prefix);
		snprintf(r->unknown, sizeof(r->unknown), "%s%s", prefix, dname);
		r->unknown_lines = 0;
		r->sec = SEC_UNKNOWN;
	}
	return MG_OK;
}

static int finish(mca_read *r, const unsigned char *data, long last_line)
{
	mg_spectrum *s = r->s;
	int rc;
	if (r->sec == SEC_DATA)
		return mg_fail_line(MG_ERR_FORMAT, DOM, last_line,
		                    "the file ends inside <<DATA>> (started line %ld) without <<END>>: truncated?",
		                    r->data_line);
	if ((rc = close_section(r)) != MG_OK)
		return rc;
	if (!r->seen_data)
		return mg_fail(MG_ERR_FORMAT, DOM, "no <<DATA>> section");
	if (r->n == 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, r->data_line, "no counts between <<DATA>> and <<END>>");
	if (r->mcac && (size_t)r->mcac != r->n)
		return mg_fail_line(MG_ERR_FORMAT, DOM, r->mcac_line,
		                    "MCAC=%ld in <<DP5 CONFIGURATION>> but <<DATA>> (line %ld) holds %zu channels",
		                    r->mcac, r->data_line, r->n);
	if ((rc = mg_spectrum_resize(s, r->n)) != MG_OK)
		return rc;
	/* GAIN that matches the channel count is implied by it */
	const char *gain = mg_kvlist_get(&s->meta, "mca.header.GAIN");
	char code[8];
	snprintf(code, sizeof(code), "%d", gain_code(r->n));
	if (gain && strcmp(gain, code) == 0)
		kv_remove(&s->meta, "mca.header.GAIN");
	if (r->ncal && (rc = cal_derive(r->cal_label, r->cal_ch, r->cal_e, r->ncal, &s->cal)) != MG_OK)
		return mg_fail_line(rc, DOM, r->cal_line, "<<CALIBRATION>>: %s", mg_error_detail());
	if (r->ncal && !s->cal.valid)
		mg_dbg(DOM, "<<CALIBRATION>> label '%s' with %zu points: no energy calibration",
		       r->cal_label ? r->cal_label : "", r->ncal);
	if (r->fw || r->fpga) {
		size_t len = (r->fw ? strlen(r->fw) : 0) + (r->fpga ? strlen(r->fpga) : 0) + 8;
		char *f = malloc(len);
		if (!f)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		compose_firmware(f, len, r->fw, r->fpga);
		free(s->instrument.firmware);
		s->instrument.firmware = f;
	}
	if (r->status_serial && !s->instrument.serial) {
		s->instrument.serial = r->status_serial;
		r->status_serial = NULL;
	}
	if (r->seen_magassay) {
		mg_lines it;
		const char *l;
		size_t n;
		int last_meta = 0;
		mg_lines_init(&it, data + r->mag_start, r->mag_end - r->mag_start);
		while (mg_lines_next(&it, &l, &n)) {
			long lineno = r->mag_line + it.lineno - 1;
			const char *t = l;
			size_t tn = n;
			mg_trim(&t, &tn);
			if (tn == 0)
				continue;
			char *line = mg_fmt_text_decode(l, n);
			if (!line)
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			if (strncmp(line, "calibration_kev:", 16) == 0) {
				/* the <<CALIBRATION>> pairs were computed from this one */
				kv_remove(&s->meta, "mca.calibration.points");
				kv_remove(&s->meta, "mca.calibration.label");
			}
			rc = mg_fmt_carry_apply(s, line, &last_meta);
			free(line);
			if (rc < 0)
				return mg_fail_line(rc, DOM, lineno, "<<MAGASSAY>>: %s", mg_error_detail());
		}
	}
	return mg_spectrum_validate(s);
}

static int read_mca(const unsigned char *data, size_t len, mg_spectrum **out)
{
	mca_read r;
	memset(&r, 0, sizeof(r));
	mg_buf_init(&r.cal_points);
	int rc = MG_OK;
	skip_bom(&data, &len);
	if (mg_looks_binary(data, len)) {
		long line = 1;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = data[i];
			if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0x1a)
				return mg_fail_line(MG_ERR_FORMAT, DOM, line, "binary byte 0x%02x at offset %zu", c, i);
			line += c == '\n';
		}
	}
	if (!(r.s = mg_spectrum_new(MG_SPECTRUM_MAX_CHANNELS)))
		return MG_ERR_NOMEM;
	mg_lines it;
	const char *l;
	size_t n;
	mg_lines_init(&it, data, len);
	while (rc == MG_OK && mg_lines_next(&it, &l, &n)) {
		const char *raw = l;
		const char *name;
		size_t nn;
		mg_trim(&l, &n);
		if (it.lineno == 1) {
			if (!mg_equals_ci(l, n, "<<PMCA SPECTRUM>>")) {
				rc = mg_fail_line(MG_ERR_FORMAT, DOM, 1L, "not an Amptek .mca file: line 1 is not <<PMCA SPECTRUM>>");
				break;
			}
			r.sec = SEC_HEADER;
			continue;
		}
		if (section_line(l, n, &name, &nn)) {
			if (r.sec == SEC_MAGASSAY)
				r.mag_end = (size_t)(raw - (const char *)data);
			rc = open_section(&r, name, nn, l, n, it.lineno);
			if (rc == MG_OK && r.sec == SEC_MAGASSAY)
				r.mag_start = r.mag_end = it.pos;
			continue;
		}
		switch (r.sec) {
		case SEC_DATA:
			rc = data_line(&r, l, n, it.lineno);
			continue;
		case SEC_MAGASSAY:
			r.mag_end = it.pos;
			continue;
		default:
			break;
		}
		if (n == 0)
			continue;
		switch (r.sec) {
		case SEC_HEADER:
			rc = header_line(&r, l, n, it.lineno);
			break;
		case SEC_CAL:
			rc = cal_line(&r, l, n, it.lineno);
			break;
		case SEC_ROI:
			rc = meta_add_view(r.s, "mca.roi", "", 0, l, n, NULL, 0);
			break;
		case SEC_CONFIG:
			rc = config_line(&r, l, n, it.lineno);
			break;
		case SEC_STATUS:
			rc = status_line(&r, l, n);
			break;
		case SEC_UNKNOWN:
			r.unknown_lines++;
			rc = meta_add_view(r.s, r.unknown, "", 0, l, n, NULL, 0);
			break;
		default:
			rc = mg_fail_line(MG_ERR_FORMAT, DOM, it.lineno, "text outside any <<SECTION>>");
			break;
		}
	}
	if (rc == MG_OK && it.lineno == 0)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "empty file");
	if (rc == MG_OK)
		rc = finish(&r, data, it.lineno);
	free(r.cal_label);
	free(r.fw);
	free(r.fpga);
	free(r.status_serial);
	mg_buf_free(&r.cal_points);
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
	return mg_equals_ci(l, n, "<<PMCA SPECTRUM>>") ? 100 : 0;
}

/* ---- writer ------------------------------------------------------------- */

static void put_kv(mg_buf *b, const char *key, const char *sep, const char *value)
{
	mg_fmt_text_put(b, key, 1);
	mg_buf_puts(b, sep);
	mg_fmt_text_put(b, value, 1);
	mg_buf_puts(b, "\r\n");
}

static void put_num(mg_buf *b, const char *key, double v)
{
	char num[40];
	mg_fmt_num(num, sizeof(num), v);
	put_kv(b, key, " - ", num);
}

/* A text that must not open a section or break a line. */
static int line_safe(const char *s)
{
	return mg_fmt_text_clean(s) && strncmp(s, "<<", 2) != 0;
}

static const char *const canonical[] = {"TAG", "DESCRIPTION", "GAIN", "THRESHOLD", "LIVE_MODE",
                                        "PRESET_TIME", "LIVE_TIME", "REAL_TIME", "START_TIME",
                                        "SERIAL_NUMBER"};

static int is_canonical(const char *key)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(canonical); i++)
		if (strcasecmp(key, canonical[i]) == 0)
			return 1;
	return 0;
}

/* The first clean meta value of a header key, or NULL. */
static const char *header_meta(const mg_spectrum *s, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "mca.header.%s", key);
	const mg_kv *kv = mg_kvlist_find(&s->meta, k);
	return kv && !kv->comment && line_safe(kv->value) ? kv->value : NULL;
}

static void write_header(const mg_spectrum *s, mg_buf *b)
{
	char num[40];
	int f[6];
	mg_buf_puts(b, "<<PMCA SPECTRUM>>\r\n");
	const char *v = header_meta(s, "TAG");
	put_kv(b, "TAG", " - ", v ? v : "live_data");
	put_kv(b, "DESCRIPTION", " - ", s->sample.description ? s->sample.description : "");
	snprintf(num, sizeof(num), "%d", gain_code(s->nchan));
	v = header_meta(s, "GAIN");
	put_kv(b, "GAIN", " - ", v ? v : num);
	v = header_meta(s, "THRESHOLD");
	put_kv(b, "THRESHOLD", " - ", v ? v : "0");
	v = header_meta(s, "LIVE_MODE");
	put_kv(b, "LIVE_MODE", " - ", v ? v : "0");
	/* kept values only when they read back as kept (not as a field) */
	double d;
	v = header_meta(s, "PRESET_TIME");
	if (v && mg_parse_double(v, strlen(v), &d) == MG_OK && d >= 0)
		v = NULL;
	if (!isnan(s->acq.preset_time_s) && s->acq.preset_time_s >= 0)
		put_num(b, "PRESET_TIME", s->acq.preset_time_s);
	else
		put_kv(b, "PRESET_TIME", " - ", v ? v : "0");
	put_num(b, "LIVE_TIME", isnan(s->live_time_s) ? 0 : s->live_time_s);
	put_num(b, "REAL_TIME", isnan(s->real_time_s) ? 0 : s->real_time_s);
	if (iso_split(s->start_time, f) && date_ok(f[0], f[1], f[2], f[3], f[4], f[5]))
		mg_buf_printf(b, "START_TIME - %02d/%02d/%04d %02d:%02d:%02d\r\n", f[1], f[2], f[0], f[3], f[4], f[5]);
	else if ((v = header_meta(s, "START_TIME")) && !s->start_time[0] && !amptek_time(v, strlen(v), num, sizeof(num)))
		put_kv(b, "START_TIME", " - ", v);
	if (s->instrument.serial)
		put_kv(b, "SERIAL_NUMBER", " - ", s->instrument.serial);
	for (size_t i = 0; i < s->meta.count; i++) {
		const mg_kv *kv = &s->meta.items[i];
		const char *k = kv->key + 11;
		if (strncmp(kv->key, "mca.header.", 11) != 0 || !*k || is_canonical(k) || !line_safe(k) ||
		    strstr(k, " -") || !mg_fmt_text_clean(kv->value) || kv->comment)
			continue;
		put_kv(b, k, " - ", kv->value);
	}
}

/* <<CALIBRATION>>: the raw pairs when they give this calibration, else
 * computed pairs (*computed = 1: the exact calibration goes to <<MAGASSAY>>). */
static void write_calibration(const mg_spectrum *s, mg_buf *b, int *computed)
{
	double ch[MCA_MAX_CAL_POINTS], e[MCA_MAX_CAL_POINTS];
	const mg_kv *pkv = mg_kvlist_find(&s->meta, "mca.calibration.points");
	const mg_kv *lkv = mg_kvlist_find(&s->meta, "mca.calibration.label");
	const char *pts = pkv && !pkv->comment ? pkv->value : NULL;
	const char *label = lkv ? lkv->value : NULL;
	*computed = 0;
	if (pts && (!lkv || (!lkv->comment && line_safe(label))) && mg_fmt_text_clean(pts)) {
		long n = parse_points(pts, ch, e);
		mg_energy_cal c;
		if (n > 0 && cal_derive(label, ch, e, (size_t)n, &c) == MG_OK && c.valid == s->cal.valid &&
		    (!c.valid || (c.offset_kev == s->cal.offset_kev && c.gain_kev == s->cal.gain_kev &&
		                  c.quad_kev == s->cal.quad_kev))) {
			mg_buf_puts(b, "<<CALIBRATION>>\r\n");
			if (label)
				put_kv(b, "LABEL", " - ", label);
			for (const char *p = pts; *p;) {
				size_t len = strcspn(p, ";");
				const char *f = p;
				size_t fn = len;
				mg_trim(&f, &fn);
				mg_buf_append(b, f, fn);
				mg_buf_puts(b, "\r\n");
				p += len + (p[len] == ';');
			}
			return;
		}
	}
	if (!s->cal.valid)
		return;
	size_t last = s->nchan > 2 ? s->nchan - 1 : 2;
	size_t chans[3] = {0, last / 2, last};
	int quad = s->cal.quad_kev != 0;
	mg_buf_puts(b, "<<CALIBRATION>>\r\nLABEL - keV\r\n");
	for (int i = 0; i < 3; i++) {
		char num[40];
		if (!quad && i == 1)
			continue;
		mg_fmt_num(num, sizeof(num), mg_spectrum_energy(s, (double)chans[i]));
		mg_buf_printf(b, "%zu %s\r\n", chans[i], num);
	}
	*computed = 1;
}

static int known_section(const char *name)
{
	static const char *const known[] = {"PMCA SPECTRUM", "CALIBRATION", "ROI", "DATA", "END",
	                                    "DP5 CONFIGURATION", "DP5 CONFIGURATION END", "DPP STATUS",
	                                    "DPP STATUS END", "MAGASSAY", "MAGASSAY END"};
	for (size_t i = 0; i < MG_ARRAY_SIZE(known); i++)
		if (strcasecmp(name, known[i]) == 0)
			return 1;
	return 0;
}

/* Consecutive meta entries with one key "<prefix>NAME" -> a <<NAME>> section,
 * when every line reads back the same. */
static void write_unknown_sections(const mg_spectrum *s, mg_buf *b, const char *prefix)
{
	size_t pn = strlen(prefix);
	char open_name[MCA_MAX_SECTION_NAME + 1] = ""; /* the section written last, when it has no end line */
	for (size_t i = 0; i < s->meta.count;) {
		const char *key = s->meta.items[i].key;
		size_t j = i + 1;
		if (strncmp(key, prefix, pn) != 0) {
			i++;
			continue;
		}
		while (j < s->meta.count && strcmp(s->meta.items[j].key, key) == 0)
			j++;
		const char *name = key + pn;
		char end[MCA_MAX_SECTION_NAME + 8];
		snprintf(end, sizeof(end), "<<%s END>>", name);
		size_t on = strlen(open_name);
		int ok = *name && strlen(name) <= MCA_MAX_SECTION_NAME && line_safe(name) && !strstr(name, ">>") &&
		         !known_section(name) &&
		         /* "<<X END>>" right after an open <<X>> would read as its end line */
		         !(on && strncmp(name, open_name, on) == 0 && strcmp(name + on, " END") == 0);
		for (size_t k = i; ok && k < j; k++) {
			const char *v = s->meta.items[k].value;
			if (s->meta.items[k].comment)
				ok = 0;
			else if (strcmp(v, end) == 0)
				ok = k == j - 1;
			else
				ok = line_safe(v) && (*v || j - i == 1);
		}
		if (ok) {
			mg_buf_puts(b, "<<");
			mg_fmt_text_put(b, name, 1);
			mg_buf_puts(b, ">>\r\n");
			for (size_t k = i; k < j; k++) {
				if (!*s->meta.items[k].value)
					continue;
				mg_fmt_text_put(b, s->meta.items[k].value, 1);
				mg_buf_puts(b, "\r\n");
			}
			snprintf(open_name, sizeof(open_name), "%s", strcmp(s->meta.items[j - 1].value, end) ? name : "");
		}
		i = j;
	}
}

static void write_config(const mg_spectrum *s, mg_buf *b)
{
	int open = 0;
	for (size_t i = 0; i < s->meta.count; i++) {
		const mg_kv *kv = &s->meta.items[i];
		const char *cmd = kv->key + 11;
		if (strncmp(kv->key, "dp5.config.", 11) != 0 || !*cmd || !line_safe(cmd) || strchr(cmd, '=') ||
		    strchr(cmd, ';') || !mg_fmt_text_clean(kv->value) || strchr(kv->value, ';') ||
		    (kv->comment && (!*kv->comment || !mg_fmt_text_clean(kv->comment))))
			continue;
		int dup = 0; /* the first of a repeated command only */
		for (size_t k = 0; k < i && !dup; k++)
			dup = strcmp(s->meta.items[k].key, kv->key) == 0;
		double d, field = NAN;
		int numeric = mg_parse_double(kv->value, strlen(kv->value), &d) == MG_OK;
		if (dup || (strcasecmp(cmd, "MCAC") == 0 && numeric && d != (double)s->nchan))
			continue; /* a stale MCAC would fail the reader's cross-check */
		/* a value the reader maps to a field goes here only when it agrees with it */
		if (strcasecmp(cmd, "TPEA") == 0)
			field = s->acq.peaking_time_us;
		else if (strcasecmp(cmd, "PRET") == 0)
			field = s->acq.preset_time_s;
		else if (strcasecmp(cmd, "PRER") == 0)
			field = s->acq.preset_real_s;
		else if (strcasecmp(cmd, "PREC") == 0)
			field = s->acq.preset_counts;
		else
			numeric = 0;
		if (numeric && d != field)
			continue;
		if (!open)
			mg_buf_puts(b, "<<DP5 CONFIGURATION>>\r\n");
		open = 1;
		mg_fmt_text_put(b, cmd, 1);
		mg_buf_puts(b, "=");
		mg_fmt_text_put(b, kv->value, 1);
		mg_buf_puts(b, ";");
		if (kv->comment) {
			mg_buf_puts(b, "    ");
			mg_fmt_text_put(b, kv->comment, 1);
		}
		mg_buf_puts(b, "\r\n");
	}
	if (open)
		mg_buf_puts(b, "<<DP5 CONFIGURATION END>>\r\n");
}

static void write_status(const mg_spectrum *s, mg_buf *b)
{
	int open = 0;
	const char *fw = mg_kvlist_get(&s->meta, "dp5.status.Firmware");
	const char *fpga = mg_kvlist_get(&s->meta, "dp5.status.FPGA");
	char composed[512];
	compose_firmware(composed, sizeof(composed), fw && *fw ? fw : NULL, fpga && *fpga ? fpga : NULL);
	int fw_ok = (!(fw && *fw) && !(fpga && *fpga)) ||
	            (s->instrument.firmware && strcmp(s->instrument.firmware, composed) == 0);
	for (size_t i = 0; i < s->meta.count; i++) {
		const mg_kv *kv = &s->meta.items[i];
		if (kv->comment)
			continue;
		if (strcmp(kv->key, "dp5.status") == 0) { /* a line that was not "Key: value" */
			if (!*kv->value || !line_safe(kv->value) || strchr(kv->value, ':'))
				continue;
			if (!open++)
				mg_buf_puts(b, "<<DPP STATUS>>\r\n");
			mg_fmt_text_put(b, kv->value, 1);
			mg_buf_puts(b, "\r\n");
			continue;
		}
		if (strncmp(kv->key, "dp5.status.", 11) != 0)
			continue;
		const char *k = kv->key + 11;
		if (!*k || !line_safe(k) || strchr(k, ':') || !mg_fmt_text_clean(kv->value))
			continue;
		/* values the reader maps to fields only when they agree with them (the
		 * first of each: a repeated one would override) */
		int first = 1;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(s->meta.items[j].key, kv->key) != 0;
		if (*kv->value) {
			if (!strcasecmp(k, "Device Type") &&
			    (!first || !s->instrument.model || strcmp(s->instrument.model, kv->value)))
				continue;
			if (!strcasecmp(k, "Serial Number") && (!first || !s->instrument.serial))
				continue;
			if ((!strcasecmp(k, "Firmware") || !strcasecmp(k, "FPGA")) &&
			    (!first || !fw_ok || (strcmp(k, "Firmware") && strcmp(k, "FPGA"))))
				continue;
		}
		if (!open++)
			mg_buf_puts(b, "<<DPP STATUS>>\r\n");
		put_kv(b, k, ": ", kv->value);
	}
	if (open)
		mg_buf_puts(b, "<<DPP STATUS END>>\r\n");
}

static void write_native(const mg_spectrum *s, mg_buf *b, int *computed_cal)
{
	write_header(s, b);
	write_calibration(s, b, computed_cal);
	int roi = 0;
	for (size_t i = 0; i < s->meta.count; i++) {
		const mg_kv *kv = &s->meta.items[i];
		if (strcmp(kv->key, "mca.roi") != 0 || !*kv->value || !line_safe(kv->value) || kv->comment)
			continue;
		if (!roi++)
			mg_buf_puts(b, "<<ROI>>\r\n");
		mg_fmt_text_put(b, kv->value, 1);
		mg_buf_puts(b, "\r\n");
	}
	write_unknown_sections(s, b, "mca.presection.");
	mg_buf_puts(b, "<<DATA>>\r\n");
	for (size_t i = 0; i < s->nchan; i++)
		mg_buf_printf(b, "%.0f\r\n", s->counts[i]);
	mg_buf_puts(b, "<<END>>\r\n");
	write_config(s, b);
	write_status(s, b);
	write_unknown_sections(s, b, "mca.section.");
}

static void put_payload(mg_buf *b, const mg_buf *lines)
{
	for (size_t i = 0; i < lines->len;) {
		const char *l = lines->data + i, *e = memchr(l, '\n', lines->len - i);
		char *line = mg_strndup_view(l, (size_t)(e - l));
		if (!line) {
			b->failed = 1;
			return;
		}
		mg_fmt_text_put(b, line, 1);
		mg_buf_puts(b, "\r\n");
		free(line);
		i = (size_t)(e - lines->data) + 1;
	}
}

static int write_mca(const mg_spectrum *s, mg_buf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < s->nchan; i++) {
		double c = s->counts[i];
		if (!(c >= 0 && c == floor(c) && c <= MCA_MAX_COUNT))
			return mg_fail(MG_ERR_UNSUPPORTED, DOM,
			               "channel %zu holds %g counts: an Amptek .mca holds whole counts only "
			               "(write .msa or .csv for this spectrum)",
			               i, c);
	}
	mg_buf nat, pay, tmp;
	mg_buf_init(&nat);
	mg_buf_init(&pay);
	mg_buf_init(&tmp);
	int computed = 0, rc;
	mg_spectrum *got = NULL;
	write_native(s, &nat, &computed);
	if (computed)
		mg_buf_printf(&pay, "calibration_kev: %.17g %.17g %.17g\n", s->cal.offset_kev, s->cal.gain_kev,
		              s->cal.quad_kev);
	/* read the Amptek part back; what differs goes to <<MAGASSAY>> */
	mg_buf_append(&tmp, nat.data, nat.len);
	mg_buf_puts(&tmp, "<<MAGASSAY>>\r\n");
	put_payload(&tmp, &pay);
	if ((rc = mg_buf_status(&nat)) != MG_OK || (rc = mg_buf_status(&pay)) != MG_OK ||
	    (rc = mg_buf_status(&tmp)) != MG_OK)
		goto out;
	if ((rc = read_mca((const unsigned char *)tmp.data, tmp.len, &got)) != MG_OK) {
		rc = mg_fail(MG_ERR_UNSUPPORTED, DOM, "a value has no readable .mca form: %s",
		             mg_error_detail());
		goto out;
	}
	if ((rc = mg_fmt_carry_diff(s, got, &pay)) != MG_OK)
		goto out;
	mg_buf_append(out, nat.data, nat.len);
	if (pay.len) {
		mg_buf_puts(out, "<<MAGASSAY>>\r\n");
		put_payload(out, &pay);
		mg_buf_puts(out, "<<MAGASSAY END>>\r\n");
		/* never hand out a file the reader rejects */
		mg_spectrum_free(got);
		got = NULL;
		if ((rc = mg_buf_status(out)) == MG_OK &&
		    read_mca((const unsigned char *)out->data + start, out->len - start, &got) != MG_OK)
			rc = mg_fail(MG_ERR_UNSUPPORTED, DOM, "a value has no readable .mca form: %s", mg_error_detail());
		if (rc != MG_OK)
			goto out;
	}
	rc = mg_buf_status(out);
out:
	if (rc != MG_OK && out->len > start) { /* no partial file */
		out->len = start;
		out->data[start] = '\0';
	}
	mg_spectrum_free(got);
	mg_buf_free(&nat);
	mg_buf_free(&pay);
	mg_buf_free(&tmp);
	return rc;
}

const mg_format mg_format_mca = {
	.id = MG_FORMAT_MCA,
	.name = "mca",
	.description = "Amptek MCA (PMCA/DppMCA text)",
	.extension = ".mca",
	.probe = probe,
	.read = read_mca,
	.write = write_mca,
};
