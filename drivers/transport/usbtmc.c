/* SPDX-License-Identifier: GPL-3.0-or-later */
/* USBTMC / USB488 over libusb: the I/O of the host transport behind
 * `usbtmc:` URIs (opened by usbtmc_open.c; the codec is usbtmc_codec.c, the
 * device side usbtmc_function.c). See usbtmc.h and
 * docs/protocol-scpi-usbtmc.md.
 *
 * Host rules followed (USBTMC 1.0 as transcribed in the reference notes):
 * - every Bulk-OUT header takes a new bTag, 1..255 wrapping to 1;
 * - a DEV_DEP_MSG_OUT transfer is header + data + zero padding to 4 bytes;
 *   long messages are split into transfers, EOM only on the last;
 * - a read sends REQUEST_DEV_DEP_MSG_IN (new bTag, the most bytes wanted),
 *   then reads Bulk-IN into a buffer that is a multiple of wMaxPacketSize;
 *   zero-length packets before the header are skipped; the header must echo
 *   MsgID, bTag and bTagInverse; the transfer is complete when TransferSize
 *   bytes are in or a short packet came (a device that sends fewer bytes than
 *   announced has its EOM ignored); padding is dropped;
 * - a read that times out or brings a bad header is aborted
 *   (INITIATE_ABORT_BULK_IN with the request's bTag, drain Bulk-IN to a short
 *   packet, CHECK_ABORT_BULK_IN_STATUS until not PENDING); a failed write
 *   likewise (INITIATE_ABORT_BULK_OUT, CHECK_ABORT_BULK_OUT_STATUS,
 *   CLEAR_HALT); a refused abort falls back to a device clear. Every loop is
 *   bounded. */
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usbtmc_internal.h"

#define DOM "usbtmc"
#define DRAIN_READ_MS 50u
#define DRAIN_READS 8
#define CHECK_POLLS 100

static void pause_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* A class IN control request; returns the bytes received or a libusb error. */
int usbtmc_ctrl_in(struct tmc_priv *p, uint8_t rt, uint8_t req, uint16_t value, uint16_t index, uint8_t *buf,
                   uint16_t len)
{
	int r = libusb_control_transfer(p->h, rt, req, value, index, buf, len, CTRL_TIMEOUT_MS);
	mg_spew(DOM, "control %s wValue 0x%04x wIndex 0x%04x -> %d%s%s", mg_usbtmc_request_name(req), value, index,
	        r, r > 0 ? " status " : "", r > 0 ? mg_usbtmc_status_name(buf[0]) : "");
	return r;
}

/* Read Bulk-IN and throw it away until a short packet (bounded). */
static void drain_in(mg_transport *t)
{
	struct tmc_priv *p = t->priv;
	for (int i = 0; i < DRAIN_READS; i++) {
		int actual = 0;
		int lrc = libusb_bulk_transfer(p->h, p->ep_in, p->rx, (int)p->rx_cap, &actual, DRAIN_READ_MS);
		if (lrc == LIBUSB_ERROR_PIPE) {
			libusb_clear_halt(p->h, p->ep_in);
			continue;
		}
		if (lrc && lrc != LIBUSB_ERROR_TIMEOUT)
			break;
		if (lrc == LIBUSB_ERROR_TIMEOUT && actual == 0)
			break;
		if ((size_t)actual < p->rx_cap && (actual == 0 || actual % p->in_packet))
			break; /* a short packet ends the transfer */
	}
	p->data_pos = p->data_len = 0;
}

static int device_clear(mg_transport *t)
{
	struct tmc_priv *p = t->priv;
	uint8_t b[8];
	p->st.clears++;
	p->data_pos = p->data_len = 0;
	p->eom = 1;
	int r = usbtmc_ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USBTMC_REQ_INITIATE_CLEAR, 0, (uint16_t)p->iface, b, 1);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return mg_usb_map_err_(r, DOM, "INITIATE_CLEAR", t->desc);
	if (r < 1)
		return mg_fail(MG_ERR_IO, DOM, "%s: INITIATE_CLEAR failed: %s", t->desc,
		               r < 0 ? libusb_error_name(r) : "empty answer");
	if (b[0] != MG_USBTMC_STATUS_SUCCESS)
		return mg_fail(MG_ERR_DEVICE, DOM, "%s: INITIATE_CLEAR: %s", t->desc, mg_usbtmc_status_name(b[0]));
	for (int i = 0; i < CHECK_POLLS; i++) {
		r = usbtmc_ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USBTMC_REQ_CHECK_CLEAR_STATUS, 0, (uint16_t)p->iface, b, 2);
		if (r < 2)
			return r == LIBUSB_ERROR_NO_DEVICE ? mg_usb_map_err_(r, DOM, "CHECK_CLEAR_STATUS", t->desc)
			                                   : mg_fail(MG_ERR_IO, DOM, "%s: CHECK_CLEAR_STATUS failed: %s",
			                                             t->desc, r < 0 ? libusb_error_name(r) : "short answer");
		if (b[0] != MG_USBTMC_STATUS_PENDING)
			break;
		if (b[1] & 1)
			drain_in(t);
		else if (i >= 10)
			pause_ms(10);
	}
	if (b[0] != MG_USBTMC_STATUS_SUCCESS)
		return mg_fail(MG_ERR_DEVICE, DOM, "%s: CHECK_CLEAR_STATUS: %s", t->desc, mg_usbtmc_status_name(b[0]));
	libusb_clear_halt(p->h, p->ep_out);
	mg_dbg(DOM, "%s: device cleared", t->desc);
	return MG_OK;
}

