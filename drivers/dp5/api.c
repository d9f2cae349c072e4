/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Amptek DP5-family instrument driver (DP5, X-123, PX5, DP5G, MCA8000D,
 * TB5, DP5-X) over any transport: the request/answer engine and the
 * operations of the driver table (device_internal.h).
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
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/device_internal.h"
#include "magassay/dp5.h"

#define DOM "dp5"
#define RX_CAP (MG_DP5_MAX_PACKET + 64)

struct mg_dp5_dev {
	uint8_t *rx;       /* received bytes not consumed yet */
	size_t rx_len;
	size_t rx_hold;    /* the answer last returned occupies rx[0..rx_hold) */
	mg_kvlist config;  /* the last full configuration readback */
	int config_valid;
	size_t nchan;      /* channels per MCAC, when known (0 = not known) */
	char start_time[40];
};

enum expect {
	EXP_ACK,
	EXP_STATUS,
	EXP_SPECTRUM,
	EXP_SPECTRUM_STATUS,
	EXP_CONFIG,
	EXP_ECHO,
};

/* mg_fail() with the current detail after the message. The detail is copied
 * first: mg_fail() formats into the buffer mg_error_detail() returns. */
static int fail_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_wrap(int code, const char *fmt, ...)
{
	char saved[768], head[256];
	snprintf(saved, sizeof(saved), "%s", mg_error_detail());
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	return mg_fail(code, DOM, "%s: %s", head, saved);
}

static const char *expect_name(enum expect e)
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
		if (need > RX_CAP - p->rx_len)
			need = RX_CAP - p->rx_len;
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
static int answers(enum expect e, const mg_dp5_response *r, int classify_rc, const uint8_t *req, size_t reqlen)
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
static void ack_text(const mg_dp5_response *r, char *dst, size_t cap)
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
static int exchange(mg_device *dev, const uint8_t *req, size_t reqlen, enum expect e, int idempotent,
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
				ack_text(rsp, text, sizeof(text));
				ack_code = rsp->ack;
				p->rx_hold = pkt.size; /* *rsp stays valid for the caller (the offending command) */
				rc = mg_fail(MG_ERR_DEVICE, DOM, "%s: the device answered ACK %02X (%s)%s%s%s", what, rsp->ack,
				             mg_dp5_ack_message(rsp->ack), *text ? " for '" : "", text, *text ? "'" : "");
				break;
			}
			/* a valid packet of the wrong length for its type, or unknown */
			rx_drop(p, pkt.size);
			rc = fail_wrap(crc, "%s: malformed answer", what);
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

