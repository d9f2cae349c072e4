/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The pty transport end to end: a real pseudo-terminal pair served by a
 * thread (tests/harness/ptysim.c); `serial:/dev/pts/N` goes through termios,
 * not libserialport (which refuses ptys). No umockdev here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	mg_ptysim *s = mg_ptysim_start(mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_ptysim_uri(s), &t), MG_OK);
	if (t) {
		CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_PTY);
		CHECK(!strcmp(mg_transport_kind_name(mg_transport_get_kind(t)), "pty"));
		CHECK(strstr(mg_transport_description(t), mg_ptysim_path(s)) != NULL);
		CHECK_NEAR(mg_transport_byte_time_us(t), 86.806, 0.01);
		uint8_t all[256], back[256];
		for (int i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		CHECK_RC(mg_transport_write(t, all, sizeof(all), 200), MG_OK);
		size_t have = 0;
		CHECK_RC(mg_transport_read_exact(t, back, sizeof(back), 1000, &have), 256);
		CHECK_MSG(have == 256 && !memcmp(all, back, 256), "%zu bytes back", have);
		mg_transport_close(t);
	}
	/* a symlink to the pty (as socat link= makes) is a pty too */
	char link[256];
	snprintf(link, sizeof(link), "/tmp/mg-pty-link-%d", (int)getpid());
	unlink(link);
	if (symlink(mg_ptysim_path(s), link) == 0) {
		char uri[300];
		snprintf(uri, sizeof(uri), "serial:%s?baud=9600", link);
		CHECK_RC(mg_transport_open(uri, &t), MG_OK);
		if (t) {
			CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_PTY);
			CHECK_NEAR(mg_transport_byte_time_us(t), 1041.667, 0.01);
			uint8_t b[4];
			CHECK_RC(mg_transport_write(t, "ok", 2, 100), MG_OK);
			CHECK_RC(mg_transport_read_exact(t, b, 2, 500, NULL), 2);
			CHECK(!memcmp(b, "ok", 2));
			mg_transport_close(t);
		}
		unlink(link);
	}
	mg_ptysim_stop(s);
}

static void test_long_and_timeouts(void)
{
	struct mg_harness_packet_state ps = {0};
	mg_ptysim *s = mg_ptysim_start(mg_harness_packet, &ps);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_ptysim_uri(s), &t), MG_OK);
	if (t) {
		uint8_t buf[64];
		double t0 = now_ms();
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 20), MG_ERR_TIMEOUT);
		double dt = now_ms() - t0;
		CHECK_MSG(dt >= 15 && dt < 500, "timeout took %.1f ms", dt);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 0), MG_ERR_TIMEOUT);

		enum { LEN = 25 * 1024 };
		static uint8_t big[LEN];
		uint8_t req[4];
		mg_harness_packet_request(req, LEN);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		int n = mg_transport_read(t, big, LEN, 500);
		CHECK_MSG(n > 0 && n < LEN, "first read %d (a pty delivers a long answer in pieces)", n);
		size_t have = n > 0 ? (size_t)n : 0, got = 0;
		CHECK_RC(mg_transport_read_exact(t, big + have, LEN - have, 2000, &got), (int)(LEN - have));
		CHECK(mg_harness_pattern_mismatch(big, LEN, 0) == (size_t)-1);

		mg_harness_packet_request(req, 3);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, buf, 6, 40, &got), MG_ERR_TIMEOUT);
		CHECK_MSG(got == 3, "got %zu", got);

		mg_ptysim_push(s, "noise", 5);
		CHECK_RC(mg_transport_read(t, buf, 1, 300), 1);
		CHECK_RC(mg_transport_flush_input(t), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 10), MG_ERR_TIMEOUT);
		mg_transport_close(t);
	}
	mg_ptysim_stop(s);
}

static void test_peer_closed(void)
{
	mg_ptysim *s = mg_ptysim_start(mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_ptysim_uri(s), &t), MG_OK);
	if (t) {
		uint8_t buf[16];
		CHECK_RC(mg_transport_write(t, "abc", 3, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, buf, 3, 500, NULL), 3);
		mg_ptysim_hangup(s);
		double t0 = now_ms();
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 1000), MG_ERR_DISCONNECTED);
		CHECK_MSG(now_ms() - t0 < 200, "hang-up noticed after %.0f ms", now_ms() - t0);
		CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_DISCONNECTED);
		mg_transport_close(t);
	}
	mg_ptysim_stop(s);

	/* a write is the first to notice */
	s = mg_ptysim_start(mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_RC(mg_transport_open(mg_ptysim_uri(s), &t), MG_OK);
	if (t) {
		mg_ptysim_hangup(s);
		CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_DISCONNECTED);
		mg_transport_close(t);
	}
	mg_ptysim_stop(s);
}

static void test_ptmx_master(void)
{
	/* serial:/dev/ptmx: the transport holds a new master; its description
	 * names the slave for a peer to open; without a peer a read times out */
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("serial:/dev/ptmx", &t), MG_OK);
	if (!t)
		return;
	CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_PTY);
	const char *d = mg_transport_description(t);
	const char *peer = strstr(d, "(peer /dev/pts/");
	CHECK_MSG(peer != NULL, "'%s'", d);
	uint8_t buf[8];
	double t0 = now_ms();
	CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 20), MG_ERR_TIMEOUT);
	CHECK(now_ms() - t0 < 500);
	if (peer) {
		char path[64];
		if (sscanf(peer, "(peer %63[^)])", path) == 1) {
			FILE *f = fopen(path, "r+");
			CHECK_MSG(f != NULL, "%s: %s", path, strerror(errno));
			if (f) {
				/* the peer's line discipline is not raw: end with a newline */
				fputs("hi\n", f);
				fflush(f);
				size_t got = 0;
				CHECK_RC(mg_transport_read_exact(t, buf, 3, 500, &got), 3);
				CHECK(got >= 2 && !memcmp(buf, "hi", 2));
				fclose(f);
			}
		}
	}
	mg_transport_close(t);
}

static void test_errors(void)
{
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("serial:/dev/pts/987654", &t), MG_ERR_NOT_FOUND);
	/* not a terminal: a regular file is not a serial port either */
	CHECK_RC(mg_transport_open("serial:/etc/hostname", &t), MG_ERR_NOT_FOUND);
	CHECK(t == NULL);
}

int main(void)
{
	if (getenv("MG_TEST_VERBOSE")) {
		mg_log_set_handler(log_to_stderr, NULL);
		mg_log_set_level(atoi(getenv("MG_TEST_VERBOSE")));
	}
	double t0 = now_ms();
	RUN(test_echo);
	RUN(test_long_and_timeouts);
	RUN(test_peer_closed);
	RUN(test_ptmx_master);
	RUN(test_errors);
	fprintf(stderr, "test_transport_pty: %.0f ms\n", now_ms() - t0);
	return mg_test_finish("test_transport_pty");
}