/* Abort the Bulk-IN transfer of request `btag`; fall back to a device clear. */
static void abort_in(mg_transport *t, uint8_t btag)
{
	struct tmc_priv *p = t->priv;
	uint8_t b[8];
	p->st.aborts_in++;
	p->data_pos = p->data_len = 0;
	p->eom = 1;
	int r = usbtmc_ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_INITIATE_ABORT_BULK_IN, btag, p->ep_in, b, 2);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return;
	if (r >= 1 && b[0] == MG_USBTMC_STATUS_FAILED) {
		mg_dbg(DOM, "%s: INITIATE_ABORT_BULK_IN bTag %u: nothing in progress", t->desc, btag);
		return;
	}
	if (r < 1 || b[0] != MG_USBTMC_STATUS_SUCCESS) {
		mg_dbg(DOM, "%s: INITIATE_ABORT_BULK_IN bTag %u: %s; clearing the device", t->desc, btag,
		       r < 1 ? libusb_error_name(r) : mg_usbtmc_status_name(b[0]));
		if (device_clear(t))
			mg_warn(DOM, "%s: the device clear after a failed abort failed too: %s", t->desc, mg_error_detail());
		return;
	}
	drain_in(t);
	for (int i = 0; i < CHECK_POLLS; i++) {
		r = usbtmc_ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_CHECK_ABORT_BULK_IN_STATUS, 0, p->ep_in, b, 8);
		if (r < 1 || b[0] != MG_USBTMC_STATUS_PENDING)
			break;
		if (r >= 2 && (b[1] & 1))
			drain_in(t);
		else if (i >= 10)
			pause_ms(10);
	}
	if (r >= 1 && b[0] == MG_USBTMC_STATUS_SUCCESS)
		mg_dbg(DOM, "%s: Bulk-IN transfer bTag %u aborted (%u bytes had gone out)", t->desc, btag,
		       r >= 8 ? GET32(b + 4) : 0u);
	else
		mg_dbg(DOM, "%s: CHECK_ABORT_BULK_IN_STATUS: %s", t->desc,
		       r < 1 ? libusb_error_name(r) : mg_usbtmc_status_name(b[0]));
}

/* Abort the Bulk-OUT transfer `btag` and clear the endpoint's halt. */
static void abort_out(mg_transport *t, uint8_t btag)
{
	struct tmc_priv *p = t->priv;
	uint8_t b[8];
	p->st.aborts_out++;
	int r = usbtmc_ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_INITIATE_ABORT_BULK_OUT, btag, p->ep_out, b, 2);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return;
	if (r >= 1 && b[0] == MG_USBTMC_STATUS_SUCCESS) {
		for (int i = 0; i < CHECK_POLLS; i++) {
			r = usbtmc_ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_CHECK_ABORT_BULK_OUT_STATUS, 0, p->ep_out, b, 8);
			if (r < 1 || b[0] != MG_USBTMC_STATUS_PENDING)
				break;
			if (i >= 10)
				pause_ms(10);
		}
		mg_dbg(DOM, "%s: Bulk-OUT transfer bTag %u aborted: %s, %u bytes received", t->desc, btag,
		       r >= 1 ? mg_usbtmc_status_name(b[0]) : libusb_error_name(r), r >= 8 ? GET32(b + 4) : 0u);
	} else {
		mg_dbg(DOM, "%s: INITIATE_ABORT_BULK_OUT bTag %u: %s", t->desc, btag,
		       r < 1 ? libusb_error_name(r) : mg_usbtmc_status_name(b[0]));
		if (r >= 1 && b[0] == MG_USBTMC_STATUS_TRANSFER_NOT_IN_PROGRESS && device_clear(t))
			mg_warn(DOM, "%s: device clear failed: %s", t->desc, mg_error_detail());
	}
	libusb_clear_halt(p->h, p->ep_out);
}

