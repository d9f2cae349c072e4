/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The USB transport end to end: the unchanged libusb code against devices
 * emulated by umockdev (tests/harness/usbsim.c). Timeouts stay short: libusb
 * busy-polls an emulated device while it waits. */
#include <pthread.h>
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

#define VID 0x10c4
#define PID 0x842a

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

static void test_enumerate(void)
{
	mg_usbsim *a = mg_usbsim_start(VID, PID, "DP5-1001", mg_harness_echo, NULL);
	mg_usbsim *b = mg_usbsim_start(VID, PID, "DP5-1002", mg_harness_echo, NULL);
	mg_usbsim *other = mg_usbsim_start(0x1234, 0x5678, "OTHER", mg_harness_echo, NULL);
	mg_usbsim *noserial = mg_usbsim_start(VID, PID, NULL, mg_harness_echo, NULL);
	CHECK(a && b && other && noserial);
	if (!a || !b || !other || !noserial)
		goto out;

	mg_transport_usb_info *list = NULL;
	size_t n = 0;
	CHECK_RC(mg_transport_usb_list(VID, PID, &list, &n), MG_OK);
	CHECK_MSG(n == 3, "%zu devices listed", n);
	if (n == 3) {
		CHECK(list[0].bus == 1 && list[0].address == mg_usbsim_address(a));
		CHECK(list[1].address == mg_usbsim_address(b));
		CHECK(list[2].address == mg_usbsim_address(noserial));
		CHECK_MSG(!strcmp(list[0].serial, "DP5-1001"), "serial '%s'", list[0].serial);
		CHECK_MSG(!strcmp(list[1].serial, "DP5-1002"), "serial '%s'", list[1].serial);
		CHECK_MSG(list[2].serial[0] == '\0', "serial '%s'", list[2].serial);
		CHECK(!strcmp(list[0].product, "simulated instrument"));
		CHECK(list[0].vid == VID && list[0].pid == PID);
	}
	free(list);
	CHECK_RC(mg_transport_usb_list(0, 0, &list, &n), MG_OK);
	CHECK_MSG(n == 4, "%zu devices in all", n);
	free(list);

	/* ?serial= picks by the iSerial string */
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("usb:10c4:842a?serial=DP5-1002", &t), MG_OK);
	if (t) {
		char want[32];
		snprintf(want, sizeof(want), "usb 001.%03d 10c4:842a", mg_usbsim_address(b));
		CHECK_MSG(!strcmp(mg_transport_description(t), want), "'%s'", mg_transport_description(t));
		mg_transport_close(t);
	}
	CHECK_RC(mg_transport_open("usb:10c4:842a?serial=NOPE", &t), MG_ERR_NOT_FOUND);
	CHECK(strstr(mg_error_detail(), "NOPE") != NULL);
	CHECK_RC(mg_transport_open("usb:dead:beef", &t), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_transport_open("usb:1.99", &t), MG_ERR_NOT_FOUND);
out:
	mg_usbsim_stop(a);
	mg_usbsim_stop(b);
	mg_usbsim_stop(other);
	mg_usbsim_stop(noserial);
}

static void test_echo_vidpid(void)
{
	mg_usbsim *s = mg_usbsim_start(VID, PID, "E1", mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("usb:10c4:842a", &t), MG_OK);
	if (t) {
		CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_USB);
		CHECK(mg_transport_byte_time_us(t) == 0.0);
		uint8_t req[8] = {0xF5, 0xFA, 0x01, 0x01, 0x00, 0x00, 0xFE, 0x0F}, got[64];
		CHECK_RC(mg_transport_write(t, req, sizeof(req), 100), MG_OK);
		int n = mg_transport_read(t, got, sizeof(got), 200);
		CHECK_MSG(n == 8, "read %d (%s)", n, mg_error_detail());
		CHECK(n == 8 && !memcmp(got, req, 8));
		/* all byte values survive */
		uint8_t all[256], back[256];
		for (int i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		CHECK_RC(mg_transport_write(t, all, sizeof(all), 100), MG_OK);
		size_t have = 0;
		CHECK_RC(mg_transport_read_exact(t, back, sizeof(back), 300, &have), 256);
		CHECK(have == 256 && !memcmp(all, back, 256));
		mg_usbsim_stats st = mg_usbsim_get_stats(s);
		CHECK(st.claims == 1);
		CHECK(st.unknown_ioctls == 0);
		mg_transport_close(t);
		st = mg_usbsim_get_stats(s);
		CHECK(st.releases == 1);
	}
	mg_usbsim_stop(s);
}

