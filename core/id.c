/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The id rule (include/magassay/id.h): what a batch or sample id, or a
 * calibration or method name, may hold, and the message that says why one
 * is refused. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "magassay/id.h"
#include "text.h"

#define DOM "id"
#define ID_RULE "ids are 1-64 bytes of letters, digits, '.', '_' and '-', not starting with '.' or '-'"

static int id_byte_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

void mg_quote_text(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; s[i] && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 40) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o++] = '"';
	out[o] = '\0';
}

int mg_id_check(const char *what, const char *id)
{
	char q[200];
	if (!id || !*id)
		return mg_fail(MG_ERR_ARG, DOM, "%s is empty: " ID_RULE, what);
	if (id[0] == '.' || id[0] == '-') {
		mg_quote_text(q, sizeof(q), id);
		return mg_fail(MG_ERR_ARG, DOM, "%s %s starts with '%c': " ID_RULE, what, q, id[0]);
	}
	size_t n = 0;
	for (; id[n] && n <= MG_ID_MAX; n++) {
		unsigned char c = (unsigned char)id[n];
		if (id_byte_ok(c))
			continue;
		mg_quote_text(q, sizeof(q), id);
		if (c >= 0x80)
			return mg_fail(MG_ERR_ARG, DOM, "%s %s: byte %zu is 0x%02x (not ASCII): " ID_RULE, what, q, n + 1, c);
		if (c < 0x20 || c == 0x7f)
			return mg_fail(MG_ERR_ARG, DOM, "%s %s: byte %zu is a control character (0x%02x): " ID_RULE, what, q,
			               n + 1, c);
		return mg_fail(MG_ERR_ARG, DOM, "%s %s: byte %zu is '%c' (0x%02x), which is not allowed: " ID_RULE, what,
		               q, n + 1, c, c);
	}
	if (n > MG_ID_MAX) {
		mg_quote_text(q, sizeof(q), id);
		return mg_fail(MG_ERR_ARG, DOM, "%s %s is %zu bytes long, more than %d: " ID_RULE, what, q, strlen(id),
		               MG_ID_MAX);
	}
	return MG_OK;
}

int mg_id_validate(const char *id)
{
	return mg_id_check("id", id);
}