static int tmc_write(mg_transport *t, const uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct tmc_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	if (p->data_pos < p->data_len || !p->eom)
		mg_dbg(DOM, "%s: a new message while an answer was unread: the rest of it is dropped", t->desc);
	p->data_pos = p->data_len = 0;
	p->eom = 1;
	size_t off = 0;
	do {
		size_t chunk = n - off > p->max_out ? p->max_out : n - off;
		int eom = off + chunk == n;
		p->btag = mg_usbtmc_next_btag(p->btag);
		p->last_out_btag = p->btag;
		mg_buf_reset(&p->tx);
		int rc = mg_usbtmc_encode_transfer(&p->tx, 0, p->btag, data + off, chunk, eom);
		if (rc)
			return rc;
		mg_spew(DOM, "%s > DEV_DEP_MSG_OUT bTag %u, %zu bytes%s", t->desc, p->btag, chunk, eom ? ", EOM" : "");
		int actual = 0;
		unsigned left = mg_transport_left_ms_(deadline);
		int lrc = libusb_bulk_transfer(p->h, p->ep_out, (unsigned char *)p->tx.data, (int)p->tx.len, &actual,
		                               left ? left : 1);
		if (lrc == LIBUSB_ERROR_NO_DEVICE)
			return mg_usb_map_err_(lrc, DOM, "bulk OUT", t->desc);
		if (lrc || (size_t)actual != p->tx.len) {
			uint8_t tag = p->btag;
			char why[64];
			snprintf(why, sizeof(why), "%s", lrc ? libusb_error_name(lrc) : "short write");
			abort_out(t, tag);
			if (lrc == LIBUSB_ERROR_TIMEOUT || !lrc)
				return mg_fail(MG_ERR_TIMEOUT, DOM,
				               "%s: DEV_DEP_MSG_OUT bTag %u: %d of %zu bytes went out in %u ms; transfer aborted",
				               t->desc, tag, actual, p->tx.len, timeout_ms);
			return mg_fail(MG_ERR_IO, DOM, "%s: DEV_DEP_MSG_OUT bTag %u: %s; transfer aborted, halt cleared",
			               t->desc, tag, why);
		}
		p->st.transfers_out++;
		off += chunk;
	} while (off < n);
	return MG_OK;
}

