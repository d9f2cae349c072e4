/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 driver's request/answer exchange (exchange.h).
 *
 * Every exchange: write the request, then read one packet with the codec's
 * stream parser (hunting for F5 FA, skipping what is not a packet), validate
 * it (checksum, length for its type), and check it answers the request; a
 * well-formed packet that does not (a late answer to an earlier request) is
 * dropped and reading goes on. A checksum error, a wrong length, a timeout,
 * or the device's ACK 01/04 (it got our request garbled) retries the request
 * after discarding pending input, up to dev->retries times, each logged.
 * Requests that change state irreversibly when executed (spectrum + clear)
 * are not retried once written, unless the device said it did not understand
 * them. Disconnection ends everything at once (MG_ERR_DISCONNECTED).
 *
 * Timeouts (per exchange): base + 2 × wire time of the request and the answer,
 * the answer's size known from its header as soon as it arrives (serial:
 * 86.8 µs per byte at 115200 baud, so an 8192-channel spectrum + status gets
 * base + 4.3 s); USB and loopback have no wire time: base only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/dp5/exchange.h"

#define DOM "dp5"

/* mg_fail() with the current detail after the message. The detail is copied
 * first: mg_fail() formats into the buffer mg_error_detail() returns. */
int dp5_fail_wrap(int code, const char *fmt, ...)
{
	char saved[768], head[256];
	snprintf(saved, sizeof(saved), "%s", mg_error_detail());
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	return mg_fail(code, DOM, "%s: %s", head, saved);
}

static const char *expect_name(enum dp5_expect e)
{
	switch (e) {
	case EXP_ACK:
		return "an ACK";
	case EXP_STATUS:
		return "a status";
	case EXP_SPECTRUM:
		return "a spectrum";
	case EXP_SPECTRUM_STATUS:
		return "a spectrum + status";
	case EXP_CONFIG:
		return "a configuration readback";
	case EXP_ECHO:
		return "an echo";
	}
	return "?";
}

/* ------------------------------------------------------------ rx buffer */

static void rx_drop(struct mg_dp5_dev *p, size_t n)
{
	if (n >= p->rx_len) {
		p->rx_len = 0;
		return;
	}
	memmove(p->rx, p->rx + n, p->rx_len - n);
	p->rx_len -= n;
}

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

/* base + 2 × wire time of n bytes */
static unsigned budget(mg_device *dev, size_t n)
{
	return mg_transport_timeout_for(dev->transport, 2 * n, dev->timeout_ms);
}

/* Read until one valid packet starts at rx[0]. */
static int read_packet(mg_device *dev, uint64_t *deadline, mg_dp5_packet *pkt, const char *what)
{
	struct mg_dp5_dev *p = dev->dp5;
	int extended = 0;
	for (;;) {
		size_t consumed = 0;
		int rc = mg_dp5_parse(p->rx, p->rx_len, pkt, &consumed);
		if (rc == MG_OK)
			return MG_OK;
		if (rc == MG_ERR_FORMAT) {
			dev->stats.resyncs++;
			mg_dbg(DOM, "%s: skipped %zu byte(s) that do not start a packet (resync)",
			       mg_transport_description(dev->transport), consumed);
			rx_drop(p, consumed);
			continue;
		}
		if (rc == MG_ERR_CHECKSUM) {
			dev->stats.checksum_errors++;
			rx_drop(p, consumed);
			return mg_fail(MG_ERR_CHECKSUM, DOM, "checksum error in the answer to %s (%s, %zu data bytes)",
			               what, mg_dp5_packet_name(pkt->pid1, pkt->pid2), pkt->len);
		}
		if (rc != MG_ERR_NEED_MORE)
			return rc;
		if (!extended && p->rx_len >= MG_DP5_HEADER_LEN) {
			/* the header is in: we know how long the answer is */
			uint64_t d = now_ms() + budget(dev, pkt->size);
			if (d > *deadline)
				*deadline = d;
			extended = 1;
		}
		size_t need = pkt->size > p->rx_len ? pkt->size - p->rx_len : 1;
		if (need > DP5_RX_CAP - p->rx_len)
			need = DP5_RX_CAP - p->rx_len;
		unsigned left = left_ms(*deadline);
		int n = left ? mg_transport_read(dev->transport, p->rx + p->rx_len, need, left) : MG_ERR_TIMEOUT;
		if (n == MG_ERR_TIMEOUT) {
			dev->stats.timeouts++;
			if (p->rx_len)
				return mg_fail(MG_ERR_TIMEOUT, DOM,
				               "no complete answer to %s in time (%zu of %zu bytes of %s arrived)", what,
				               p->rx_len, pkt->size,
				               p->rx_len >= 4 ? mg_dp5_packet_name(p->rx[2], p->rx[3]) : "a packet");
			return mg_fail(MG_ERR_TIMEOUT, DOM, "no answer to %s in time", what);
		}
		if (n < 0)
			return n;
		p->rx_len += (size_t)n;
		dev->stats.bytes_in += (size_t)n;
	}
}

/* Is this classified packet the answer to a request expecting `e`? */
static int answers(enum dp5_expect e, const mg_dp5_response *r, int classify_rc, const uint8_t *req, size_t reqlen)
{
	if (r->kind == MG_DP5_RSP_ACK)
		return classify_rc == MG_ERR_DEVICE || e == EXP_ACK; /* an error ACK answers anything */
	switch (e) {
	case EXP_STATUS:
		return r->kind == MG_DP5_RSP_STATUS;
	case EXP_SPECTRUM:
		return r->kind == MG_DP5_RSP_SPECTRUM && !r->status;
	case EXP_SPECTRUM_STATUS:
		return r->kind == MG_DP5_RSP_SPECTRUM && r->status;
	case EXP_CONFIG:
		return r->kind == MG_DP5_RSP_CONFIG_READBACK;
	case EXP_ECHO:
		return r->kind == MG_DP5_RSP_ECHO && r->len == reqlen - MG_DP5_OVERHEAD &&
		       (!r->len || !memcmp(r->data, req + MG_DP5_HEADER_LEN, r->len));
	case EXP_ACK:
		return 0;
	}
	return 0;
}

