/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The USBTMC codec and the device-side state machine (drivers/transport/
 * usbtmc.c): bulk headers byte for byte, bTag sequencing and the 255 -> 1
 * wrap, padding to 4 bytes, message splitting with EOM on the last transfer,
 * header validation, GET_CAPABILITIES, and the abort / clear split
 * transactions as a device answers them. The host side of the same requests
 * runs against this state machine in test_icp_usbtmc (libusb + umockdev). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "drivers/transport/usbtmc.h"
#include "magassay/error.h"

static void test_btag_len(void)
{
	CHECK(mg_usbtmc_next_btag(0) == 1);
	CHECK(mg_usbtmc_next_btag(1) == 2);
	CHECK(mg_usbtmc_next_btag(254) == 255);
	CHECK(mg_usbtmc_next_btag(255) == 1);
	uint8_t b = 0;
	for (int i = 0; i < 1000; i++) {
		b = mg_usbtmc_next_btag(b);
		CHECK(b != 0);
	}
	CHECK(b == 1000 % 255);
	CHECK(mg_usbtmc_transfer_len(0) == 12);
	CHECK(mg_usbtmc_transfer_len(1) == 16);
	CHECK(mg_usbtmc_transfer_len(4) == 16);
	CHECK(mg_usbtmc_transfer_len(5) == 20);
	CHECK(mg_usbtmc_transfer_len(52) == 64);
}

static void test_encode(void)
{
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_usbtmc_encode_transfer(&b, 0, 1, "*IDN?\n", 6, 1), MG_OK);
	static const uint8_t want[] = {0x01, 0x01, 0xfe, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	                               '*',  'I',  'D',  'N',  '?',  '\n', 0x00, 0x00};
	CHECK(b.len == sizeof(want) && !memcmp(b.data, want, sizeof(want)));
	mg_buf_reset(&b);
	CHECK_RC(mg_usbtmc_encode_transfer(&b, 1, 0x5b, "1\n", 2, 0), MG_OK);
	static const uint8_t want_in[] = {0x02, 0x5b, 0xa4, 0, 2, 0, 0, 0, 0x00, 0, 0, 0, '1', '\n', 0, 0};
	CHECK(b.len == sizeof(want_in) && !memcmp(b.data, want_in, sizeof(want_in)));
	uint8_t h[12];
	mg_usbtmc_encode_request_in(7, 0x12345678, -1, h);
	static const uint8_t want_req[] = {0x02, 0x07, 0xf8, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0};
	CHECK(!memcmp(h, want_req, 12));
	mg_usbtmc_encode_request_in(8, 64, '\n', h);
	CHECK(h[8] == 0x02 && h[9] == '\n');
	/* padding is zeros; the length is a multiple of 4 for every size */
	for (size_t n = 0; n < 9; n++) {
		mg_buf_reset(&b);
		char data[9] = "abcdefgh";
		mg_usbtmc_encode_transfer(&b, 0, 3, data, n, 1);
		CHECK(b.len % 4 == 0 && b.len == mg_usbtmc_transfer_len(n));
		for (size_t k = 12 + n; k < b.len; k++)
			CHECK(b.data[k] == 0);
	}
	mg_buf_free(&b);
}

static void test_split(void)
{
	mg_buf b;
	mg_buf_init(&b);
	char msg[100];
	for (int i = 0; i < 100; i++)
		msg[i] = (char)('A' + i % 26);
	uint8_t tag = 253;
	size_t nt;
	CHECK_RC(mg_usbtmc_split_message(&b, &tag, msg, 100, 30, &nt), MG_OK);
	CHECK(nt == 4 && tag == 2);
	/* walk the transfers back */
	size_t off = 0, got = 0;
	uint8_t expect_tag[] = {254, 255, 1, 2};
	for (size_t k = 0; k < 4 && off < b.len; k++) {
		mg_usbtmc_header h;
		CHECK_RC(mg_usbtmc_decode_header((const uint8_t *)b.data + off, b.len - off, 0, &h), MG_OK);
		CHECK(h.msg_id == MG_USBTMC_DEV_DEP_MSG_OUT && h.btag == expect_tag[k]);
		CHECK(h.transfer_size == (k < 3 ? 30u : 10u));
		CHECK(((h.attributes & MG_USBTMC_ATTR_EOM) != 0) == (k == 3));
		CHECK(!memcmp(b.data + off + 12, msg + got, h.transfer_size));
		got += h.transfer_size;
		off += mg_usbtmc_transfer_len(h.transfer_size);
	}
	CHECK(off == b.len && got == 100);
	/* an empty message is one empty transfer with EOM */
	mg_buf_reset(&b);
	tag = 0;
	CHECK_RC(mg_usbtmc_split_message(&b, &tag, "", 0, 30, &nt), MG_OK);
	CHECK(nt == 1 && b.len == 12 && (uint8_t)b.data[8] == 1 && tag == 1);
	CHECK_RC(mg_usbtmc_split_message(&b, &tag, msg, 10, 0, &nt), MG_ERR_ARG);
	mg_buf_free(&b);
}

