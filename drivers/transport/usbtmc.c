/* SPDX-License-Identifier: GPL-3.0-or-later */
/* USBTMC / USB488 over libusb: the codec, the host transport behind
 * `usbtmc:` URIs, and the device-side state machine for simulated
 * instruments. See usbtmc.h and docs/protocol-scpi-usbtmc.md.
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

#include "transport_internal.h"
#include "usbtmc.h"

#define DOM "usbtmc"
#define DEFAULT_MAX_OUT 16384u
#define DEFAULT_MAX_IN 16384u
#define CTRL_TIMEOUT_MS 500u
#define DRAIN_READ_MS 50u
#define DRAIN_READS 8
#define CHECK_POLLS 100
#define PUT32(p, v)                                                                                \
	do {                                                                                       \
		(p)[0] = (uint8_t)(v);                                                             \
		(p)[1] = (uint8_t)((v) >> 8);                                                      \
		(p)[2] = (uint8_t)((v) >> 16);                                                     \
		(p)[3] = (uint8_t)((v) >> 24);                                                     \
	} while (0)
#define GET32(p) ((uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 | (uint32_t)(p)[2] << 16 | (uint32_t)(p)[3] << 24)

/* ================================================================ codec */

uint8_t mg_usbtmc_next_btag(uint8_t last)
{
	return (uint8_t)(last % 255u + 1u);
}

size_t mg_usbtmc_transfer_len(size_t n)
{
	return (MG_USBTMC_HEADER_LEN + n + 3u) & ~(size_t)3u;
}

void mg_usbtmc_encode_header(const mg_usbtmc_header *h, uint8_t dst[MG_USBTMC_HEADER_LEN])
{
	memset(dst, 0, MG_USBTMC_HEADER_LEN);
	dst[0] = h->msg_id;
	dst[1] = h->btag;
	dst[2] = (uint8_t)~h->btag;
	PUT32(dst + 4, h->transfer_size);
	dst[8] = h->attributes;
	if (h->msg_id == MG_USBTMC_REQUEST_DEV_DEP_MSG_IN && (h->attributes & MG_USBTMC_ATTR_TERMCHAR))
		dst[9] = h->term_char;
}

int mg_usbtmc_encode_transfer(mg_buf *out, int in, uint8_t btag, const void *data, size_t n, int eom)
{
	if (n > UINT32_MAX)
		return mg_fail(MG_ERR_ARG, DOM, "transfer of %zu bytes is too long", n);
	mg_usbtmc_header h = {.msg_id = in ? MG_USBTMC_DEV_DEP_MSG_IN : MG_USBTMC_DEV_DEP_MSG_OUT,
	                      .btag = btag,
	                      .transfer_size = (uint32_t)n,
	                      .attributes = eom ? MG_USBTMC_ATTR_EOM : 0};
	uint8_t hdr[MG_USBTMC_HEADER_LEN];
	static const uint8_t zeros[4];
	mg_usbtmc_encode_header(&h, hdr);
	mg_buf_append(out, hdr, sizeof(hdr));
	if (n)
		mg_buf_append(out, data, n);
	mg_buf_append(out, zeros, mg_usbtmc_transfer_len(n) - MG_USBTMC_HEADER_LEN - n);
	return mg_buf_status(out) ? mg_fail(MG_ERR_NOMEM, DOM, "out of memory") : MG_OK;
}

void mg_usbtmc_encode_request_in(uint8_t btag, uint32_t max, int term, uint8_t dst[MG_USBTMC_HEADER_LEN])
{
	mg_usbtmc_header h = {.msg_id = MG_USBTMC_REQUEST_DEV_DEP_MSG_IN,
	                      .btag = btag,
	                      .transfer_size = max,
	                      .attributes = term >= 0 ? MG_USBTMC_ATTR_TERMCHAR : 0,
	                      .term_char = term >= 0 ? (uint8_t)term : 0};
	mg_usbtmc_encode_header(&h, dst);
}

int mg_usbtmc_split_message(mg_buf *out, uint8_t *btag, const void *data, size_t n, size_t max_data,
                            size_t *ntransfers)
{
	size_t k = 0, off = 0;
	if (!out || !btag || (!data && n))
		return mg_fail(MG_ERR_ARG, DOM, "mg_usbtmc_split_message: NULL argument");
	if (max_data == 0)
		return mg_fail(MG_ERR_ARG, DOM, "mg_usbtmc_split_message: max_data is 0");
	do {
		size_t chunk = n - off > max_data ? max_data : n - off;
		*btag = mg_usbtmc_next_btag(*btag);
		int rc = mg_usbtmc_encode_transfer(out, 0, *btag, (const uint8_t *)data + off, chunk, off + chunk == n);
		if (rc)
			return rc;
		off += chunk;
		k++;
	} while (off < n);
	if (ntransfers)
		*ntransfers = k;
	return MG_OK;
}

