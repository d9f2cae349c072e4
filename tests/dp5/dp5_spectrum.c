/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Spectrum encoding: 3-byte little-endian counts, every size. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dp5_tests.h"
#include "magassay/dp5.h"
#include "magassay/error.h"

static void test_sizes(void)
{
	static const size_t sizes[6] = {256, 512, 1024, 2048, 4096, 8192};
	for (int k = 0; k < 6; k++) {
		CHECK(mg_dp5_spectrum_channels((uint8_t)(2 * k + 1)) == sizes[k]);
		CHECK(mg_dp5_spectrum_channels((uint8_t)(2 * k + 2)) == sizes[k]);
		CHECK(mg_dp5_spectrum_pid2(sizes[k], false) == 2 * k + 1);
		CHECK(mg_dp5_spectrum_pid2(sizes[k], true) == 2 * k + 2);
	}
	CHECK(mg_dp5_spectrum_channels(0) == 0);
	CHECK(mg_dp5_spectrum_channels(13) == 0);
	CHECK(mg_dp5_spectrum_channels(0xFF) == 0);
	static const size_t bad[] = {0, 1, 128, 255, 257, 300, 1000, 3072, 8191, 16384};
	uint32_t counts[4] = {0};
	uint8_t out[4];
	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
		CHECK_RC(mg_dp5_spectrum_pid2(bad[i], false), MG_ERR_ARG);
		CHECK_RC(mg_dp5_spectrum_decode(out, 3 * bad[i], counts, bad[i]), MG_ERR_ARG);
		CHECK_RC(mg_dp5_spectrum_encode(counts, bad[i], out, 3 * bad[i]), MG_ERR_ARG);
	}
}

/* Known 3-byte values, decoded from hand-built bytes. */
static void test_known_values(void)
{
	uint8_t data[3 * 256];
	memset(data, 0, sizeof(data));
	static const struct {
		size_t ch;
		uint8_t b[3];
		uint32_t v;
	} known[] = {
		{0, {0x01, 0x00, 0x00}, 1},
		{1, {0x00, 0x01, 0x00}, 256},
		{2, {0x00, 0x00, 0x01}, 65536},
		{3, {0xFF, 0xFF, 0xFF}, 16777215},
		{4, {0x56, 0x34, 0x12}, 0x123456},
		{5, {0xFF, 0x00, 0x00}, 255},
		{6, {0x00, 0xFF, 0x00}, 65280},
		{7, {0x00, 0x00, 0x80}, 8388608},
		{255, {0xFE, 0xFF, 0xFF}, 16777214},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(known); i++)
		memcpy(data + 3 * known[i].ch, known[i].b, 3);
	uint32_t counts[256];
	CHECK_RC(mg_dp5_spectrum_decode(data, sizeof(data), counts, 256), MG_OK);
	for (size_t i = 0; i < MG_ARRAY_SIZE(known); i++)
		CHECK_MSG(counts[known[i].ch] == known[i].v, "channel %zu: %lu", known[i].ch,
		          (unsigned long)counts[known[i].ch]);
	CHECK(counts[8] == 0 && counts[254] == 0);

	/* And the same values encode to the same bytes. */
	uint8_t back[3 * 256];
	CHECK_RC(mg_dp5_spectrum_encode(counts, 256, back, sizeof(back)), 768);
	CHECK(memcmp(back, data, sizeof(data)) == 0);

	/* Through a whole 81 01 packet built by hand: checksum computed in the test. */
	uint8_t pkt[8 + 768];
	pkt[0] = 0xF5, pkt[1] = 0xFA, pkt[2] = 0x81, pkt[3] = 0x01, pkt[4] = 0x03, pkt[5] = 0x00;
	memcpy(pkt + 6, data, 768);
	unsigned chk = (0x10000u - dp5_sum16(pkt, 6 + 768)) & 0xFFFFu;
	pkt[774] = (uint8_t)(chk >> 8);
	pkt[775] = (uint8_t)(chk & 0xFF);
	mg_dp5_packet p;
	mg_dp5_response r;
	size_t used;
	CHECK_RC(mg_dp5_parse(pkt, sizeof(pkt), &p, &used), MG_OK);
	CHECK_RC(mg_dp5_classify(&p, &r), MG_OK);
	CHECK(r.kind == MG_DP5_RSP_SPECTRUM && r.nchan == 256 && r.status == NULL);
	uint32_t c2[256];
	CHECK_RC(mg_dp5_spectrum_decode(r.counts, 3 * r.nchan, c2, r.nchan), MG_OK);
	CHECK(memcmp(c2, counts, sizeof(c2)) == 0);

	/* Decoding checks the exact length. */
	CHECK_RC(mg_dp5_spectrum_decode(data, sizeof(data) - 1, counts, 256), MG_ERR_PROTOCOL);
	CHECK_RC(mg_dp5_spectrum_decode(data, sizeof(data), counts, 512), MG_ERR_PROTOCOL);
	CHECK_RC(mg_dp5_spectrum_decode(NULL, 768, counts, 256), MG_ERR_ARG);
	CHECK_RC(mg_dp5_spectrum_decode(data, 768, NULL, 256), MG_ERR_ARG);
}

