/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Instrument profiles: the built-in one, strict INI parsing, overrides.
 *
 *   # comment            ; comment
 *   [dp5]                DP5 text-configuration mnemonics (4 characters) = value
 *   MCAC = 2048
 *   [acquisition]        poll_ms, checkpoint_s, channels, timeout_ms,
 *   poll_ms = 250        reconnect_attempts, reconnect_wait_ms
 *   [tube]               anode, kv, ua, filter, atmosphere (recorded, not sent)
 *   [instrument]         detector (recorded)
 *
 * The file is read by the suite's one INI reader (core/inifile.h): a value
 * runs to the end of the line; " #" or " ;" (blank first) starts a comment;
 * lines of at most MG_INI_MAX_LINE bytes. A file is read over what the
 * profile holds; all of it or nothing is applied. See docs/acquisition.md. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acq/acq_internal.h"
#include "inifile.h"
#include "magassay/dp5.h"
#include "magassay/fileio.h"
#include "text.h"

#define MAX_TEXT 200 /* bytes of a text value ([tube] filter, [instrument] detector) */

int mg_acq_profile_init(mg_acq_profile *p)
{
	if (!p)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_profile_init: p is NULL");
	memset(p, 0, sizeof(*p));
	p->poll_ms = MG_ACQ_DEFAULT_POLL_MS;
	p->checkpoint_s = MG_ACQ_DEFAULT_CHECKPOINT_S;
	p->reconnect_attempts = MG_ACQ_DEFAULT_RECONNECT_ATTEMPTS;
	p->reconnect_wait_ms = MG_ACQ_DEFAULT_RECONNECT_WAIT_MS;
	p->tube_kv = NAN;
	p->tube_ua = NAN;
	if (mg_str_set(&p->source, "built-in") || mg_kvlist_add(&p->dp5, "MCAC", "2048", NULL) ||
	    mg_kvlist_add(&p->dp5, "PRET", "60.0", NULL) || mg_kvlist_add(&p->dp5, "PRER", "OFF", NULL) ||
	    mg_kvlist_add(&p->dp5, "PREC", "OFF", NULL)) {
		mg_acq_profile_clear(p);
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	}
	return MG_OK;
}

void mg_acq_profile_clear(mg_acq_profile *p)
{
	if (!p)
		return;
	free(p->source);
	mg_kvlist_clear(&p->dp5);
	free(p->anode);
	free(p->filter);
	free(p->atmosphere);
	free(p->detector);
	memset(p, 0, sizeof(*p));
	p->tube_kv = NAN;
	p->tube_ua = NAN;
}

int acq_profile_copy(mg_acq_profile *dst, const mg_acq_profile *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->poll_ms = src->poll_ms;
	dst->checkpoint_s = src->checkpoint_s;
	dst->timeout_ms = src->timeout_ms;
	dst->reconnect_attempts = src->reconnect_attempts;
	dst->reconnect_wait_ms = src->reconnect_wait_ms;
	dst->tube_kv = src->tube_kv;
	dst->tube_ua = src->tube_ua;
	if (mg_str_set(&dst->source, src->source) || mg_kvlist_copy(&dst->dp5, &src->dp5) ||
	    mg_str_set(&dst->anode, src->anode) || mg_str_set(&dst->filter, src->filter) ||
	    mg_str_set(&dst->atmosphere, src->atmosphere) || mg_str_set(&dst->detector, src->detector)) {
		mg_acq_profile_clear(dst);
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	}
	return MG_OK;
}

/* ------------------------------------------------------------ values */

/* Each check records a detail without location; the caller prefixes it. */

static int parse_uint(const char *key, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	long x;
	if (mg_parse_long(v, strlen(v), (long)lo, (long)hi, &x) != MG_OK)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s = '%s' is not a whole number from %u to %u", key, v, lo, hi);
	*out = (unsigned)x;
	return MG_OK;
}

static int parse_num(const char *key, const char *v, double lo, double hi, double *out)
{
	double x;
	if (mg_parse_double(v, strlen(v), &x) != MG_OK || x < lo || x > hi)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s = '%s' is not a number from %g to %g", key, v, lo, hi);
	*out = x;
	return MG_OK;
}

/* Printable text without control bytes (UTF-8 allowed). */
static int check_text(const char *key, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > MAX_TEXT)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: a text of 1 to %d bytes is expected", key, MAX_TEXT);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: byte %zu is a control character", key, i + 1);
	return MG_OK;
}

static int valid_channels(unsigned n)
{
	return n >= 256 && n <= MG_SPECTRUM_MAX_CHANNELS && (n & (n - 1)) == 0;
}

