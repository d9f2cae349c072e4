/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SCPI / IEEE 488.2 codec: pure functions on bytes (see scpi.h). Strict:
 * malformed input is MG_ERR_FORMAT (or MG_ERR_PROTOCOL for framing) with the
 * byte offset, never a partial success. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/scpi/scpi.h"
#include "internal.h"

#define DOM "scpi"

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_blank((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int eq_ci(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	if (k != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s[i]) != tolower((unsigned char)w[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------ blocks and framing */

int mg_scpi_parse_block_header(const uint8_t *p, size_t n, size_t *hdr_len, size_t *data_len)
{
	if (n < 1)
		return MG_ERR_NEED_MORE;
	if (p[0] != '#')
		return mg_fail(MG_ERR_FORMAT, DOM, "a block starts with '#', not 0x%02x", p[0]);
	if (n < 2)
		return MG_ERR_NEED_MORE;
	if (p[1] == '0') {
		*hdr_len = 2;
		*data_len = n - 2;
		return MG_OK;
	}
	if (p[1] < '1' || p[1] > '9')
		return mg_fail(MG_ERR_FORMAT, DOM, "block header '#%c': the digit count must be 0-9", isprint(p[1]) ? p[1] : '?');
	size_t nd = (size_t)(p[1] - '0');
	if (n < 2 + nd)
		return MG_ERR_NEED_MORE;
	size_t len = 0;
	for (size_t i = 0; i < nd; i++) {
		if (p[2 + i] < '0' || p[2 + i] > '9')
			return mg_fail(MG_ERR_FORMAT, DOM, "block header: length digit %zu is 0x%02x, not a digit", i + 1,
			               p[2 + i]);
		len = len * 10 + (size_t)(p[2 + i] - '0');
	}
	*hdr_len = 2 + nd;
	*data_len = len;
	return MG_OK;
}

int mg_scpi_frame(const uint8_t *p, size_t n, size_t *msg_len, size_t *consumed)
{
	size_t i = 0;
	int at_start = 1;
	if (!p && n)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_frame: NULL data");
	while (i < n) {
		uint8_t c = p[i];
		if (c == '\n') {
			size_t m = i;
			if (m > 0 && p[m - 1] == '\r')
				m--;
			*msg_len = m;
			*consumed = i + 1;
			return MG_OK;
		}
		if (at_start && c == '#') {
			if (i + 1 >= n)
				return MG_ERR_NEED_MORE;
			if (p[i + 1] == '0') { /* indefinite: up to the next LF */
				const uint8_t *lf = memchr(p + i + 2, '\n', n - i - 2);
				if (!lf)
					return MG_ERR_NEED_MORE;
				*msg_len = (size_t)(lf - p);
				*consumed = *msg_len + 1;
				return MG_OK;
			}
			if (p[i + 1] >= '1' && p[i + 1] <= '9') {
				size_t hl, dl;
				int rc = mg_scpi_parse_block_header(p + i, n - i, &hl, &dl);
				if (rc == MG_ERR_NEED_MORE)
					return rc;
				if (rc)
					return mg_fail(MG_ERR_PROTOCOL, DOM, "byte %zu: %s", i, mg_error_detail());
				if (n - i - hl < dl)
					return MG_ERR_NEED_MORE;
				i += hl + dl;
				at_start = 0;
				continue;
			}
		}
		if (c == '"' || c == '\'') {
			size_t j = i + 1;
			for (;;) {
				if (j >= n)
					return MG_ERR_NEED_MORE;
				if (p[j] == '\n')
					break; /* a LF ends the message, even inside a (broken) string */
				if (p[j] == c) {
					if (j + 1 >= n)
						return MG_ERR_NEED_MORE;
					if (p[j + 1] == c) {
						j += 2;
						continue;
					}
					j++;
					break;
				}
				j++;
			}
			i = j;
			at_start = 0;
			continue;
		}
		if (c == ',' || c == ';')
			at_start = 1;
		else if (c != ' ' && c != '\t')
			at_start = 0;
		i++;
	}
	return MG_ERR_NEED_MORE;
}

/* ------------------------------------------------------------ elements */

int mg_scpi_next_element(const char *msg, size_t n, size_t *pos, unsigned *unit, mg_scpi_element *el)
{
	size_t i = *pos;
	while (i < n && is_blank((unsigned char)msg[i]))
		i++;
	if (i >= n) {
		*pos = n;
		return 0;
	}
	memset(el, 0, sizeof(*el));
	el->offset = i;
	el->unit = unit ? *unit : 0;
	char c = msg[i];
	if (c == '"' || c == '\'') {
		size_t j = i + 1;
		for (;;) {
			if (j >= n)
				return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: unterminated string", i);
			if (msg[j] == c) {
				if (j + 1 < n && msg[j + 1] == c) {
					j += 2;
					continue;
				}
				break;
			}
			j++;
		}
		el->type = MG_SCPI_STRING;
		el->p = msg + i;
		el->n = j + 1 - i;
		i = j + 1;
	} else if (c == '#' && i + 1 < n && isdigit((unsigned char)msg[i + 1])) {
		size_t hl, dl;
		int rc = mg_scpi_parse_block_header((const uint8_t *)msg + i, n - i, &hl, &dl);
		if (rc == MG_ERR_NEED_MORE)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: truncated block header", i);
		if (rc)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: %s", i, mg_error_detail());
		if (dl > n - i - hl)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: the block announces %zu bytes, %zu follow", i, dl,
			               n - i - hl);
		el->type = MG_SCPI_BLOCK;
		el->p = msg + i + hl;
		el->n = dl;
		i += hl + dl;
	} else {
		size_t j = i;
		while (j < n && msg[j] != ',' && msg[j] != ';') {
			if (msg[j] == '"' || msg[j] == '\'')
				return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: a quote inside unquoted data", j);
			j++;
		}
		el->type = MG_SCPI_TEXT;
		el->p = msg + i;
		el->n = j - i;
		trim(&el->p, &el->n);
		if (el->n == 0)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: empty element", i);
		i = j;
	}
	while (i < n && is_blank((unsigned char)msg[i]))
		i++;
	if (i < n) {
		if (msg[i] != ',' && msg[i] != ';')
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: '%c' after the element at byte %zu (expected ',' or ';')",
			               i, isprint((unsigned char)msg[i]) ? msg[i] : '?', el->offset);
		if (msg[i] == ';' && unit)
			(*unit)++;
		size_t sep = i++;
		while (i < n && is_blank((unsigned char)msg[i]))
			i++;
		if (i >= n)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: empty element after '%c' at the end", sep, msg[sep]);
	}
	*pos = i;
	return 1;
}

int mg_scpi_split(const char *msg, size_t n, mg_scpi_element *els, size_t cap, size_t *count)
{
	size_t pos = 0, k = 0;
	unsigned unit = 0;
	mg_scpi_element el;
	int rc;
	*count = 0;
	while ((rc = mg_scpi_next_element(msg, n, &pos, &unit, &el)) == 1) {
		if (k >= cap)
			return mg_fail(MG_ERR_FORMAT, DOM, "more than %zu elements in the response", cap);
		els[k++] = el;
	}
	if (rc < 0)
		return rc;
	*count = k;
	return MG_OK;
}

/* ------------------------------------------------------------ values */

static double special(double v)
{
	if (v >= 9.9e37)
		return fabs(v - 9.91e37) <= 5e34 ? NAN : INFINITY;
	if (v <= -9.9e37)
		return -INFINITY;
	return v;
}

int mg_scpi_parse_number(const char *s, size_t n, double *out)
{
	const char *s0 = s;
	size_t n0 = n;
	trim(&s, &n);
	if (n == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "empty number");
	if (eq_ci(s, n, "NAN")) {
		*out = NAN;
		return MG_OK;
	}
	if (eq_ci(s, n, "INF") || eq_ci(s, n, "+INF")) {
		*out = INFINITY;
		return MG_OK;
	}
	if (eq_ci(s, n, "NINF") || eq_ci(s, n, "-INF")) {
		*out = -INFINITY;
		return MG_OK;
	}
	if (s[0] == '#' && n >= 2) {
		int base = toupper((unsigned char)s[1]) == 'H' ? 16 : toupper((unsigned char)s[1]) == 'Q' ? 8
		         : toupper((unsigned char)s[1]) == 'B' ? 2 : 0;
		if (!base || n < 3)
			goto bad;
		uint64_t v = 0;
		for (size_t i = 2; i < n; i++) {
			int c = toupper((unsigned char)s[i]), d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				goto bad;
			if (d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
				goto bad;
			v = v * (uint64_t)base + (uint64_t)d;
		}
		*out = (double)v;
		return MG_OK;
	}
	/* [+-] (digits [. digits] | . digits) [E [+-] digits] */
	size_t i = 0, mant = 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < n && isdigit((unsigned char)s[i]))
		i++, mant++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && isdigit((unsigned char)s[i]))
			i++, mant++;
	}
	if (mant == 0)
		goto bad;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && isdigit((unsigned char)s[i]))
			i++, e++;
		if (e == 0)
			goto bad;
	}
	if (i != n || n > 63)
		goto bad;
	char tmp[64];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	double v = strtod(tmp, NULL);
	if (isnan(v))
		goto bad;
	*out = special(v);
	return MG_OK;