const char *mg_usbtmc_msg_name(uint8_t msg_id, int in)
{
	switch (msg_id) {
	case 1:
		return in ? "MsgID 1 (host-to-device only)" : "DEV_DEP_MSG_OUT";
	case 2:
		return in ? "DEV_DEP_MSG_IN" : "REQUEST_DEV_DEP_MSG_IN";
	case 126:
		return "VENDOR_SPECIFIC_OUT";
	case 127:
		return in ? "VENDOR_SPECIFIC_IN" : "REQUEST_VENDOR_SPECIFIC_IN";
	case 128:
		return "TRIGGER";
	}
	return "unknown MsgID";
}

int mg_usbtmc_decode_header(const uint8_t *p, size_t n, int in, mg_usbtmc_header *h)
{
	if (!p || !h)
		return mg_fail(MG_ERR_ARG, DOM, "mg_usbtmc_decode_header: NULL argument");
	if (n < MG_USBTMC_HEADER_LEN)
		return MG_ERR_NEED_MORE;
	memset(h, 0, sizeof(*h));
	h->msg_id = p[0];
	h->btag = p[1];
	h->transfer_size = GET32(p + 4);
	h->attributes = p[8];
	int known = in ? (p[0] == MG_USBTMC_DEV_DEP_MSG_IN || p[0] == MG_USBTMC_VENDOR_SPECIFIC_IN)
	               : (p[0] == MG_USBTMC_DEV_DEP_MSG_OUT || p[0] == MG_USBTMC_REQUEST_DEV_DEP_MSG_IN ||
	                  p[0] == MG_USBTMC_VENDOR_SPECIFIC_OUT || p[0] == MG_USBTMC_REQUEST_VENDOR_SPECIFIC_IN ||
	                  p[0] == MG_USB488_TRIGGER);
	if (!known)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "byte 0: MsgID %u is not valid %s", p[0],
		               in ? "from a device (expected 2 DEV_DEP_MSG_IN or 127)"
		                  : "from a host (expected 1, 2, 126, 127 or 128)");
	if (p[1] == 0)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "byte 1: bTag 0 is never valid");
	if ((uint8_t)(p[2] ^ p[1]) != 0xff)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "byte 2: bTagInverse 0x%02x is not the complement of bTag 0x%02x",
		               p[2], p[1]);
	if (p[3] != 0)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "byte 3: reserved byte is 0x%02x, not 0", p[3]);
	uint8_t allowed_attr = 0;
	int term_byte = 0;
	if (h->msg_id == MG_USB488_TRIGGER && !in) {
		for (int i = 4; i < 12; i++)
			if (p[i])
				return mg_fail(MG_ERR_PROTOCOL, DOM, "byte %d: a TRIGGER header has 0x%02x where 0 belongs",
				               i, p[i]);
		return MG_OK;
	}
	if (h->msg_id == MG_USBTMC_DEV_DEP_MSG_OUT && !in)
		allowed_attr = MG_USBTMC_ATTR_EOM;
	else if (h->msg_id == MG_USBTMC_REQUEST_DEV_DEP_MSG_IN && !in) {
		allowed_attr = MG_USBTMC_ATTR_TERMCHAR;
		term_byte = 1;
	} else if (h->msg_id == MG_USBTMC_DEV_DEP_MSG_IN && in)
		allowed_attr = MG_USBTMC_ATTR_EOM | MG_USBTMC_ATTR_TERMCHAR;
	if (h->attributes & ~allowed_attr)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "byte 8: bmTransferAttributes 0x%02x has bits %s does not define",
		               h->attributes, mg_usbtmc_msg_name(h->msg_id, in));
	if (term_byte) {
		h->term_char = p[9];
		if (!(h->attributes & MG_USBTMC_ATTR_TERMCHAR) && p[9])
			mg_dbg(DOM, "REQUEST_DEV_DEP_MSG_IN: TermChar 0x%02x given but not enabled", p[9]);
	} else if (p[9]) {
		return mg_fail(MG_ERR_PROTOCOL, DOM, "byte 9: reserved byte is 0x%02x, not 0", p[9]);
	}
	if (p[10] || p[11])
		return mg_fail(MG_ERR_PROTOCOL, DOM, "bytes 10-11: reserved bytes are 0x%02x 0x%02x, not 0", p[10],
		               p[11]);
	if (h->transfer_size == 0 && h->msg_id == MG_USBTMC_REQUEST_DEV_DEP_MSG_IN)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "bytes 4-7: REQUEST_DEV_DEP_MSG_IN for 0 bytes");
	return MG_OK;
}

