/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Packet building, checksums and the stream parser. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dp5_tests.h"
#include "magassay/dp5.h"
#include "magassay/error.h"

/* ---- packet building --------------------------------------------------- */

static void test_pack(void)
{
	/* The reference's worked example. */
	static const uint8_t status_req[] = {0xF5, 0xFA, 0x01, 0x01, 0x00, 0x00, 0xFE, 0x0F};
	uint8_t out[64];
	CHECK_RC(mg_dp5_pack(0x01, 0x01, NULL, 0, out, sizeof(out)), 8);
	CHECK(dp5_bytes_equal("pack status", out, status_req, 8));

	/* With data: "ABC" echo, checksum computed by hand:
	 * F5+FA+F1+F3+00+03+41+42+43 = 0x49C → 0x10000-0x49C = 0xFB64. */
	static const uint8_t echo[] = {0xF5, 0xFA, 0xF1, 0xF3, 0x00, 0x03, 0x41, 0x42, 0x43, 0xFB, 0x64};
	CHECK_RC(mg_dp5_pack(0xF1, 0xF3, "ABC", 3, out, sizeof(out)), 11);
	CHECK(dp5_bytes_equal("pack echo", out, echo, sizeof(echo)));

	/* Exact capacity works; one byte less is refused and nothing is written. */
	memset(out, 0xAA, sizeof(out));
	CHECK_RC(mg_dp5_pack(0xF1, 0xF3, "ABC", 3, out, 10), MG_ERR_ARG);
	for (int i = 0; i < 16; i++)
		CHECK(out[i] == 0xAA);
	CHECK_RC(mg_dp5_pack(0xF1, 0xF3, "ABC", 3, out, 11), 11);
	CHECK_RC(mg_dp5_pack(0x01, 0x01, NULL, 0, NULL, 0), MG_ERR_ARG);
	CHECK_RC(mg_dp5_pack(0x01, 0x01, NULL, 3, out, sizeof(out)), MG_ERR_ARG);

	/* The checksum when the 16-bit sum wraps to exactly 0: the two's
	 * complement of 0 is 0. F5+FA+F1+F3+00+FD = 0x4D0, 252 x FF + 0x2C =
	 * 0xFB30, total 0x10000. */
	uint8_t data[253];
	memset(data, 0xFF, 252);
	data[252] = 0x2C;
	uint8_t big[300];
	CHECK_RC(mg_dp5_pack(0xF1, 0xF3, data, sizeof(data), big, sizeof(big)), 261);
	CHECK(big[4] == 0x00 && big[5] == 0xFD);
	CHECK(big[259] == 0x00 && big[260] == 0x00);
	CHECK(dp5_checksum_ok(big, 261));

	/* mg_dp5_checksum itself. */
	CHECK(mg_dp5_checksum(status_req, 6) == 0xFE0F);
	CHECK(mg_dp5_checksum(big, 259) == 0x0000);
	CHECK(mg_dp5_checksum(NULL, 0) == 0);

	/* Length limits: 32767 is the largest, 32768 is refused. */
	size_t maxn = MG_DP5_MAX_DATA;
	uint8_t *mdata = calloc(maxn + 1, 1);
	uint8_t *mout = malloc(maxn + 16);
	CHECK(mdata && mout);
	if (mdata && mout) {
		for (size_t i = 0; i < maxn; i++)
			mdata[i] = (uint8_t)(i * 7);
		CHECK_RC(mg_dp5_pack(0x8F, 0x7F, mdata, maxn, mout, maxn + 16), (int)(maxn + 8));
		CHECK(mout[4] == 0x7F && mout[5] == 0xFF);
		CHECK(dp5_checksum_ok(mout, maxn + 8));
		mg_dp5_packet pkt;
		size_t used = 0;
		CHECK_RC(mg_dp5_parse(mout, maxn + 8, &pkt, &used), MG_OK);
		CHECK(used == maxn + 8 && pkt.len == maxn && pkt.data == mout + 6);
		CHECK_RC(mg_dp5_pack(0x8F, 0x7F, mdata, maxn + 1, mout, maxn + 16), MG_ERR_ARG);
		mg_buf b;
		mg_buf_init(&b);
		CHECK_RC(mg_dp5_pack_buf(&b, 0x8F, 0x7F, mdata, maxn + 1), MG_ERR_ARG);
		CHECK(b.len == 0);
		mg_buf_free(&b);
	}
	free(mdata);
	free(mout);

	/* mg_dp5_pack_buf appends after what is there. */
	mg_buf b;
	mg_buf_init(&b);
	mg_buf_append(&b, "xy", 2);
	CHECK_RC(mg_dp5_pack_buf(&b, 0x01, 0x01, NULL, 0), 8);
	CHECK_RC(mg_dp5_pack_buf(&b, 0xF1, 0xF3, "ABC", 3), 11);
	CHECK(b.len == 21);
	if (b.len == 21) {
		CHECK(memcmp(b.data, "xy", 2) == 0);
		CHECK(dp5_bytes_equal("pack_buf status", (uint8_t *)b.data + 2, status_req, 8));
		CHECK(dp5_bytes_equal("pack_buf echo", (uint8_t *)b.data + 10, echo, sizeof(echo)));
	}
	CHECK_RC(mg_dp5_pack_buf(NULL, 1, 1, NULL, 0), MG_ERR_ARG);
	mg_buf_free(&b);
}