bad:
	return mg_fail(MG_ERR_FORMAT, DOM, "'%.*s' is not a number", (int)(n0 > 40 ? 40 : n0), s0);
}

int mg_scpi_parse_long(const char *s, size_t n, long *out)
{
	const char *t = s;
	size_t k = n;
	trim(&t, &k);
	/* plain NR1 exactly, so large values keep every digit */
	size_t i = 0;
	if (k && (t[0] == '+' || t[0] == '-'))
		i++;
	size_t d = i;
	while (d < k && isdigit((unsigned char)t[d]))
		d++;
	if (k && d == k && d > i && k < 32) {
		char tmp[32];
		memcpy(tmp, t, k);
		tmp[k] = '\0';
		errno = 0;
		char *end;
		long v = strtol(tmp, &end, 10);
		if (errno == ERANGE)
			return mg_fail(MG_ERR_FORMAT, DOM, "'%s' is out of range", tmp);
		*out = v;
		return MG_OK;
	}
	double v;
	int rc = mg_scpi_parse_number(s, n, &v);
	if (rc)
		return rc;
	if (!isfinite(v) || v != floor(v) || v < -9.2e18 || v > 9.2e18)
		return mg_fail(MG_ERR_FORMAT, DOM, "'%.*s' is not an integer", (int)(k > 40 ? 40 : k), t);
	*out = (long)v;
	return MG_OK;
}

