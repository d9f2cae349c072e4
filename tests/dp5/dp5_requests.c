/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every request's exact bytes. The checksums below were computed by hand
 * (0x10000 - sum of the bytes before them), not with the codec. */
#include <string.h>

#include "check.h"
#include "dp5_tests.h"
#include "magassay/dp5.h"
#include "magassay/error.h"

static const struct {
	enum mg_dp5_request req;
	uint8_t bytes[8];
} fixed[] = {
	{MG_DP5_REQ_STATUS, {0xF5, 0xFA, 0x01, 0x01, 0x00, 0x00, 0xFE, 0x0F}},
	{MG_DP5_REQ_SPECTRUM, {0xF5, 0xFA, 0x02, 0x01, 0x00, 0x00, 0xFE, 0x0E}},
	{MG_DP5_REQ_SPECTRUM_CLEAR, {0xF5, 0xFA, 0x02, 0x02, 0x00, 0x00, 0xFE, 0x0D}},
	{MG_DP5_REQ_SPECTRUM_STATUS, {0xF5, 0xFA, 0x02, 0x03, 0x00, 0x00, 0xFE, 0x0C}},
	{MG_DP5_REQ_SPECTRUM_STATUS_CLEAR, {0xF5, 0xFA, 0x02, 0x04, 0x00, 0x00, 0xFE, 0x0B}},
	{MG_DP5_REQ_SCOPE, {0xF5, 0xFA, 0x03, 0x01, 0x00, 0x00, 0xFE, 0x0D}},
	{MG_DP5_REQ_LIST_MODE, {0xF5, 0xFA, 0x03, 0x09, 0x00, 0x00, 0xFE, 0x05}},
	{MG_DP5_REQ_CLEAR_SPECTRUM, {0xF5, 0xFA, 0xF0, 0x01, 0x00, 0x00, 0xFD, 0x20}},
	{MG_DP5_REQ_ENABLE_MCA, {0xF5, 0xFA, 0xF0, 0x02, 0x00, 0x00, 0xFD, 0x1F}},
	{MG_DP5_REQ_DISABLE_MCA, {0xF5, 0xFA, 0xF0, 0x03, 0x00, 0x00, 0xFD, 0x1E}},
	{MG_DP5_REQ_ARM_SCOPE, {0xF5, 0xFA, 0xF0, 0x04, 0x00, 0x00, 0xFD, 0x1D}},
	{MG_DP5_REQ_CLEAR_GP_COUNTER, {0xF5, 0xFA, 0xF0, 0x10, 0x00, 0x00, 0xFD, 0x11}},
	{MG_DP5_REQ_CLEAR_LIST_TIMER, {0xF5, 0xFA, 0xF0, 0x16, 0x00, 0x00, 0xFD, 0x0B}},
	{MG_DP5_REQ_RESTART_SEQ_BUFFER, {0xF5, 0xFA, 0xF0, 0x1E, 0x00, 0x00, 0xFD, 0x03}},
	{MG_DP5_REQ_CANCEL_SEQ_BUFFER, {0xF5, 0xFA, 0xF0, 0x1F, 0x00, 0x00, 0xFD, 0x02}},
	{MG_DP5_REQ_KEEP_ALIVE, {0xF5, 0xFA, 0xF0, 0x21, 0x00, 0x00, 0xFD, 0x00}},
	{MG_DP5_REQ_COMM_TEST_ACK, {0xF5, 0xFA, 0xF1, 0xF1, 0x00, 0x00, 0xFC, 0x2F}},
};

