/* SPDX-License-Identifier: GPL-3.0-or-later */
/* User-supplied ids (they become path components of the archive, so they are
 * checked before anything else), UUIDs and JSON texts. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "store_internal.h"

#define ID_RULE "ids are 1-64 bytes of letters, digits, '.', '_' and '-', not starting with '.' or '-'"

static int id_byte_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

/* The id quoted for a message: printable ASCII as is, other bytes as \xNN, cut after 40 bytes. */
static void quote_id(char *out, size_t cap, const char *id)
{
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; id[i] && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)id[i];
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

int store_id_check(const char *what, const char *id)
{
	char q[200];
	if (!id || !*id)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s is empty: " ID_RULE, what);
	if (id[0] == '.' || id[0] == '-') {
		quote_id(q, sizeof(q), id);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s %s starts with '%c': " ID_RULE, what, q, id[0]);
	}
	size_t n = 0;
	for (; id[n] && n <= MG_ID_MAX; n++) {
		unsigned char c = (unsigned char)id[n];
		if (id_byte_ok(c))
			continue;
		quote_id(q, sizeof(q), id);
		if (c >= 0x80)
			return mg_fail(MG_ERR_ARG, STORE_DOM, "%s %s: byte %zu is 0x%02x (not ASCII): " ID_RULE, what, q,
			               n + 1, c);
		if (c < 0x20 || c == 0x7f)
			return mg_fail(MG_ERR_ARG, STORE_DOM,
			               "%s %s: byte %zu is a control character (0x%02x): " ID_RULE, what, q, n + 1, c);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s %s: byte %zu is '%c' (0x%02x), which is not allowed: " ID_RULE,
		               what, q, n + 1, c, c);
	}
	if (n > MG_ID_MAX) {
		quote_id(q, sizeof(q), id);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s %s is %zu bytes long, more than %d: " ID_RULE, what, q,
		               strlen(id), MG_ID_MAX);
	}
	return MG_OK;
}

int mg_id_validate(const char *id)
{
	return store_id_check("id", id);
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
			quote_id(q, sizeof(q), s);
			return mg_fail(MG_ERR_ARG, STORE_DOM,
			               "%s is not a UUID (8-4-4-4-12 hexadecimal digits): byte %d is wrong", q, i + 1);
		}
	}
	if (s[36] != '\0') {
		char q[200];
		quote_id(q, sizeof(q), s);
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