int mg_scpi_parse_bool(const char *s, size_t n, int *out)
{
	trim(&s, &n);
	if (eq_ci(s, n, "1") || eq_ci(s, n, "+1") || eq_ci(s, n, "ON")) {
		*out = 1;
		return MG_OK;
	}
	if (eq_ci(s, n, "0") || eq_ci(s, n, "+0") || eq_ci(s, n, "OFF")) {
		*out = 0;
		return MG_OK;
	}
	return mg_fail(MG_ERR_FORMAT, DOM, "'%.*s' is not a boolean (1, 0, ON, OFF)", (int)(n > 40 ? 40 : n), s);
}

int mg_scpi_unquote(const char *s, size_t n, mg_buf *out)
{
	trim(&s, &n);
	if (n < 2 || (s[0] != '"' && s[0] != '\'') || s[n - 1] != s[0])
		return mg_fail(MG_ERR_FORMAT, DOM, "'%.*s' is not a quoted string", (int)(n > 40 ? 40 : n), s);
	char q = s[0];
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] == q) {
			if (i + 2 < n && s[i + 1] == q) {
				mg_buf_append(out, &q, 1);
				i++;
				continue;
			}
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: a lone quote inside a string", i);
		}
		mg_buf_append(out, s + i, 1);
	}
	if (!out->data)
		mg_buf_append(out, "", 0);
	return mg_buf_status(out) ? mg_fail(MG_ERR_NOMEM, DOM, "out of memory") : MG_OK;
}

/* ------------------------------------------------------------ errors */