/* The offending command an error ACK carries, printable, into dst. */
void dp5_ack_text(const mg_dp5_response *r, char *dst, size_t cap)
{
	size_t k = 0;
	dst[0] = '\0';
	for (size_t i = 0; i < r->len && k + 5 < cap; i++) {
		uint8_t c = r->data[i];
		if (c == 0)
			break;
		if (c >= 0x20 && c < 0x7f)
			dst[k++] = (char)c;
		else
			k += (size_t)snprintf(dst + k, cap - k, "\\x%02X", c);
	}
	dst[k] = '\0';
}

static int retryable_ack(int code)
{
	return code == MG_DP5_ACK_SYNC_ERROR || code == MG_DP5_ACK_CHECKSUM_ERROR ||
	       code == MG_DP5_ACK_LEN_ERROR || code == MG_DP5_ACK_BUSY;
}

/* One request, one validated answer (in dev->dp5->rx until the next exchange;
 * also an error ACK, returned as MG_ERR_DEVICE with *rsp filled).
 * idempotent: may be sent again after a failure of its answer. */
int dp5_exchange(mg_device *dev, const uint8_t *req, size_t reqlen, enum dp5_expect e, int idempotent,
                 mg_dp5_response *rsp, const char *what)
{
	struct mg_dp5_dev *p = dev->dp5;
	char last[512] = "";
	int rc = MG_OK;
	rx_drop(p, p->rx_hold);
	p->rx_hold = 0;
	for (unsigned attempt = 0;; attempt++) {
		if (attempt > 0) {
			dev->stats.retries++;
			int named = strstr(last, what) != NULL;
			mg_log(dev->quiet ? MG_LOG_DBG : MG_LOG_WARN, DOM, "%s: %s%s%s; sending it again (%u of %u retries)",
			       mg_transport_description(dev->transport), named ? "" : what, named ? "" : ": ", last, attempt,
			       dev->retries);
			p->rx_len = 0;
			p->rx_hold = 0;
			rc = mg_transport_flush_input(dev->transport);
			if (rc < 0)
				return rc;
		}
		dev->stats.requests++;
		rc = mg_transport_write(dev->transport, req, reqlen, budget(dev, reqlen));
		if (rc == MG_OK)
			dev->stats.bytes_out += reqlen;
		int written = rc == MG_OK;
		uint64_t deadline = now_ms() + budget(dev, reqlen + MG_DP5_OVERHEAD);
		int ack_code = -1;
		while (rc == MG_OK) {
			mg_dp5_packet pkt;
			rc = read_packet(dev, &deadline, &pkt, what);
			if (rc < 0)
				break;
			int crc = mg_dp5_classify(&pkt, rsp);
			if (crc == MG_OK || crc == MG_ERR_DEVICE) {
				if (!answers(e, rsp, crc, req, reqlen)) {
					dev->stats.stale++;
					mg_dbg(DOM, "%s: dropped %s while waiting for %s",
					       mg_transport_description(dev->transport), mg_dp5_packet_name(pkt.pid1, pkt.pid2),
					       expect_name(e));
					rx_drop(p, pkt.size);
					continue;
				}
				if (crc == MG_OK) {
					p->rx_hold = pkt.size;
					return MG_OK;
				}
				char text[160];
				dp5_ack_text(rsp, text, sizeof(text));
				ack_code = rsp->ack;
				p->rx_hold = pkt.size; /* *rsp stays valid for the caller (the offending command) */
				rc = mg_fail(MG_ERR_DEVICE, DOM, "%s: the device answered ACK %02X (%s)%s%s%s", what, rsp->ack,
				             mg_dp5_ack_message(rsp->ack), *text ? " for '" : "", text, *text ? "'" : "");
				break;
			}
			/* a valid packet of the wrong length for its type, or unknown */
			rx_drop(p, pkt.size);
			rc = dp5_fail_wrap(crc, "%s: malformed answer", what);
		}
		snprintf(last, sizeof(last), "%s", mg_error_detail());
		if (rc == MG_ERR_DEVICE && !retryable_ack(ack_code))
			return rc;
		/* I/O errors are retried too: a USB stall the transport has cleared is one */
		if (rc != MG_ERR_TIMEOUT && rc != MG_ERR_CHECKSUM && rc != MG_ERR_PROTOCOL && rc != MG_ERR_DEVICE &&
		    rc != MG_ERR_IO)
			return rc; /* disconnected, no memory, a bug: no point in sending again */
		if (written && !idempotent && rc != MG_ERR_DEVICE)
			return mg_fail(rc, DOM, "%s; not sent again: the device may have executed it (e.g. cleared "
			               "the spectrum)", last);
		if (attempt >= dev->retries)
			return mg_fail(rc, DOM, "%s: failed %u time(s), giving up: %s", what, attempt + 1, last);
	}
}

int dp5_simple(mg_device *dev, enum mg_dp5_request r, const char *what)
{
	uint8_t req[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(r, req, sizeof(req));
	if (n < 0)
		return n;
	mg_dp5_response rsp;
	return dp5_exchange(dev, req, (size_t)n, EXP_ACK, 1, &rsp, what);
}