/* A DP5 mnemonic (uppercased into m[5]) that the codec knows and the profile may set. */
static int check_mnemonic(const char *key, char m[5])
{
	size_t n = strlen(key);
	if (n != 4)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "'%s' is not a DP5 mnemonic (4 characters A-Z, 0-9)", key);
	for (size_t i = 0; i < 4; i++) {
		char c = (char)toupper((unsigned char)key[i]);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "'%s' is not a DP5 mnemonic (4 characters A-Z, 0-9)", key);
		m[i] = c;
	}
	m[4] = '\0';
	if (!mg_dp5_config_describe(m))
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "unknown DP5 mnemonic '%s' (see docs/protocol-dp5.md)", m);
	if (!strcmp(m, "MCAE"))
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM,
		               "MCAE cannot be set: the acquisition loop enables and disables the MCA itself");
	return MG_OK;
}

static int check_dp5_value(const char *m, const char *v)
{
	char cmd[600];
	if (strlen(v) > 505)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: a value of at most 505 characters is expected", m);
	snprintf(cmd, sizeof(cmd), "%s=%s;", m, v);
	if (strpbrk(v, ";= \t") || mg_dp5_config_validate(cmd) != 1)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM,
		               "%s=%s: not a valid DP5 value (printable, no blanks, ';' or '=')", m, v);
	if (!strcmp(m, "MCAC")) {
		unsigned n;
		if (parse_uint(m, v, 256, MG_SPECTRUM_MAX_CHANNELS, &n) != MG_OK || !valid_channels(n))
			return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "MCAC=%s: channels must be 256, 512, ..., 16384", v);
	}
	return MG_OK;
}

/* ------------------------------------------------------------ applying one setting */

enum section { SEC_NONE, SEC_DP5, SEC_ACQ, SEC_TUBE, SEC_INSTRUMENT };

static const char *const section_names[] = {"", "dp5", "acquisition", "tube", "instrument"};

static enum section section_by_name(const char *s, size_t n)
{
	for (int i = SEC_DP5; i <= SEC_INSTRUMENT; i++)
		if (mg_equals_ci(s, n, section_names[i]))
			return (enum section)i;
	return SEC_NONE;
}

static const char *const acq_keys = "poll_ms, checkpoint_s, channels, timeout_ms, reconnect_attempts, "
                                    "reconnect_wait_ms";
static const char *const tube_keys = "anode, kv, ua, filter, atmosphere";

/* Set (section, key) = value in p. MG_ERR_FORMAT with a detail naming the key. */
static int apply(mg_acq_profile *p, enum section sec, const char *key, const char *value)
{
	int rc;
	if (!*value)
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s has no value", key);
	switch (sec) {
	case SEC_DP5: {
		char m[5];
		if ((rc = check_mnemonic(key, m)) != MG_OK || (rc = check_dp5_value(m, value)) != MG_OK)
			return rc;
		return mg_kvlist_set(&p->dp5, m, value, NULL) == MG_OK ? MG_OK
		                                                       : mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	}
	case SEC_ACQ:
		if (!strcmp(key, "poll_ms"))
			return parse_uint(key, value, 1, 60000, &p->poll_ms);
		if (!strcmp(key, "timeout_ms"))
			return parse_uint(key, value, 10, 60000, &p->timeout_ms);
		if (!strcmp(key, "reconnect_attempts"))
			return parse_uint(key, value, 0, 1000, &p->reconnect_attempts);
		if (!strcmp(key, "reconnect_wait_ms"))
			return parse_uint(key, value, 0, 600000, &p->reconnect_wait_ms);
		if (!strcmp(key, "checkpoint_s"))
			return parse_num(key, value, 0, 86400, &p->checkpoint_s);
		if (!strcmp(key, "channels")) {
			unsigned n;
			if (parse_uint(key, value, 256, MG_SPECTRUM_MAX_CHANNELS, &n) != MG_OK || !valid_channels(n))
				return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "channels = %s: must be 256, 512, ..., 16384", value);
			char v[16];
			snprintf(v, sizeof(v), "%u", n);
			return mg_kvlist_set(&p->dp5, "MCAC", v, NULL) == MG_OK
			               ? MG_OK
			               : mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
		}
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "unknown key '%s' in [acquisition] (known: %s)", key, acq_keys);
	case SEC_TUBE:
		if (!strcmp(key, "kv"))
			return parse_num(key, value, 0.1, 200, &p->tube_kv);
		if (!strcmp(key, "ua"))
			return parse_num(key, value, 0, 1e6, &p->tube_ua);
		if (!strcmp(key, "anode")) {
			size_t n = strlen(value);
			if (n < 1 || n > 2 || !isupper((unsigned char)value[0]) ||
			    (n == 2 && !islower((unsigned char)value[1])))
				return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "anode '%s': an element symbol is expected (Rh, W, Ag)",
				               value);
			return mg_str_set(&p->anode, value);
		}
		if (!strcmp(key, "filter"))
			return (rc = check_text(key, value)) != MG_OK ? rc : mg_str_set(&p->filter, value);
		if (!strcmp(key, "atmosphere")) {
			if (strcmp(value, "air") && strcmp(value, "vacuum") && strcmp(value, "helium"))
				return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "atmosphere '%s': air, vacuum or helium", value);
			return mg_str_set(&p->atmosphere, value);
		}
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "unknown key '%s' in [tube] (known: %s)", key, tube_keys);
	case SEC_INSTRUMENT:
		if (!strcmp(key, "detector"))
			return (rc = check_text(key, value)) != MG_OK ? rc : mg_str_set(&p->detector, value);
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "unknown key '%s' in [instrument] (known: detector)", key);
	case SEC_NONE:
		break;
	}
	return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "'%s' is outside any section", key);
}

