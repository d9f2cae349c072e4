/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated DP5 at the byte level (drivers/sim/dp5_device.c): every
 * request of the reference gets its answer, byte for byte; ACK errors carry
 * the offending text; configuration is all or nothing per packet; presets
 * stop exactly; any chunking of the input works. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "magassay/device.h"
#include "magassay/dp5.h"
#include "magassay/error.h"

static mg_buf out;

/* Feed bytes, expect exactly one packet back: returns it in *pkt (pointing into `out`). */
static int one(mg_dp5sim *s, const void *req, size_t n, mg_dp5_packet *pkt)
{
	mg_buf_reset(&out);
	if (mg_dp5sim_feed(s, req, n, &out) != MG_OK)
		return -100;
	size_t consumed = 0;
	int rc = mg_dp5_parse(out.data, out.len, pkt, &consumed);
	if (rc != MG_OK)
		return rc;
	if (consumed != out.len)
		return -101; /* more than one answer */
	return MG_OK;
}

static int request(mg_dp5sim *s, enum mg_dp5_request r, mg_dp5_packet *pkt)
{
	uint8_t b[MG_DP5_REQUEST_MAX];
	int n = mg_dp5_request(r, b, sizeof(b));
	return n < 0 ? n : one(s, b, (size_t)n, pkt);
}

static int config(mg_dp5sim *s, uint8_t pid2, const char *text, mg_dp5_packet *pkt)
{
	uint8_t b[600];
	int n = mg_dp5_pack(0x20, pid2, text, strlen(text), b, sizeof(b));
	return n < 0 ? n : one(s, b, (size_t)n, pkt);
}

static int is_ack(const mg_dp5_packet *p, int code, const char *text)
{
	if (p->pid1 != 0xFF || p->pid2 != code)
		return 0;
	if (!text)
		return p->len == 0;
	return p->len == strlen(text) && !memcmp(p->data, text, p->len);
}

static void status(mg_dp5sim *s, mg_dp5_status *st)
{
	mg_dp5_packet p;
	memset(st, 0, sizeof(*st));
	CHECK_RC(request(s, MG_DP5_REQ_STATUS, &p), MG_OK);
	CHECK(p.pid1 == 0x80 && p.pid2 == 0x01 && p.len == 64);
	if (p.len == 64)
		CHECK_RC(mg_dp5_status_decode(p.data, 64, st), MG_OK);
}