static void bad_header(const uint8_t *p, int in, const char *needle)
{
	mg_usbtmc_header h;
	int rc = mg_usbtmc_decode_header(p, 12, in, &h);
	CHECK_MSG(rc == MG_ERR_PROTOCOL && strstr(mg_error_detail(), needle), "header: rc %d, detail '%s', wanted '%s'", rc,
	          mg_error_detail(), needle);
}

static void test_decode(void)
{
	mg_usbtmc_header h;
	uint8_t p[12] = {0x02, 0x05, 0xfa, 0, 0x10, 0, 0, 0, 0x01, 0, 0, 0};
	CHECK_RC(mg_usbtmc_decode_header(p, 12, 1, &h), MG_OK);
	CHECK(h.msg_id == 2 && h.btag == 5 && h.transfer_size == 16 && h.attributes == 1);
	CHECK_RC(mg_usbtmc_decode_header(p, 11, 1, &h), MG_ERR_NEED_MORE);
	uint8_t q[12];
	memcpy(q, p, 12);
	q[2] = 0xfb;
	bad_header(q, 1, "bTagInverse");
	memcpy(q, p, 12);
	q[1] = 0, q[2] = 0xff;
	bad_header(q, 1, "bTag 0");
	memcpy(q, p, 12);
	q[3] = 1;
	bad_header(q, 1, "byte 3");
	memcpy(q, p, 12);
	q[0] = 1;
	bad_header(q, 1, "MsgID 1");
	memcpy(q, p, 12);
	q[8] = 0x04;
	bad_header(q, 1, "bmTransferAttributes");
	memcpy(q, p, 12);
	q[10] = 9;
	bad_header(q, 1, "bytes 10-11");
	/* host direction */
	uint8_t o[12] = {0x01, 0x09, 0xf6, 0, 3, 0, 0, 0, 0x01, 0, 0, 0};
	CHECK_RC(mg_usbtmc_decode_header(o, 12, 0, &h), MG_OK);
	o[8] = 0x02;
	bad_header(o, 0, "bmTransferAttributes");
	o[8] = 0x01;
	o[9] = 0x0a;
	bad_header(o, 0, "byte 9");
	uint8_t r[12];
	mg_usbtmc_encode_request_in(9, 0, -1, r);
	bad_header(r, 0, "0 bytes");
	mg_usbtmc_encode_request_in(9, 100, '\n', r);
	CHECK_RC(mg_usbtmc_decode_header(r, 12, 0, &h), MG_OK);
	CHECK(h.term_char == '\n' && h.attributes == MG_USBTMC_ATTR_TERMCHAR);
	uint8_t trig[12] = {128, 3, 0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	CHECK_RC(mg_usbtmc_decode_header(trig, 12, 0, &h), MG_OK);
	trig[5] = 1;
	bad_header(trig, 0, "TRIGGER");
	uint8_t unk[12] = {77, 3, 0xfc, 0, 1, 0, 0, 0, 0, 0, 0, 0};
	bad_header(unk, 0, "MsgID 77");
}

static void test_caps(void)
{
	mg_usbtmc_caps c = {.bcd_usbtmc = 0x0100, .indicator_pulse = 1, .term_char = 1, .bcd_usb488 = 0x0100,
	                    .is_488_2 = 1, .ren_control = 1, .scpi = 1, .sr1 = 1, .dt1 = 1};
	uint8_t b[24];
	mg_usbtmc_encode_caps(&c, b);
	CHECK(b[0] == 1 && b[2] == 0x00 && b[3] == 0x01 && b[4] == 0x04 && b[5] == 0x01);
	CHECK(b[12] == 0x00 && b[13] == 0x01 && b[14] == 0x06 && b[15] == 0x0d);
	mg_usbtmc_caps d;
	CHECK_RC(mg_usbtmc_decode_caps(b, 24, &d), MG_OK);
	CHECK(!memcmp(&c, &d, sizeof(c)));
	CHECK_RC(mg_usbtmc_decode_caps(b, 23, &d), MG_ERR_PROTOCOL);
	b[0] = MG_USBTMC_STATUS_FAILED;
	CHECK_RC(mg_usbtmc_decode_caps(b, 24, &d), MG_ERR_DEVICE);
	CHECK(strstr(mg_error_detail(), "STATUS_FAILED") != NULL);
	CHECK(!strcmp(mg_usbtmc_status_name(0x81), "STATUS_TRANSFER_NOT_IN_PROGRESS"));
	CHECK(!strcmp(mg_usbtmc_request_name(3), "INITIATE_ABORT_BULK_IN"));
	CHECK(!strcmp(mg_usbtmc_request_name(128), "READ_STATUS_BYTE"));
	CHECK(!strcmp(mg_usbtmc_msg_name(2, 0), "REQUEST_DEV_DEP_MSG_IN"));
	CHECK(!strcmp(mg_usbtmc_msg_name(2, 1), "DEV_DEP_MSG_IN"));
}

/* ------------------------------------------------------------ the device side */

struct inst {
	unsigned messages;
	char last[256];
	int silent;
};

static int on_msg(const uint8_t *msg, size_t n, mg_buf *resp, void *ud)
{
	struct inst *in = ud;
	in->messages++;
	snprintf(in->last, sizeof(in->last), "%.*s", (int)n, (const char *)msg);
	if (in->silent)
		return MG_OK;
	if (n && memchr(msg, '?', n))
		mg_buf_printf(resp, "answer to %.*s", (int)n, (const char *)msg);
	return MG_OK;
}

static int ctrl(mg_usbtmc_fn *f, uint8_t rt, uint8_t req, uint16_t value, uint16_t index, uint16_t len,
                uint8_t *data, unsigned *actions)
{
	uint8_t setup[8] = {rt, req, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index, (uint8_t)(index >> 8),
	                    (uint8_t)len, (uint8_t)(len >> 8)};
	return mg_usbtmc_fn_control(f, setup, data, len, actions);
}

/* Decode one DEV_DEP_MSG_IN from bulk_in at *off. */
static size_t take_in(const mg_buf *in, size_t *off, uint8_t tag, char *data, size_t cap, int *eom)
{
	mg_usbtmc_header h;
	int rc = mg_usbtmc_decode_header((const uint8_t *)in->data + *off, in->len - *off, 1, &h);
	CHECK_MSG(rc == MG_OK && h.btag == tag, "DEV_DEP_MSG_IN: rc %d tag %u (wanted %u)", rc, h.btag, tag);
	if (rc)
		return 0;
	size_t n = h.transfer_size < cap ? h.transfer_size : cap;
	memcpy(data, in->data + *off + 12, n);
	*eom = h.attributes & MG_USBTMC_ATTR_EOM;
	*off += mg_usbtmc_transfer_len(h.transfer_size);
	return n;
}

static void test_fn_messages(void)
{
	mg_usbtmc_caps caps = {.bcd_usbtmc = 0x100, .bcd_usb488 = 0x100, .scpi = 1, .is_488_2 = 1};
	mg_usbtmc_fn f;
	mg_usbtmc_fn_init(&f, &caps, 0x02, 0x81);
	struct inst in = {0};
	mg_buf out, bulk;
	mg_buf_init(&out);
	mg_buf_init(&bulk);
	/* a message split over 3 transfers, fed one byte at a time */
	uint8_t tag = 0;
	const char *q = "MEAS:VOLT:DC? 10,0.001";
	mg_usbtmc_split_message(&out, &tag, q, strlen(q), 8, NULL);
	for (size_t i = 0; i < out.len; i++)
		CHECK_RC(mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data + i, 1, on_msg, &in, &bulk), MG_OK);
	CHECK(in.messages == 1 && !strcmp(in.last, q) && bulk.len == 0);
	CHECK(f.st.transfers_out == 3);
	/* ask for the answer 10 bytes at a time: EOM only on the last */
	char got[256] = "";
	size_t gl = 0, off = 0;
	int eom = 0;
	for (int k = 0; k < 10 && !eom; k++) {
		uint8_t r[12];
		tag = mg_usbtmc_next_btag(tag);
		mg_usbtmc_encode_request_in(tag, 10, -1, r);
		CHECK_RC(mg_usbtmc_fn_bulk_out(&f, r, 12, on_msg, &in, &bulk), MG_OK);
		gl += take_in(&bulk, &off, tag, got + gl, sizeof(got) - gl - 1, &eom);
	}
	got[gl] = '\0';
	CHECK_MSG(!strcmp(got, "answer to MEAS:VOLT:DC? 10,0.001") && eom, "answer '%s' eom %d", got, eom);
	CHECK(f.st.transfers_in == 4);
	/* a request before the answer exists waits for it */
	uint8_t r[12];
	tag = mg_usbtmc_next_btag(tag);
	mg_usbtmc_encode_request_in(tag, 1000, -1, r);
	size_t before = bulk.len;
	mg_usbtmc_fn_bulk_out(&f, r, 12, on_msg, &in, &bulk);
	CHECK(bulk.len == before && f.req_pending);
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "*IDN?", 5, 1000, NULL);
	/* the request's tag was used before this message: the answer echoes the request's */
	uint8_t req_tag = f.req_btag;
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	off = before;
	gl = take_in(&bulk, &off, req_tag, got, sizeof(got) - 1, &eom);
	got[gl] = '\0';
	CHECK(!strcmp(got, "answer to *IDN?") && eom);
	/* two messages in one write call */
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "A", 1, 100, NULL);
	mg_usbtmc_split_message(&out, &tag, "BB", 2, 100, NULL);
	unsigned m0 = in.messages;
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	CHECK(in.messages == m0 + 2 && !strcmp(in.last, "BB"));
	/* a bad header: rejected, counted; the next transfer is fine */
	uint8_t bad[12] = {0x01, 0x05, 0x05, 0, 1, 0, 0, 0, 1, 0, 0, 0};
	CHECK_RC(mg_usbtmc_fn_bulk_out(&f, bad, 12, on_msg, &in, &bulk), MG_ERR_PROTOCOL);
	CHECK(f.st.bad_headers == 1);
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "C", 1, 100, NULL);
	CHECK_RC(mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk), MG_OK);
	CHECK(!strcmp(in.last, "C"));
	mg_buf_free(&out);
	mg_buf_free(&bulk);
	mg_usbtmc_fn_free(&f);
}

