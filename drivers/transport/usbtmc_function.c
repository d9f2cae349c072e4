/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The device side of USBTMC / USB488 (usbtmc.h, mg_usbtmc_fn): the state
 * machine a simulated instrument puts behind an emulated USB device — bulk
 * OUT transfers assembled into messages, REQUEST_DEV_DEP_MSG_IN answered
 * from the response, the class control requests (aborts, clear,
 * capabilities, status byte). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "usbtmc_internal.h"

#define DOM "usbtmc"

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