static void test_roundtrip(void)
{
	static uint32_t in[8193], outc[8193];
	static uint8_t bytes[3 * 8192 + 16];
	dp5_srand(42);
	for (size_t nchan = 256; nchan <= 8192; nchan <<= 1) {
		for (size_t i = 0; i < nchan; i++)
			in[i] = dp5_rand() & 0xFFFFFFu;
		in[0] = 0;
		in[1] = MG_DP5_COUNT_MAX;
		in[nchan - 1] = MG_DP5_COUNT_MAX;
		CHECK_RC(mg_dp5_spectrum_encode(in, nchan, bytes, sizeof(bytes)), (int)(3 * nchan));
		/* The byte layout, checked independently for a few channels. */
		for (size_t i = 0; i < nchan; i += nchan / 8 + 1)
			CHECK(bytes[3 * i] == (in[i] & 0xFF) && bytes[3 * i + 1] == ((in[i] >> 8) & 0xFF) &&
			      bytes[3 * i + 2] == (in[i] >> 16));
		memset(outc, 0xEE, sizeof(outc));
		CHECK_RC(mg_dp5_spectrum_decode(bytes, 3 * nchan, outc, nchan), MG_OK);
		CHECK_MSG(memcmp(in, outc, nchan * sizeof(uint32_t)) == 0, "%zu channels", nchan);
		CHECK(outc[nchan] == 0xEEEEEEEEu); /* nothing written past nchan */
		CHECK_RC(mg_dp5_spectrum_encode(in, nchan, bytes, 3 * nchan - 1), MG_ERR_ARG);
	}
}

static void test_overflow(void)
{
	/* Values over 24 bits are rejected, not clamped, and nothing is written. */
	static uint32_t in[256];
	uint8_t bytes[768];
	for (size_t i = 0; i < 256; i++)
		in[i] = (uint32_t)i;
	in[77] = MG_DP5_COUNT_MAX + 1u;
	memset(bytes, 0xAB, sizeof(bytes));
	CHECK_RC(mg_dp5_spectrum_encode(in, 256, bytes, sizeof(bytes)), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "channel 77") != NULL);
	for (size_t i = 0; i < sizeof(bytes); i++)
		if (bytes[i] != 0xAB) {
			CHECK_MSG(0, "byte %zu written on a rejected encode", i);
			break;
		}
	in[77] = 0xFFFFFFFFu;
	CHECK_RC(mg_dp5_spectrum_encode(in, 256, bytes, sizeof(bytes)), MG_ERR_ARG);
	in[77] = MG_DP5_COUNT_MAX;
	CHECK_RC(mg_dp5_spectrum_encode(in, 256, bytes, sizeof(bytes)), 768);
	CHECK(bytes[231] == 0xFF && bytes[232] == 0xFF && bytes[233] == 0xFF);
	in[77] = MG_DP5_COUNT_MAX + 1u;
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_dp5_pack_spectrum(&b, in, 256, NULL), MG_ERR_ARG);
	CHECK(b.len == 0);
	mg_buf_free(&b);
}

/* The simulator's path: pack a full response, parse it, classify, decode. */
static void test_pack_spectrum(void)
{
	static uint32_t in[8193], outc[8193];
	mg_dp5_status st, st2;
	memset(&st, 0, sizeof(st));
	st.fast_count = 123456;
	st.slow_count = 120000;
	st.acc_time_100ms = 600;
	st.real_time_ms = 60500;
	st.fw_major = 6;
	st.fw_minor = 8;
	st.serial_number = 4242;
	st.mca_enabled = true;
	st.device_type = MG_DP5_DEV_DP5X;
	dp5_srand(7);
	for (size_t nchan = 256; nchan <= 8192; nchan <<= 1) {
		for (int with = 0; with < 2; with++) {
			for (size_t i = 0; i < nchan; i++)
				in[i] = dp5_rand() % 5000;
			mg_buf b;
			mg_buf_init(&b);
			mg_buf_append(&b, "\x00\x01", 2); /* appended after existing bytes */
			size_t want = 8 + 3 * nchan + (with ? 64 : 0);
			CHECK_RC(mg_dp5_pack_spectrum(&b, in, nchan, with ? &st : NULL), (int)want);
			CHECK(b.len == want + 2);
			mg_dp5_packet p;
			mg_dp5_response r;
			size_t used;
			CHECK_RC(mg_dp5_parse(b.data + 2, b.len - 2, &p, &used), MG_OK);
			CHECK(used == want);
			CHECK_RC(mg_dp5_classify(&p, &r), MG_OK);
			CHECK(r.kind == MG_DP5_RSP_SPECTRUM && r.nchan == nchan);
			CHECK(p.pid1 == 0x81 && p.pid2 == mg_dp5_spectrum_pid2(nchan, with));
			CHECK_RC(mg_dp5_spectrum_decode(r.counts, 3 * nchan, outc, nchan), MG_OK);
			CHECK(memcmp(in, outc, nchan * sizeof(uint32_t)) == 0);
			if (with) {
				CHECK(r.status != NULL);
				CHECK_RC(mg_dp5_status_decode(r.status, 64, &st2), MG_OK);
				CHECK(st2.fast_count == 123456 && st2.slow_count == 120000 && st2.serial_number == 4242);
				CHECK(st2.mca_enabled && st2.device_type == MG_DP5_DEV_DP5X);
				CHECK_NEAR(st2.accumulation_s, 60.0, 1e-9);
			} else {
				CHECK(r.status == NULL);
			}
			mg_buf_free(&b);
		}
	}
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_dp5_pack_spectrum(&b, in, 100, NULL), MG_ERR_ARG);
	st.fw_major = 16; /* does not fit a nibble */
	CHECK_RC(mg_dp5_pack_spectrum(&b, in, 256, &st), MG_ERR_ARG);
	CHECK(b.len == 0);
	CHECK_RC(mg_dp5_pack_spectrum(NULL, in, 256, NULL), MG_ERR_ARG);
	mg_buf_free(&b);
}

void test_dp5_spectrum(void)
{
	test_sizes();
	test_known_values();
	test_roundtrip();
	test_overflow();
	test_pack_spectrum();
}
