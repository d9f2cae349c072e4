/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the USBTMC codec and the device-side state machine
 * (drivers/transport/usbtmc.c). Arbitrary bytes as a header in both
 * directions (a valid one re-encodes to the same bytes), as a GET_CAPABILITIES
 * answer (decode, encode, decode agree), as Bulk-OUT transfers fed in chunks
 * to a USBTMC function whose instrument echoes queries (every answer it
 * produces is a valid DEV_DEP_MSG_IN within the size asked), as control
 * requests (answers never exceed wLength), and split into transfers then
 * reassembled by the function (the same message comes out). abort() on a
 * broken invariant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/transport/usbtmc.h"
#include "magassay/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(cond)          \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

struct echo {
	mg_buf last;
	unsigned messages;
};

static int on_msg(const uint8_t *msg, size_t n, mg_buf *resp, void *ud)
{
	struct echo *e = ud;
	e->messages++;
	mg_buf_reset(&e->last);
	mg_buf_append(&e->last, msg, n);
	if (n && memchr(msg, '?', n))
		mg_buf_append(resp, msg, n > 300 ? 300 : n);
	return MG_OK;
}

/* Every DEV_DEP_MSG_IN the function produced is well formed. */
static void check_bulk_in(const mg_buf *b)
{
	size_t off = 0;
	while (off < b->len) {
		mg_usbtmc_header h;
		CHECK_OR_DIE(mg_usbtmc_decode_header((const uint8_t *)b->data + off, b->len - off, 1, &h) == MG_OK);
		CHECK_OR_DIE(h.msg_id == MG_USBTMC_DEV_DEP_MSG_IN);
		size_t len = mg_usbtmc_transfer_len(h.transfer_size);
		CHECK_OR_DIE(off + len <= b->len);
		off += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int in = 0; in < 2; in++) {
		mg_usbtmc_header h;
		if (mg_usbtmc_decode_header(data, size, in, &h) == MG_OK) {
			uint8_t enc[12];
			mg_usbtmc_encode_header(&h, enc);
			int req = !in && h.msg_id == MG_USBTMC_REQUEST_DEV_DEP_MSG_IN;
			for (int i = 0; i < 12; i++)
				CHECK_OR_DIE(enc[i] == data[i] || (i == 9 && req && !(h.attributes & MG_USBTMC_ATTR_TERMCHAR)));
		}
	}
	mg_usbtmc_caps c, c2;
	if (mg_usbtmc_decode_caps(data, size, &c) == MG_OK) {
		uint8_t enc[24];
		mg_usbtmc_encode_caps(&c, enc);
		CHECK_OR_DIE(mg_usbtmc_decode_caps(enc, 24, &c2) == MG_OK && !memcmp(&c, &c2, sizeof(c)));
	}

	/* the device side: bytes as Bulk-OUT, chunk sizes from the data itself */
	mg_usbtmc_caps caps = {.bcd_usbtmc = 0x100, .bcd_usb488 = 0x100, .scpi = 1, .is_488_2 = 1};
	mg_usbtmc_fn f;
	mg_usbtmc_fn_init(&f, &caps, 0x02, 0x81);
	struct echo e = {0};
	mg_buf_init(&e.last);
	mg_buf bulk;
	mg_buf_init(&bulk);
	size_t off = 0;
	while (off < size) {
		size_t chunk = 1 + data[off] % 64;
		if (chunk > size - off)
			chunk = size - off;
		mg_usbtmc_fn_bulk_out(&f, data + off, chunk, on_msg, &e, &bulk);
		off += chunk;
	}
	check_bulk_in(&bulk);
	/* control requests: 8-byte setups */
	for (size_t i = 0; i + 8 <= size && i < 800; i += 8) {
		uint8_t ans[24];
		unsigned act = 0;
		size_t cap = 1 + data[i + 6] % 24;
		int r = mg_usbtmc_fn_control(&f, data + i, ans, cap, &act);
		CHECK_OR_DIE(r < 0 || (size_t)r <= cap);
		CHECK_OR_DIE((act & ~3u) == 0);
	}
	mg_usbtmc_fn_free(&f);

	/* split then reassemble: the same message (bounded: one-byte transfers blow up 16 x) */
	if (size > 65536) {
		mg_buf_free(&bulk);
		mg_buf_free(&e.last);
		return 0;
	}
	mg_usbtmc_fn_init(&f, &caps, 0x02, 0x81);
	mg_buf_reset(&bulk);
	mg_buf tr;
	mg_buf_init(&tr);
	uint8_t tag = size ? data[0] : 0;
	size_t max = size > 1 ? 1 + data[1] % 97 : 5;
	size_t nt = 0;
	CHECK_OR_DIE(mg_usbtmc_split_message(&tr, &tag, data, size, max, &nt) == MG_OK);
	CHECK_OR_DIE(nt == (size ? (size + max - 1) / max : 1) && tag != 0);
	unsigned before = e.messages;
	CHECK_OR_DIE(mg_usbtmc_fn_bulk_out(&f, (const uint8_t *)tr.data, tr.len, on_msg, &e, &bulk) == MG_OK);
	CHECK_OR_DIE(e.messages == before + 1 && e.last.len == size && (!size || !memcmp(e.last.data, data, size)));
	check_bulk_in(&bulk);
	mg_buf_free(&tr);
	mg_buf_free(&bulk);
	mg_buf_free(&e.last);
	mg_usbtmc_fn_free(&f);
	return 0;
}
