/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The serial transport end to end: the unchanged libserialport code on an
 * emulated /dev/ttyUSB0 (umockdev tty emulation, tests/harness/ttysim.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/log.h"
#include "magassay/transport.h"
#include "mg_harness.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run one test case and say how long it took. */
#define RUN(fn)                                                                  \
	do {                                                                     \
		double t_ = now_ms();                                            \
		fn();                                                            \
		fprintf(stderr, "  %-28s %6.0f ms\n", #fn, now_ms() - t_);      \
	} while (0)

static void log_to_stderr(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "[%d %s] %s\n", level, domain, msg);
}

static void test_echo(void)
{
	mg_ttysim *s = mg_ttysim_start(0, mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(!strcmp(mg_ttysim_uri(s), "serial:/dev/ttyUSB0"));
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("serial:/dev/ttyUSB0", &t), MG_OK);
	if (t) {
		/* through libserialport, not the pty fallback */
		CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_SERIAL);
		CHECK_MSG(!strcmp(mg_transport_description(t), "serial /dev/ttyUSB0 115200 8N1"), "'%s'",
		          mg_transport_description(t));
		CHECK_NEAR(mg_transport_byte_time_us(t), 86.806, 0.01);
		CHECK(mg_transport_timeout_for(t, 24648, 100) == 100 + 2140);

		uint8_t req[8] = {0xF5, 0xFA, 0x01, 0x01, 0x00, 0x00, 0xFE, 0x0F}, got[64];
		CHECK_RC(mg_transport_write(t, req, sizeof(req), 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, got, 8, 500, NULL), 8);
		CHECK(!memcmp(got, req, 8));
		/* raw: every byte value, including XON/XOFF, CR, LF and ^C, comes back unchanged */
		uint8_t all[256], back[256];
		for (int i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		CHECK_RC(mg_transport_write(t, all, sizeof(all), 200), MG_OK);
		size_t have = 0;
		CHECK_RC(mg_transport_read_exact(t, back, sizeof(back), 1000, &have), 256);
		CHECK_MSG(have == 256 && !memcmp(all, back, 256), "%zu bytes back", have);
		mg_transport_close(t);
	}
	mg_ttysim_stop(s);
}

static void test_partial_and_timeout(void)
{
	struct mg_harness_packet_state ps = {0};
	mg_ttysim *s = mg_ttysim_start(1, mg_harness_packet, &ps);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("serial:/dev/ttyUSB1?baud=57600", &t), MG_OK);
	if (t) {
		CHECK_NEAR(mg_transport_byte_time_us(t), 173.611, 0.01);
		CHECK(strstr(mg_transport_description(t), "57600") != NULL);
		uint8_t buf[16];
		/* nothing sent: a timeout, bounded */
		double t0 = now_ms();
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 20), MG_ERR_TIMEOUT);
		double dt = now_ms() - t0;
		CHECK_MSG(dt >= 15 && dt < 500, "timeout took %.1f ms", dt);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 0), MG_ERR_TIMEOUT);

		/* partial reads: a small buffer takes a long answer piece by piece */
		enum { LEN = 6000 };
		static uint8_t big[LEN];
		uint8_t req[4];
		mg_harness_packet_request(req, LEN);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		size_t have = 0;
		int reads = 0;
		while (have < LEN && reads < 10000) {
			int n = mg_transport_read(t, big + have, LEN - have < 100 ? LEN - have : 100, 500);
			if (n < 0) {
				CHECK_MSG(0, "read failed after %zu bytes: %s", have, mg_error_detail());
				break;
			}
			CHECK(n <= 100);
			have += (size_t)n;
			reads++;
		}
		CHECK(have == LEN);
		CHECK(reads >= LEN / 100);
		CHECK(mg_harness_pattern_mismatch(big, LEN, 0) == (size_t)-1);

		/* read_exact across whatever the tty delivers at a time */
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, big, LEN, 2000, NULL), LEN);
		CHECK(mg_harness_pattern_mismatch(big, LEN, 0) == (size_t)-1);

		/* read_exact times out with what did arrive */
		mg_harness_packet_request(req, 5);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		size_t got = 0;
		CHECK_RC(mg_transport_read_exact(t, buf, 10, 50, &got), MG_ERR_TIMEOUT);
		CHECK_MSG(got == 5, "got %zu", got);

		/* bytes the device sent unasked are dropped by a flush */
		mg_ttysim_push(s, "noise", 5);
		CHECK_RC(mg_transport_read(t, buf, 1, 300), 1); /* it has arrived */
		CHECK_RC(mg_transport_flush_input(t), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 10), MG_ERR_TIMEOUT);
		CHECK(ps.requests == 3);
		mg_transport_close(t);
	}
	mg_ttysim_stop(s);
}

static void test_hangup(void)
{
	mg_ttysim *s = mg_ttysim_start(2, mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_ttysim_uri(s), &t), MG_OK);
	if (t) {
		uint8_t buf[16];
		CHECK_RC(mg_transport_write(t, "abc", 3, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, buf, 3, 500, NULL), 3);
		int hr = mg_ttysim_hangup(s);
		if (hr == -EPERM) {
			fprintf(stderr, "note: TIOCVHANGUP needs CAP_SYS_ADMIN; serial hang-up check not run\n");
		} else {
			CHECK_MSG(hr == 0, "hangup: %s", strerror(-hr));
			double t0 = now_ms();
			CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 1000), MG_ERR_DISCONNECTED);
			CHECK_MSG(now_ms() - t0 < 200, "hang-up noticed after %.0f ms", now_ms() - t0);
			CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_DISCONNECTED);
		}
		mg_transport_close(t);
	}
	/* a write is the first to notice */
	CHECK_RC(mg_transport_open(mg_ttysim_uri(s), &t), MG_OK);
	if (t) {
		if (mg_ttysim_hangup(s) == 0) {
			CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_DISCONNECTED);
			CHECK(strstr(mg_error_detail(), "write") != NULL);
		}
		mg_transport_close(t);
	}
	mg_ttysim_stop(s);
}

static void test_errors(void)
{
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("serial:/dev/ttyUSB7", &t), MG_ERR_NOT_FOUND);
	CHECK(strstr(mg_error_detail(), "/dev/ttyUSB7") != NULL);
	CHECK(t == NULL);
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	if (getenv("MG_TEST_VERBOSE")) {
		mg_log_set_handler(log_to_stderr, NULL);
		mg_log_set_level(atoi(getenv("MG_TEST_VERBOSE")));
	}
	double t0 = now_ms();
	RUN(test_echo);
	RUN(test_partial_and_timeout);
	RUN(test_hangup);
	RUN(test_errors);
	fprintf(stderr, "test_transport_serial: %.0f ms\n", now_ms() - t0);
	return mg_test_finish("test_transport_serial");
}