static void test_kernel_driver(void)
{
	mg_usbsim *s = mg_usbsim_start(VID, PID, "K", mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_usbsim_set_kernel_driver(s, "somedrv");
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		/* detached to claim interface 0 ... */
		CHECK(mg_usbsim_get_stats(s).detaches == 1);
		CHECK(mg_usbsim_get_stats(s).claims == 1);
		CHECK(!strcmp(mg_usbsim_kernel_driver(s), ""));
		uint8_t b[2];
		CHECK_RC(mg_transport_write(t, "ok", 2, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, b, 2, 300, NULL), 2);
		mg_transport *t2 = NULL;
		/* a second program cannot claim it meanwhile */
		CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t2), MG_ERR_BUSY);
		CHECK(strstr(mg_error_detail(), "claimed by another program") != NULL);
		CHECK(t2 == NULL);
		mg_transport_close(t);
		/* ... and given back on close */
		CHECK(mg_usbsim_get_stats(s).attaches == 1);
		CHECK(!strcmp(mg_usbsim_kernel_driver(s), "somedrv"));
		/* without a kernel driver: busy while one handle has it, free once it is closed */
		mg_usbsim_set_kernel_driver(s, NULL);
		CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
		CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t2), MG_ERR_BUSY);
		mg_transport_close(t);
		CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t2), MG_OK);
		mg_transport_close(t2);
	}
	mg_usbsim_stop(s);
}

static void test_by_address(void)
{
	struct mg_harness_packet_state ps = {0};
	mg_usbsim *a = mg_usbsim_start(VID, PID, "A", mg_harness_echo, NULL);
	mg_usbsim *b = mg_usbsim_start(VID, PID, "B", mg_harness_packet, &ps);
	CHECK(a && b);
	if (a && b) {
		/* usb:1.N and usb:001.00N name the same device */
		char uri[32];
		snprintf(uri, sizeof(uri), "usb:001.%03d", mg_usbsim_address(b));
		mg_transport *t = NULL;
		CHECK_RC(mg_transport_open(uri, &t), MG_OK);
		mg_transport *t2 = NULL;
		CHECK_RC(mg_transport_open(mg_usbsim_uri(a), &t2), MG_OK);
		if (t && t2) {
			uint8_t req[4], got[16];
			mg_harness_packet_request(req, 5);
			CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
			CHECK_RC(mg_transport_read_exact(t, got, 5, 300, NULL), 5);
			CHECK(mg_harness_pattern_mismatch(got, 5, 0) == (size_t)-1);
			CHECK(ps.requests == 1);
			CHECK_RC(mg_transport_write(t2, "xy", 2, 100), MG_OK);
			CHECK_RC(mg_transport_read_exact(t2, got, 2, 300, NULL), 2);
			CHECK(!memcmp(got, "xy", 2));
			CHECK(mg_usbsim_get_stats(a).bytes_out == 2);
			CHECK(mg_usbsim_get_stats(b).bytes_out == 4);
		}
		mg_transport_close(t);
		mg_transport_close(t2);
	}
	mg_usbsim_stop(a);
	mg_usbsim_stop(b);
}

static int match_second(mg_transport *t, void *ud)
{
	int *calls = ud;
	(void)t;
	return ++*calls == 2;
}

static void test_open_match(void)
{
	mg_usbsim *a = mg_usbsim_start(VID, PID, NULL, mg_harness_echo, NULL);
	mg_usbsim *b = mg_usbsim_start(VID, PID, NULL, mg_harness_echo, NULL);
	CHECK(a && b);
	if (a && b) {
		int calls = 0;
		mg_transport *t = NULL;
		CHECK_RC(mg_transport_open_usb_match(VID, PID, match_second, &calls, &t), MG_OK);
		CHECK(calls == 2);
		if (t) {
			char want[32];
			snprintf(want, sizeof(want), "usb 001.%03d 10c4:842a", mg_usbsim_address(b));
			CHECK_MSG(!strcmp(mg_transport_description(t), want), "'%s'", mg_transport_description(t));
		}
		mg_transport_close(t);
		/* the first candidate was closed again: it can be opened now */
		CHECK(mg_usbsim_get_stats(a).releases == 1);
	}
	mg_usbsim_stop(a);
	mg_usbsim_stop(b);
}

