/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Response classification, ACK codes and packet names. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dp5_tests.h"
#include "magassay/dp5.h"
#include "magassay/error.h"

/* Build (pid1, pid2, n bytes of filler) and classify it. */
static int classify(uint8_t pid1, uint8_t pid2, const void *data, size_t n, mg_dp5_response *rsp)
{
	static uint8_t buf[MG_DP5_MAX_PACKET];
	static uint8_t filler[MG_DP5_MAX_DATA];
	if (!data) {
		for (size_t i = 0; i < n; i++)
			filler[i] = (uint8_t)(i * 13 + 5);
		data = filler;
	}
	int len = mg_dp5_pack(pid1, pid2, data, n, buf, sizeof(buf));
	if (len < 0)
		return len;
	mg_dp5_packet pkt;
	size_t used;
	int rc = mg_dp5_parse(buf, (size_t)len, &pkt, &used);
	if (rc != MG_OK)
		return MG_ERR_INTERNAL;
	return mg_dp5_classify(&pkt, rsp);
}

static void test_acks(void)
{
	/* Expected English text (a distinctive part of it) for each code. */
	static const struct {
		int code;
		int err;
		const char *text;
	} acks[] = {
		{0x00, MG_OK, "OK"},
		{0x01, MG_ERR_DEVICE, "sync error"},
		{0x02, MG_ERR_DEVICE, "PID error"},
		{0x03, MG_ERR_DEVICE, "length error"},
		{0x04, MG_ERR_DEVICE, "checksum error"},
		{0x05, MG_ERR_DEVICE, "bad parameter"},
		{0x06, MG_ERR_DEVICE, "bad hex record"},
		{0x07, MG_ERR_DEVICE, "unrecognised command"},
		{0x08, MG_ERR_DEVICE, "FPGA error"},
		{0x09, MG_ERR_DEVICE, "CP2201"},
		{0x0A, MG_ERR_DEVICE, "scope data not available"},
		{0x0B, MG_ERR_DEVICE, "PC5 not present"},
		{0x0C, MG_OK, "sharing request"},
		{0x0D, MG_ERR_DEVICE, "Ethernet busy"},
		{0x0E, MG_ERR_DEVICE, "I2C error"},
		{0x0F, MG_OK, "FPGA upload address"},
		{0x10, MG_ERR_DEVICE, "not supported by this FPGA"},
		{0x11, MG_ERR_DEVICE, "calibration data not present"},
	};
	CHECK(MG_ARRAY_SIZE(acks) == MG_DP5_ACK_MAX + 1);
	for (size_t i = 0; i < MG_ARRAY_SIZE(acks); i++) {
		int code = acks[i].code;
		CHECK((size_t)code == i);
		const char *msg = mg_dp5_ack_message(code);
		CHECK_MSG(strstr(msg, acks[i].text) != NULL, "ACK %02X: \"%s\"", code, msg);
		CHECK(mg_dp5_ack_error(code) == acks[i].err);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(msg, mg_dp5_ack_message(acks[j].code)) != 0);
		/* The packet name carries the message too. */
		CHECK(strncmp(mg_dp5_packet_name(0xFF, (uint8_t)code), "ACK: ", 5) == 0);

		/* Classified without data. */
		mg_dp5_response rsp;
		mg_error_clear();
		CHECK_RC(classify(0xFF, (uint8_t)code, NULL, 0, &rsp), acks[i].err);
		CHECK(rsp.kind == MG_DP5_RSP_ACK && rsp.ack == code && rsp.len == 0);
		if (acks[i].err != MG_OK)
			CHECK_MSG(strstr(mg_error_detail(), msg) != NULL, "detail \"%s\"", mg_error_detail());

		/* With the offending command as data: it shows in the detail. */
		CHECK_RC(classify(0xFF, (uint8_t)code, "MCAC=9999;", 10, &rsp), acks[i].err);
		CHECK(rsp.kind == MG_DP5_RSP_ACK && rsp.ack == code && rsp.len == 10);
		if (acks[i].err != MG_OK) {
			CHECK(strstr(mg_error_detail(), msg) != NULL);
			CHECK(strstr(mg_error_detail(), "MCAC=9999;") != NULL);
		}
	}
	/* Non-printable bytes in the ACK data are escaped; long data is cut. */
	mg_dp5_response rsp;
	CHECK_RC(classify(0xFF, 0x07, "XYZW=\x01;", 7, &rsp), MG_ERR_DEVICE);
	CHECK(strstr(mg_error_detail(), "XYZW=\\x01;") != NULL);
	char longcmd[300];
	memset(longcmd, 'A', sizeof(longcmd));
	CHECK_RC(classify(0xFF, 0x05, longcmd, sizeof(longcmd), &rsp), MG_ERR_DEVICE);
	CHECK(strstr(mg_error_detail(), "...") != NULL);
	CHECK(strlen(mg_error_detail()) < 250);

	/* Unknown codes. */
	CHECK(strcmp(mg_dp5_ack_message(0x12), "unknown ACK code") == 0);
	CHECK(strcmp(mg_dp5_ack_message(-1), "unknown ACK code") == 0);
	CHECK(mg_dp5_ack_error(0x12) == MG_ERR_PROTOCOL);
	CHECK(mg_dp5_ack_error(-1) == MG_ERR_PROTOCOL);
	CHECK_RC(classify(0xFF, 0x12, NULL, 0, &rsp), MG_ERR_PROTOCOL);
	CHECK(rsp.kind == MG_DP5_RSP_ACK && rsp.ack == 0x12);
	CHECK_RC(classify(0xFF, 0xFF, NULL, 0, &rsp), MG_ERR_PROTOCOL);
}