/* ------------------------------------------------------------ INI (core/inifile.h) */

/* Keys seen in this file (for duplicates): "section.key" and its line. */
struct seen {
	char **keys;
	long *lines;
	size_t n, cap;
};

static long seen_find(const struct seen *s, const char *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i], k))
			return s->lines[i];
	return 0;
}

static int seen_add(struct seen *s, const char *k, long line)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **k2 = realloc(s->keys, cap * sizeof(*k2));
		if (!k2)
			return MG_ERR_NOMEM;
		s->keys = k2;
		long *l2 = realloc(s->lines, cap * sizeof(*l2));
		if (!l2)
			return MG_ERR_NOMEM;
		s->lines = l2;
		s->cap = cap;
	}
	if (!(s->keys[s->n] = strdup(k)))
		return MG_ERR_NOMEM;
	s->lines[s->n++] = line;
	return MG_OK;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->lines);
}

/* "<file> line <N>: ...", the style of every INI reader (core/inifile.h). */
static int fail_at(const char *file, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(const char *file, long line, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s line %ld: %s", file, line, msg);
}

typedef struct parse_state {
	mg_acq_profile *p;
	enum section sec;
	struct seen seen;
	long mcac_line, channels_line;
	char mcac_val[16], channels_val[16];
} parse_state;

/* One section header or "key = value" from the INI reader. */
static int on_item(const mg_ini_item *it, void *ud)
{
	parse_state *st = ud;
	mg_acq_profile *p = st->p;
	int rc;
	if (!it->key) {
		st->sec = section_by_name(it->section, it->section_len);
		if (st->sec == SEC_NONE)
			return fail_at(it->file, it->line,
			               "unknown section [%.*s] (known: [dp5], [acquisition], [tube], [instrument])",
			               (int)(it->section_len > 40 ? 40 : it->section_len), it->section);
		return MG_OK;
	}
	const char *k = it->key;
	size_t kn = it->key_len;
	if (kn == 0 || kn > 64)
		return fail_at(it->file, it->line, "a key of 1 to 64 characters is expected");
	for (size_t i = 0; i < kn; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return fail_at(it->file, it->line, "key '%.*s': only letters, digits and '_'", (int)kn, k);
	char key[72], full[96];
	snprintf(key, sizeof(key), "%.*s", (int)kn, k);
	if (st->sec == SEC_DP5)
		for (char *c = key; *c; c++)
			*c = (char)toupper((unsigned char)*c);
	snprintf(full, sizeof(full), "%s.%s", section_names[st->sec], key);
	long prev = seen_find(&st->seen, full);
	if (prev)
		return fail_at(it->file, it->line, "%s is given twice (first on line %ld)", key, prev);
	if (seen_add(&st->seen, full, it->line) != MG_OK)
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	if ((rc = apply(p, st->sec, key, it->value)) != MG_OK) {
		char why[800];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(rc, ACQ_DOM, "%s line %ld: [%s] %s", it->file, it->line, section_names[st->sec], why);
	}
	if (st->sec == SEC_DP5 && !strcmp(key, "MCAC")) {
		st->mcac_line = it->line;
		snprintf(st->mcac_val, sizeof(st->mcac_val), "%s", mg_kvlist_get(&p->dp5, "MCAC"));
	} else if (st->sec == SEC_ACQ && !strcmp(key, "channels")) {
		st->channels_line = it->line;
		snprintf(st->channels_val, sizeof(st->channels_val), "%s", mg_kvlist_get(&p->dp5, "MCAC"));
	}
	return MG_OK;
}

static int parse_into(mg_acq_profile *p, const char *text, size_t len, const char *name)
{
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) { /* a UTF-8 byte order mark */
		text += 3;
		len -= 3;
	}
	if (memchr(text, '\0', len))
		return mg_fail(MG_ERR_FORMAT, ACQ_DOM, "%s: not a text file (NUL byte at offset %zu)", name,
		               (size_t)((const char *)memchr(text, '\0', len) - text));
	/* control bytes by line, before the INI reader calls the file binary */
	long line = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' || (c == '\r' && (i + 1 == len || text[i + 1] != '\n')))
			line++;
		else if (c < 0x20 && c != '\t' && c != '\r')
			return fail_at(name, line, "control character 0x%02x", c);
	}
	parse_state st = {.p = p, .sec = SEC_NONE};
	int rc = mg_ini_parse(text, len, name, ACQ_DOM, on_item, &st);
	if (rc == MG_OK && st.mcac_line && st.channels_line &&
	    strtol(st.mcac_val, NULL, 10) != strtol(st.channels_val, NULL, 10))
		rc = fail_at(name, st.channels_line,
		             "channels = %s disagrees with [dp5] MCAC = %s on line %ld (they are the same setting: "
		             "give one)",
		             st.channels_val, st.mcac_val, st.mcac_line);
	seen_free(&st.seen);
	return rc;
}