static void test_wire(void)
{
	mg_dp5sim *s = NULL;
	CHECK_RC(mg_dp5sim_new("serial=123456&speed=1", &s), MG_OK);
	if (!s)
		return;
	mg_dp5_packet p;
	mg_dp5_status st;

	/* the reference's worked example, answered with a 72-byte status */
	static const uint8_t req_status[] = {0xF5, 0xFA, 0x01, 0x01, 0x00, 0x00, 0xFE, 0x0F};
	CHECK_RC(one(s, req_status, sizeof(req_status), &p), MG_OK);
	CHECK(out.len == 72 && (uint8_t)out.data[0] == 0xF5 && (uint8_t)out.data[1] == 0xFA &&
	      (uint8_t)out.data[2] == 0x80 && (uint8_t)out.data[3] == 0x01 && out.data[4] == 0 && out.data[5] == 64);
	CHECK_RC(mg_dp5_status_decode(p.data, 64, &st), MG_OK);
	CHECK(st.serial_number == 123456 && st.serial_valid && st.first_packet && st.fw_major == 6 &&
	      st.fw_minor == 8 && st.device_type == MG_DP5_DEV_DP5 && !st.mca_enabled);
	CHECK(st.det_temp_k > 219 && st.det_temp_k < 221 && st.hv_v == 130 && st.board_temp_c > 20);
	status(s, &st);
	CHECK(!st.first_packet && !st.configured);

	/* byte by byte, and two requests in one write */
	mg_buf_reset(&out);
	for (size_t i = 0; i < sizeof(req_status); i++)
		CHECK_RC(mg_dp5sim_feed(s, req_status + i, 1, &out), MG_OK);
	CHECK(out.len == 72);
	uint8_t two[16];
	memcpy(two, req_status, 8);
	memcpy(two + 8, req_status, 8);
	mg_buf_reset(&out);
	CHECK_RC(mg_dp5sim_feed(s, two, 16, &out), MG_OK);
	CHECK(out.len == 144);

	/* a bad checksum: exactly ACK 04 */
	uint8_t bad[8];
	memcpy(bad, req_status, 8);
	bad[7] ^= 1;
	CHECK_RC(one(s, bad, 8, &p), MG_OK);
	static const uint8_t ack04[] = {0xF5, 0xFA, 0xFF, 0x04, 0x00, 0x00, 0xFD, 0x0E};
	CHECK(out.len == 8 && !memcmp(out.data, ack04, 8));
	/* bytes that start no packet: ACK 01; then a good request still works */
	mg_buf_reset(&out);
	CHECK_RC(mg_dp5sim_feed(s, (const uint8_t *)"hello", 5, &out), MG_OK);
	{
		mg_dp5_packet q;
		size_t used;
		CHECK(mg_dp5_parse(out.data, out.len, &q, &used) == MG_OK && is_ack(&q, 0x01, NULL));
	}
	CHECK_RC(one(s, req_status, 8, &p), MG_OK);
	CHECK(p.pid1 == 0x80);
	/* unknown PIDs: ACK 02; data where none belongs: ACK 03 */
	uint8_t b[64];
	int n = mg_dp5_pack(0x05, 0x05, NULL, 0, b, sizeof(b));
	CHECK_RC(one(s, b, (size_t)n, &p), MG_OK);
	CHECK(is_ack(&p, 0x02, NULL));
	n = mg_dp5_pack(0x01, 0x01, "x", 1, b, sizeof(b));
	CHECK_RC(one(s, b, (size_t)n, &p), MG_OK);
	CHECK(is_ack(&p, 0x03, NULL));

	/* the simple requests */
	CHECK_RC(request(s, MG_DP5_REQ_KEEP_ALIVE, &p), MG_OK);
	CHECK(is_ack(&p, 0x00, NULL));
	CHECK_RC(request(s, MG_DP5_REQ_COMM_TEST_ACK, &p), MG_OK);
	CHECK(is_ack(&p, 0x00, NULL));
	CHECK_RC(request(s, MG_DP5_REQ_CLEAR_GP_COUNTER, &p), MG_OK);
	CHECK(is_ack(&p, 0x00, NULL));
	CHECK_RC(request(s, MG_DP5_REQ_CLEAR_LIST_TIMER, &p), MG_OK);
	CHECK(is_ack(&p, 0x00, NULL));
	n = mg_dp5_request_echo("ping!", 5, b, sizeof(b));
	CHECK_RC(one(s, b, (size_t)n, &p), MG_OK);
	CHECK(p.pid1 == 0x8F && p.pid2 == 0x7F && p.len == 5 && !memcmp(p.data, "ping!", 5));
	/* not simulated: ACK 07 */
	static const enum mg_dp5_request unsup[] = {MG_DP5_REQ_SCOPE, MG_DP5_REQ_LIST_MODE, MG_DP5_REQ_ARM_SCOPE,
	                                            MG_DP5_REQ_RESTART_SEQ_BUFFER, MG_DP5_REQ_CANCEL_SEQ_BUFFER};
	for (size_t i = 0; i < sizeof(unsup) / sizeof(unsup[0]); i++) {
		CHECK_RC(request(s, unsup[i], &p), MG_OK);
		CHECK_MSG(is_ack(&p, 0x07, NULL), "%s", mg_dp5_request_name(unsup[i]));
	}
	n = mg_dp5_request_buffer(MG_DP5_REQ_BUFFER_SPECTRUM, 3, b, sizeof(b));
	CHECK_RC(one(s, b, (size_t)n, &p), MG_OK);
	CHECK(is_ack(&p, 0x07, NULL));
	n = mg_dp5_request_comm_stream(0, 255, 1, 100, b, sizeof(b));
	CHECK_RC(one(s, b, (size_t)n, &p), MG_OK);
	CHECK(is_ack(&p, 0x07, NULL));

	/* configuration: set, read back, errors with the offending text, all or nothing */
	CHECK_RC(config(s, 0x02, "MCAC=512;GAIN=10;PRET=0;", &p), MG_OK);
	CHECK(is_ack(&p, 0x00, NULL));
	CHECK_RC(config(s, 0x03, "MCAC;GAIN;PRET;PREC;", &p), MG_OK);
	CHECK(p.pid1 == 0x82 && p.pid2 == 0x07);
	CHECK_MSG(p.len == strlen("MCAC=512;GAIN=10.000;PRET=OFF;PREC=OFF;") &&
	                  !memcmp(p.data, "MCAC=512;GAIN=10.000;PRET=OFF;PREC=OFF;", p.len),
	          "readback '%.*s'", (int)p.len, (const char *)p.data);
	CHECK_RC(config(s, 0x02, "GAIN=30;MCAC=500;", &p), MG_OK);
	CHECK(is_ack(&p, 0x05, "MCAC=500;"));
	CHECK_RC(config(s, 0x02, "GAIN=30;ABCD=1;", &p), MG_OK);
	CHECK(is_ack(&p, 0x07, "ABCD=1;"));
	CHECK_RC(config(s, 0x02, "PREL=10;", &p), MG_OK); /* MCA8000D only */
	CHECK(is_ack(&p, 0x07, "PREL=10;"));
	CHECK_RC(config(s, 0x03, "GAIN;ABCD;", &p), MG_OK);
	CHECK(is_ack(&p, 0x07, "ABCD;"));
	CHECK_RC(config(s, 0x03, "GAIN;", &p), MG_OK);
	CHECK(p.len == 12 && !memcmp(p.data, "GAIN=10.000;", 12)); /* all or nothing: GAIN=30 was not applied */
	status(s, &st);
	CHECK(st.configured);

	/* spectra: 512 channels, with and without status, clear */
	CHECK_RC(request(s, MG_DP5_REQ_SPECTRUM, &p), MG_OK);
	CHECK(p.pid1 == 0x81 && p.pid2 == 0x03 && p.len == 1536);
	CHECK_RC(request(s, MG_DP5_REQ_SPECTRUM_STATUS, &p), MG_OK);
	CHECK(p.pid1 == 0x81 && p.pid2 == 0x04 && p.len == 1600);

	/* presets stop exactly, in simulated time */
	CHECK_RC(config(s, 0x02, "PRET=10.0;", &p), MG_OK);
	CHECK_RC(request(s, MG_DP5_REQ_CLEAR_SPECTRUM, &p), MG_OK);
	CHECK(is_ack(&p, 0, NULL));
	CHECK_RC(request(s, MG_DP5_REQ_ENABLE_MCA, &p), MG_OK);
	CHECK(is_ack(&p, 0, NULL));
	status(s, &st);
	CHECK(st.mca_enabled);
	CHECK_RC(mg_dp5sim_advance(s, 100), MG_OK);
	status(s, &st);
	CHECK(!st.mca_enabled && st.preset_real_time_done && st.acc_time_100ms == 100 && st.acc_time_ms == 0);
	CHECK(st.real_s > 10 && st.real_s < 13 && st.slow_count > 100000 && st.fast_count > st.slow_count);
	CHECK(st.dead_time_pct > 1 && st.dead_time_pct < 50);
	uint32_t counts[512];
	CHECK_RC(request(s, MG_DP5_REQ_SPECTRUM_STATUS_CLEAR, &p), MG_OK);
	if (p.len == 1600) {
		CHECK_RC(mg_dp5_spectrum_decode(p.data, 1536, counts, 512), MG_OK);
		uint64_t t = 0;
		for (int i = 0; i < 512; i++)
			t += counts[i];
		mg_dp5_status s2;
		CHECK_RC(mg_dp5_status_decode(p.data + 1536, 64, &s2), MG_OK);
		CHECK(t == s2.slow_count && t == st.slow_count);
	}
	status(s, &st);
	CHECK(st.slow_count == 0 && st.real_time_ms == 0 && !st.preset_real_time_done);
	/* PREC: exactly that many counts */
	CHECK_RC(config(s, 0x02, "PRET=OFF;PREC=123457;", &p), MG_OK);
	CHECK_RC(request(s, MG_DP5_REQ_ENABLE_MCA, &p), MG_OK);
	CHECK_RC(mg_dp5sim_advance(s, 1000), MG_OK);
	status(s, &st);
	CHECK_MSG(st.slow_count == 123457 && st.preset_count_done && !st.mca_enabled, "PREC: %u counts",
	          st.slow_count);
	/* MCAE=ON enables, an MCAC change clears */
	CHECK_RC(config(s, 0x02, "PREC=OFF;MCAC=256;MCAE=ON;", &p), MG_OK);
	CHECK(is_ack(&p, 0, NULL));
	status(s, &st);
	CHECK(st.mca_enabled && st.slow_count == 0);
	CHECK_RC(mg_dp5sim_advance(s, 1), MG_OK);
	CHECK_RC(request(s, MG_DP5_REQ_DISABLE_MCA, &p), MG_OK);
	CHECK_RC(request(s, MG_DP5_REQ_SPECTRUM_CLEAR, &p), MG_OK);
	CHECK(p.pid1 == 0x81 && p.pid2 == 0x01 && p.len == 768);
	/* RESC=Y: defaults back */
	CHECK_RC(config(s, 0x02, "RESC=Y;", &p), MG_OK);
	CHECK_RC(config(s, 0x03, "MCAC;TPEA;", &p), MG_OK);
	CHECK(p.len == strlen("MCAC=2048;TPEA=4.000;") && !memcmp(p.data, "MCAC=2048;TPEA=4.000;", p.len));

	mg_dp5sim_stats ss = mg_dp5sim_get_stats(s);
	CHECK(ss.bad_checksum == 1 && ss.sync_errors == 1 && ss.requests > 30 && ss.spectra >= 4);
	CHECK(ss.sim_time_s > 1100);
	mg_dp5sim_free(s);
}