static void test_classify(void)
{
	mg_dp5_response rsp;
	/* Status: exactly 64 bytes. */
	CHECK_RC(classify(0x80, 0x01, NULL, 64, &rsp), MG_OK);
	CHECK(rsp.kind == MG_DP5_RSP_STATUS && rsp.status == rsp.data && rsp.len == 64 && rsp.ack == -1);
	CHECK(rsp.counts == NULL && rsp.nchan == 0);
	CHECK_RC(classify(0x80, 0x01, NULL, 63, &rsp), MG_ERR_PROTOCOL);
	CHECK(rsp.kind == MG_DP5_RSP_STATUS && rsp.status == NULL);
	CHECK(strstr(mg_error_detail(), "63") != NULL && strstr(mg_error_detail(), "64") != NULL);
	CHECK_RC(classify(0x80, 0x01, NULL, 65, &rsp), MG_ERR_PROTOCOL);
	CHECK_RC(classify(0x80, 0x01, NULL, 0, &rsp), MG_ERR_PROTOCOL);
	CHECK_RC(classify(0x80, 0x02, NULL, 64, &rsp), MG_ERR_PROTOCOL);
	CHECK(rsp.kind == MG_DP5_RSP_UNKNOWN);

	/* Spectra: each PID2, exact length only. */
	static const size_t nch[12] = {256, 256, 512, 512, 1024, 1024, 2048, 2048, 4096, 4096, 8192, 8192};
	static const size_t lens[12] = {768, 832, 1536, 1600, 3072, 3136, 6144, 6208, 12288, 12352, 24576, 24640};
	for (int p = 1; p <= 12; p++) {
		size_t want = lens[p - 1];
		CHECK_RC(classify(0x81, (uint8_t)p, NULL, want, &rsp), MG_OK);
		CHECK(rsp.kind == MG_DP5_RSP_SPECTRUM && rsp.nchan == nch[p - 1]);
		CHECK(rsp.counts == rsp.data);
		if (p % 2 == 0)
			CHECK(rsp.status == rsp.data + 3 * nch[p - 1]);
		else
			CHECK(rsp.status == NULL);
		CHECK_RC(classify(0x81, (uint8_t)p, NULL, want - 1, &rsp), MG_ERR_PROTOCOL);
		CHECK(rsp.kind == MG_DP5_RSP_SPECTRUM && rsp.counts == NULL && rsp.status == NULL);
		CHECK_RC(classify(0x81, (uint8_t)p, NULL, want + 1, &rsp), MG_ERR_PROTOCOL);
		CHECK_RC(classify(0x81, (uint8_t)p, NULL, want + 3, &rsp), MG_ERR_PROTOCOL);
		/* The other variant's length (with/without status) is wrong too. */
		CHECK_RC(classify(0x81, (uint8_t)p, NULL, p % 2 ? want + 64 : want - 64, &rsp), MG_ERR_PROTOCOL);
	}
	CHECK_RC(classify(0x81, 0x00, NULL, 768, &rsp), MG_ERR_PROTOCOL);
	CHECK(rsp.kind == MG_DP5_RSP_UNKNOWN);
	CHECK_RC(classify(0x81, 0x0D, NULL, 768, &rsp), MG_ERR_PROTOCOL);

	/* 82 xx. */
	static const struct {
		uint8_t pid2;
		enum mg_dp5_response_kind kind;
		bool flag;
	} misc[] = {
		{0x01, MG_DP5_RSP_SCOPE, false},           {0x03, MG_DP5_RSP_SCOPE, true},
		{0x04, MG_DP5_RSP_ETHERNET, false},        {0x05, MG_DP5_RSP_DIAGNOSTIC, false},
		{0x06, MG_DP5_RSP_HW_DESCRIPTION, false},  {0x07, MG_DP5_RSP_CONFIG_READBACK, false},
		{0x08, MG_DP5_RSP_NETFINDER, false},       {0x0A, MG_DP5_RSP_LIST_MODE, false},
		{0x0B, MG_DP5_RSP_LIST_MODE, true},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(misc); i++) {
		CHECK_RC(classify(0x82, misc[i].pid2, NULL, 100, &rsp), MG_OK);
		CHECK(rsp.kind == misc[i].kind && rsp.flag == misc[i].flag && rsp.len == 100);
		CHECK(strcmp(mg_dp5_packet_name(0x82, misc[i].pid2), "unknown packet") != 0);
	}
	CHECK_RC(classify(0x82, 0x02, NULL, 512, &rsp), MG_OK);
	CHECK(rsp.kind == MG_DP5_RSP_MISC_DATA);
	CHECK_RC(classify(0x82, 0x02, NULL, 511, &rsp), MG_ERR_PROTOCOL);
	CHECK_RC(classify(0x82, 0x00, NULL, 1, &rsp), MG_ERR_PROTOCOL);
	CHECK_RC(classify(0x82, 0x09, NULL, 1, &rsp), MG_ERR_PROTOCOL);
	CHECK_RC(classify(0x82, 0x0C, NULL, 1, &rsp), MG_ERR_PROTOCOL);
	CHECK(rsp.kind == MG_DP5_RSP_UNKNOWN);

	/* Echo. */
	CHECK_RC(classify(0x8F, 0x7F, "hello", 5, &rsp), MG_OK);
	CHECK(rsp.kind == MG_DP5_RSP_ECHO && rsp.len == 5 && memcmp(rsp.data, "hello", 5) == 0);
	CHECK_RC(classify(0x8F, 0x7E, NULL, 0, &rsp), MG_ERR_PROTOCOL);

	/* Requests and other PIDs are not responses. */
	static const uint8_t notrsp[][2] = {{0x01, 0x01}, {0x02, 0x03}, {0x20, 0x02}, {0xF0, 0x02}, {0x00, 0x00},
	                                    {0x7F, 0x01}, {0x83, 0x01}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(notrsp); i++) {
		CHECK_RC(classify(notrsp[i][0], notrsp[i][1], NULL, 0, &rsp), MG_ERR_PROTOCOL);
		CHECK(rsp.kind == MG_DP5_RSP_UNKNOWN && rsp.pid1 == notrsp[i][0] && rsp.pid2 == notrsp[i][1]);
	}
	CHECK_RC(mg_dp5_classify(NULL, &rsp), MG_ERR_ARG);
}

