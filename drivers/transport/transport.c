/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The transport dispatch: URI parsing (the one place URIs are parsed),
 * argument checks, SPEW hex logging, disconnection memory, read_exact. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport_internal.h"

#define DOM "transport"
#define DEFAULT_BAUD 115200u

/* ------------------------------------------------------------ helpers */

uint64_t mg_transport_now_ms_(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

unsigned mg_transport_left_ms_(uint64_t deadline)
{
	uint64_t now = mg_transport_now_ms_();
	if (now >= deadline)
		return 0;
	uint64_t left = deadline - now;
	return left > UINT_MAX ? UINT_MAX : (unsigned)left;
}

int mg_transport_parse_uint_(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	if (!s || !*s)
		return MG_ERR_ARG;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return MG_ERR_ARG;
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return MG_ERR_ARG;
		v = v * 10 + d;
	}
	*out = v;
	return MG_OK;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int valid_key(const char *k, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)k[i]) || isdigit((unsigned char)k[i]) || k[i] == '_'))
			return 0;
	return 1;
}

void mg_transport_free_params_(mg_transport_param *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
}

int mg_transport_parse_params_(const char *query, const char *what, mg_transport_param **params,
                               size_t *n)
{
	if (!*query)
		return mg_fail(MG_ERR_ARG, DOM, "%s: empty parameter list after '?'", what);
	const char *p = query;
	for (;;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (len == 0)
			return mg_fail(MG_ERR_ARG, DOM, "%s: empty parameter (stray '&')", what);
		if (!eq)
			return mg_fail(MG_ERR_ARG, DOM, "%s: parameter '%.*s' has no '=value'", what, (int)len, p);
		size_t klen = (size_t)(eq - p);
		size_t vlen = len - klen - 1;
		if (!valid_key(p, klen))
			return mg_fail(MG_ERR_ARG, DOM,
			               "%s: bad parameter name '%.*s' (lower-case letters, digits, '_')", what,
			               (int)klen, p);
		if (vlen == 0)
			return mg_fail(MG_ERR_ARG, DOM, "%s: parameter '%.*s' has an empty value", what,
			               (int)klen, p);
		for (size_t i = 0; i < *n; i++)
			if (strlen((*params)[i].key) == klen && !memcmp((*params)[i].key, p, klen))
				return mg_fail(MG_ERR_ARG, DOM, "%s: parameter '%.*s' given twice", what,
				               (int)klen, p);
		mg_transport_param *np = realloc(*params, (*n + 1) * sizeof(*np));
		if (!np)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		*params = np;
		np[*n].key = dupn(p, klen);
		np[*n].value = dupn(eq + 1, vlen);
		np[*n].used = 0;
		(*n)++;
		if (!np[*n - 1].key || !np[*n - 1].value)
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		if (!amp)
			break;
		p = amp + 1;
	}
	return MG_OK;
}

/* ------------------------------------------------------------ URIs */

void mg_transport_uri_free(mg_transport_uri *uri)
{
	if (!uri)
		return;
	free(uri->text);
	free(uri->path);
	free(uri->name);
	free(uri->protocol);
	mg_transport_free_params_(uri->params, uri->nparams);
	free(uri);
}

const char *mg_transport_uri_get(const mg_transport_uri *uri, const char *key)
{
	if (!uri || !key)
		return NULL;
	for (size_t i = 0; i < uri->nparams; i++)
		if (!strcmp(uri->params[i].key, key))
			return uri->params[i].value;
	return NULL;
}

const char *mg_transport_uri_take(mg_transport_uri *uri, const char *key)
{
	if (!uri || !key)
		return NULL;
	for (size_t i = 0; i < uri->nparams; i++)
		if (!strcmp(uri->params[i].key, key)) {
			uri->params[i].used = 1;
			return uri->params[i].value;
		}
	return NULL;
}

/* hex digits only, 1..4 of them */
static int parse_hex16(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	if (n < 1 || n > 4)
		return MG_ERR_ARG;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (!isxdigit(c))
			return MG_ERR_ARG;
		v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*out = (uint16_t)v;
	return MG_OK;
}

static int parse_dec(const char *s, size_t n, unsigned max, unsigned *out)
{
	char tmp[8];
	unsigned long v;
	if (n < 1 || n > 3)
		return MG_ERR_ARG;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (mg_transport_parse_uint_(tmp, max, &v) != MG_OK)
		return MG_ERR_ARG;
	*out = (unsigned)v;
	return MG_OK;
}