static void test_fn_control(void)
{
	mg_usbtmc_caps caps = {.bcd_usbtmc = 0x100, .bcd_usb488 = 0x100, .scpi = 1, .is_488_2 = 1};
	mg_usbtmc_fn f;
	mg_usbtmc_fn_init(&f, &caps, 0x02, 0x81);
	struct inst in = {.silent = 1};
	mg_buf out, bulk;
	mg_buf_init(&out);
	mg_buf_init(&bulk);
	uint8_t d[24];
	unsigned act;
	/* GET_CAPABILITIES */
	CHECK(ctrl(&f, 0xa1, 7, 0, 0, 24, d, &act) == 24);
	mg_usbtmc_caps c;
	CHECK_RC(mg_usbtmc_decode_caps(d, 24, &c), MG_OK);
	CHECK(c.scpi && c.is_488_2 && c.bcd_usb488 == 0x100 && !c.indicator_pulse);
	/* nothing to abort */
	CHECK(ctrl(&f, 0xa2, 3, 1, 0x81, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_FAILED && act == 0);
	CHECK(ctrl(&f, 0xa2, 4, 0, 0x81, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS);
	/* a query the instrument does not answer: the request waits; abort it */
	uint8_t tag = 0;
	mg_usbtmc_split_message(&out, &tag, "X?", 2, 100, NULL);
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	uint8_t r[12];
	tag = mg_usbtmc_next_btag(tag);
	mg_usbtmc_encode_request_in(tag, 100, -1, r);
	mg_usbtmc_fn_bulk_out(&f, r, 12, on_msg, &in, &bulk);
	CHECK(f.req_pending && bulk.len == 0);
	CHECK(ctrl(&f, 0xa2, 3, (uint16_t)(tag + 1), 0x81, 2, d, &act) == 2 &&
	      d[0] == MG_USBTMC_STATUS_TRANSFER_NOT_IN_PROGRESS && d[1] == tag);
	CHECK(ctrl(&f, 0xa2, 3, tag, 0x81, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_SUCCESS && d[1] == tag);
	CHECK(act == (MG_USBTMC_FN_DROP_IN | MG_USBTMC_FN_ZLP) && !f.req_pending && f.st.last_abort_btag == tag);
	f.check_pending = 2;
	CHECK(ctrl(&f, 0xa2, 4, 0, 0x81, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_PENDING);
	CHECK(ctrl(&f, 0xa2, 4, 0, 0x81, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_PENDING);
	CHECK(ctrl(&f, 0xa2, 4, 0, 0x81, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_SUCCESS);
	CHECK(ctrl(&f, 0xa2, 4, 0, 0x81, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS);
	/* an answer already sent but not read yet can be aborted too */
	in.silent = 0;
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "Y?", 2, 100, NULL);
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	tag = mg_usbtmc_next_btag(tag);
	mg_usbtmc_encode_request_in(tag, 100, -1, r);
	mg_usbtmc_fn_bulk_out(&f, r, 12, on_msg, &in, &bulk);
	CHECK(bulk.len > 0 && f.in_fifo);
	CHECK(ctrl(&f, 0xa2, 3, tag, 0x81, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_SUCCESS);
	CHECK(ctrl(&f, 0xa2, 4, 0, 0x81, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_SUCCESS && d[4] == 12);
	/* abort a half-received Bulk-OUT transfer */
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "LONG MESSAGE", 12, 100, NULL);
	unsigned m0 = in.messages;
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, 16, on_msg, &in, &bulk);
	CHECK(f.in_transfer);
	CHECK(ctrl(&f, 0xa2, 1, tag, 0x02, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_SUCCESS && d[1] == tag);
	CHECK(ctrl(&f, 0xa2, 2, 0, 0x02, 8, d, &act) == 8 && d[0] == MG_USBTMC_STATUS_SUCCESS && d[4] == 4);
	CHECK(in.messages == m0);
	CHECK(ctrl(&f, 0xa2, 1, tag, 0x02, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_FAILED);
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "OK", 2, 100, NULL);
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	CHECK(in.messages == m0 + 1 && !strcmp(in.last, "OK"));
	/* a clear drops everything, the pending answer included */
	mg_buf_reset(&out);
	mg_usbtmc_split_message(&out, &tag, "Z?", 2, 100, NULL);
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	CHECK(f.resp.len > 0);
	CHECK(ctrl(&f, 0xa1, 6, 0, 0, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_SPLIT_NOT_IN_PROGRESS);
	CHECK(ctrl(&f, 0xa1, 5, 0, 0, 1, d, &act) == 1 && d[0] == MG_USBTMC_STATUS_SUCCESS && act == MG_USBTMC_FN_DROP_IN);
	CHECK(f.resp.len == 0 && !f.req_pending && f.st.clears == 1);
	CHECK(ctrl(&f, 0xa1, 6, 0, 0, 2, d, &act) == 2 && d[0] == MG_USBTMC_STATUS_SUCCESS && d[1] == 0);
	/* READ_STATUS_BYTE echoes its bTag; MAV when an answer waits */
	CHECK(ctrl(&f, 0xa1, 128, 5, 0, 3, d, &act) == 3 && d[0] == 1 && d[1] == 5 && !(d[2] & 0x10));
	mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)out.data, out.len, on_msg, &in, &bulk);
	CHECK(ctrl(&f, 0xa1, 128, 6, 0, 3, d, &act) == 3 && (d[2] & 0x10));
	CHECK(ctrl(&f, 0xa1, 128, 1, 0, 3, d, &act) < 0); /* bTag 1 is reserved */
	/* stalls: wrong request type, wrong endpoint, optional requests not offered, unknown */
	CHECK(ctrl(&f, 0xa1, 3, tag, 0x81, 2, d, &act) < 0);
	CHECK(ctrl(&f, 0xa2, 3, tag, 0x02, 2, d, &act) < 0);
	CHECK(ctrl(&f, 0xa2, 1, tag, 0x81, 2, d, &act) < 0);
	CHECK(ctrl(&f, 0xa1, 64, 0, 0, 1, d, &act) < 0);
	CHECK(ctrl(&f, 0xa1, 160, 1, 0, 1, d, &act) < 0);
	CHECK(ctrl(&f, 0xa1, 99, 0, 0, 1, d, &act) < 0);
	mg_buf_free(&out);
	mg_buf_free(&bulk);
	mg_usbtmc_fn_free(&f);
}

int main(void)
{
	test_btag_len();
	test_encode();
	test_split();
	test_decode();
	test_caps();
	test_fn_messages();
	test_fn_control();
	return mg_test_finish("test_usbtmc_codec");
}