/* One DEV_DEP_MSG_IN transfer into rx; sets data_pos/data_len/eom. */
static int read_transfer(mg_transport *t, unsigned timeout_ms)
{
	struct tmc_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	uint8_t req[MG_USBTMC_HEADER_LEN];
	p->btag = mg_usbtmc_next_btag(p->btag);
	p->last_req_btag = p->btag;
	uint8_t tag = p->btag;
	mg_usbtmc_encode_request_in(tag, (uint32_t)p->max_in, -1, req);
	mg_spew(DOM, "%s > REQUEST_DEV_DEP_MSG_IN bTag %u, up to %zu bytes", t->desc, tag, p->max_in);
	int actual = 0;
	unsigned left = mg_transport_left_ms_(deadline);
	int lrc = libusb_bulk_transfer(p->h, p->ep_out, req, sizeof(req), &actual, left ? left : 1);
	if (lrc == LIBUSB_ERROR_NO_DEVICE)
		return mg_usb_map_err_(lrc, DOM, "bulk OUT", t->desc);
	if (lrc || actual != (int)sizeof(req)) {
		abort_out(t, tag);
		return mg_fail(lrc == LIBUSB_ERROR_TIMEOUT ? MG_ERR_TIMEOUT : MG_ERR_IO, DOM,
		               "%s: REQUEST_DEV_DEP_MSG_IN bTag %u: %s; transfer aborted", t->desc, tag,
		               lrc ? libusb_error_name(lrc) : "short write");
	}
	p->st.requests_in++;

	/* The header (skipping zero-length packets), then continuation packets. */
	size_t have = 0;
	int short_packet = 0;
	for (;;) {
		left = mg_transport_left_ms_(deadline);
		actual = 0;
		lrc = libusb_bulk_transfer(p->h, p->ep_in, p->rx + have, (int)(p->rx_cap - have), &actual,
		                           left ? left : 1);
		if (lrc == LIBUSB_ERROR_NO_DEVICE)
			return mg_usb_map_err_(lrc, DOM, "bulk IN", t->desc);
		if (actual > 0)
			have += (size_t)actual;
		if (lrc == LIBUSB_ERROR_PIPE) {
			libusb_clear_halt(p->h, p->ep_in);
			abort_in(t, tag);
			return mg_fail(MG_ERR_IO, DOM, "%s: endpoint 0x%02x stalled; halt cleared, transfer bTag %u aborted",
			               t->desc, p->ep_in, tag);
		}
		if (lrc && lrc != LIBUSB_ERROR_TIMEOUT) {
			int rc = mg_usb_map_err_(lrc, DOM, "bulk IN", t->desc);
			abort_in(t, tag);
			return rc;
		}
		if (lrc == LIBUSB_ERROR_TIMEOUT && actual == 0) {
			abort_in(t, tag);
			if (have == 0)
				return mg_fail(MG_ERR_TIMEOUT, DOM,
				               "%s: no answer to REQUEST_DEV_DEP_MSG_IN bTag %u within %u ms; transfer aborted",
				               t->desc, tag, timeout_ms);
			return mg_fail(MG_ERR_TIMEOUT, DOM,
			               "%s: DEV_DEP_MSG_IN bTag %u stopped after %zu bytes within %u ms; transfer aborted",
			               t->desc, tag, have, timeout_ms);
		}
		if (have == 0) { /* a zero-length packet before the header: tolerated */
			p->st.empty_reads++;
			continue;
		}
		short_packet = actual == 0 || actual % p->in_packet != 0;
		if (have < MG_USBTMC_HEADER_LEN) {
			if (short_packet) {
				p->st.bad_headers++;
				abort_in(t, tag);
				return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: a %zu-byte Bulk-IN transfer is too short for a header",
				               t->desc, have);
			}
			continue;
		}
		mg_usbtmc_header h;
		int rc = mg_usbtmc_decode_header(p->rx, have, 1, &h);
		if (rc == MG_OK && (h.msg_id != MG_USBTMC_DEV_DEP_MSG_IN || h.btag != tag))
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "%s bTag %u does not answer REQUEST_DEV_DEP_MSG_IN bTag %u",
			             mg_usbtmc_msg_name(h.msg_id, 1), h.btag, tag);
		if (rc == MG_OK && h.transfer_size > p->max_in)
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "TransferSize %u is more than the %zu bytes asked for",
			             h.transfer_size, p->max_in);
		if (rc) {
			char detail[300];
			snprintf(detail, sizeof(detail), "%s", mg_error_detail());
			p->st.bad_headers++;
			abort_in(t, tag);
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: bad DEV_DEP_MSG_IN header: %s; transfer aborted", t->desc,
			               detail);
		}
		size_t want = MG_USBTMC_HEADER_LEN + h.transfer_size;
		if (have >= want || short_packet || have >= p->rx_cap) {
			size_t n = have - MG_USBTMC_HEADER_LEN;
			int eom = (h.attributes & MG_USBTMC_ATTR_EOM) != 0;
			if (n < h.transfer_size) {
				mg_dbg(DOM, "%s: DEV_DEP_MSG_IN bTag %u announced %u bytes and sent %zu: EOM ignored", t->desc,
				       tag, h.transfer_size, n);
				eom = 0;
			} else {
				n = h.transfer_size;
			}
			p->data_pos = MG_USBTMC_HEADER_LEN;
			p->data_len = MG_USBTMC_HEADER_LEN + n;
			p->eom = eom;
			p->st.transfers_in++;
			mg_spew(DOM, "%s < DEV_DEP_MSG_IN bTag %u, %zu bytes%s", t->desc, tag, n, eom ? ", EOM" : "");
			return MG_OK;
		}
		p->st.continuations++;
	}
}

static int tmc_read(mg_transport *t, uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct tmc_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	while (p->data_pos >= p->data_len) {
		int rc = read_transfer(t, mg_transport_left_ms_(deadline));
		if (rc)
			return rc;
		if (p->data_pos < p->data_len)
			break;
		/* an empty transfer: ask again while time is left */
		if (mg_transport_left_ms_(deadline) == 0)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: only empty DEV_DEP_MSG_IN transfers within %u ms", t->desc,
			               timeout_ms);
	}
	size_t k = p->data_len - p->data_pos;
	if (k > n)
		k = n;
	memcpy(data, p->rx + p->data_pos, k);
	p->data_pos += k;
	return (int)k;
}