/* Reject every parameter not in `allowed` (NULL-terminated). */
static int only_params(const mg_transport_uri *u, const char *scheme, const char *const *allowed)
{
	for (size_t i = 0; i < u->nparams; i++) {
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, u->params[i].key))
				ok = 1;
		if (!ok) {
			char list[128] = "";
			for (const char *const *a = allowed; *a; a++) {
				strncat(list, *a, sizeof(list) - strlen(list) - 1);
				if (a[1])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			return mg_fail(MG_ERR_ARG, DOM, "unknown parameter '%s' for %s (allowed: %s)",
			               u->params[i].key, scheme, *list ? list : "none");
		}
	}
	return MG_OK;
}

static int parse_usb(mg_transport_uri *u, const char *body, size_t blen)
{
	const char *colon = memchr(body, ':', blen);
	const char *dot = memchr(body, '.', blen);
	if (colon && !dot) {
		size_t n1 = (size_t)(colon - body), n2 = blen - n1 - 1;
		if (parse_hex16(body, n1, &u->vid) || parse_hex16(colon + 1, n2, &u->pid))
			return mg_fail(MG_ERR_ARG, DOM,
			               "bad USB id '%.*s' in '%s' (expected usb:VID:PID, 1-4 hex digits each, "
			               "e.g. usb:10c4:842a)",
			               (int)blen, body, u->text);
		static const char *const allowed[] = {"serial", NULL};
		int rc = only_params(u, "usb:VID:PID", allowed);
		if (rc)
			return rc;
		u->serial = mg_transport_uri_get(u, "serial");
		u->usb_by_address = 0;
		return MG_OK;
	}
	if (dot && !colon) {
		unsigned bus, addr;
		size_t n1 = (size_t)(dot - body), n2 = blen - n1 - 1;
		if (parse_dec(body, n1, 255, &bus) || parse_dec(dot + 1, n2, 127, &addr) || bus < 1 ||
		    addr < 1)
			return mg_fail(MG_ERR_ARG, DOM,
			               "bad USB address '%.*s' in '%s' (expected usb:BUS.ADDR, bus 1-255 and "
			               "address 1-127 in decimal, e.g. usb:1.2 or usb:001.002)",
			               (int)blen, body, u->text);
		static const char *const allowed[] = {NULL};
		int rc = only_params(u, "usb:BUS.ADDR", allowed);
		if (rc)
			return rc;
		u->bus = (uint8_t)bus;
		u->address = (uint8_t)addr;
		u->usb_by_address = 1;
		return MG_OK;
	}
	return mg_fail(MG_ERR_ARG, DOM,
	               "bad USB device '%.*s' in '%s' (expected usb:VID:PID like usb:10c4:842a or "
	               "usb:BUS.ADDR like usb:1.2)",
	               (int)blen, body, u->text);
}

static int parse_serial(mg_transport_uri *u, const char *body, size_t blen)
{
	if (blen == 0)
		return mg_fail(MG_ERR_ARG, DOM, "no device path in '%s' (expected serial:/dev/ttyUSB0)",
		               u->text);
	if (body[0] != '/')
		return mg_fail(MG_ERR_ARG, DOM,
		               "serial device path '%.*s' in '%s' is not absolute (expected serial:/dev/...)",
		               (int)blen, body, u->text);
	static const char *const allowed[] = {"baud", NULL};
	int rc = only_params(u, "serial:", allowed);
	if (rc)
		return rc;
	u->path = dupn(body, blen);
	if (!u->path)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	u->baud = DEFAULT_BAUD;
	const char *b = mg_transport_uri_get(u, "baud");
	if (b) {
		unsigned long v;
		if (mg_transport_parse_uint_(b, 4000000, &v) || v < 50)
			return mg_fail(MG_ERR_ARG, DOM,
			               "bad baud rate '%s' in '%s' (a decimal number from 50 to 4000000)", b,
			               u->text);
		u->baud = (unsigned)v;
	}
	return MG_OK;
}

static int parse_sim(mg_transport_uri *u, const char *body, size_t blen)
{
	if (blen == 0)
		return mg_fail(MG_ERR_ARG, DOM, "no simulator name in '%s' (expected sim:NAME, e.g. sim:dp5)",
		               u->text);
	for (size_t i = 0; i < blen; i++) {
		unsigned char c = (unsigned char)body[i];
		if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
			return mg_fail(MG_ERR_ARG, DOM,
			               "bad simulator name '%.*s' in '%s' (letters, digits, '_', '-', '.')",
			               (int)blen, body, u->text);
	}
	u->name = dupn(body, blen);
	if (!u->name)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	return MG_OK;
}