static const struct {
	int code;
	const char *text;
} std_errors[] = {
	{0, "No error"},
	{-100, "Command error"},
	{-101, "Invalid character"},
	{-102, "Syntax error"},
	{-103, "Invalid separator"},
	{-104, "Data type error"},
	{-105, "GET not allowed"},
	{-108, "Parameter not allowed"},
	{-109, "Missing parameter"},
	{-110, "Command header error"},
	{-111, "Header separator error"},
	{-112, "Program mnemonic too long"},
	{-113, "Undefined header"},
	{-114, "Header suffix out of range"},
	{-120, "Numeric data error"},
	{-121, "Invalid character in number"},
	{-123, "Exponent too large"},
	{-124, "Too many digits"},
	{-128, "Numeric data not allowed"},
	{-130, "Suffix error"},
	{-131, "Invalid suffix"},
	{-134, "Suffix too long"},
	{-138, "Suffix not allowed"},
	{-140, "Character data error"},
	{-141, "Invalid character data"},
	{-144, "Character data too long"},
	{-148, "Character data not allowed"},
	{-150, "String data error"},
	{-151, "Invalid string data"},
	{-158, "String data not allowed"},
	{-160, "Block data error"},
	{-161, "Invalid block data"},
	{-168, "Block data not allowed"},
	{-200, "Execution error"},
	{-203, "Command protected"},
	{-210, "Trigger error"},
	{-211, "Trigger ignored"},
	{-213, "Init ignored"},
	{-214, "Trigger deadlock"},
	{-220, "Parameter error"},
	{-221, "Settings conflict"},
	{-222, "Data out of range"},
	{-223, "Too much data"},
	{-224, "Illegal parameter value"},
	{-230, "Data corrupt or stale"},
	{-240, "Hardware error"},
	{-241, "Hardware missing"},
	{-300, "Device-specific error"},
	{-310, "System error"},
	{-311, "Memory error"},
	{-321, "Out of memory"},
	{-330, "Self-test failed"},
	{-340, "Calibration failed"},
	{-350, "Queue overflow"},
	{-360, "Communication error"},
	{-363, "Input buffer overrun"},
	{-365, "Time out error"},
	{-400, "Query error"},
	{-410, "Query INTERRUPTED"},
	{-420, "Query UNTERMINATED"},
	{-430, "Query DEADLOCKED"},
	{-440, "Query UNTERMINATED after indefinite response"},
};

const char *mg_scpi_error_text(int code)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(std_errors); i++)
		if (std_errors[i].code == code)
			return std_errors[i].text;
	return NULL;
}

const char *mg_scpi_error_class(int code)
{
	if (code == 0)
		return "no error";
	if (code > 0)
		return "instrument-specific error";
	if (code <= -100 && code >= -199)
		return "command error";
	if (code <= -200 && code >= -299)
		return "execution error";
	if (code <= -300 && code >= -399)
		return "device-specific error";
	if (code <= -400 && code >= -499)
		return "query error";
	if (code <= -500 && code >= -599)
		return "power-on event";
	if (code <= -600 && code >= -699)
		return "user request";
	if (code <= -700 && code >= -799)
		return "request control";
	if (code <= -800 && code >= -899)
		return "operation complete";
	return "unclassified error";
}

int mg_scpi_parse_error(const char *s, size_t n, mg_scpi_error *e)
{
	memset(e, 0, sizeof(*e));
	trim(&s, &n);
	const char *comma = memchr(s, ',', n);
	size_t cl = comma ? (size_t)(comma - s) : n;
	long code;
	if (mg_scpi_parse_long(s, cl, &code) || code < INT_MIN || code > INT_MAX)
		return mg_fail(MG_ERR_FORMAT, DOM, "error queue answer '%.*s': no error number before the ','",
		               (int)(n > 60 ? 60 : n), s);
	e->code = (int)code;
	if (!comma)
		return MG_OK;
	const char *t = comma + 1;
	size_t tn = n - cl - 1;
	trim(&t, &tn);
	if (tn && (t[0] == '"' || t[0] == '\'')) {
		mg_buf b;
		mg_buf_init(&b);
		int rc = mg_scpi_unquote(t, tn, &b);
		if (rc) {
			mg_buf_free(&b);
			return mg_fail(MG_ERR_FORMAT, DOM, "error queue answer '%.*s': bad text", (int)(n > 60 ? 60 : n), s);
		}
		snprintf(e->text, sizeof(e->text), "%s", b.data ? b.data : "");
		mg_buf_free(&b);
	} else {
		snprintf(e->text, sizeof(e->text), "%.*s", (int)(tn > 255 ? 255 : tn), t);
	}
	return MG_OK;
}