/* ---- the stream parser ------------------------------------------------- */

/* Parse from a heap copy of exactly len bytes, so ASan catches any read past it. */
static int parse_exact(const uint8_t *src, size_t len, mg_dp5_packet *pkt, size_t *used, uint8_t **copy)
{
	uint8_t *c = malloc(len ? len : 1);
	if (len)
		memcpy(c, src, len);
	int rc = mg_dp5_parse(c, len, pkt, used);
	*copy = c;
	return rc;
}

static void test_parse_basic(void)
{
	static const uint8_t echo[] = {0xF5, 0xFA, 0xF1, 0xF3, 0x00, 0x03, 0x41, 0x42, 0x43, 0xFB, 0x64};
	mg_dp5_packet pkt;
	size_t used = 99;
	uint8_t *c;

	CHECK_RC(mg_dp5_parse(NULL, 0, &pkt, &used), MG_ERR_NEED_MORE);
	CHECK(used == 0 && pkt.size == 8);
	CHECK_RC(mg_dp5_parse(echo, sizeof(echo), NULL, &used), MG_ERR_ARG);
	CHECK_RC(mg_dp5_parse(echo, sizeof(echo), &pkt, NULL), MG_ERR_ARG);
	CHECK_RC(mg_dp5_parse(NULL, 5, &pkt, &used), MG_ERR_ARG);

	CHECK_RC(parse_exact(echo, sizeof(echo), &pkt, &used, &c), MG_OK);
	CHECK(used == 11 && pkt.size == 11 && pkt.pid1 == 0xF1 && pkt.pid2 == 0xF3 && pkt.len == 3);
	CHECK(pkt.data == c + 6 && memcmp(pkt.data, "ABC", 3) == 0);
	free(c);

	/* Every proper prefix: need more, nothing consumed; the size is 8 until
	 * the 6-byte header is in, then LEN + 8. */
	for (size_t n = 0; n < sizeof(echo); n++) {
		used = 99;
		CHECK_RC(parse_exact(echo, n, &pkt, &used, &c), MG_ERR_NEED_MORE);
		CHECK(used == 0);
		CHECK(pkt.size == (n < 6 ? 8u : 11u));
		free(c);
	}

	/* Zero-length data: data pointer NULL. */
	static const uint8_t st[] = {0xF5, 0xFA, 0x01, 0x01, 0x00, 0x00, 0xFE, 0x0F};
	CHECK_RC(parse_exact(st, sizeof(st), &pkt, &used, &c), MG_OK);
	CHECK(used == 8 && pkt.len == 0 && pkt.data == NULL);
	free(c);

	/* Trailing bytes after a packet are left for the next call. */
	uint8_t two[22];
	memcpy(two, echo, 11);
	memcpy(two + 11, echo, 11);
	CHECK_RC(mg_dp5_parse(two, 22, &pkt, &used), MG_OK);
	CHECK(used == 11);
	CHECK_RC(mg_dp5_parse(two + 11, 11, &pkt, &used), MG_OK);
	CHECK(used == 11);
}