int mg_transport_uri_parse(const char *text, mg_transport_uri **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_uri_parse: out is NULL");
	*out = NULL;
	if (!text || !*text)
		return mg_fail(MG_ERR_ARG, DOM, "empty transport URI (expected usb:, serial: or sim:)");
	mg_transport_uri *u = calloc(1, sizeof(*u));
	if (!u || !(u->text = strdup(text))) {
		free(u);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	int rc;
	const char *colon = strchr(text, ':');
	if (!colon || colon == text) {
		rc = mg_fail(MG_ERR_ARG, DOM,
		             "'%s' is not a transport URI: no scheme (expected usb:, serial: or sim:)", text);
		goto fail;
	}
	size_t slen = (size_t)(colon - text);
	const char *body = colon + 1;
	const char *q = strchr(body, '?');
	size_t blen = q ? (size_t)(q - body) : strlen(body);
	static const struct {
		const char *name;
		mg_transport_scheme scheme;
		const char *protocol;
	} schemes[] = {{"usb", MG_SCHEME_USB, NULL},         {"serial", MG_SCHEME_SERIAL, NULL},
	               {"sim", MG_SCHEME_SIM, NULL},         {"usbtmc", MG_SCHEME_USBTMC, NULL},
	               {"scpi+serial", MG_SCHEME_SERIAL, "scpi"}};
	u->scheme = 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(schemes); i++)
		if (strlen(schemes[i].name) == slen && !memcmp(schemes[i].name, text, slen)) {
			u->scheme = schemes[i].scheme;
			if (schemes[i].protocol && !(u->protocol = strdup(schemes[i].protocol))) {
				rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
				goto fail;
			}
		}
	if (!u->scheme) {
		rc = mg_fail(MG_ERR_ARG, DOM,
		             "unknown scheme '%.*s' in '%s' (expected usb:, usbtmc:, serial:, scpi+serial: or sim:)",
		             (int)slen, text, text);
		goto fail;
	}
	if (q) {
		char what[64];
		snprintf(what, sizeof(what), "%.*s: URI", (int)slen, text);
		rc = mg_transport_parse_params_(q + 1, what, &u->params, &u->nparams);
		if (rc)
			goto fail;
	}
	switch (u->scheme) {
	case MG_SCHEME_USB:
	case MG_SCHEME_USBTMC:
		rc = parse_usb(u, body, blen);
		break;
	case MG_SCHEME_SERIAL:
		rc = parse_serial(u, body, blen);
		break;
	default:
		rc = parse_sim(u, body, blen);
		break;
	}
	if (rc)
		goto fail;
	*out = u;
	return MG_OK;
fail:
	mg_transport_uri_free(u);
	return rc;
}

/* ------------------------------------------------------------ handles */

