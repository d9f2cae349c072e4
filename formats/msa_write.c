/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The EMSA/MSA writer (formats/msa.h describes the format): the required
 * keywords in the standard's order, the kept ones, one value a line, and
 * ##MG_FIELD lines for whatever reading the standard part back does not give. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "internal.h"
#include "msa.h"
#include "text.h"

#define DOM "msa"

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
	if (kd && msa_parse_date(kd, &y, &mo, &dd))
		kd = NULL;
	if (iso_date(s->start_time, f, &has_time)) {
		snprintf(v, sizeof(v), "%02d-%s-%04d", f[2], msa_months[f[1] - 1], f[0]);
		put_kw(b, "#DATE", NULL, v);
		if (has_time)
			snprintf(v, sizeof(v), "%02d:%02d:%02d", f[3], f[4], f[5]);
		put_kw(b, "#TIME", NULL, has_time ? v : kt && !msa_parse_time(kt, &h, &mi, &se) ? kt : "");
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
		put_kw(b, "#XUNITS", NULL, m && msa_xunit_scale(m, 0) == 0 ? m : "Channel");
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
		if (!msa_split_meta_key(kv->key, &kw) || kv->comment || !msa_kw_writable(&kw) ||
		    msa_classify(kw.vendor, kw.key, kw.kn, kw.unit, kw.un) != KW_META || !mg_fmt_text_clean(kv->value))
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

int msa_write(const mg_spectrum *s, mg_buf *out)
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
	if ((rc = msa_read((const unsigned char *)tmp.data, tmp.len, &got)) != MG_OK) {
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
		if (msa_read((const unsigned char *)out->data + start, out->len - start, &got) != MG_OK)
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