static void test_params(void)
{
	mg_dp5sim *s = NULL;
	CHECK_RC(mg_dp5sim_new(NULL, &s), MG_OK);
	mg_dp5sim_free(s);
	CHECK_RC(mg_dp5sim_new("model=MCA8000D&sample=Fe:70,Nd:30&kv=25&ua=5&anode=W&seed=7", &s), MG_OK);
	if (s) {
		mg_dp5_packet p;
		mg_dp5_status st;
		status(s, &st);
		CHECK(st.device_type == MG_DP5_DEV_MCA8000D && st.serial_number == 31337);
		CHECK_RC(config(s, 0x02, "PREL=5;", &p), MG_OK);
		CHECK(is_ack(&p, 0, NULL));
		mg_dp5sim_free(s);
	}
	static const char *const bad[] = {"kv=99", "ua=-1", "anode=Xx", "anode=rh", "model=DP6", "serial=-3",
	                                  "serial=99999999999", "speed=0", "sample=unobtainium", "seed=x",
	                                  "bogus=1", "drop=3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = (mg_dp5sim *)1;
		CHECK_RC(mg_dp5sim_new(bad[i], &s), MG_ERR_ARG);
		CHECK(s == NULL);
	}
	CHECK(strstr(mg_error_detail(), "drop") != NULL);
}

int main(void)
{
	mg_buf_init(&out);
	test_wire();
	test_params();
	mg_buf_free(&out);
	return mg_test_finish("test_dp5sim");
}