static int tmc_flush_input(mg_transport *t)
{
	struct tmc_priv *p = t->priv;
	if (p->data_pos < p->data_len)
		mg_dbg(DOM, "%s: flushed %zu input bytes", t->desc, p->data_len - p->data_pos);
	p->data_pos = p->data_len = 0;
	p->eom = 1;
	return MG_OK;
}

static void tmc_close(mg_transport *t)
{
	struct tmc_priv *p = t->priv;
	if (!p)
		return;
	if (p->h) {
		if (p->claimed)
			libusb_release_interface(p->h, p->iface);
		if (p->reattach)
			libusb_attach_kernel_driver(p->h, p->iface);
		libusb_close(p->h);
	}
	if (p->ctx)
		libusb_exit(p->ctx);
	free(p->rx);
	mg_buf_free(&p->tx);
	free(p);
	t->priv = NULL;
}

const struct mg_transport_ops usbtmc_ops = {
	.write = tmc_write,
	.read = tmc_read,
	.flush_input = tmc_flush_input,
	.close = tmc_close,
};

int mg_usbtmc_transport_is(const mg_transport *t)
{
	return t && t->ops == &usbtmc_ops;
}

int mg_usbtmc_transport_message_end(const mg_transport *t)
{
	if (!mg_usbtmc_transport_is(t))
		return mg_fail(MG_ERR_ARG, DOM, "not a USBTMC transport");
	const struct tmc_priv *p = t->priv;
	return p->eom && p->data_pos >= p->data_len;
}

int mg_usbtmc_transport_clear(mg_transport *t)
{
	if (!mg_usbtmc_transport_is(t))
		return mg_fail(MG_ERR_ARG, DOM, "not a USBTMC transport");
	if (t->gone)
		return mg_fail(MG_ERR_DISCONNECTED, DOM, "%s: the device is gone", t->desc);
	int rc = device_clear(t);
	if (rc == MG_ERR_DISCONNECTED)
		t->gone = 1;
	return rc;
}

int mg_usbtmc_transport_caps(const mg_transport *t, mg_usbtmc_caps *caps)
{
	if (!mg_usbtmc_transport_is(t) || !caps)
		return mg_fail(MG_ERR_ARG, DOM, "not a USBTMC transport");
	const struct tmc_priv *p = t->priv;
	if (!p->have_caps)
		return MG_ERR_NA;
	*caps = p->caps;
	return MG_OK;
}

int mg_usbtmc_transport_read_stb(mg_transport *t, uint8_t *stb)
{
	if (!mg_usbtmc_transport_is(t) || !stb)
		return mg_fail(MG_ERR_ARG, DOM, "not a USBTMC transport");
	struct tmc_priv *p = t->priv;
	if (!p->usb488)
		return mg_fail(MG_ERR_UNSUPPORTED, DOM, "%s: READ_STATUS_BYTE needs a USB488 interface", t->desc);
	p->stb_btag = p->stb_btag >= 127 || p->stb_btag < 2 ? 2 : (uint8_t)(p->stb_btag + 1);
	uint8_t b[3];
	int r = usbtmc_ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USB488_REQ_READ_STATUS_BYTE, p->stb_btag, (uint16_t)p->iface, b, 3);
	if (r < 3)
		return r < 0 ? mg_usb_map_err_(r, DOM, "READ_STATUS_BYTE", t->desc)
		             : mg_fail(MG_ERR_PROTOCOL, DOM, "%s: READ_STATUS_BYTE: %d bytes", t->desc, r);
	if (b[0] != MG_USBTMC_STATUS_SUCCESS)
		return mg_fail(MG_ERR_DEVICE, DOM, "%s: READ_STATUS_BYTE: %s", t->desc, mg_usbtmc_status_name(b[0]));
	if (b[1] != p->stb_btag)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: READ_STATUS_BYTE echoed bTag %u, sent %u", t->desc, b[1],
		               p->stb_btag);
	*stb = b[2];
	return MG_OK;
}

void mg_usbtmc_transport_set_max_transfer(mg_transport *t, size_t out, size_t in)
{
	if (!mg_usbtmc_transport_is(t))
		return;
	struct tmc_priv *p = t->priv;
	if (out)
		p->max_out = out;
	if (in && in <= DEFAULT_MAX_IN)
		p->max_in = in; /* the receive buffer is sized for the default */
}

mg_usbtmc_stats mg_usbtmc_transport_stats(const mg_transport *t)
{
	mg_usbtmc_stats s = {0};
	if (mg_usbtmc_transport_is(t)) {
		const struct tmc_priv *p = t->priv;
		s = p->st;
		s.last_btag = p->btag;
	}
	return s;
}