/* ------------------------------------------------------------ *IDN? */

static int idn_field(char *dst, size_t cap, const char *s, size_t n, const char *name)
{
	trim(&s, &n);
	if (n >= cap)
		return mg_fail(MG_ERR_FORMAT, DOM, "*IDN?: the %s field is %zu characters (at most %zu)", name, n, cap - 1);
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			return mg_fail(MG_ERR_FORMAT, DOM, "*IDN?: the %s field has byte 0x%02x", name, (unsigned char)s[i]);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return MG_OK;
}

int mg_scpi_parse_idn(const char *s, size_t n, mg_scpi_idn *idn)
{
	memset(idn, 0, sizeof(*idn));
	trim(&s, &n);
	if (n >= 4 && eq_ci(s, 4, "IDN "))
		s += 4, n -= 4;
	const char *f[4];
	size_t fl[4];
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n && k < 4; i++) {
		if (i == n || (s[i] == ',' && k < 3)) {
			f[k] = s + start;
			fl[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	if (k < 3)
		return mg_fail(MG_ERR_FORMAT, DOM, "*IDN? answer '%.*s': %zu field(s), expected 4 (manufacturer, model, serial, firmware)",
		               (int)(n > 80 ? 80 : n), s, k);
	int rc;
	if ((rc = idn_field(idn->manufacturer, sizeof(idn->manufacturer), f[0], fl[0], "manufacturer")) ||
	    (rc = idn_field(idn->model, sizeof(idn->model), f[1], fl[1], "model")))
		return rc;
	if (k == 3) {
		rc = idn_field(idn->firmware, sizeof(idn->firmware), f[2], fl[2], "firmware");
	} else {
		rc = idn_field(idn->serial, sizeof(idn->serial), f[2], fl[2], "serial");
		if (!rc)
			rc = idn_field(idn->firmware, sizeof(idn->firmware), f[3], fl[3], "firmware");
	}
	if (rc)
		return rc;
	if (!idn->manufacturer[0] || !idn->model[0])
		return mg_fail(MG_ERR_FORMAT, DOM, "*IDN? answer '%.*s': empty manufacturer or model", (int)(n > 80 ? 80 : n), s);
	return MG_OK;
}

/* ------------------------------------------------------------ numbers in blocks */

size_t mg_scpi_numtype_size(mg_scpi_numtype t)
{
	switch (t) {
	case MG_SCPI_REAL32:
	case MG_SCPI_INT32:
		return 4;
	case MG_SCPI_REAL64:
		return 8;
	case MG_SCPI_INT16:
		return 2;
	}
	return 0;
}

static uint64_t get_uint(const uint8_t *p, size_t size, int big)
{
	uint64_t v = 0;
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

int mg_scpi_decode_numbers(const uint8_t *data, size_t n, mg_scpi_numtype t, int big_endian, double *out,
                           size_t cap, size_t *count)
{
	size_t size = mg_scpi_numtype_size(t);
	*count = 0;
	if (!size)
		return mg_fail(MG_ERR_ARG, DOM, "unknown number type %d", (int)t);
	if (n % size)
		return mg_fail(MG_ERR_FORMAT, DOM, "a block of %zu bytes is not a whole number of %zu-byte values", n, size);
	if (n / size > cap)
		return mg_fail(MG_ERR_FORMAT, DOM, "%zu values in the block, at most %zu expected", n / size, cap);
	for (size_t i = 0; i < n / size; i++) {
		uint64_t u = get_uint(data + i * size, size, big_endian);
		switch (t) {
		case MG_SCPI_REAL32: {
			uint32_t w = (uint32_t)u;
			float f;
			memcpy(&f, &w, 4);
			out[i] = special((double)f);
			break;
		}
		case MG_SCPI_REAL64: {
			double d;
			memcpy(&d, &u, 8);
			out[i] = special(d);
			break;
		}
		case MG_SCPI_INT16:
			out[i] = (double)(int16_t)(uint16_t)u;
			break;
		case MG_SCPI_INT32:
			out[i] = (double)(int32_t)(uint32_t)u;
			break;
		}
	}
	*count = n / size;
	return MG_OK;
}

int mg_scpi_parse_numbers(const char *s, size_t n, double *out, size_t cap, size_t *count)
{
	size_t pos = 0, k = 0;
	mg_scpi_element el;
	int rc;
	*count = 0;
	while ((rc = mg_scpi_next_element(s, n, &pos, NULL, &el)) == 1) {
		if (el.type != MG_SCPI_TEXT)
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: a %s where numbers were expected", el.offset,
			               el.type == MG_SCPI_STRING ? "string" : "block");
		if (k >= cap)
			return mg_fail(MG_ERR_FORMAT, DOM, "more than %zu numbers", cap);
		if (mg_scpi_parse_number(el.p, el.n, &out[k]))
			return mg_fail(MG_ERR_FORMAT, DOM, "byte %zu: %s", el.offset, mg_error_detail());
		k++;
	}
	if (rc < 0)
		return rc;
	*count = k;
	return MG_OK;
}

int mg_scpi_count_queries(const char *s, size_t n)
{
	int count = 0;
	size_t i = 0;
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		int q = 0;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != ';') {
			if (s[i] == '?')
				q = 1;
			i++;
		}
		count += q;
		while (i < n && s[i] != ';') {
			char c = s[i];
			if (c == '"' || c == '\'') {
				i++;
				while (i < n && s[i] != c)
					i++;
				i++;
				continue;
			}
			size_t hl, dl;
			if (c == '#' && mg_scpi_parse_block_header((const uint8_t *)s + i, n - i, &hl, &dl) == MG_OK &&
			    s[i + 1] != '0') {
				i += hl + dl < n - i ? hl + dl : n - i;
				continue;
			}
			i++;
		}
		if (i >= n)
			break;
		i++; /* ';' */
	}
	return count;
}

