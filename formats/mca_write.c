/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Amptek .mca writer (formats/mca.h describes the format): Amptek's
 * sections in Amptek's order with CRLF line ends, then a <<MAGASSAY>> section
 * for whatever reading those sections back does not give. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "internal.h"
#include "mca.h"
#include "text.h"

#define DOM "mca"

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
	snprintf(num, sizeof(num), "%d", mca_gain_code(s->nchan));
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
	if (iso_split(s->start_time, f) && mca_date_ok(f[0], f[1], f[2], f[3], f[4], f[5]))
		mg_buf_printf(b, "START_TIME - %02d/%02d/%04d %02d:%02d:%02d\r\n", f[1], f[2], f[0], f[3], f[4], f[5]);
	else if ((v = header_meta(s, "START_TIME")) && !s->start_time[0] && !mca_amptek_time(v, strlen(v), num, sizeof(num)))
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
		if (n > 0 && mca_cal_derive(label, ch, e, (size_t)n, &c) == MG_OK && c.valid == s->cal.valid &&
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
	mca_compose_firmware(composed, sizeof(composed), fw && *fw ? fw : NULL, fpga && *fpga ? fpga : NULL);
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

int mca_write(const mg_spectrum *s, mg_buf *out)
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
	if ((rc = mca_read((const unsigned char *)tmp.data, tmp.len, &got)) != MG_OK) {
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
		    mca_read((const unsigned char *)out->data + start, out->len - start, &got) != MG_OK)
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