mg_transport *mg_transport_alloc_(mg_transport_kind kind, const struct mg_transport_ops *ops,
                                  const char *domain, void *priv, const char *fmt, ...)
{
	mg_transport *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	t->desc = malloc((size_t)(n < 0 ? 0 : n) + 1);
	if (!t->desc) {
		free(t);
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(t->desc, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->kind = kind;
	t->ops = ops;
	t->domain = domain;
	t->priv = priv;
	return t;
}

void mg_transport_free_(mg_transport *t)
{
	if (!t)
		return;
	free(t->desc);
	free(t);
}

int mg_transport_open_uri(mg_transport_uri *uri, mg_transport **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_open: out is NULL");
	*out = NULL;
	if (!uri)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_open: uri is NULL");
	int rc;
	switch (uri->scheme) {
	case MG_SCHEME_USB:
		rc = mg_transport_usb_open_uri_(uri, out);
		break;
	case MG_SCHEME_USBTMC:
		rc = mg_transport_usbtmc_open_uri_(uri, out);
		break;
	case MG_SCHEME_SERIAL:
		if (mg_transport_path_is_pty_(uri->path))
			rc = mg_transport_pty_open_(uri->path, uri->baud, out);
		else
			rc = mg_transport_serial_open_(uri->path, uri->baud, out);
		break;
	case MG_SCHEME_SIM:
		rc = mg_transport_sim_open_(uri, out);
		break;
	default:
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_open: bad scheme %d", (int)uri->scheme);
	}
	if (rc == MG_OK)
		mg_dbg((*out)->domain, "opened %s", (*out)->desc);
	return rc;
}

int mg_transport_open(const char *text, mg_transport **out)
{
	mg_transport_uri *uri;
	if (out)
		*out = NULL;
	int rc = mg_transport_uri_parse(text, &uri);
	if (rc)
		return rc;
	rc = mg_transport_open_uri(uri, out);
	mg_transport_uri_free(uri);
	return rc;
}

void mg_transport_close(mg_transport *t)
{
	if (!t)
		return;
	mg_dbg(t->domain, "closing %s", t->desc);
	if (t->ops && t->ops->close)
		t->ops->close(t);
	mg_transport_free_(t);
}

/* One SPEW line per 32 bytes: "usb 001.002 > 8 bytes: f5 fa 01 01 00 00 fe 0f". */
static void spew_hex(const mg_transport *t, const char *dir, const uint8_t *p, size_t n)
{
	if (mg_log_get_level() < MG_LOG_SPEW)
		return;
	for (size_t off = 0; off < n || off == 0; off += 32) {
		char hex[32 * 3 + 1];
		size_t k = n - off < 32 ? n - off : 32;
		for (size_t i = 0; i < k; i++)
			snprintf(hex + 3 * i, 4, "%02x ", p[off + i]);
		hex[k ? 3 * k - 1 : 0] = '\0';
		if (off == 0)
			mg_log(MG_LOG_SPEW, t->domain, "%s %s %zu bytes: %s", t->desc, dir, n, hex);
		else
			mg_log(MG_LOG_SPEW, t->domain, "%s %s   +%zu: %s", t->desc, dir, off, hex);
		if (n == 0)
			break;
	}
}

static int check_gone(mg_transport *t)
{
	if (t->gone)
		return mg_fail(MG_ERR_DISCONNECTED, t->domain, "%s: the device is gone", t->desc);
	return MG_OK;
}

static int note(mg_transport *t, int rc)
{
	if (rc == MG_ERR_DISCONNECTED && !t->gone) {
		t->gone = 1;
		mg_warn(t->domain, "%s: disconnected", t->desc);
	}
	return rc;
}

int mg_transport_write(mg_transport *t, const void *data, size_t n, unsigned timeout_ms)
{
	if (!t || (!data && n))
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_write: NULL argument");
	int rc = check_gone(t);
	if (rc)
		return rc;
	if (n == 0)
		return MG_OK;
	spew_hex(t, ">", data, n);
	return note(t, t->ops->write(t, data, n, timeout_ms));
}

int mg_transport_read(mg_transport *t, void *data, size_t n, unsigned timeout_ms)
{
	if (!t || !data || n == 0)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_read: NULL buffer or zero length");
	int rc = check_gone(t);
	if (rc)
		return rc;
	if (n > INT_MAX)
		n = INT_MAX;
	rc = t->ops->read(t, data, n, timeout_ms);
	if (rc > 0)
		spew_hex(t, "<", data, (size_t)rc);
	else if (rc == 0) /* a backend bug; never hand 0 to a caller expecting count-or-error */
		rc = mg_fail(MG_ERR_INTERNAL, t->domain, "%s: backend read returned 0 bytes", t->desc);
	return note(t, rc);
}

int mg_transport_read_exact(mg_transport *t, void *data, size_t n, unsigned timeout_ms, size_t *got)
{
	size_t have = 0;
	int rc = MG_OK;
	if (got)
		*got = 0;
	if (!t || (!data && n))
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_read_exact: NULL argument");
	if (n > INT_MAX)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_read_exact: %zu bytes is too many", n);
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	unsigned left = timeout_ms;
	while (have < n) {
		rc = mg_transport_read(t, (uint8_t *)data + have, n - have, left);
		if (rc < 0)
			break;
		have += (size_t)rc;
		left = mg_transport_left_ms_(deadline);
		rc = MG_OK;
	}
	if (got)
		*got = have;
	if (rc == MG_ERR_TIMEOUT)
		return mg_fail(MG_ERR_TIMEOUT, t->domain, "%s: %zu of %zu bytes within %u ms", t->desc, have,
		               n, timeout_ms);
	return rc < 0 ? rc : (int)n;
}

int mg_transport_flush_input(mg_transport *t)
{
	if (!t)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_flush_input: NULL handle");
	int rc = check_gone(t);
	if (rc)
		return rc;
	return note(t, t->ops->flush_input(t));
}

mg_transport_kind mg_transport_get_kind(const mg_transport *t)
{
	return t ? t->kind : 0;
}

const char *mg_transport_kind_name(mg_transport_kind kind)
{
	switch (kind) {
	case MG_TRANSPORT_USB:
		return "usb";
	case MG_TRANSPORT_SERIAL:
		return "serial";
	case MG_TRANSPORT_PTY:
		return "pty";
	case MG_TRANSPORT_LOOPBACK:
		return "loopback";
	case MG_TRANSPORT_USBTMC:
		return "usbtmc";
	}
	return "unknown";
}

const char *mg_transport_description(const mg_transport *t)
{
	return t ? t->desc : "(no transport)";
}

double mg_transport_byte_time_us(const mg_transport *t)
{
	return t ? t->byte_time_us : 0.0;
}

unsigned mg_transport_timeout_for(const mg_transport *t, size_t nbytes, unsigned base_ms)
{
	double wire_ms = (double)nbytes * mg_transport_byte_time_us(t) / 1000.0;
	double total = (double)base_ms + wire_ms;
	if (total >= (double)UINT_MAX)
		return UINT_MAX;
	unsigned r = (unsigned)total;
	return (double)r < total ? r + 1 : r;
}
