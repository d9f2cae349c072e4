/* SPDX-License-Identifier: GPL-3.0-or-later */
/* User-supplied ids (they become path components of the archive, so they are
 * checked before anything else: the rule is core/id.c), UUIDs and JSON texts. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "store_internal.h"
#include "text.h"

int store_id_check(const char *what, const char *id)
{
	return mg_id_check(what, id); /* the rule is core's (magassay/id.h) */
}

int mg_uuid_generate(char out[MG_UUID_SIZE])
{
	unsigned char b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return mg_fail(MG_ERR_IO, STORE_DOM, "no random bytes for a UUID: %s", strerror(errno));
		}
		got += (size_t)r;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, MG_UUID_SIZE,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
	         b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return MG_OK;
}

int mg_uuid_validate(const char *s)
{
	if (!s)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "no UUID given");
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		int ok = dash ? c == '-'
		              : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (!ok) {
			char q[200];
			mg_quote_text(q, sizeof(q), s);
			return mg_fail(MG_ERR_ARG, STORE_DOM,
			               "%s is not a UUID (8-4-4-4-12 hexadecimal digits): byte %d is wrong", q, i + 1);
		}
	}
	if (s[36] != '\0') {
		char q[200];
		mg_quote_text(q, sizeof(q), s);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s is not a UUID: longer than 36 characters", q);
	}
	return MG_OK;
}

int store_json_check(const char *what, const char *json, int allow_null)
{
	json_error_t err;
	if (!json) {
		if (allow_null)
			return MG_OK;
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: no JSON given", what);
	}
	json_t *v = json_loads(json, JSON_DECODE_ANY, &err);
	if (!v)
		return mg_fail(MG_ERR_FORMAT, STORE_DOM, "%s: not valid JSON: line %d column %d: %s", what, err.line,
		               err.column, err.text);
	json_decref(v);
	return MG_OK;
}