static void test_long_reply(void)
{
	struct mg_harness_packet_state ps = {0};
	mg_usbsim *s = mg_usbsim_start(VID, PID, "L", mg_harness_packet, &ps);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_usbsim_set_max_transfer(s, 4096); /* the device sends 4 KiB per transfer */
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		enum { LEN = 25 * 1024 };
		static uint8_t buf[LEN + 16];
		uint8_t req[4];
		mg_harness_packet_request(req, LEN);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		/* a plain read returns one transfer's worth */
		int n = mg_transport_read(t, buf, sizeof(buf), 300);
		CHECK_MSG(n == 4096, "first read %d", n);
		size_t have = n > 0 ? (size_t)n : 0, got = 0;
		CHECK_RC(mg_transport_read_exact(t, buf + have, LEN - have, 1000, &got), (int)(LEN - have));
		have += got;
		CHECK(have == LEN);
		CHECK(mg_harness_pattern_mismatch(buf, LEN, 0) == (size_t)-1);
		mg_usbsim_stats st = mg_usbsim_get_stats(s);
		CHECK_MSG(st.submitted_in >= 7, "%u IN transfers", st.submitted_in);
		CHECK(st.bytes_in == LEN);
		/* nothing more */
		CHECK_RC(mg_transport_read(t, buf, 16, 5), MG_ERR_TIMEOUT);

		/* without a per-transfer limit the whole answer comes in one transfer */
		mg_usbsim_set_max_transfer(s, 0);
		unsigned before = mg_usbsim_get_stats(s).submitted_in;
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, buf, LEN, 1000, NULL), LEN);
		CHECK(mg_harness_pattern_mismatch(buf, LEN, 0) == (size_t)-1);
		CHECK(mg_usbsim_get_stats(s).submitted_in == before + 1);
		mg_transport_close(t);
	}
	mg_usbsim_stop(s);
}

static void test_short_reads(void)
{
	struct mg_harness_packet_state ps = {0};
	mg_usbsim *s = mg_usbsim_start(VID, PID, "S", mg_harness_packet, &ps);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		uint8_t req[4], buf[128];
		mg_harness_packet_request(req, 100);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		/* one 32 KiB IN transfer comes back short with 100 bytes; the caller
		 * takes them 10, 30 and 60 at a time from the kept remainder */
		CHECK_RC(mg_transport_read(t, buf, 10, 300), 10);
		unsigned in_after_first = mg_usbsim_get_stats(s).submitted_in;
		CHECK_RC(mg_transport_read(t, buf + 10, 30, 300), 30);
		CHECK_RC(mg_transport_read(t, buf + 40, 100, 300), 60);
		CHECK(mg_harness_pattern_mismatch(buf, 100, 0) == (size_t)-1);
		mg_usbsim_stats st = mg_usbsim_get_stats(s);
		CHECK_MSG(st.submitted_in == in_after_first, "%u IN transfers", st.submitted_in);
		CHECK(st.short_in >= 1);

		/* flush drops both kept and still-queued bytes */
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, 10, 300), 10);
		mg_usbsim_push(s, "junk", 4);
		CHECK_RC(mg_transport_flush_input(t), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 5), MG_ERR_TIMEOUT);
		mg_transport_close(t);
	}
	mg_usbsim_stop(s);
}

static void test_timeout(void)
{
	mg_usbsim *s = mg_usbsim_start(VID, PID, "T", mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		uint8_t buf[16];
		double t0 = now_ms();
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 20), MG_ERR_TIMEOUT);
		double dt = now_ms() - t0;
		CHECK_MSG(dt >= 15 && dt < 1000, "timeout took %.1f ms", dt);
		CHECK(mg_usbsim_get_stats(s).discarded == 1);
		size_t got = 99;
		CHECK_RC(mg_transport_read_exact(t, buf, 4, 10, &got), MG_ERR_TIMEOUT);
		CHECK(got == 0);
		/* the discarded transfer left nothing behind: the device still works */
		CHECK_RC(mg_transport_write(t, "ping", 4, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, buf, 4, 300, NULL), 4);
		CHECK(!memcmp(buf, "ping", 4));
		/* read_exact: 4 arrive, 8 wanted */
		CHECK_RC(mg_transport_write(t, "half", 4, 100), MG_OK);
		CHECK_RC(mg_transport_read_exact(t, buf, 8, 30, &got), MG_ERR_TIMEOUT);
		CHECK(got == 4 && !memcmp(buf, "half", 4));
		/* zero-length packets are not data and not the end of the wait */
		mg_usbsim_zlp_next(s, 3);
		CHECK_RC(mg_transport_write(t, "zl", 2, 100), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 300), 2);
		CHECK(!memcmp(buf, "zl", 2));
		mg_usbsim_zlp_next(s, 1000000);
		t0 = now_ms();
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 20), MG_ERR_TIMEOUT);
		dt = now_ms() - t0;
		CHECK_MSG(dt >= 15 && dt < 1000, "ZLP timeout took %.1f ms", dt);
		mg_usbsim_zlp_next(s, 0);
		mg_transport_close(t);
	}
	mg_usbsim_stop(s);
}