static void test_fixed(void)
{
	uint8_t out[MG_DP5_REQUEST_MAX];
	int seen[MG_DP5_REQ_COUNT] = {0};
	for (size_t i = 0; i < MG_ARRAY_SIZE(fixed); i++) {
		memset(out, 0, sizeof(out));
		CHECK_RC(mg_dp5_request(fixed[i].req, out, sizeof(out)), 8);
		CHECK_MSG(dp5_bytes_equal(mg_dp5_request_name(fixed[i].req), out, fixed[i].bytes, 8), "request %d",
		          (int)fixed[i].req);
		uint8_t p1 = 0, p2 = 0;
		CHECK_RC(mg_dp5_request_pids(fixed[i].req, &p1, &p2), MG_OK);
		CHECK(p1 == fixed[i].bytes[2] && p2 == fixed[i].bytes[3]);
		CHECK(strcmp(mg_dp5_packet_name(p1, p2), mg_dp5_request_name(fixed[i].req)) == 0);
		seen[fixed[i].req] = 1;
	}
	/* The requests with data are refused by mg_dp5_request(). */
	static const enum mg_dp5_request with_data[] = {
		MG_DP5_REQ_BUFFER_SPECTRUM, MG_DP5_REQ_BUFFER_CLEAR_SPECTRUM, MG_DP5_REQ_GET_BUFFER,
		MG_DP5_REQ_CONFIG_SET,      MG_DP5_REQ_CONFIG_GET,            MG_DP5_REQ_COMM_TEST_STREAM,
		MG_DP5_REQ_COMM_TEST_ECHO,
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(with_data); i++) {
		CHECK_RC(mg_dp5_request(with_data[i], out, sizeof(out)), MG_ERR_ARG);
		seen[with_data[i]] = 1;
	}
	/* Every request is covered by one of the two lists. */
	for (int r = 0; r < MG_DP5_REQ_COUNT; r++)
		CHECK_MSG(seen[r], "request %d not tested", r);
	CHECK_RC(mg_dp5_request(MG_DP5_REQ_COUNT, out, sizeof(out)), MG_ERR_ARG);
	CHECK_RC(mg_dp5_request((enum mg_dp5_request)-1, out, sizeof(out)), MG_ERR_ARG);
	CHECK_RC(mg_dp5_request(MG_DP5_REQ_STATUS, out, 7), MG_ERR_ARG);
	CHECK_RC(mg_dp5_request_pids(MG_DP5_REQ_COUNT, NULL, NULL), MG_ERR_ARG);
	CHECK(strcmp(mg_dp5_request_name(MG_DP5_REQ_COUNT), "unknown request") == 0);
	CHECK(strcmp(mg_dp5_request_name(MG_DP5_REQ_STATUS), "request status") == 0);
}

static void test_with_data(void)
{
	uint8_t out[64];
	/* Sequential buffer requests: 2-byte big-endian index. */
	static const uint8_t b5[] = {0xF5, 0xFA, 0x02, 0x05, 0x00, 0x02, 0x01, 0x23, 0xFD, 0xE4};
	static const uint8_t b6[] = {0xF5, 0xFA, 0x02, 0x06, 0x00, 0x02, 0xFF, 0xFF, 0xFC, 0x09};
	static const uint8_t b7[] = {0xF5, 0xFA, 0x02, 0x07, 0x00, 0x02, 0x00, 0x00, 0xFE, 0x06};
	CHECK_RC(mg_dp5_request_buffer(MG_DP5_REQ_BUFFER_SPECTRUM, 0x0123, out, sizeof(out)), 10);
	CHECK(dp5_bytes_equal("buffer spectrum", out, b5, sizeof(b5)));
	CHECK_RC(mg_dp5_request_buffer(MG_DP5_REQ_BUFFER_CLEAR_SPECTRUM, 0xFFFF, out, sizeof(out)), 10);
	CHECK(dp5_bytes_equal("buffer clear spectrum", out, b6, sizeof(b6)));
	CHECK_RC(mg_dp5_request_buffer(MG_DP5_REQ_GET_BUFFER, 0, out, sizeof(out)), 10);
	CHECK(dp5_bytes_equal("get buffer", out, b7, sizeof(b7)));
	CHECK_RC(mg_dp5_request_buffer(MG_DP5_REQ_STATUS, 1, out, sizeof(out)), MG_ERR_ARG);
	CHECK_RC(mg_dp5_request_buffer(MG_DP5_REQ_GET_BUFFER, 1, out, 9), MG_ERR_ARG);

	/* Comm test streaming: min 0, max 8191, increment 1, period 100. */
	static const uint8_t st[] = {0xF5, 0xFA, 0xF1, 0xF2, 0x00, 0x08, 0x00, 0x00, 0x1F, 0xFF,
	                             0x00, 0x01, 0x00, 0x64, 0xFA, 0xA3};
	CHECK_RC(mg_dp5_request_comm_stream(0, 8191, 1, 100, out, sizeof(out)), 16);
	CHECK(dp5_bytes_equal("comm stream", out, st, sizeof(st)));
	CHECK_RC(mg_dp5_request_comm_stream(0, 8191, 1, 100, out, MG_DP5_REQUEST_MAX), 16);

	/* Echo. */
	static const uint8_t echo[] = {0xF5, 0xFA, 0xF1, 0xF3, 0x00, 0x03, 0x41, 0x42, 0x43, 0xFB, 0x64};
	CHECK_RC(mg_dp5_request_echo("ABC", 3, out, sizeof(out)), 11);
	CHECK(dp5_bytes_equal("echo", out, echo, sizeof(echo)));

	/* Text configuration set and readback (built by the config functions). */
	static const uint8_t cfg[] = {0xF5, 0xFA, 0x20, 0x02, 0x00, 0x0A, 'M', 'C', 'A', 'C', '=',
	                              '2',  '0',  '4',  '8',  ';',  0xFB, 0x8B};
	static const uint8_t get[] = {0xF5, 0xFA, 0x20, 0x03, 0x00, 0x0A, 'M', 'C', 'A', 'C', ';',
	                              'G',  'A',  'I',  'N',  ';',  0xFB, 0x3B};
	mg_buf b;
	mg_buf_init(&b);
	CHECK_RC(mg_dp5_config_set_packets(&b, "MCAC=2048;"), 1);
	CHECK(b.len == sizeof(cfg) && dp5_bytes_equal("config set", (uint8_t *)b.data, cfg, sizeof(cfg)));
	mg_buf_reset(&b);
	CHECK_RC(mg_dp5_config_get_packets(&b, "MCAC;GAIN;"), 1);
	CHECK(b.len == sizeof(get) && dp5_bytes_equal("config get", (uint8_t *)b.data, get, sizeof(get)));
	mg_buf_free(&b);
}

