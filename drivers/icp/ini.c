/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The INI dialect of the ICP-OES instrument files (profiles, and the
 * simulator's rack files), read through the suite's one INI reader
 * (core/inifile.h). The dialect is stricter than the reader:
 *   - every byte of every line is checked: control characters (DEL too, and
 *     a CR that does not end a line) are errors, in comments as well;
 *   - a section header must end with ']' (nothing after it), and its name is
 *     [a-z0-9_-]+, optionally one space and a word ("[position 12]");
 *   - a pair is `key = value`: '=' (not ':') separates, the key is a letter
 *     then letters, digits, '_' or '.', the value is never empty;
 *   - there are no comments after a value: SCPI needs ';' and '#', and the
 *     reader would take " ;" or " #" for the start of a comment, so a value
 *     holding either after a blank is refused rather than cut short.
 * The line rules are checked here, before the reader sees a line, with the
 * messages the profile format has always given; the first failing line
 * wins, whether the reader, a rule or the caller's callback fails it. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "drivers/icp/protocol.h"
#include "inifile.h"
#include "internal.h"

#define DOM "icp"

static int name_char(int c)
{
	return islower(c) || isdigit(c) || c == '_' || c == '-';
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

typedef struct dialect {
	const char *source;
	mg_icp_ini_cb cb;
	void *ud;
} dialect;

/* The line rules. *bad_at is the offset of the first failing line (n if
 * none); its failure is recorded as the detail and returned, not raised, so
 * that an earlier line can still fail first in the reader. */
static int line_rules(const char *text, size_t n, const char *source, size_t *bad_at)
{
	size_t pos = 0;
	long line = 0;
	*bad_at = n;
	if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* the reader skips a byte-order mark */
		pos = 3;
	while (pos < n) {
		size_t start = pos;
		const char *p = text + pos;
		const char *eol = memchr(p, '\n', n - pos);
		size_t len = eol ? (size_t)(eol - p) : n - pos;
		pos += len + (eol ? 1 : 0);
		line++;
		if (len && p[len - 1] == '\r')
			len--;
		int rc = MG_OK;
		for (size_t i = 0; i < len && rc == MG_OK; i++) {
			unsigned char c = (unsigned char)p[i];
			if ((c < 32 && c != '\t') || c == 127)
				rc = mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: control character 0x%02x", source, line, c);
		}
		while (rc == MG_OK && len && blank(*p))
			p++, len--;
		while (rc == MG_OK && len && blank(p[len - 1]))
			len--;
		if (rc == MG_OK && len && *p != '#' && *p != ';') {
			if (*p == '[') {
				if (p[len - 1] != ']')
					rc = mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: a section header must end with ']'", source,
					             line);
			} else {
				const char *eq = memchr(p, '=', len), *colon = memchr(p, ':', len);
				if (!eq) {
					rc = mg_fail(MG_ERR_FORMAT, DOM,
					             "%s line %ld: expected 'key = value', '[section]' or a comment: '%.*s'", source,
					             line, (int)(len > 40 ? 40 : len), p);
				} else if (colon && colon < eq) {
					size_t kl = (size_t)(eq - p);
					while (kl && blank(p[kl - 1]))
						kl--;
					rc = mg_fail(MG_ERR_FORMAT, DOM,
					             "%s line %ld: bad key '%.*s' (a letter, then letters, digits, '_', '.')", source,
					             line, (int)(kl > 40 ? 40 : kl), p);
				} else {
					for (const char *v = eq + 1; rc == MG_OK && v + 1 < p + len; v++)
						if (blank(v[0]) && (v[1] == ';' || v[1] == '#'))
							rc = mg_fail(MG_ERR_FORMAT, DOM,
							             "%s line %ld: '%c' after a blank: there are no comments after a value, "
							             "and in a SCPI command '%c' takes no blank before it",
							             source, line, v[1], v[1]);
				}
			}
		}
		if (rc != MG_OK) {
			*bad_at = start;
			return rc;
		}
	}
	return MG_OK;
}

/* Section and key names, then the caller; its failure carries the line. */
static int on_item(const mg_ini_item *it, void *ud)
{
	dialect *d = ud;
	if (!it->key) {
		const char *s = it->section;
		size_t k = it->section_len, i = 0;
		while (i < k && name_char((unsigned char)s[i]))
			i++;
		int ok = i > 0 && k < 96;
		if (ok && i < k) {
			ok = s[i] == ' ' && i + 1 < k;
			for (size_t j = i + 1; ok && j < k; j++)
				ok = isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.' || s[j] == '-';
		}
		if (!ok)
			return mg_fail(MG_ERR_FORMAT, DOM,
			               "%s line %ld: bad section name '[%.*s]' (lower-case letters, digits, '_', '-', "
			               "optionally a space and a word: [run], [position 12])",
			               d->source, it->line, (int)(k > 40 ? 40 : k), s);
		if (d->cb(s, NULL, NULL, it->line, d->ud) < 0)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: %s", d->source, it->line, mg_error_detail());
		return MG_OK;
	}
	const char *key = it->key;
	size_t kl = it->key_len;
	int kok = kl > 0 && kl < 64 && isalpha((unsigned char)key[0]);
	for (size_t i = 0; kok && i < kl; i++)
		kok = isalnum((unsigned char)key[i]) || key[i] == '_' || key[i] == '.';
	if (!kok)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: bad key '%.*s' (a letter, then letters, digits, '_', '.')",
		               d->source, it->line, (int)(kl > 40 ? 40 : kl), key);
	if (it->value_len == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: '%s' has no value", d->source, it->line, key);
	int rc = d->cb(it->section, key, it->value, it->line, d->ud);
	if (rc < 0)
		return rc == MG_ERR_NOMEM ? rc
		                          : mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: %s", d->source, it->line,
		                                    mg_error_detail());
	return MG_OK;
}

int mg_icp_ini_parse(const char *text, size_t n, const char *source, mg_icp_ini_cb cb, void *ud)
{
	if (!source)
		source = "(profile)";
	if (!text && n)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_ini_parse: NULL text");
	if (!text)
		text = "";
	size_t bad_at;
	int bad = line_rules(text, n, source, &bad_at);
	char why[1024];
	if (bad < 0) {
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		mg_error_clear();
	}
	/* the reader takes the lines before the first one the rules refuse */
	dialect d = {.source = source, .cb = cb, .ud = ud};
	int rc = mg_ini_parse(text, bad_at, source, DOM, on_item, &d);
	if (rc < 0)
		return rc;
	if (bad < 0)
		return mg_fail(bad, DOM, "%s", why);
	return MG_OK;
}