static void test_stall(void)
{
	mg_usbsim *s = mg_usbsim_start(VID, PID, "ST", mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		uint8_t buf[16];
		CHECK_RC(mg_transport_write(t, "abc", 3, 100), MG_OK);
		mg_usbsim_stall_next(s, 0x81);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 200), MG_ERR_IO);
		CHECK(strstr(mg_error_detail(), "stalled") != NULL);
		CHECK(mg_usbsim_get_stats(s).clear_halts == 1);
		/* once: the halt is cleared and the answer is still there */
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 200), 3);
		CHECK(!memcmp(buf, "abc", 3));
		mg_usbsim_stall_next(s, 0x02);
		CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_IO);
		CHECK(mg_usbsim_get_stats(s).clear_halts == 2);
		CHECK_RC(mg_transport_write(t, "y", 1, 100), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 200), 1);
		CHECK(buf[0] == 'y');
		mg_transport_close(t);
	}
	mg_usbsim_stop(s);
}

struct unplug_job {
	mg_usbsim *sim;
	unsigned delay_ms;
};

static void *unplug_later(void *arg)
{
	struct unplug_job *j = arg;
	usleep(j->delay_ms * 1000);
	mg_usbsim_unplug(j->sim);
	return NULL;
}

static void test_unplug(void)
{
	struct mg_harness_packet_state ps = {0};
	mg_usbsim *s = mg_usbsim_start(VID, PID, "U", mg_harness_packet, &ps);
	CHECK(s != NULL);
	if (!s)
		return;
	mg_usbsim_set_max_transfer(s, 1024);
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		static uint8_t buf[8192];
		uint8_t req[4];
		/* the device answers 2 KiB of the 8 KiB asked for, then is pulled
		 * while the host waits for the rest */
		mg_harness_packet_request(req, 2048);
		CHECK_RC(mg_transport_write(t, req, 4, 100), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, sizeof(buf), 300), 1024);
		struct unplug_job job = {s, 20};
		pthread_t th;
		pthread_create(&th, NULL, unplug_later, &job);
		size_t got = 0;
		double t0 = now_ms();
		int rc = mg_transport_read_exact(t, buf + 1024, 8192 - 1024, 2000, &got);
		double dt = now_ms() - t0;
		pthread_join(th, NULL);
		CHECK_MSG(rc == MG_ERR_DISCONNECTED, "read_exact returned %d: %s", rc, mg_error_detail());
		CHECK_MSG(got == 1024, "got %zu", got);
		CHECK_MSG(dt < 1500, "disconnect noticed after %.0f ms", dt);
		/* and from then on, at once */
		CHECK_RC(mg_transport_read(t, buf, 16, 1000), MG_ERR_DISCONNECTED);
		CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_DISCONNECTED);
		mg_transport_close(t);

		mg_transport_usb_info *list;
		size_t n = 9;
		CHECK_RC(mg_transport_usb_list(VID, PID, &list, &n), MG_OK);
		CHECK_MSG(n == 0, "%zu devices still listed after the unplug", n);
		free(list);
		CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_ERR_NOT_FOUND);
	}
	mg_usbsim_stop(s);

	/* unplugged between requests: the write fails */
	s = mg_usbsim_start(VID, PID, "U2", mg_harness_echo, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_RC(mg_transport_open(mg_usbsim_uri(s), &t), MG_OK);
	if (t) {
		mg_usbsim_unplug(s);
		CHECK_RC(mg_transport_write(t, "x", 1, 100), MG_ERR_DISCONNECTED);
		mg_transport_close(t);
	}
	mg_usbsim_stop(s);
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	if (getenv("MG_TEST_VERBOSE")) {
		mg_log_set_handler(log_to_stderr, NULL);
		mg_log_set_level(atoi(getenv("MG_TEST_VERBOSE")));
	}
	double t0 = now_ms();
	RUN(test_enumerate);
	RUN(test_echo_vidpid);
	RUN(test_kernel_driver);
	RUN(test_by_address);
	RUN(test_open_match);
	RUN(test_long_reply);
	RUN(test_short_reads);
	RUN(test_timeout);
	RUN(test_stall);
	RUN(test_unplug);
	fprintf(stderr, "test_transport_usb: %.0f ms\n", now_ms() - t0);
	return mg_test_finish("test_transport_usb");
}
