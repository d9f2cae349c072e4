/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A SCPI session over any mg_transport (see scpi.h).
 *
 * Response messages: over USBTMC a message ends with the transfer that
 * carries EOM (the transport says so); over byte streams (serial, pty,
 * loopback) with the LF found by mg_scpi_frame(), which skips definite-length
 * blocks by their length, so binary data may hold any byte. Every wait is
 * bounded by the session's timeout (or the caller's). After a timeout or a
 * malformed answer the session is "dirty": the next program message first
 * discards whatever input is pending, so a late answer is never taken for
 * the answer to a later query. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/scpi/scpi.h"
#include "drivers/transport/usbtmc.h"
#include "internal.h"

#define DOM "scpi"
#define DEFAULT_TIMEOUT_MS 2000u
#define DEFAULT_MAX_ERRORS 32u
#define CHUNK 4096

struct mg_scpi {
	mg_transport *t;
	int usbtmc;
	char term[4];
	char error_query[64];
	unsigned timeout_ms;
	unsigned max_errors;
	mg_buf rx;          /* received, not yet consumed (streams) */
	size_t rx_pos;
	mg_buf tx;
	int dirty;
	char last[96];      /* the last program message, for details */
	mg_scpi_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned left_ms(uint64_t deadline)
{
	uint64_t t = now_ms();
	return t >= deadline ? 0 : (unsigned)(deadline - t > 0x7fffffff ? 0x7fffffff : deadline - t);
}

int mg_scpi_configure(mg_scpi *s, const mg_scpi_config *cfg)
{
	if (!s)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_configure: NULL session");
	const char *term = cfg && cfg->terminator ? cfg->terminator : "\n";
	if (strcmp(term, "\n") && strcmp(term, "\r\n"))
		return mg_fail(MG_ERR_ARG, DOM, "terminator must be LF or CR LF");
	snprintf(s->term, sizeof(s->term), "%s", term);
	snprintf(s->error_query, sizeof(s->error_query), "%s",
	         cfg && cfg->error_query && *cfg->error_query ? cfg->error_query : "SYSTem:ERRor?");
	s->timeout_ms = cfg && cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	s->max_errors = cfg && cfg->max_errors ? cfg->max_errors : DEFAULT_MAX_ERRORS;
	return MG_OK;
}

int mg_scpi_new(mg_transport *t, const mg_scpi_config *cfg, mg_scpi **out)
{
	if (!t || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_new: NULL argument");
	*out = NULL;
	mg_scpi *s = calloc(1, sizeof(*s));
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	s->t = t;
	s->usbtmc = mg_usbtmc_transport_is(t);
	int rc = mg_scpi_configure(s, cfg);
	if (rc) {
		free(s);
		return rc;
	}
	mg_buf_init(&s->rx);
	mg_buf_init(&s->tx);
	*out = s;
	return MG_OK;
}

void mg_scpi_free(mg_scpi *s)
{
	if (!s)
		return;
	mg_buf_free(&s->rx);
	mg_buf_free(&s->tx);
	free(s);
}

mg_transport *mg_scpi_get_transport(mg_scpi *s)
{
	return s ? s->t : NULL;
}

void mg_scpi_set_timeout(mg_scpi *s, unsigned timeout_ms)
{
	if (s)
		s->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
}

unsigned mg_scpi_get_timeout(const mg_scpi *s)
{
	return s ? s->timeout_ms : 0;
}

mg_scpi_stats mg_scpi_get_stats(const mg_scpi *s)
{
	mg_scpi_stats z = {0};
	return s ? s->st : z;
}

static const char *desc(const mg_scpi *s)
{
	return mg_transport_description(s->t);
}

/* Drop what is left of earlier answers. */
static int discard_stale(mg_scpi *s)
{
	size_t left = s->rx.len - s->rx_pos;
	if (left) {
		mg_dbg(DOM, "%s: %zu stale byte(s) dropped before '%s'", desc(s), left, s->last);
		s->st.stale += (unsigned)left;
	}
	mg_buf_reset(&s->rx);
	s->rx_pos = 0;
	if (s->dirty) {
		s->dirty = 0;
		int rc = mg_transport_flush_input(s->t);
		if (rc)
			return rc;
	}
	return MG_OK;
}

int mg_scpi_send(mg_scpi *s, const char *program)
{
	if (!s || !program)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_send: NULL argument");
	size_t n = strlen(program);
	if (memchr(program, '\n', n))
		return mg_fail(MG_ERR_ARG, DOM, "a program message may not hold a LF: '%.60s'", program);
	int rc = discard_stale(s);
	if (rc)
		return rc;
	snprintf(s->last, sizeof(s->last), "%s", program);
	mg_buf_reset(&s->tx);
	mg_buf_append(&s->tx, program, n);
	mg_buf_puts(&s->tx, s->term);
	if (mg_buf_status(&s->tx))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_dbg(DOM, "%s > %s", desc(s), program);
	unsigned budget = mg_transport_timeout_for(s->t, 2 * s->tx.len, s->timeout_ms);
	rc = mg_transport_write(s->t, s->tx.data, s->tx.len, budget);
	if (rc) {
		s->dirty = 1;
		char saved[512];
		snprintf(saved, sizeof(saved), "%s", mg_error_detail());
		return mg_fail(rc, DOM, "sending '%s': %s", s->last, saved);
	}
	s->st.messages++;
	s->st.bytes_out += s->tx.len;
	return MG_OK;
}

static void printable(char *dst, size_t cap, const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 32 && c < 127)
			dst[k++] = (char)c;
		else
			k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
	}
	if (n && k + 5 >= cap && k + 4 < cap) {
		memcpy(dst + k, "...", 3);
		k += 3;
	}
	dst[k] = '\0';
}