/* The device side: identify every request built above. */
static void test_identify(void)
{
	uint8_t out[64];
	mg_dp5_packet pkt;
	size_t used;
	enum mg_dp5_request req;
	for (int r = 0; r < MG_DP5_REQ_COUNT; r++) {
		int n;
		switch (r) {
		case MG_DP5_REQ_BUFFER_SPECTRUM:
		case MG_DP5_REQ_BUFFER_CLEAR_SPECTRUM:
		case MG_DP5_REQ_GET_BUFFER:
			n = mg_dp5_request_buffer((enum mg_dp5_request)r, 7, out, sizeof(out));
			break;
		case MG_DP5_REQ_COMM_TEST_STREAM: n = mg_dp5_request_comm_stream(1, 2, 3, 4, out, sizeof(out)); break;
		case MG_DP5_REQ_COMM_TEST_ECHO: n = mg_dp5_request_echo(NULL, 0, out, sizeof(out)); break;
		case MG_DP5_REQ_CONFIG_SET: n = mg_dp5_pack(0x20, 0x02, "GAIN=2;", 7, out, sizeof(out)); break;
		case MG_DP5_REQ_CONFIG_GET: n = mg_dp5_pack(0x20, 0x03, "GAIN;", 5, out, sizeof(out)); break;
		default: n = mg_dp5_request((enum mg_dp5_request)r, out, sizeof(out)); break;
		}
		CHECK(n >= 8);
		CHECK_RC(mg_dp5_parse(out, (size_t)n, &pkt, &used), MG_OK);
		req = MG_DP5_REQ_COUNT;
		CHECK_RC(mg_dp5_request_identify(&pkt, &req), MG_OK);
		CHECK_MSG(req == (enum mg_dp5_request)r, "request %d identified as %d", r, (int)req);
	}
	/* Wrong lengths → protocol error (a device answers ACK 03). */
	static const struct {
		uint8_t p1, p2;
		size_t n;
	} bad[] = {
		{0x01, 0x01, 1}, {0x02, 0x05, 0}, {0x02, 0x05, 3}, {0x02, 0x07, 1}, {0xF1, 0xF2, 7},
		{0xF1, 0xF2, 9}, {0x20, 0x02, 0}, {0x20, 0x03, 0}, {0xF0, 0x21, 2}, {0xF1, 0xF1, 1},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
		CHECK(mg_dp5_pack(bad[i].p1, bad[i].p2, "0123456789", bad[i].n, out, sizeof(out)) > 0);
		CHECK_RC(mg_dp5_parse(out, bad[i].n + 8, &pkt, &used), MG_OK);
		CHECK_RC(mg_dp5_request_identify(&pkt, &req), MG_ERR_PROTOCOL);
	}
	/* Unknown PIDs → unsupported (ACK 02); responses are not requests. */
	static const uint8_t unknown[][2] = {{0x01, 0x02}, {0x02, 0x08}, {0x03, 0x02}, {0x20, 0x01},
	                                     {0xF0, 0x05}, {0xF1, 0xF4}, {0x80, 0x01}, {0xFF, 0x00}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(unknown); i++) {
		CHECK(mg_dp5_pack(unknown[i][0], unknown[i][1], NULL, 0, out, sizeof(out)) == 8);
		CHECK_RC(mg_dp5_parse(out, 8, &pkt, &used), MG_OK);
		CHECK_RC(mg_dp5_request_identify(&pkt, &req), MG_ERR_UNSUPPORTED);
	}
	CHECK_RC(mg_dp5_request_identify(NULL, &req), MG_ERR_ARG);
}

void test_dp5_requests(void)
{
	test_fixed();
	test_with_data();
	test_identify();
}