static void test_parse_errors(void)
{
	static const uint8_t echo[] = {0xF5, 0xFA, 0xF1, 0xF3, 0x00, 0x03, 0x41, 0x42, 0x43, 0xFB, 0x64};
	mg_dp5_packet pkt;
	size_t used;
	uint8_t *c;
	uint8_t b[64];

	/* Checksum: a flipped data byte, a flipped checksum byte, a flipped PID. */
	for (size_t pos = 2; pos < sizeof(echo); pos++) {
		if (pos == 4 || pos == 5)
			continue; /* length bytes: tested below */
		memcpy(b, echo, sizeof(echo));
		b[pos] ^= 0x01;
		used = 0;
		CHECK_RC(parse_exact(b, sizeof(echo), &pkt, &used, &c), MG_ERR_CHECKSUM);
		CHECK(used == sizeof(echo)); /* no other F5 FA inside: drop it all */
		free(c);
	}
	/* The detail names the packet and both checksums. */
	memcpy(b, echo, sizeof(echo));
	b[10] = 0x65;
	CHECK_RC(mg_dp5_parse(b, sizeof(echo), &pkt, &used), MG_ERR_CHECKSUM);
	CHECK(strstr(mg_error_detail(), "FB65") != NULL);
	CHECK(strstr(mg_error_detail(), "FB64") != NULL);
	CHECK(pkt.pid1 == 0xF1 && pkt.pid2 == 0xF3 && pkt.len == 3);

	/* A bad packet followed by a good one: the discard stops at the good one. */
	memcpy(b, echo, 11);
	b[7] = 'X';
	memcpy(b + 11, echo, 11);
	CHECK_RC(mg_dp5_parse(b, 22, &pkt, &used), MG_ERR_CHECKSUM);
	CHECK(used == 11);
	CHECK_RC(mg_dp5_parse(b + used, 22 - used, &pkt, &used), MG_OK);

	/* LEN MSB >= 128: format error before waiting for 32 KiB. */
	static const uint8_t badlen[] = {0xF5, 0xFA, 0x80, 0x01, 0x80, 0x00};
	CHECK_RC(parse_exact(badlen, sizeof(badlen), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 6);
	CHECK(strstr(mg_error_detail(), "LEN") != NULL);
	free(c);
	static const uint8_t badlen2[] = {0xF5, 0xFA, 0x80, 0x01, 0xFF, 0xFF, 0x00, 0xF5};
	CHECK_RC(parse_exact(badlen2, sizeof(badlen2), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 7); /* the trailing lone F5 may start a packet: kept */
	free(c);
	/* LEN 0x7FFF is legal: need more. */
	static const uint8_t okbig[] = {0xF5, 0xFA, 0x81, 0x0C, 0x7F, 0xFF, 0x00};
	CHECK_RC(parse_exact(okbig, sizeof(okbig), &pkt, &used, &c), MG_ERR_NEED_MORE);
	CHECK(used == 0 && pkt.size == 0x7FFF + 8u);
	free(c);

	/* Sync hunting. */
	static const uint8_t g1[] = {0x00, 0x11, 0xF5, 0xFA, 0x01};
	CHECK_RC(parse_exact(g1, sizeof(g1), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 2);
	free(c);
	static const uint8_t g2[] = {0x00, 0x11, 0x22};
	CHECK_RC(parse_exact(g2, sizeof(g2), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 3);
	free(c);
	static const uint8_t g3[] = {0x00, 0xF5};
	CHECK_RC(parse_exact(g3, sizeof(g3), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 1);
	free(c);
	static const uint8_t g4[] = {0xF5, 0xF5, 0xFA};
	CHECK_RC(parse_exact(g4, sizeof(g4), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 1);
	free(c);
	static const uint8_t g5[] = {0xF5, 0x00, 0xF5, 0x00, 0xFA};
	CHECK_RC(parse_exact(g5, sizeof(g5), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 5);
	free(c);
	static const uint8_t g6[] = {0xFA};
	CHECK_RC(parse_exact(g6, sizeof(g6), &pkt, &used, &c), MG_ERR_FORMAT);
	CHECK(used == 1);
	free(c);
	static const uint8_t g7[] = {0xF5};
	CHECK_RC(parse_exact(g7, sizeof(g7), &pkt, &used, &c), MG_ERR_NEED_MORE);
	CHECK(used == 0);
	free(c);
}

/* A receiver as a driver would write it: append chunks, parse until
 * NEED_MORE, drop consumed bytes. Records what it saw. */
typedef struct rx {
	uint8_t buf[70000];
	size_t len;
	int npkts;
	uint8_t pid[16][2];
	size_t plen[16];
	unsigned psum[16];
	int nformat, nchecksum, nother;
	size_t discarded;
} rx;

static void rx_feed(rx *r, const uint8_t *p, size_t n)
{
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	for (;;) {
		mg_dp5_packet pkt;
		size_t used = 0;
		int rc = mg_dp5_parse(r->buf, r->len, &pkt, &used);
		if (rc == MG_ERR_NEED_MORE) {
			if (used != 0)
				r->nother++;
			return;
		}
		if (used == 0 || used > r->len) { /* would loop forever or overrun */
			r->nother++;
			return;
		}
		if (rc == MG_OK) {
			if (r->npkts < 16) {
				r->pid[r->npkts][0] = pkt.pid1;
				r->pid[r->npkts][1] = pkt.pid2;
				r->plen[r->npkts] = pkt.len;
				r->psum[r->npkts] = dp5_sum16(pkt.data, pkt.len);
			}
			r->npkts++;
		} else {
			if (rc == MG_ERR_FORMAT)
				r->nformat++;
			else if (rc == MG_ERR_CHECKSUM)
				r->nchecksum++;
			else
				r->nother++;
			r->discarded += used;
		}
		memmove(r->buf, r->buf + used, r->len - used);
		r->len -= used;
	}
}

static void test_stream(void)
{
	/* The stream: garbage, a status answer, an ACK, garbage with a false
	 * F5 (and a false F5 FA with a bad LEN), a corrupted packet, a 2048 + status
	 * spectrum, an echo. */
	static uint8_t stream[16384];
	size_t n = 0;
	uint8_t data[7000];
	static const uint8_t garbage1[] = {0x00, 0x13, 0x37, 0xFA, 0xF5};
	memcpy(stream + n, garbage1, sizeof(garbage1));
	n += sizeof(garbage1);
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 3 + 1);
	n += (size_t)mg_dp5_pack(0x80, 0x01, data, 64, stream + n, sizeof(stream) - n);
	n += (size_t)mg_dp5_pack(0xFF, 0x00, NULL, 0, stream + n, sizeof(stream) - n);
	static const uint8_t garbage2[] = {0xF5, 0x00, 0xF5, 0xFA, 0x81, 0x01, 0x90, 0x00, 0x42};
	memcpy(stream + n, garbage2, sizeof(garbage2));
	n += sizeof(garbage2);
	size_t bad_at = n;
	n += (size_t)mg_dp5_pack(0x82, 0x07, "MCAC=2048;", 10, stream + n, sizeof(stream) - n);
	stream[bad_at + 8] ^= 0x20; /* corrupt a data byte */
	for (int i = 0; i < 6208; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	n += (size_t)mg_dp5_pack(0x81, 0x08, data, 6208, stream + n, sizeof(stream) - n);
	n += (size_t)mg_dp5_pack(0x8F, 0x7F, "ping", 4, stream + n, sizeof(stream) - n);
	unsigned spec_sum = dp5_sum16(data, 6208);

	static const size_t chunkings[] = {1, 2, 3, 5, 7, 64, 1000, 16384, 0 /* random */};
	for (size_t k = 0; k < MG_ARRAY_SIZE(chunkings); k++) {
		static rx r;
		memset(&r, 0, sizeof(r));
		dp5_srand(1234 + (uint32_t)k);
		for (size_t pos = 0; pos < n;) {
			size_t step = chunkings[k] ? chunkings[k] : 1 + dp5_rand() % 300;
			if (step > n - pos)
				step = n - pos;
			rx_feed(&r, stream + pos, step);
			pos += step;
		}
		CHECK_MSG(r.npkts == 4, "chunk %zu: %d packets", chunkings[k], r.npkts);
		CHECK(r.nother == 0);
		CHECK(r.len == 0);
		CHECK_MSG(r.nchecksum == 1, "chunk %zu: %d checksum errors", chunkings[k], r.nchecksum);
		CHECK(r.nformat >= 2);
		CHECK(r.discarded == sizeof(garbage1) + sizeof(garbage2) + 18);
		if (r.npkts == 4) {
			CHECK(r.pid[0][0] == 0x80 && r.pid[0][1] == 0x01 && r.plen[0] == 64);
			CHECK(r.pid[1][0] == 0xFF && r.pid[1][1] == 0x00 && r.plen[1] == 0);
			CHECK(r.pid[2][0] == 0x81 && r.pid[2][1] == 0x08 && r.plen[2] == 6208);
			CHECK(r.psum[2] == spec_sum);
			CHECK(r.pid[3][0] == 0x8F && r.pid[3][1] == 0x7F && r.plen[3] == 4);
		}
	}
}

void test_dp5_packets(void)
{
	test_pack();
	test_parse_basic();
	test_parse_errors();
	test_stream();
}