int mg_acq_profile_parse(mg_acq_profile *p, const char *text, size_t len, const char *name)
{
	if (!p || (!text && len))
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_profile_parse: bad arguments");
	if (!name)
		name = "profile";
	/* All or nothing: parse into a copy. */
	mg_acq_profile tmp;
	int rc = acq_profile_copy(&tmp, p);
	if (rc != MG_OK)
		return rc;
	rc = parse_into(&tmp, text ? text : "", len, name);
	if (rc == MG_OK)
		rc = mg_str_set(&tmp.source, name);
	if (rc != MG_OK) {
		mg_acq_profile_clear(&tmp);
		return rc;
	}
	mg_acq_profile_clear(p);
	*p = tmp;
	return MG_OK;
}

int mg_acq_profile_load(mg_acq_profile *p, const char *path)
{
	unsigned char *data = NULL;
	size_t len = 0;
	if (!p || !path)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_profile_load: bad arguments");
	int rc = mg_file_read_all(path, MG_ACQ_PROFILE_MAX_BYTES, &data, &len);
	if (rc != MG_OK) {
		char why[600];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		return mg_fail(rc, ACQ_DOM, "instrument profile: %s", why);
	}
	rc = mg_acq_profile_parse(p, (const char *)data, len, path);
	free(data);
	return rc;
}

int mg_acq_profile_set(mg_acq_profile *p, const char *assignment)
{
	if (!p || !assignment)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_profile_set: bad arguments");
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "'%s': expected CMD=VALUE or section.key=value", assignment);
	char key[80], full[80];
	size_t kn = (size_t)(eq - assignment);
	if (kn >= sizeof(key))
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "'%.40s...': the name is too long", assignment);
	snprintf(full, sizeof(full), "%.*s", (int)kn, assignment);
	const char *value = eq + 1;
	enum section sec = SEC_DP5;
	const char *dot = strchr(full, '.');
	if (dot) {
		sec = section_by_name(full, (size_t)(dot - full));
		if (sec == SEC_NONE)
			return mg_fail(MG_ERR_ARG, ACQ_DOM,
			               "'%s': unknown section '%.*s' (known: dp5, acquisition, tube, instrument)", assignment,
			               (int)(dot - full), full);
		snprintf(key, sizeof(key), "%s", dot + 1);
	} else {
		snprintf(key, sizeof(key), "%s", full);
	}
	mg_acq_profile tmp;
	int rc = acq_profile_copy(&tmp, p);
	if (rc != MG_OK)
		return rc;
	rc = apply(&tmp, sec, key, value);
	if (rc != MG_OK) {
		char why[800];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		mg_acq_profile_clear(&tmp);
		return mg_fail(rc == MG_ERR_NOMEM ? rc : MG_ERR_ARG, ACQ_DOM, "--set %s: %s", assignment, why);
	}
	mg_acq_profile_clear(p);
	*p = tmp;
	return MG_OK;
}

int mg_acq_profile_config_text(const mg_acq_profile *p, char **out)
{
	if (!p || !out)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "mg_acq_profile_config_text: bad arguments");
	*out = NULL;
	if (p->dp5.count == 0)
		return mg_fail(MG_ERR_ARG, ACQ_DOM, "the profile has no [dp5] settings");
	mg_buf b;
	mg_buf_init(&b);
	const char *resc = mg_kvlist_get(&p->dp5, "RESC");
	if (resc)
		mg_buf_printf(&b, "RESC=%s;", resc);
	for (size_t i = 0; i < p->dp5.count; i++)
		if (strcmp(p->dp5.items[i].key, "RESC"))
			mg_buf_printf(&b, "%s=%s;", p->dp5.items[i].key, p->dp5.items[i].value);
	if (mg_buf_status(&b) != MG_OK) {
		mg_buf_free(&b);
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	}
	*out = b.data; /* owned by the caller now */
	return MG_OK;
}