static int read_failed(mg_scpi *s, int rc, unsigned timeout_ms, size_t got)
{
	char saved[512], peek[80];
	snprintf(saved, sizeof(saved), "%s", mg_error_detail());
	s->dirty = 1;
	if (rc == MG_ERR_TIMEOUT) {
		s->st.timeouts++;
		printable(peek, sizeof(peek), s->rx.data ? s->rx.data + s->rx_pos : "", got);
		if (got)
			return mg_fail(rc, DOM, "no complete answer to '%s' within %u ms (%zu bytes: '%s'; %s)", s->last,
			               timeout_ms, got, peek, saved);
		return mg_fail(rc, DOM, "no answer to '%s' within %u ms (%s)", s->last, timeout_ms, saved);
	}
	return mg_fail(rc, DOM, "reading the answer to '%s': %s", s->last, saved);
}

int mg_scpi_read(mg_scpi *s, mg_buf *resp, unsigned timeout_ms)
{
	if (!s || !resp)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_read: NULL argument");
	mg_buf_reset(resp);
	if (!timeout_ms)
		timeout_ms = s->timeout_ms;
	uint64_t deadline = now_ms() + timeout_ms;
	uint8_t chunk[CHUNK];
	for (;;) {
		size_t have = s->rx.len - s->rx_pos;
		const uint8_t *p = (const uint8_t *)(s->rx.data ? s->rx.data + s->rx_pos : "");
		if (s->usbtmc) {
			if (have && mg_usbtmc_transport_message_end(s->t) == 1) {
				size_t m = have;
				if (m && p[m - 1] == '\n') {
					m--;
					if (m && p[m - 1] == '\r')
						m--;
				}
				mg_buf_append(resp, p, m);
				mg_buf_reset(&s->rx);
				s->rx_pos = 0;
				break;
			}
		} else if (have) {
			size_t mlen, used;
			int rc = mg_scpi_frame(p, have, &mlen, &used);
			if (rc == MG_OK) {
				mg_buf_append(resp, p, mlen);
				s->rx_pos += used;
				if (s->rx_pos == s->rx.len) {
					mg_buf_reset(&s->rx);
					s->rx_pos = 0;
				}
				break;
			}
			if (rc != MG_ERR_NEED_MORE) {
				s->dirty = 1;
				return mg_fail(MG_ERR_PROTOCOL, DOM, "answer to '%s': %s", s->last, mg_error_detail());
			}
		}
		if (have > MG_SCPI_MAX_RESPONSE) {
			s->dirty = 1;
			return mg_fail(MG_ERR_PROTOCOL, DOM, "answer to '%s': more than %u bytes without an end", s->last,
			               MG_SCPI_MAX_RESPONSE);
		}
		unsigned left = left_ms(deadline);
		int r = mg_transport_read(s->t, chunk, sizeof(chunk), left);
		if (r < 0)
			return read_failed(s, r, timeout_ms, have);
		s->st.bytes_in += (size_t)r;
		if (s->rx_pos > 0 && s->rx_pos == s->rx.len) {
			mg_buf_reset(&s->rx);
			s->rx_pos = 0;
		}
		if (mg_buf_append(&s->rx, chunk, (size_t)r))
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	if (mg_buf_status(resp))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	if (!resp->data)
		mg_buf_append(resp, "", 0);
	s->st.responses++;
	if (mg_log_get_level() >= MG_LOG_DBG) {
		char peek[120];
		printable(peek, sizeof(peek), resp->data, resp->len);
		mg_dbg(DOM, "%s < %s", desc(s), peek);
	}
	return MG_OK;
}

int mg_scpi_query(mg_scpi *s, const char *program, mg_buf *resp, unsigned timeout_ms)
{
	int rc = mg_scpi_send(s, program);
	if (rc)
		return rc;
	return mg_scpi_read(s, resp, timeout_ms);
}

int mg_scpi_query_number(mg_scpi *s, const char *program, double *out)
{
	mg_buf r;
	mg_buf_init(&r);
	int rc = mg_scpi_query(s, program, &r, 0);
	if (rc == MG_OK && mg_scpi_parse_number(r.data, r.len, out))
		rc = mg_fail(MG_ERR_PROTOCOL, DOM, "answer to '%s': %s", program, mg_error_detail());
	mg_buf_free(&r);
	return rc;
}

int mg_scpi_query_long(mg_scpi *s, const char *program, long *out)
{
	mg_buf r;
	mg_buf_init(&r);
	int rc = mg_scpi_query(s, program, &r, 0);
	if (rc == MG_OK && mg_scpi_parse_long(r.data, r.len, out))
		rc = mg_fail(MG_ERR_PROTOCOL, DOM, "answer to '%s': %s", program, mg_error_detail());
	mg_buf_free(&r);
	return rc;
}

int mg_scpi_opc(mg_scpi *s, unsigned timeout_ms)
{
	long v = 0;
	mg_buf r;
	mg_buf_init(&r);
	int rc = mg_scpi_query(s, "*OPC?", &r, timeout_ms);
	if (rc == MG_OK && (mg_scpi_parse_long(r.data, r.len, &v) || v != 1))
		rc = mg_fail(MG_ERR_PROTOCOL, DOM, "*OPC? answered '%.40s', not 1", r.data);
	mg_buf_free(&r);
	return rc;
}

int mg_scpi_query_idn(mg_scpi *s, const char *program, mg_scpi_idn *idn)
{
	mg_buf r;
	mg_buf_init(&r);
	int rc = mg_scpi_query(s, program ? program : "*IDN?", &r, 0);
	if (rc == MG_OK && mg_scpi_parse_idn(r.data, r.len, idn))
		rc = mg_fail(MG_ERR_PROTOCOL, DOM, "%s", mg_error_detail());
	mg_buf_free(&r);
	return rc;
}

int mg_scpi_drain_errors(mg_scpi *s, mg_scpi_error *errs, size_t cap, size_t *count)
{
	size_t k = 0;
	mg_buf r;
	mg_buf_init(&r);
	int rc = MG_OK;
	if (count)
		*count = 0;
	if (!s)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_drain_errors: NULL session");
	unsigned i;
	for (i = 0; i < s->max_errors; i++) {
		mg_scpi_error e;
		rc = mg_scpi_query(s, s->error_query, &r, 0);
		if (rc)
			break;
		if (mg_scpi_parse_error(r.data, r.len, &e)) {
			s->dirty = 1;
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "answer to '%s': %s", s->error_query, mg_error_detail());
			break;
		}
		if (e.code == 0)
			break;
		s->st.errors_drained++;
		if (k < cap && errs)
			errs[k] = e;
		k++;
	}
	if (rc == MG_OK && i == s->max_errors)
		mg_warn(DOM, "%s: the error queue still reports errors after %u reads", desc(s), s->max_errors);
	mg_buf_free(&r);
	if (count)
		*count = k;
	return rc;
}