int mg_usbtmc_decode_caps(const uint8_t *p, size_t n, mg_usbtmc_caps *c)
{
	if (!p || !c)
		return mg_fail(MG_ERR_ARG, DOM, "mg_usbtmc_decode_caps: NULL argument");
	memset(c, 0, sizeof(*c));
	if (n < MG_USBTMC_CAPS_LEN)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "GET_CAPABILITIES: %zu bytes, expected 24", n);
	if (p[0] != MG_USBTMC_STATUS_SUCCESS)
		return mg_fail(MG_ERR_DEVICE, DOM, "GET_CAPABILITIES: %s (0x%02x)", mg_usbtmc_status_name(p[0]), p[0]);
	c->bcd_usbtmc = (uint16_t)(p[2] | p[3] << 8);
	c->indicator_pulse = (p[4] >> 2) & 1;
	c->talk_only = (p[4] >> 1) & 1;
	c->listen_only = p[4] & 1;
	c->term_char = p[5] & 1;
	c->bcd_usb488 = (uint16_t)(p[12] | p[13] << 8);
	c->is_488_2 = (p[14] >> 2) & 1;
	c->ren_control = (p[14] >> 1) & 1;
	c->trigger = p[14] & 1;
	c->scpi = (p[15] >> 3) & 1;
	c->sr1 = (p[15] >> 2) & 1;
	c->rl1 = (p[15] >> 1) & 1;
	c->dt1 = p[15] & 1;
	return MG_OK;
}

void mg_usbtmc_encode_caps(const mg_usbtmc_caps *c, uint8_t dst[MG_USBTMC_CAPS_LEN])
{
	memset(dst, 0, MG_USBTMC_CAPS_LEN);
	dst[0] = MG_USBTMC_STATUS_SUCCESS;
	dst[2] = (uint8_t)c->bcd_usbtmc;
	dst[3] = (uint8_t)(c->bcd_usbtmc >> 8);
	dst[4] = (uint8_t)((c->indicator_pulse ? 4 : 0) | (c->talk_only ? 2 : 0) | (c->listen_only ? 1 : 0));
	dst[5] = c->term_char ? 1 : 0;
	dst[12] = (uint8_t)c->bcd_usb488;
	dst[13] = (uint8_t)(c->bcd_usb488 >> 8);
	dst[14] = (uint8_t)((c->is_488_2 ? 4 : 0) | (c->ren_control ? 2 : 0) | (c->trigger ? 1 : 0));
	dst[15] = (uint8_t)((c->scpi ? 8 : 0) | (c->sr1 ? 4 : 0) | (c->rl1 ? 2 : 0) | (c->dt1 ? 1 : 0));
}

const char *mg_usbtmc_status_name(uint8_t status)
{
	switch (status) {
	case MG_USBTMC_STATUS_SUCCESS:
		return "STATUS_SUCCESS";
	case MG_USBTMC_STATUS_PENDING:
		return "STATUS_PENDING";
	case MG_USBTMC_STATUS_INTERRUPT_IN_BUSY:
		return "STATUS_INTERRUPT_IN_BUSY";
	case MG_USBTMC_STATUS_FAILED:
		return "STATUS_FAILED";
	case MG_USBTMC_STATUS_TRANSFER_NOT_IN_PROGRESS:
		return "STATUS_TRANSFER_NOT_IN_PROGRESS";
	case MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS:
		return "STATUS_SPLIT_NOT_IN_PROGRESS";
	case MG_USBTMC_STATUS_SPLIT_IN_PROGRESS:
		return "STATUS_SPLIT_IN_PROGRESS";
	}
	return "unknown status";
}

const char *mg_usbtmc_request_name(uint8_t request)
{
	switch (request) {
	case MG_USBTMC_REQ_INITIATE_ABORT_BULK_OUT:
		return "INITIATE_ABORT_BULK_OUT";
	case MG_USBTMC_REQ_CHECK_ABORT_BULK_OUT_STATUS:
		return "CHECK_ABORT_BULK_OUT_STATUS";
	case MG_USBTMC_REQ_INITIATE_ABORT_BULK_IN:
		return "INITIATE_ABORT_BULK_IN";
	case MG_USBTMC_REQ_CHECK_ABORT_BULK_IN_STATUS:
		return "CHECK_ABORT_BULK_IN_STATUS";
	case MG_USBTMC_REQ_INITIATE_CLEAR:
		return "INITIATE_CLEAR";
	case MG_USBTMC_REQ_CHECK_CLEAR_STATUS:
		return "CHECK_CLEAR_STATUS";
	case MG_USBTMC_REQ_GET_CAPABILITIES:
		return "GET_CAPABILITIES";
	case MG_USBTMC_REQ_INDICATOR_PULSE:
		return "INDICATOR_PULSE";
	case MG_USB488_REQ_READ_STATUS_BYTE:
		return "READ_STATUS_BYTE";
	case MG_USB488_REQ_REN_CONTROL:
		return "REN_CONTROL";
	case MG_USB488_REQ_GO_TO_LOCAL:
		return "GO_TO_LOCAL";
	case MG_USB488_REQ_LOCAL_LOCKOUT:
		return "LOCAL_LOCKOUT";
	}
	return "unknown request";
}

