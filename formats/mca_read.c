/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Amptek .mca reader and the format's table entry (formats/mca.h
 * describes the format): sections, header keys, calibration pairs, counts,
 * the DP5 configuration and status blocks, and the <<MAGASSAY>> lines. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fields.h"
#include "formats.h"
#include "internal.h"
#include "mca.h"
#include "text.h"

#define DOM "mca"

/* ---- small helpers ------------------------------------------------------- */

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

/* Amptek's GAIN header value: the channel-count code 0 = 256 ... 6 = 16384. */
int mca_gain_code(size_t nchan)
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
int mca_cal_derive(const char *label, const double *ch, const double *e, size_t n, mg_energy_cal *cal)
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

int mca_date_ok(int y, int mo, int d, int h, int mi, int s)
{
	return y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 &&
	       mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

/* Amptek's "MM/DD/YYYY HH:MM[:SS]" as ISO 8601 into iso; 1 if it is one. */
int mca_amptek_time(const char *v, size_t vn, char *iso, size_t size)
{
	int mo, dd, y, h, mi, se = 0, pos = 0;
	char buf[64];
	if (vn >= sizeof(buf))
		return 0;
	memcpy(buf, v, vn);
	buf[vn] = '\0';
	if (!((sscanf(buf, "%d/%d/%d %d:%d:%d%n", &mo, &dd, &y, &h, &mi, &se, &pos) == 6 ||
	       (se = 0, sscanf(buf, "%d/%d/%d %d:%d%n", &mo, &dd, &y, &h, &mi, &pos) == 5)) &&
	      (size_t)pos == vn && mca_date_ok(y, mo, dd, h, mi, se)))
		return 0;
	snprintf(iso, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, dd, h, mi, se);
	return 1;
}

/* The firmware text the reader makes of Firmware and FPGA status values. */
void mca_compose_firmware(char *out, size_t size, const char *fw, const char *fpga)
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

typedef struct mca_reader {
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
} mca_reader;

static int close_section(mca_reader *r)
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

static int header_line(mca_reader *r, const char *l, size_t n, long lineno)
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
			                    k, mg_fmt_excerpt(v, vn, ex, sizeof(ex)));
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
		if (vn == 0 || mca_amptek_time(v, vn, s->start_time, sizeof(s->start_time)))
			return MG_OK;
		mg_dbg(DOM, "line %ld: START_TIME not MM/DD/YYYY HH:MM:SS; kept in meta", lineno);
	}
	/* values the writer writes anyway when meta has none */
	if ((mg_equals_ci(k, kn, "TAG") && vn == 9 && memcmp(v, "live_data", 9) == 0) ||
	    ((mg_equals_ci(k, kn, "THRESHOLD") || mg_equals_ci(k, kn, "LIVE_MODE")) && vn == 1 && v[0] == '0'))
		return MG_OK;
	return meta_add_view(s, "mca.header.", k, kn, v, vn, NULL, 0);
}

static int cal_line(mca_reader *r, const char *l, size_t n, long lineno)
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

static int data_line(mca_reader *r, const char *l, size_t n, long lineno)
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
		                    mg_fmt_excerpt(l, n, ex, sizeof(ex)));
	if (v < 0)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "negative count %s", mg_fmt_excerpt(l, n, ex, sizeof(ex)));
	if (v != floor(v) || v > MCA_MAX_COUNT)
		return mg_fail_line(MG_ERR_FORMAT, DOM, lineno, "count %s is not a whole number of counts",
		                    mg_fmt_excerpt(l, n, ex, sizeof(ex)));
	r->s->counts[r->n++] = v + 0.0; /* -0 -> 0 */
	return MG_OK;
}

static int config_line(mca_reader *r, const char *l, size_t n, long lineno)
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

static int status_line(mca_reader *r, const char *l, size_t n)
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

static int open_section_named(mca_reader *r, const char *name, size_t nn, const char *dname, const char *l, size_t n,
                              long lineno);

static int open_section(mca_reader *r, const char *name, size_t nn, const char *l, size_t n, long lineno)
{
	int rc;
	char *dname = mg_fmt_text_decode(name, nn); /* section names too may be latin-1 */
	if (!dname)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	rc = open_section_named(r, name, nn, dname, l, n, lineno);
	free(dname);
	return rc;
}

static int open_section_named(mca_reader *r, const char *name, size_t nn, const char *dname, const char *l, size_t n,
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
		                    mg_fmt_excerpt(name, nn, ex, sizeof(ex)), r->data_line);
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

static int finish(mca_reader *r, const unsigned char *data, long last_line)
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
	snprintf(code, sizeof(code), "%d", mca_gain_code(r->n));
	if (gain && strcmp(gain, code) == 0)
		kv_remove(&s->meta, "mca.header.GAIN");
	if (r->ncal && (rc = mca_cal_derive(r->cal_label, r->cal_ch, r->cal_e, r->ncal, &s->cal)) != MG_OK)
		return mg_fail_line(rc, DOM, r->cal_line, "<<CALIBRATION>>: %s", mg_error_detail());
	if (r->ncal && !s->cal.valid)
		mg_dbg(DOM, "<<CALIBRATION>> label '%s' with %zu points: no energy calibration",
		       r->cal_label ? r->cal_label : "", r->ncal);
	if (r->fw || r->fpga) {
		size_t len = (r->fw ? strlen(r->fw) : 0) + (r->fpga ? strlen(r->fpga) : 0) + 8;
		char *f = malloc(len);
		if (!f)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		mca_compose_firmware(f, len, r->fw, r->fpga);
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

int mca_read(const unsigned char *data, size_t len, mg_spectrum **out)
{
	mca_reader r;
	memset(&r, 0, sizeof(r));
	mg_buf_init(&r.cal_points);
	int rc = MG_OK;
	mg_fmt_skip_bom(&data, &len);
	if ((rc = mg_fmt_refuse_binary(data, len, DOM)) != MG_OK)
		return rc;
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
	mg_fmt_skip_bom(&data, &len);
	mg_lines_init(&it, data, len < 4096 ? len : 4096);
	if (!mg_lines_next(&it, &l, &n))
		return 0;
	mg_trim(&l, &n);
	return mg_equals_ci(l, n, "<<PMCA SPECTRUM>>") ? 100 : 0;
}

const mg_format mg_format_mca = {
	.id = MG_FORMAT_MCA,
	.name = "mca",
	.description = "Amptek MCA (PMCA/DppMCA text)",
	.extension = ".mca",
	.probe = probe,
	.read = mca_read,
	.write = mca_write,
};