int mg_scpi_check_errors(mg_scpi *s, const char *context)
{
	mg_scpi_error errs[8];
	size_t n = 0;
	int rc = mg_scpi_drain_errors(s, errs, MG_ARRAY_SIZE(errs), &n);
	if (rc)
		return rc;
	if (n == 0)
		return MG_OK;
	mg_buf b;
	mg_buf_init(&b);
	mg_buf_printf(&b, "%s: the instrument reported ", context ? context : s->last);
	for (size_t i = 0; i < n && i < MG_ARRAY_SIZE(errs); i++)
		mg_buf_printf(&b, "%s%d,\"%s\" (%s)", i ? "; " : "", errs[i].code, errs[i].text,
		              mg_scpi_error_class(errs[i].code));
	if (n > MG_ARRAY_SIZE(errs))
		mg_buf_printf(&b, "; and %zu more", n - MG_ARRAY_SIZE(errs));
	rc = mg_fail(MG_ERR_DEVICE, DOM, "%s", b.data ? b.data : "instrument error");
	mg_buf_free(&b);
	return rc;
}

int mg_scpi_clear(mg_scpi *s)
{
	if (!s)
		return mg_fail(MG_ERR_ARG, DOM, "mg_scpi_clear: NULL session");
	s->st.clears++;
	mg_buf_reset(&s->rx);
	s->rx_pos = 0;
	s->dirty = 0;
	if (s->usbtmc)
		return mg_usbtmc_transport_clear(s->t);
	return mg_transport_flush_input(s->t);
}