/* ================================================================ host transport */

struct tmc_priv {
	libusb_context *ctx;
	libusb_device_handle *h;
	int iface;
	uint8_t ep_in, ep_out;
	uint16_t in_packet;        /* wMaxPacketSize of Bulk-IN */
	int usb488;
	int reattach, claimed;
	uint8_t btag;              /* the last bTag used (0: none yet) */
	uint8_t last_out_btag;     /* of the last DEV_DEP_MSG_OUT */
	uint8_t last_req_btag;     /* of the last REQUEST_DEV_DEP_MSG_IN */
	uint8_t stb_btag;          /* READ_STATUS_BYTE: 2..127 */
	mg_usbtmc_caps caps;
	int have_caps;
	size_t max_out, max_in;
	uint8_t *rx;               /* one Bulk-IN transfer */
	size_t rx_cap;
	size_t data_pos, data_len; /* the current transfer's data in rx[12 + ...] not yet returned */
	int eom;                   /* the last transfer ended the message */
	mg_buf tx;
	mg_usbtmc_stats st;
};

static void pause_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* A class IN control request; returns the bytes received or a libusb error. */
static int ctrl_in(struct tmc_priv *p, uint8_t rt, uint8_t req, uint16_t value, uint16_t index, uint8_t *buf,
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
	int r = ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USBTMC_REQ_INITIATE_CLEAR, 0, (uint16_t)p->iface, b, 1);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return mg_usb_map_err_(r, DOM, "INITIATE_CLEAR", t->desc);
	if (r < 1)
		return mg_fail(MG_ERR_IO, DOM, "%s: INITIATE_CLEAR failed: %s", t->desc,
		               r < 0 ? libusb_error_name(r) : "empty answer");
	if (b[0] != MG_USBTMC_STATUS_SUCCESS)
		return mg_fail(MG_ERR_DEVICE, DOM, "%s: INITIATE_CLEAR: %s", t->desc, mg_usbtmc_status_name(b[0]));
	for (int i = 0; i < CHECK_POLLS; i++) {
		r = ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USBTMC_REQ_CHECK_CLEAR_STATUS, 0, (uint16_t)p->iface, b, 2);
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
	int r = ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_INITIATE_ABORT_BULK_IN, btag, p->ep_in, b, 2);
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
		r = ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_CHECK_ABORT_BULK_IN_STATUS, 0, p->ep_in, b, 8);
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
	int r = ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_INITIATE_ABORT_BULK_OUT, btag, p->ep_out, b, 2);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return;
	if (r >= 1 && b[0] == MG_USBTMC_STATUS_SUCCESS) {
		for (int i = 0; i < CHECK_POLLS; i++) {
			r = ctrl_in(p, MG_USBTMC_RT_EP, MG_USBTMC_REQ_CHECK_ABORT_BULK_OUT_STATUS, 0, p->ep_out, b, 8);
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

static const struct mg_transport_ops tmc_ops = {
	.write = tmc_write,
	.read = tmc_read,
	.flush_input = tmc_flush_input,
	.close = tmc_close,
};

int mg_usbtmc_transport_is(const mg_transport *t)
{
	return t && t->ops == &tmc_ops;
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
	int r = ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USB488_REQ_READ_STATUS_BYTE, p->stb_btag, (uint16_t)p->iface, b, 3);
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

/* ------------------------------------------------------------ open */

/* The first interface of class FE/03 (altsetting 0), its bulk endpoints and
 * Bulk-IN packet size. MG_ERR_UNSUPPORTED if there is none. */
static int find_usbtmc(libusb_device *dev, struct tmc_priv *p, const char *desc)
{
	struct libusb_config_descriptor *cfg = NULL;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 && libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return mg_fail(MG_ERR_IO, DOM, "%s: no configuration descriptor", desc);
	int found = 0;
	for (int i = 0; i < cfg->bNumInterfaces && !found; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
		if (alt->bInterfaceClass != MG_USBTMC_CLASS || alt->bInterfaceSubClass != MG_USBTMC_SUBCLASS)
			continue;
		int in = 0, out = 0;
		for (int e = 0; e < alt->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
			if ((ep->bmAttributes & 0x03) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
				if (!in++) {
					p->ep_in = ep->bEndpointAddress;
					p->in_packet = ep->wMaxPacketSize & 0x7ff;
				}
			} else if (!out++) {
				p->ep_out = ep->bEndpointAddress;
			}
		}
		if (in && out) {
			p->iface = alt->bInterfaceNumber;
			p->usb488 = alt->bInterfaceProtocol == MG_USBTMC_PROTOCOL_USB488;
			found = 1;
		}
	}
	libusb_free_config_descriptor(cfg);
	if (!found)
		return mg_fail(MG_ERR_UNSUPPORTED, DOM,
		               "%s: not a USBTMC instrument (no interface of class FE subclass 03 with bulk IN and OUT)",
		               desc);
	if (p->in_packet == 0)
		p->in_packet = 64;
	return MG_OK;
}

static int open_at(uint8_t bus, uint8_t addr, mg_transport **out)
{
	struct tmc_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_buf_init(&p->tx);
	p->max_out = DEFAULT_MAX_OUT;
	p->max_in = DEFAULT_MAX_IN;
	p->eom = 1;
	int lrc = libusb_init(&p->ctx);
	if (lrc) {
		free(p);
		return mg_fail(MG_ERR_IO, DOM, "libusb_init: %s", libusb_error_name(lrc));
	}
	libusb_device **list;
	ssize_t n = libusb_get_device_list(p->ctx, &list);
	if (n < 0) {
		libusb_exit(p->ctx);
		free(p);
		return mg_usb_map_err_((int)n, DOM, "listing devices", "usbtmc");
	}
	libusb_device *dev = NULL;
	for (ssize_t i = 0; i < n; i++)
		if (libusb_get_bus_number(list[i]) == bus && libusb_get_device_address(list[i]) == addr)
			dev = libusb_ref_device(list[i]);
	libusb_free_device_list(list, 1);
	if (!dev) {
		libusb_exit(p->ctx);
		free(p);
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "no USB device at bus %u address %u", bus, addr);
	}
	struct libusb_device_descriptor dd;
	libusb_get_device_descriptor(dev, &dd);
	char desc[64];
	snprintf(desc, sizeof(desc), "usbtmc %03u.%03u %04x:%04x", bus, addr, dd.idVendor, dd.idProduct);
	mg_transport *t = mg_transport_alloc_(MG_TRANSPORT_USBTMC, &tmc_ops, DOM, p, "%s", desc);
	if (!t) {
		libusb_unref_device(dev);
		libusb_exit(p->ctx);
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	int rc = find_usbtmc(dev, p, desc);
	if (rc == MG_OK) {
		lrc = libusb_open(dev, &p->h);
		if (lrc) {
			p->h = NULL;
			rc = mg_usb_map_err_(lrc, DOM, "open", desc);
			if (rc == MG_ERR_DISCONNECTED)
				rc = mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: the device went away while opening", desc);
		}
	}
	libusb_unref_device(dev);
	if (rc) {
		mg_transport_close(t);
		return rc;
	}
	/* A buffer of whole packets holding a header, the most data asked for and padding. */
	p->rx_cap = (MG_USBTMC_HEADER_LEN + DEFAULT_MAX_IN + 3 + p->in_packet - 1) / p->in_packet * p->in_packet;
	p->rx = malloc(p->rx_cap);
	if (!p->rx) {
		mg_transport_close(t);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	lrc = libusb_kernel_driver_active(p->h, p->iface);
	if (lrc == 1) {
		lrc = libusb_detach_kernel_driver(p->h, p->iface);
		if (lrc) {
			rc = mg_usb_map_err_(lrc, DOM, "detaching the kernel driver (usbtmc)", desc);
			mg_transport_close(t);
			return rc;
		}
		p->reattach = 1;
		mg_dbg(DOM, "%s: detached the kernel driver from interface %d", desc, p->iface);
	}
	lrc = libusb_claim_interface(p->h, p->iface);
	if (lrc) {
		rc = mg_usb_map_err_(lrc, DOM, "claiming the USBTMC interface", desc);
		mg_transport_close(t);
		return rc;
	}
	p->claimed = 1;
	uint8_t caps[MG_USBTMC_CAPS_LEN];
	int r = ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USBTMC_REQ_GET_CAPABILITIES, 0, (uint16_t)p->iface, caps,
	                sizeof(caps));
	if (r == LIBUSB_ERROR_NO_DEVICE) {
		rc = mg_usb_map_err_(r, DOM, "GET_CAPABILITIES", desc);
		mg_transport_close(t);
		return rc == MG_ERR_DISCONNECTED ? mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: gone while opening", desc) : rc;
	}
	if (r >= 0 && mg_usbtmc_decode_caps(caps, (size_t)r, &p->caps) == MG_OK)
		p->have_caps = 1;
	else
		mg_dbg(DOM, "%s: GET_CAPABILITIES refused (%s): going on without", desc,
		       r < 0 ? libusb_error_name(r) : mg_error_detail());
	mg_dbg(DOM, "%s: interface %d (%s), bulk OUT 0x%02x, bulk IN 0x%02x (%u-byte packets)%s%s%s", desc, p->iface,
	       p->usb488 ? "USB488" : "USBTMC", p->ep_out, p->ep_in, p->in_packet, p->have_caps ? ", caps:" : "",
	       p->have_caps && p->caps.scpi ? " SCPI" : "", p->have_caps && p->caps.term_char ? " TermChar" : "");
	*out = t;
	return MG_OK;
}

int mg_transport_usbtmc_open_uri_(const mg_transport_uri *uri, mg_transport **out)
{
	*out = NULL;
	if (uri->usb_by_address)
		return open_at(uri->bus, uri->address, out);
	mg_transport_usb_info *list;
	size_t n;
	int rc = mg_transport_usb_list(uri->vid, uri->pid, &list, &n);
	if (rc)
		return rc;
	size_t pick = n;
	for (size_t i = 0; i < n && pick == n; i++)
		if (!uri->serial || !strcmp(list[i].serial, uri->serial))
			pick = i;
	if (pick == n) {
		rc = n == 0 ? mg_fail(MG_ERR_NOT_FOUND, DOM, "no USB device %04x:%04x connected", uri->vid, uri->pid)
		            : mg_fail(MG_ERR_NOT_FOUND, DOM,
		                      "no %04x:%04x device with USB serial string '%s' (%zu device(s) found)", uri->vid,
		                      uri->pid, uri->serial, n);
		free(list);
		return rc;
	}
	if (!uri->serial && n > 1)
		mg_info(DOM, "%zu devices %04x:%04x connected; opening the first (usbtmc:%u.%u)", n, uri->vid, uri->pid,
		        list[0].bus, list[0].address);
	uint8_t bus = list[pick].bus, addr = list[pick].address;
	free(list);
	return open_at(bus, addr, out);
}

/* ================================================================ device side */

void mg_usbtmc_fn_init(mg_usbtmc_fn *f, const mg_usbtmc_caps *caps, uint8_t ep_out, uint8_t ep_in)
{
	memset(f, 0, sizeof(*f));
	if (caps)
		f->caps = *caps;
	f->ep_out = ep_out;
	f->ep_in = ep_in;
	mg_buf_init(&f->msg);
	mg_buf_init(&f->resp);
}

void mg_usbtmc_fn_free(mg_usbtmc_fn *f)
{
	mg_buf_free(&f->msg);
	mg_buf_free(&f->resp);
}

static size_t resp_left(const mg_usbtmc_fn *f)
{
	return f->resp.len - f->resp_pos;
}

/* Answer the waiting request with as much as it takes. */
static int fn_emit(mg_usbtmc_fn *f, mg_buf *bulk_in)
{
	if (!f->req_pending || resp_left(f) == 0)
		return MG_OK;
	size_t k = resp_left(f) < f->req_max ? resp_left(f) : f->req_max;
	int eom = k == resp_left(f);
	int rc = mg_usbtmc_encode_transfer(bulk_in, 1, f->req_btag, f->resp.data + f->resp_pos, k, eom);
	if (rc)
		return rc;
	f->resp_pos += k;
	f->nbytes_txd = (uint32_t)k;
	if (f->resp_pos == f->resp.len) {
		mg_buf_reset(&f->resp);
		f->resp_pos = 0;
	}
	f->req_pending = 0;
	f->in_fifo = 1;
	f->in_fifo_btag = f->req_btag;
	f->st.transfers_in++;
	return MG_OK;
}

int mg_usbtmc_fn_respond(mg_usbtmc_fn *f, const void *data, size_t n, mg_buf *bulk_in)
{
	if (n && mg_buf_append(&f->resp, data, n))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	return fn_emit(f, bulk_in);
}

/* A complete message: to the instrument, its answer queued. */
static int fn_deliver(mg_usbtmc_fn *f, mg_usbtmc_fn_message on_msg, void *userdata, mg_buf *bulk_in)
{
	mg_buf resp;
	mg_buf_init(&resp);
	f->st.messages++;
	int rc = on_msg ? on_msg((const uint8_t *)f->msg.data, f->msg.len, &resp, userdata) : MG_OK;
	if (rc < 0)
		mg_dbg(DOM, "the instrument failed on a message: %s", mg_error_detail());
	mg_buf_reset(&f->msg);
	rc = mg_usbtmc_fn_respond(f, resp.data, resp.len, bulk_in);
	mg_buf_free(&resp);
	return rc;
}

int mg_usbtmc_fn_bulk_out(mg_usbtmc_fn *f, const uint8_t *in, size_t n, mg_usbtmc_fn_message on_msg,
                          void *userdata, mg_buf *bulk_in)
{
	size_t i = 0;
	while (i < n) {
		if (f->pad_left) {
			size_t k = n - i < f->pad_left ? n - i : f->pad_left;
			f->pad_left -= k;
			i += k;
			continue;
		}
		if (f->in_transfer) {
			size_t k = n - i < f->data_left ? n - i : f->data_left;
			if (mg_buf_append(&f->msg, in + i, k))
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			f->data_left -= k;
			f->nbytes_rxd += (uint32_t)k;
			i += k;
			if (f->data_left == 0) {
				f->in_transfer = 0;
				f->pad_left = mg_usbtmc_transfer_len(f->cur.transfer_size) - MG_USBTMC_HEADER_LEN -
				              f->cur.transfer_size;
				f->st.transfers_out++;
				if (f->cur.attributes & MG_USBTMC_ATTR_EOM) {
					int rc = fn_deliver(f, on_msg, userdata, bulk_in);
					if (rc)
						return rc;
				}
			}
			continue;
		}
		size_t k = MG_USBTMC_HEADER_LEN - f->hdr_have;
		if (k > n - i)
			k = n - i;
		memcpy(f->hdr + f->hdr_have, in + i, k);
		f->hdr_have += k;
		i += k;
		if (f->hdr_have < MG_USBTMC_HEADER_LEN)
			break;
		f->hdr_have = 0;
		mg_usbtmc_header h;
		int rc = mg_usbtmc_decode_header(f->hdr, MG_USBTMC_HEADER_LEN, 0, &h);
		if (rc == MG_OK && h.msg_id != MG_USBTMC_DEV_DEP_MSG_OUT && h.msg_id != MG_USBTMC_REQUEST_DEV_DEP_MSG_IN)
			rc = mg_fail(MG_ERR_PROTOCOL, DOM, "%s is not supported", mg_usbtmc_msg_name(h.msg_id, 0));
		if (rc) {
			f->st.bad_headers++;
			return rc;
		}
		f->last_out_btag = h.btag;
		f->in_fifo = 0; /* the host sent something new: it read what was there */
		f->cur = h;
		if (h.msg_id == MG_USBTMC_DEV_DEP_MSG_OUT) {
			f->nbytes_rxd = 0;
			f->data_left = h.transfer_size;
			f->in_transfer = h.transfer_size > 0;
			if (h.transfer_size == 0) {
				f->st.transfers_out++;
				if (h.attributes & MG_USBTMC_ATTR_EOM) {
					rc = fn_deliver(f, on_msg, userdata, bulk_in);
					if (rc)
						return rc;
				}
			}
		} else {
			f->st.requests_in++;
			f->req_pending = 1;
			f->req_btag = h.btag;
			f->req_max = h.transfer_size;
			rc = fn_emit(f, bulk_in);
			if (rc)
				return rc;
		}
	}
	return MG_OK;
}

static int fn_status(uint8_t *data, size_t cap, const uint8_t *b, size_t n)
{
	if (n > cap)
		n = cap;
	memcpy(data, b, n);
	return (int)n;
}

int mg_usbtmc_fn_control(mg_usbtmc_fn *f, const uint8_t setup[8], uint8_t *data, size_t cap, unsigned *actions)
{
	uint8_t rt = setup[0], req = setup[1];
	unsigned value = setup[2] | setup[3] << 8, index = setup[4] | setup[5] << 8;
	uint8_t b[24] = {0};
	*actions = 0;
	f->st.controls++;
	int ep_req = req >= MG_USBTMC_REQ_INITIATE_ABORT_BULK_OUT && req <= MG_USBTMC_REQ_CHECK_ABORT_BULK_IN_STATUS;
	if (rt != (ep_req ? MG_USBTMC_RT_EP : MG_USBTMC_RT_IFACE))
		return -1;
	switch (req) {
	case MG_USBTMC_REQ_GET_CAPABILITIES:
		f->st.caps_requests++;
		mg_usbtmc_encode_caps(&f->caps, b);
		return fn_status(data, cap, b, MG_USBTMC_CAPS_LEN);
	case MG_USBTMC_REQ_INITIATE_ABORT_BULK_IN:
		if (index != f->ep_in)
			return -1;
		f->st.aborts_in++;
		f->st.last_abort_btag = (uint8_t)value;
		b[1] = f->req_pending ? f->req_btag : f->in_fifo_btag;
		if (!f->req_pending && !f->in_fifo && resp_left(f) == 0) {
			b[0] = MG_USBTMC_STATUS_FAILED;
		} else if ((f->req_pending && (uint8_t)value != f->req_btag) ||
		           (!f->req_pending && f->in_fifo && (uint8_t)value != f->in_fifo_btag) ||
		           (!f->req_pending && !f->in_fifo)) {
			b[0] = MG_USBTMC_STATUS_TRANSFER_NOT_IN_PROGRESS;
		} else {
			b[0] = MG_USBTMC_STATUS_SUCCESS;
			f->req_pending = 0;
			f->in_fifo = 0;
			mg_buf_reset(&f->resp);
			f->resp_pos = 0;
			f->abort_in = 1;
			*actions = MG_USBTMC_FN_DROP_IN | MG_USBTMC_FN_ZLP;
		}
		return fn_status(data, cap, b, 2);
	case MG_USBTMC_REQ_CHECK_ABORT_BULK_IN_STATUS:
		if (index != f->ep_in)
			return -1;
		f->st.check_status++;
		if (!f->abort_in) {
			b[0] = MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS;
		} else if (f->check_pending) {
			f->check_pending--;
			b[0] = MG_USBTMC_STATUS_PENDING;
		} else {
			b[0] = MG_USBTMC_STATUS_SUCCESS;
			PUT32(b + 4, f->nbytes_txd);
			f->abort_in = 0;
		}
		return fn_status(data, cap, b, 8);
	case MG_USBTMC_REQ_INITIATE_ABORT_BULK_OUT:
		if (index != f->ep_out)
			return -1;
		f->st.aborts_out++;
		f->st.last_abort_btag = (uint8_t)value;
		b[1] = f->last_out_btag;
		if (!f->in_transfer) {
			b[0] = MG_USBTMC_STATUS_FAILED;
		} else if ((uint8_t)value != f->cur.btag) {
			b[0] = MG_USBTMC_STATUS_TRANSFER_NOT_IN_PROGRESS;
		} else {
			b[0] = MG_USBTMC_STATUS_SUCCESS;
			f->in_transfer = 0;
			f->data_left = f->pad_left = 0;
			f->hdr_have = 0;
			mg_buf_reset(&f->msg);
			f->abort_out = 1;
		}
		return fn_status(data, cap, b, 2);
	case MG_USBTMC_REQ_CHECK_ABORT_BULK_OUT_STATUS:
		if (index != f->ep_out)
			return -1;
		f->st.check_status++;
		if (!f->abort_out) {
			b[0] = MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS;
		} else if (f->check_pending) {
			f->check_pending--;
			b[0] = MG_USBTMC_STATUS_PENDING;
		} else {
			b[0] = MG_USBTMC_STATUS_SUCCESS;
			PUT32(b + 4, f->nbytes_rxd);
			f->abort_out = 0;
		}
		return fn_status(data, cap, b, 8);
	case MG_USBTMC_REQ_INITIATE_CLEAR:
		f->st.clears++;
		f->in_transfer = 0;
		f->data_left = f->pad_left = 0;
		f->hdr_have = 0;
		mg_buf_reset(&f->msg);
		mg_buf_reset(&f->resp);
		f->resp_pos = 0;
		f->req_pending = 0;
		f->in_fifo = 0;
		f->clearing = 1;
		*actions = MG_USBTMC_FN_DROP_IN;
		b[0] = MG_USBTMC_STATUS_SUCCESS;
		return fn_status(data, cap, b, 1);
	case MG_USBTMC_REQ_CHECK_CLEAR_STATUS:
		f->st.check_status++;
		if (!f->clearing) {
			b[0] = MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS;
		} else if (f->check_pending) {
			f->check_pending--;
			b[0] = MG_USBTMC_STATUS_PENDING;
		} else {
			b[0] = MG_USBTMC_STATUS_SUCCESS;
			f->clearing = 0;
		}
		return fn_status(data, cap, b, 2);
	case MG_USB488_REQ_READ_STATUS_BYTE:
		if (!f->caps.bcd_usb488 || value < 2 || value > 127)
			return -1;
		f->st.stb_requests++;
		b[0] = MG_USBTMC_STATUS_SUCCESS;
		b[1] = (uint8_t)value;
		b[2] = (uint8_t)(f->stb | (resp_left(f) ? 0x10 : 0)); /* MAV: answer bytes not sent yet */
		return fn_status(data, cap, b, 3);
	case MG_USBTMC_REQ_INDICATOR_PULSE:
		if (!f->caps.indicator_pulse)
			return -1;
		b[0] = MG_USBTMC_STATUS_SUCCESS;
		return fn_status(data, cap, b, 1);
	case MG_USB488_REQ_REN_CONTROL:
	case MG_USB488_REQ_GO_TO_LOCAL:
	case MG_USB488_REQ_LOCAL_LOCKOUT:
		if (!f->caps.ren_control)
			return -1;
		b[0] = MG_USBTMC_STATUS_SUCCESS;
		return fn_status(data, cap, b, 1);
	}
	return -1;
}