static int simple(mg_device *dev, enum mg_dp5_request r, const char *what)
{
	uint8_t req[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(r, req, sizeof(req));
	if (n < 0)
		return n;
	mg_dp5_response rsp;
	return exchange(dev, req, (size_t)n, EXP_ACK, 1, &rsp, what);
}

/* ------------------------------------------------------------ status */

static void firmware_text(const mg_dp5_status *s, char *fw, size_t fwcap, char *fpga, size_t fpgacap)
{
	unsigned v = ((unsigned)s->fw_major << 4) | s->fw_minor;
	if (v > 0x65)
		snprintf(fw, fwcap, "%u.%02u Build %u", s->fw_major, s->fw_minor, s->fw_build);
	else
		snprintf(fw, fwcap, "%u.%02u", s->fw_major, s->fw_minor);
	snprintf(fpga, fpgacap, "%u.%02u", s->fpga_major, s->fpga_minor);
}

static void to_xrf(const mg_dp5_status *d, mg_xrf_status *x)
{
	memset(x, 0, sizeof(*x));
	x->dp5 = *d;
	x->fast_count = d->fast_count;
	x->slow_count = d->slow_count;
	x->accumulation_s = d->accumulation_s;
	x->live_s = d->effective_live_s;
	x->real_s = d->real_s;
	x->dead_time_pct = d->dead_time_pct;
	x->input_rate_cps = d->input_rate_cps;
	x->output_rate_cps = d->output_rate_cps;
	x->acquiring = d->mca_enabled;
	x->preset_time_reached =
		d->preset_real_time_done || (d->device_type == MG_DP5_DEV_MCA8000D && d->afast_locked);
	x->preset_count_reached = d->preset_count_done;
	x->preset_reached = x->preset_time_reached || x->preset_count_reached;
	x->hv_v = d->hv_v;
	x->detector_temp_k = d->det_temp_k;
	x->board_temp_c = d->board_temp_c;
	if (d->serial_valid)
		snprintf(x->serial, sizeof(x->serial), "%lu", (unsigned long)d->serial_number);
	snprintf(x->model, sizeof(x->model), "%s", mg_dp5_device_name(d->device_type));
	firmware_text(d, x->firmware, sizeof(x->firmware), x->fpga, sizeof(x->fpga));
}

static int dp5_status(mg_device *dev, mg_xrf_status *st)
{
	uint8_t req[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(MG_DP5_REQ_STATUS, req, sizeof(req));
	if (n < 0)
		return n;
	mg_dp5_response rsp;
	int rc = exchange(dev, req, (size_t)n, EXP_STATUS, 1, &rsp, "request status");
	if (rc < 0)
		return rc;
	mg_dp5_status d;
	rc = mg_dp5_status_decode(rsp.status, MG_DP5_STATUS_LEN, &d);
	if (rc < 0)
		return rc;
	if (st)
		to_xrf(&d, st);
	return MG_OK;
}

static int fill_identity(mg_device *dev, const mg_xrf_status *st)
{
	char desc[256];
	snprintf(desc, sizeof(desc), "Amptek %s (%s)", st->model, mg_transport_description(dev->transport));
	mg_transport_kind k = mg_transport_get_kind(dev->transport);
	if (mg_device_info_set_(&dev->info.driver, dev->driver->name) ||
	    mg_device_info_set_(&dev->info.transport, k == MG_TRANSPORT_LOOPBACK ? "sim" : mg_transport_kind_name(k)) ||
	    mg_device_info_set_(&dev->info.model, st->model) ||
	    mg_device_info_set_(&dev->info.serial, st->serial[0] ? st->serial : NULL) ||
	    mg_device_info_set_(&dev->info.firmware, st->firmware) ||
	    mg_device_info_set_(&dev->info.fpga, st->fpga) || mg_device_info_set_(&dev->info.description, desc))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	dev->info.status = MG_OK;
	return MG_OK;
}

/* ------------------------------------------------------------ open / close */

static int new_state(mg_device *dev)
{
	struct mg_dp5_dev *p = calloc(1, sizeof(*p));
	if (!p || !(p->rx = malloc(RX_CAP))) {
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	dev->dp5 = p;
	return MG_OK;
}

static void free_state(mg_device *dev)
{
	struct mg_dp5_dev *p = dev->dp5;
	if (!p)
		return;
	mg_kvlist_clear(&p->config);
	free(p->rx);
	free(p);
	dev->dp5 = NULL;
}

/* usb:VID:PID?serial=N: ask every unit its status serial number. */
struct serial_match {
	const mg_device *parent;
	const char *want;
	char seen[512];
	size_t nseen;
};

static int match_serial(mg_transport *t, void *userdata)
{
	struct serial_match *m = userdata;
	mg_device tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.driver = m->parent->driver;
	tmp.transport = t;
	tmp.timeout_ms = m->parent->timeout_ms;
	tmp.retries = m->parent->retries;
	tmp.quiet = m->parent->quiet;
	if (new_state(&tmp) < 0)
		return MG_ERR_NOMEM;
	mg_xrf_status st;
	int rc = dp5_status(&tmp, &st);
	free_state(&tmp);
	size_t len = strlen(m->seen);
	const char *sep = m->nseen ? ", " : "";
	if (rc < 0) {
		mg_dbg(DOM, "%s: no status: %s", mg_transport_description(t), mg_error_detail());
		snprintf(m->seen + len, sizeof(m->seen) - len, "%sno answer (%s)", sep, mg_transport_description(t));
		m->nseen++;
		return 0;
	}
	snprintf(m->seen + len, sizeof(m->seen) - len, "%s%s (%s)", sep, st.serial[0] ? st.serial : "invalid",
	         mg_transport_description(t));
	m->nseen++;
	return !strcmp(st.serial, m->want) ? 1 : 0;
}

static int dp5_open(mg_device *dev, mg_transport_uri *uri)
{
	int rc;
	if ((rc = new_state(dev)) < 0)
		return rc;
	if (uri->scheme == MG_SCHEME_USB && !uri->usb_by_address && uri->serial) {
		struct serial_match m = {.parent = dev, .want = uri->serial};
		rc = mg_transport_open_usb_match(uri->vid, uri->pid, match_serial, &m, &dev->transport);
		if (rc == MG_ERR_NOT_FOUND)
			rc = mg_fail(MG_ERR_NOT_FOUND, DOM, "no %04x:%04x unit reports serial number %s (%s%s)", uri->vid,
			             uri->pid, uri->serial, m.nseen ? "serial numbers seen: " : "no unit answered",
			             m.seen);
	} else {
		rc = mg_transport_open_uri(uri, &dev->transport);
	}
	if (rc < 0) {
		free_state(dev);
		return rc;
	}
	mg_xrf_status st;
	rc = dp5_status(dev, &st);
	if (rc < 0) {
		rc = fail_wrap(rc, "%s does not answer as a DP5-family instrument",
		               mg_transport_description(dev->transport));
		mg_transport_close(dev->transport);
		dev->transport = NULL;
		free_state(dev);
		return rc;
	}
	rc = fill_identity(dev, &st);
	if (rc < 0) {
		mg_transport_close(dev->transport);
		dev->transport = NULL;
		free_state(dev);
		return rc;
	}
	mg_info(DOM, "%s: %s serial %s, firmware %s, FPGA %s", mg_transport_description(dev->transport), st.model,
	        st.serial[0] ? st.serial : "invalid", st.firmware, st.fpga);
	return MG_OK;
}

static void dp5_close(mg_device *dev)
{
	mg_transport_close(dev->transport);
	dev->transport = NULL;
	free_state(dev);
}

/* ------------------------------------------------------------ configuration */

/* Walk the packets mg_dp5_config_*_packets() appended to b. */
static int next_packet(const mg_buf *b, size_t *off, const uint8_t **pk, size_t *len)
{
	if (*off >= b->len)
		return 0;
	mg_dp5_packet pkt;
	size_t consumed = 0;
	if (mg_dp5_parse(b->data + *off, b->len - *off, &pkt, &consumed) != MG_OK)
		return mg_fail(MG_ERR_INTERNAL, DOM, "the codec built a packet it cannot parse");
	*pk = (const uint8_t *)b->data + *off;
	*len = pkt.size;
	*off += pkt.size;
	return 1;
}

/* The value of MCAC=N in a config string (0 if absent or not a size). */
static size_t mcac_in(const char *text, size_t len)
{
	size_t nchan = 0;
	for (size_t i = 0; i + 5 <= len; i++) {
		if ((i == 0 || text[i - 1] == ';') && !strncmp(text + i, "MCAC=", 5)) {
			unsigned long v = strtoul(text + i + 5, NULL, 10);
			if (v >= MG_DP5_MIN_CHANNELS && v <= MG_DP5_MAX_CHANNELS && !(v & (v - 1)))
				nchan = v;
		}
	}
	return nchan;
}

static int dp5_configure(mg_device *dev, const char *config)
{
	struct mg_dp5_dev *p = dev->dp5;
	mg_buf b;
	mg_buf_init(&b);
	int npk = mg_dp5_config_set_packets(&b, config);
	if (npk < 0) {
		mg_buf_free(&b);
		return npk;
	}
	p->config_valid = 0; /* the remembered readback is stale from now on */
	size_t off = 0, len;
	const uint8_t *pk;
	int rc = MG_OK, k = 0, more;
	while ((more = next_packet(&b, &off, &pk, &len)) > 0) {
		k++;
		mg_dp5_response rsp;
		char what[64];
		snprintf(what, sizeof(what), "configuration packet %d of %d", k, npk);
		rc = exchange(dev, pk, len, EXP_ACK, 1, &rsp, what);
		if (rc == MG_ERR_DEVICE) {
			char text[160];
			ack_text(&rsp, text, sizeof(text));
			if (!*text) /* no command named: name the packet's commands */
				snprintf(text, sizeof(text), "%.*s", (int)(len - MG_DP5_OVERHEAD > 150 ? 150 : len - MG_DP5_OVERHEAD),
				         (const char *)pk + MG_DP5_HEADER_LEN);
			rc = mg_fail(MG_ERR_DEVICE, DOM, "configure: the device rejected '%s': %s (ACK %02X)%s", text,
			             mg_dp5_ack_message(rsp.ack), rsp.ack,
			             k > 1 ? "; the packets before it were applied" : "");
		}
		if (rc < 0)
			break;
		size_t n = mcac_in((const char *)pk + MG_DP5_HEADER_LEN, len - MG_DP5_OVERHEAD);
		if (n)
			p->nchan = n;
		if (strstr(config, "RESC=")) /* defaults restored: MCAC unknown again unless set after */
			p->nchan = n ? n : 0;
	}
	if (more < 0)
		rc = more;
	mg_buf_free(&b);
	if (rc == MG_OK)
		mg_dbg(DOM, "configured (%d packet(s))", npk);
	return rc;
}

/* The family's full readback list: every mnemonic the codec knows. */
static int default_mnemonics(mg_buf *out)
{
	size_t n;
	const mg_dp5_config_entry *t = mg_dp5_config_table(&n);
	for (size_t i = 0; i < n; i++)
		mg_buf_printf(out, "%s;", t[i].mnemonic);
	return mg_buf_status(out);
}

/* Remove "XXXX;" from list (a mg_buf of "CMD;CMD;"). 1 if removed. */
static int remove_mnemonic(mg_buf *list, const char *m)
{
	for (size_t i = 0; i + 5 <= list->len; i += 5) {
		if (!memcmp(list->data + i, m, 4) && list->data[i + 4] == ';') {
			memmove(list->data + i, list->data + i + 5, list->len - i - 5);
			list->len -= 5;
			list->data[list->len] = '\0';
			return 1;
		}
	}
	return 0;
}

static int dp5_read_config(mg_device *dev, const char *mnemonics, mg_kvlist *out)
{
	struct mg_dp5_dev *p = dev->dp5;
	int full = mnemonics == NULL;
	mg_buf list;
	mg_buf_init(&list);
	if (full ? default_mnemonics(&list) : mg_buf_puts(&list, mnemonics)) {
		mg_buf_free(&list);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	mg_kvlist got = {0};
	int rc = MG_OK;
	/* each round either succeeds or drops one mnemonic the unit does not know */
	for (unsigned round = 0; round <= list.len / 5 + 1; round++) {
		mg_kvlist_clear(&got);
		mg_buf b;
		mg_buf_init(&b);
		int npk = list.len ? mg_dp5_config_get_packets(&b, list.data) : 0;
		if (npk < 0) {
			rc = npk;
			mg_buf_free(&b);
			break;
		}
		size_t off = 0, len;
		const uint8_t *pk;
		int more, k = 0, dropped = 0;
		rc = MG_OK;
		while ((more = next_packet(&b, &off, &pk, &len)) > 0) {
			mg_dp5_response rsp;
			char what[64];
			snprintf(what, sizeof(what), "configuration readback packet %d of %d", ++k, npk);
			rc = exchange(dev, pk, len, EXP_CONFIG, 1, &rsp, what);
			if (rc == MG_ERR_DEVICE) {
				char text[160];
				ack_text(&rsp, text, sizeof(text));
				if (full && rsp.ack == MG_DP5_ACK_UNRECOG_COMMAND && strlen(text) >= 4 &&
				    remove_mnemonic(&list, text)) {
					mg_dbg(DOM, "the unit does not know %.4s: read back without it", text);
					dropped = 1;
					rc = MG_OK;
					break;
				}
				rc = mg_fail(MG_ERR_DEVICE, DOM, "configuration readback: the device rejected '%s': %s (ACK %02X)",
				             *text ? text : "(not named)", mg_dp5_ack_message(rsp.ack), rsp.ack);
			}
			if (rc < 0)
				break;
			rc = mg_dp5_config_parse(rsp.data, rsp.len, &got);
			if (rc < 0) {
				rc = fail_wrap(rc, "configuration readback");
				break;
			}
		}
		if (more < 0)
			rc = more;
		mg_buf_free(&b);
		if (rc < 0 || !dropped)
			break;
	}
	mg_buf_free(&list);
	if (rc < 0) {
		mg_kvlist_clear(&got);
		return rc;
	}
	for (size_t i = 0; i < got.count; i++)
		if (mg_kvlist_add(out, got.items[i].key, got.items[i].value, got.items[i].comment) < 0) {
			mg_kvlist_clear(&got);
			return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
	const char *mcac = mg_kvlist_get(&got, "MCAC");
	if (mcac) {
		unsigned long v = strtoul(mcac, NULL, 10);
		if (v >= MG_DP5_MIN_CHANNELS && v <= MG_DP5_MAX_CHANNELS)
			p->nchan = v;
	}
	int count = (int)got.count;
	if (full) {
		mg_kvlist_clear(&p->config);
		p->config = got;
		p->config_valid = 1;
	} else {
		mg_kvlist_clear(&got);
	}
	return count;
}

/* ------------------------------------------------------------ acquisition */

static void utc_now(char *dst, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dst, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int dp5_clear(mg_device *dev)
{
	int rc = simple(dev, MG_DP5_REQ_CLEAR_SPECTRUM, "clear spectrum");
	if (rc == MG_OK)
		dev->dp5->start_time[0] = '\0';
	return rc;
}

static int dp5_start(mg_device *dev)
{
	int rc = simple(dev, MG_DP5_REQ_ENABLE_MCA, "enable MCA");
	if (rc == MG_OK && !dev->dp5->start_time[0])
		utc_now(dev->dp5->start_time, sizeof(dev->dp5->start_time));
	return rc;
}

static int dp5_stop(mg_device *dev)
{
	return simple(dev, MG_DP5_REQ_DISABLE_MCA, "disable MCA");
}

static int dp5_ping(mg_device *dev)
{
	return simple(dev, MG_DP5_REQ_KEEP_ALIVE, "keep-alive");
}

static double conf_number(const mg_kvlist *c, const char *key)
{
	const char *v = mg_kvlist_get(c, key);
	if (!v)
		return NAN;
	char *end;
	double x = strtod(v, &end);
	return end != v && !*end ? x : NAN;
}

static int build_spectrum(mg_device *dev, const mg_dp5_response *rsp, const mg_dp5_status *d, mg_spectrum **out)
{
	struct mg_dp5_dev *p = dev->dp5;
	size_t nchan = rsp->nchan;
	uint32_t *c = malloc(nchan * sizeof(*c));
	mg_spectrum *s = mg_spectrum_new(nchan);
	mg_kvlist st = {0};
	int rc = MG_ERR_NOMEM;
	if (!c || !s)
		goto nomem;
	rc = mg_dp5_spectrum_decode(rsp->counts, 3 * nchan, c, nchan);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < nchan; i++)
		s->counts[i] = (double)c[i];
	if (d) {
		s->live_time_s = d->effective_live_s;
		s->real_time_s = d->real_s;
		char fw[24], fpga[16], both[48];
		firmware_text(d, fw, sizeof(fw), fpga, sizeof(fpga));
		snprintf(both, sizeof(both), "%s/FPGA %s", fw, fpga);
		if (mg_str_set(&s->instrument.firmware, both))
			goto nomem;
		if (mg_str_set(&s->instrument.model, mg_dp5_device_name(d->device_type)))
			goto nomem;
		if (d->serial_valid) {
			char sn[16];
			snprintf(sn, sizeof(sn), "%lu", (unsigned long)d->serial_number);
			if (mg_str_set(&s->instrument.serial, sn))
				goto nomem;
		}
	} else if (dev->info.model) {
		if (mg_str_set(&s->instrument.model, dev->info.model) ||
		    mg_str_set(&s->instrument.serial, dev->info.serial))
			goto nomem;
	}
	if (p->start_time[0])
		snprintf(s->start_time, sizeof(s->start_time), "%s", p->start_time);
	if (p->config_valid) {
		s->acq.peaking_time_us = conf_number(&p->config, "TPEA");
		s->acq.preset_time_s = conf_number(&p->config, "PRET");
		s->acq.preset_real_s = conf_number(&p->config, "PRER");
		s->acq.preset_counts = conf_number(&p->config, "PREC");
	}
	/* meta: the .mca sections, status first as Amptek's files have them after the data */
	if (d) {
		if (mg_dp5_status_to_kvlist(d, &st) < 0)
			goto nomem;
		for (size_t i = 0; i < st.count; i++) {
			char key[96];
			snprintf(key, sizeof(key), "dp5.status.%s", st.items[i].key);
			if (mg_kvlist_add(&s->meta, key, st.items[i].value, st.items[i].comment) < 0)
				goto nomem;
		}
	}
	if (p->config_valid)
		for (size_t i = 0; i < p->config.count; i++) {
			char key[96];
			snprintf(key, sizeof(key), "dp5.config.%s", p->config.items[i].key);
			if (mg_kvlist_add(&s->meta, key, p->config.items[i].value, p->config.items[i].comment) < 0)
				goto nomem;
		}
	rc = mg_spectrum_validate(s);
	if (rc < 0) {
		rc = fail_wrap(rc, "the spectrum read is not valid");
		goto fail;
	}
	mg_kvlist_clear(&st);
	free(c);
	*out = s;
	return MG_OK;
nomem:
	rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
fail:
	mg_kvlist_clear(&st);
	free(c);
	mg_spectrum_free(s);
	return rc;
}

static int dp5_read_spectrum(mg_device *dev, unsigned flags, mg_spectrum **out, mg_xrf_status *st)
{
	struct mg_dp5_dev *p = dev->dp5;
	int rc;
	if (!(flags & MG_READ_NO_CONFIG) && !p->config_valid) {
		mg_kvlist tmp = {0};
		rc = dp5_read_config(dev, NULL, &tmp);
		mg_kvlist_clear(&tmp);
		if (rc == MG_ERR_DISCONNECTED || rc == MG_ERR_NOMEM)
			return rc;
		if (rc < 0)
			mg_warn(DOM, "the spectrum will lack its configuration: %s", mg_error_detail());
	}
	int with_status = !(flags & MG_READ_NO_STATUS), clear = flags & MG_READ_CLEAR;
	enum mg_dp5_request r = with_status ? (clear ? MG_DP5_REQ_SPECTRUM_STATUS_CLEAR : MG_DP5_REQ_SPECTRUM_STATUS)
	                                    : (clear ? MG_DP5_REQ_SPECTRUM_CLEAR : MG_DP5_REQ_SPECTRUM);
	uint8_t req[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(r, req, sizeof(req));
	if (n < 0)
		return n;
	mg_dp5_response rsp;
	rc = exchange(dev, req, (size_t)n, with_status ? EXP_SPECTRUM_STATUS : EXP_SPECTRUM, !clear, &rsp,
	              mg_dp5_request_name(r));
	if (rc < 0)
		return rc;
	mg_dp5_status d;
	if (with_status) {
		rc = mg_dp5_status_decode(rsp.status, MG_DP5_STATUS_LEN, &d);
		if (rc < 0)
			return rc;
	}
	if (p->nchan && p->nchan != rsp.nchan)
		mg_dbg(DOM, "the unit sent %zu channels (MCAC said %zu)", rsp.nchan, p->nchan);
	p->nchan = rsp.nchan;
	rc = build_spectrum(dev, &rsp, with_status ? &d : NULL, out);
	if (rc < 0)
		return rc;
	if (clear) /* the next spectrum starts now */
		utc_now(p->start_time, sizeof(p->start_time));
	if (st) {
		if (with_status)
			to_xrf(&d, st);
		else
			memset(st, 0, sizeof(*st));
	}
	return MG_OK;
}

static const char *const sims[] = {"xrf", NULL};

const mg_device_driver mg_dp5_driver = {
	.name = "dp5",
	.description = "Amptek DP5 family (DP5, X-123, PX5, DP5G, MCA8000D, TB5, DP5-X)",
	.usb_kind = MG_USB_DP5,
	.serial = 1,
	.sim_names = sims,
	.open = dp5_open,
	.close = dp5_close,
	.configure = dp5_configure,
	.read_config = dp5_read_config,
	.clear = dp5_clear,
	.start = dp5_start,
	.stop = dp5_stop,
	.status = dp5_status,
	.ping = dp5_ping,
	.read_spectrum = dp5_read_spectrum,
};