static void test_names(void)
{
	static const struct {
		uint8_t p1, p2;
		const char *name;
	} names[] = {
		{0x01, 0x01, "request status"},
		{0x02, 0x03, "request spectrum + status"},
		{0x20, 0x02, "text configuration set"},
		{0x20, 0x03, "text configuration readback request"},
		{0xF0, 0x21, "keep alive (no sharing)"},
		{0x80, 0x01, "status"},
		{0x81, 0x01, "spectrum 256"},
		{0x81, 0x08, "spectrum 2048 + status"},
		{0x81, 0x0C, "spectrum 8192 + status"},
		{0x82, 0x07, "text configuration readback"},
		{0x82, 0x0B, "list-mode data, FIFO full"},
		{0x8F, 0x7F, "comm test echo"},
		{0xFF, 0x00, "ACK: OK"},
		{0xFF, 0x05, "ACK: bad parameter"},
		{0xFF, 0x40, "ACK: unknown code"},
		{0x55, 0x55, "unknown packet"},
		{0x81, 0x0D, "unknown packet"},
		{0x82, 0x09, "unknown packet"},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(names); i++) {
		const char *got = mg_dp5_packet_name(names[i].p1, names[i].p2);
		CHECK_MSG(strcmp(got, names[i].name) == 0, "%02X %02X: \"%s\"", names[i].p1, names[i].p2, got);
	}
}

void test_dp5_responses(void)
{
	test_acks();
	test_classify();
	test_names();
}
