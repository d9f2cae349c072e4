/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The USBTMC / USB488 codec (usbtmc.h): pure functions on bytes, no I/O,
 * fuzzed — the 12-byte bulk headers, bTag sequencing, alignment, splitting a
 * message into transfers, the GET_CAPABILITIES answer, and the names of
 * messages, requests and status values. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "usbtmc_internal.h"

#define DOM "usbtmc"

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