/* ------------------------------------------------------------ encoders */

int mg_scpi_append_block(mg_buf *b, const void *data, size_t n)
{
	char len[24];
	int nd = snprintf(len, sizeof(len), "%zu", n);
	if (nd > 9)
		return mg_fail(MG_ERR_ARG, DOM, "a block of %zu bytes needs more than 9 length digits", n);
	mg_buf_printf(b, "#%d%s", nd, len);
	if (n)
		mg_buf_append(b, data, n);
	return mg_buf_status(b) ? mg_fail(MG_ERR_NOMEM, DOM, "out of memory") : MG_OK;
}

int mg_scpi_append_string(mg_buf *b, const char *s)
{
	mg_buf_append(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			mg_buf_append(b, "\"", 1);
		mg_buf_append(b, s, 1);
	}
	mg_buf_append(b, "\"", 1);
	return mg_buf_status(b) ? mg_fail(MG_ERR_NOMEM, DOM, "out of memory") : MG_OK;
}

int mg_scpi_append_numbers(mg_buf *b, const double *v, size_t n, mg_scpi_numtype t, int big_endian)
{
	size_t size = mg_scpi_numtype_size(t);
	if (!size)
		return mg_fail(MG_ERR_ARG, DOM, "unknown number type %d", (int)t);
	for (size_t i = 0; i < n; i++) {
		uint64_t u = 0;
		switch (t) {
		case MG_SCPI_REAL32: {
			float f = (float)v[i];
			uint32_t w;
			memcpy(&w, &f, 4);
			u = w;
			break;
		}
		case MG_SCPI_REAL64:
			memcpy(&u, &v[i], 8);
			break;
		case MG_SCPI_INT16: {
			double x = v[i] < -32768 ? -32768 : v[i] > 32767 ? 32767 : v[i];
			u = (uint16_t)(int16_t)lrint(x);
			break;
		}
		case MG_SCPI_INT32: {
			double x = v[i] < -2147483648.0 ? -2147483648.0 : v[i] > 2147483647.0 ? 2147483647.0 : v[i];
			u = (uint32_t)(int32_t)lrint(x);
			break;
		}
		}
		uint8_t bytes[8];
		for (size_t k = 0; k < size; k++)
			bytes[big_endian ? size - 1 - k : k] = (uint8_t)(u >> (8 * k));
		mg_buf_append(b, bytes, size);
	}
	return mg_buf_status(b) ? mg_fail(MG_ERR_NOMEM, DOM, "out of memory") : MG_OK;
}
