/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The loopback transport: simulated devices in process, the sim: registry
 * and every fault parameter. Nothing here sleeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "magassay/error.h"
#include "magassay/transport.h"

/* A test device: answers "N\n"-free requests: each written byte b makes the
 * device send `reply_len` bytes 0,1,2,...; tick() emits one 'T' per call when
 * `ticks` is set. Counts its calls. */
struct testdev {
	mg_simdev base;
	size_t reply_len;
	int echo;
	int ticks;
	unsigned feeds, tick_calls, last_elapsed;
	int freed;
	int fail_feed;
	uint64_t produced;
};

static int *freed_flag; /* where the last freed device reports */

static int td_feed(mg_simdev *d, const uint8_t *in, size_t n, mg_buf *out)
{
	struct testdev *td = (struct testdev *)d;
	td->feeds++;
	if (td->fail_feed)
		return td->fail_feed;
	if (td->echo)
		return mg_buf_append(out, in, n);
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < td->reply_len; i++) {
			uint8_t b = (uint8_t)(td->produced++ & 0xff);
			mg_buf_append(out, &b, 1);
		}
	return MG_OK;
}

static int td_tick(mg_simdev *d, unsigned elapsed_ms, mg_buf *out)
{
	struct testdev *td = (struct testdev *)d;
	td->tick_calls++;
	td->last_elapsed = elapsed_ms;
	if (td->ticks)
		return mg_buf_append(out, "T", 1);
	return MG_OK;
}

static void td_free(mg_simdev *d)
{
	if (freed_flag)
		*freed_flag = 1;
	free(d);
}

static struct testdev *td_new(size_t reply_len)
{
	struct testdev *td = calloc(1, sizeof(*td));
	td->base.feed = td_feed;
	td->base.tick = td_tick;
	td->base.free = td_free;
	td->reply_len = reply_len;
	return td;
}

static mg_transport *open_td(struct testdev *td, const char *faults)
{
	mg_transport *t = NULL;
	int rc = mg_transport_open_loopback(&td->base, faults, &t);
	CHECK_MSG(rc == MG_OK, "open_loopback('%s'): %s", faults ? faults : "", mg_error_detail());
	return t;
}

/* Bytes the device sent at stream offsets [from, to): the test device sends 0,1,2,... */
static int is_seq(const uint8_t *b, size_t n, uint64_t from)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)((from + i) & 0xff))
			return 0;
	return 1;
}

static void test_basic(void)
{
	int freed = 0;
	freed_flag = &freed;
	struct testdev *td = td_new(100);
	mg_transport *t = open_td(td, NULL);
	if (!t)
		return;
	CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_LOOPBACK);
	CHECK(mg_transport_byte_time_us(t) == 0.0);
	CHECK(mg_transport_timeout_for(t, 1000, 50) == 50);
	uint8_t buf[256];
	/* no data: tick(timeout) is called once, then a timeout at once */
	CHECK_RC(mg_transport_read(t, buf, 10, 250), MG_ERR_TIMEOUT);
	CHECK(td->tick_calls == 1 && td->last_elapsed == 250);
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	CHECK(td->feeds == 1);
	CHECK_RC(mg_transport_read(t, buf, 30, 10), 30);
	CHECK(is_seq(buf, 30, 0));
	CHECK_RC(mg_transport_read(t, buf, 256, 10), 70);
	CHECK(is_seq(buf, 70, 30));
	/* read_exact spanning two answers */
	CHECK_RC(mg_transport_write(t, "ab", 2, 10), MG_OK);
	size_t got = 0;
	CHECK_RC(mg_transport_read_exact(t, buf, 150, 10, &got), 150);
	CHECK(got == 150 && is_seq(buf, 150, 100));
	CHECK_RC(mg_transport_read_exact(t, buf, 100, 10, &got), MG_ERR_TIMEOUT);
	CHECK(got == 50 && is_seq(buf, 50, 250));
	/* tick output is read like any other */
	td->ticks = 1;
	CHECK_RC(mg_transport_read(t, buf, 10, 5), 1);
	CHECK(buf[0] == 'T');
	td->ticks = 0;
	/* flush */
	CHECK_RC(mg_transport_write(t, "z", 1, 10), MG_OK);
	CHECK_RC(mg_transport_flush_input(t), MG_OK);
	CHECK_RC(mg_transport_read(t, buf, 10, 5), MG_ERR_TIMEOUT);
	/* argument checks */
	CHECK_RC(mg_transport_read(t, NULL, 10, 5), MG_ERR_ARG);
	CHECK_RC(mg_transport_read(t, buf, 0, 5), MG_ERR_ARG);
	CHECK_RC(mg_transport_write(t, NULL, 1, 5), MG_ERR_ARG);
	CHECK_RC(mg_transport_write(t, NULL, 0, 5), MG_OK);
	CHECK(td->feeds == 3);
	/* a device error */
	td->fail_feed = MG_ERR_PROTOCOL;
	CHECK_RC(mg_transport_write(t, "q", 1, 10), MG_ERR_IO);
	CHECK(strstr(mg_error_detail(), "simulated device") != NULL);
	mg_transport_close(t);
	CHECK(freed == 1);
	freed_flag = NULL;
}

static void test_drop(void)
{
	struct testdev *td = td_new(100);
	mg_transport *t = open_td(td, "drop=10@20");
	if (!t)
		return;
	uint8_t buf[200];
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	size_t got = 0;
	CHECK_RC(mg_transport_read_exact(t, buf, 100, 10, &got), MG_ERR_TIMEOUT);
	CHECK(got == 90);
	CHECK(is_seq(buf, 20, 0) && is_seq(buf + 20, 70, 30));
	/* only once: the next answer arrives whole */
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	CHECK_RC(mg_transport_read_exact(t, buf, 100, 10, NULL), 100);
	CHECK(is_seq(buf, 100, 100));
	mg_transport_close(t);

	/* drop=N from the start, longer than one answer */
	td = td_new(4);
	t = open_td(td, "drop=6");
	if (!t)
		return;
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	CHECK_RC(mg_transport_read(t, buf, 10, 10), MG_ERR_TIMEOUT);
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	CHECK_RC(mg_transport_read(t, buf, 10, 10), 2);
	CHECK(is_seq(buf, 2, 6));
	mg_transport_close(t);
}

static void test_corrupt(void)
{
	struct testdev *td = td_new(50);
	mg_transport *t = open_td(td, "corrupt=3,40,60");
	if (!t)
		return;
	uint8_t buf[100];
	CHECK_RC(mg_transport_write(t, "xy", 2, 10), MG_OK);
	CHECK_RC(mg_transport_read_exact(t, buf, 100, 10, NULL), 100);
	for (int i = 0; i < 100; i++) {
		uint8_t want = (uint8_t)i;
		if (i == 3 || i == 40 || i == 60)
			want ^= 0xFF;
		CHECK_MSG(buf[i] == want, "byte %d is %02x", i, buf[i]);
	}
	mg_transport_close(t);
}

static void test_stall(void)
{
	struct testdev *td = td_new(100);
	mg_transport *t = open_td(td, "stall=2@40");
	if (!t)
		return;
	uint8_t buf[200];
	/* no data yet: an ordinary timeout, the stall stays armed */
	CHECK_RC(mg_transport_read(t, buf, 10, 10), MG_ERR_TIMEOUT);
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	/* reads stop at offset 40, then time out twice, then go on */
	CHECK_RC(mg_transport_read(t, buf, 200, 10), 40);
	clock_t c0 = clock();
	CHECK_RC(mg_transport_read(t, buf, 200, 1000), MG_ERR_TIMEOUT);
	CHECK(strstr(mg_error_detail(), "stalled") != NULL);
	CHECK_RC(mg_transport_read(t, buf, 200, 1000), MG_ERR_TIMEOUT);
	CHECK((double)(clock() - c0) / CLOCKS_PER_SEC < 0.1); /* simulated, no sleeping */
	CHECK_RC(mg_transport_read(t, buf, 200, 10), 60);
	CHECK(is_seq(buf, 60, 40));
	mg_transport_close(t);

	/* read_exact over a stall: it sees the timeout */
	td = td_new(10);
	t = open_td(td, "stall=1@5");
	if (!t)
		return;
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	size_t got = 0;
	CHECK_RC(mg_transport_read_exact(t, buf, 10, 100, &got), MG_ERR_TIMEOUT);
	CHECK(got == 5);
	CHECK_RC(mg_transport_read_exact(t, buf, 5, 100, &got), 5);
	CHECK(is_seq(buf, 5, 5));
	mg_transport_close(t);
}

static void test_disconnect(void)
{
	struct testdev *td = td_new(100);
	mg_transport *t = open_td(td, "disconnect=150");
	if (!t)
		return;
	uint8_t buf[200];
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	CHECK_RC(mg_transport_read(t, buf, 200, 10), 100);
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	size_t got = 0;
	CHECK_RC(mg_transport_read_exact(t, buf, 100, 10, &got), MG_ERR_DISCONNECTED);
	CHECK(got == 50 && is_seq(buf, 50, 100));
	CHECK_RC(mg_transport_read(t, buf, 10, 10), MG_ERR_DISCONNECTED);
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_ERR_DISCONNECTED);
	CHECK_RC(mg_transport_flush_input(t), MG_ERR_DISCONNECTED);
	CHECK(td->feeds == 2);
	mg_transport_close(t);

	/* after N writes */
	td = td_new(10);
	t = open_td(td, "disconnect=2w");
	if (!t)
		return;
	CHECK_RC(mg_transport_write(t, "a", 1, 10), MG_OK);
	CHECK_RC(mg_transport_read(t, buf, 200, 10), 10);
	CHECK_RC(mg_transport_write(t, "b", 1, 10), MG_OK);
	/* the answer to the last accepted write is still readable */
	CHECK_RC(mg_transport_read(t, buf, 4, 10), 4);
	CHECK_RC(mg_transport_read(t, buf, 200, 10), 6);
	CHECK_RC(mg_transport_read(t, buf, 200, 10), MG_ERR_DISCONNECTED);
	CHECK_RC(mg_transport_write(t, "c", 1, 10), MG_ERR_DISCONNECTED);
	CHECK(td->feeds == 2);
	mg_transport_close(t);

	/* disconnect=0: gone from the start */
	td = td_new(10);
	t = open_td(td, "disconnect=0");
	if (t) {
		CHECK_RC(mg_transport_write(t, "a", 1, 10), MG_ERR_DISCONNECTED);
		mg_transport_close(t);
	}
}

static void test_combined(void)
{
	struct testdev *td = td_new(64);
	mg_transport *t = open_td(td, "drop=2@0&corrupt=10&stall=1@20&disconnect=60");
	if (!t)
		return;
	uint8_t buf[100];
	CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
	CHECK_RC(mg_transport_read(t, buf, 100, 10), 18); /* offsets 2..19 */
	CHECK(is_seq(buf, 8, 2) && buf[8] == (uint8_t)(10 ^ 0xFF) && is_seq(buf + 9, 9, 11));
	CHECK_RC(mg_transport_read(t, buf, 100, 10), MG_ERR_TIMEOUT);
	CHECK_RC(mg_transport_read(t, buf, 100, 10), 40); /* offsets 20..59 */
	CHECK(is_seq(buf, 40, 20));
	CHECK_RC(mg_transport_read(t, buf, 100, 10), MG_ERR_DISCONNECTED);
	mg_transport_close(t);
}

static void test_bad_faults(void)
{
	static const struct {
		const char *faults, *needle;
	} bad[] = {
		{"drop=x", "fault 'drop=x'"},
		{"drop=3@", "fault 'drop=3@'"},
		{"drop=@3", "fault 'drop=@3'"},
		{"drop=-1", "fault 'drop=-1'"},
		{"stall=1@x", "fault 'stall=1@x'"},
		{"corrupt=1,,2", "fault 'corrupt=1,,2'"},
		{"corrupt=1,", "trailing ','"},
		{"corrupt=a", "'a' is not a decimal offset"},
		{"corrupt=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "up to 16"},
		{"disconnect=w", "fault 'disconnect=w'"},
		{"disconnect=3x", "fault 'disconnect=3x'"},
		{"delay=5", "unknown fault parameter 'delay'"},
		{"drop=1&drop=2", "given twice"},
		{"drop", "no '=value'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int freed = 0;
		freed_flag = &freed;
		mg_transport *t = (mg_transport *)1;
		int rc = mg_transport_open_loopback(&td_new(1)->base, bad[i].faults, &t);
		CHECK_MSG(rc == MG_ERR_ARG, "'%s' gave %d", bad[i].faults, rc);
		CHECK_MSG(strstr(mg_error_detail(), bad[i].needle) != NULL, "'%s': '%s'", bad[i].faults,
		          mg_error_detail());
		CHECK(t == NULL);
		CHECK_MSG(freed == 1, "'%s': the device was not freed", bad[i].faults);
		freed_flag = NULL;
	}
	mg_transport *t;
	CHECK_RC(mg_transport_open_loopback(NULL, NULL, &t), MG_ERR_ARG);
}

/* ---- the registry and sim: URIs */

struct factory_data {
	unsigned calls;
	size_t reply_len;
};

static int echo_factory(mg_transport_uri *uri, mg_simdev **out, void *ud)
{
	struct factory_data *fd = ud;
	fd->calls++;
	struct testdev *td = td_new(fd->reply_len);
	const char *v = mg_transport_uri_take(uri, "reply");
	if (v)
		td->reply_len = (size_t)atoi(v);
	if (mg_transport_uri_take(uri, "echo"))
		td->echo = 1;
	*out = &td->base;
	return MG_OK;
}

static int failing_factory(mg_transport_uri *uri, mg_simdev **out, void *ud)
{
	(void)uri, (void)out, (void)ud;
	return MG_ERR_UNSUPPORTED;
}

static void test_registry(void)
{
	struct factory_data fd = {0, 5};
	CHECK_RC(mg_transport_register_sim("testdev", echo_factory, &fd), MG_OK);
	CHECK_RC(mg_transport_register_sim("broken", failing_factory, NULL), MG_OK);
	CHECK_RC(mg_transport_register_sim("", echo_factory, NULL), MG_ERR_ARG);

	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open("sim:testdev", &t), MG_OK);
	if (t) {
		uint8_t buf[16];
		CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_LOOPBACK);
		CHECK(!strcmp(mg_transport_description(t), "sim testdev"));
		CHECK_RC(mg_transport_write(t, "x", 1, 10), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, 16, 10), 5);
		mg_transport_close(t);
	}
	/* simulator parameters reach the factory; fault parameters stay with the transport */
	CHECK_RC(mg_transport_open("sim:testdev?echo=1&corrupt=1&reply=0", &t), MG_OK);
	if (t) {
		uint8_t buf[16];
		CHECK(strstr(mg_transport_description(t), "corrupt=1") != NULL);
		CHECK_RC(mg_transport_write(t, "abc", 3, 10), MG_OK);
		CHECK_RC(mg_transport_read(t, buf, 16, 10), 3);
		CHECK(buf[0] == 'a' && buf[1] == (uint8_t)('b' ^ 0xFF) && buf[2] == 'c');
		mg_transport_close(t);
	}
	/* a parameter nobody takes is an error naming it */
	CHECK_RC(mg_transport_open("sim:testdev?echo=1&colour=blue", &t), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "unknown parameter 'colour' for sim:testdev") != NULL);
	CHECK(t == NULL);
	CHECK_RC(mg_transport_open("sim:testdev?drop=zz", &t), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "fault 'drop=zz'") != NULL);
	/* errors from the factory pass through */
	CHECK_RC(mg_transport_open("sim:broken", &t), MG_ERR_UNSUPPORTED);
	/* unknown names list the registered ones */
	CHECK_RC(mg_transport_open("sim:nosuch", &t), MG_ERR_NOT_FOUND);
	CHECK(strstr(mg_error_detail(), "testdev") != NULL);
	/* re-registering replaces, NULL removes */
	struct factory_data fd2 = {0, 7};
	CHECK_RC(mg_transport_register_sim("testdev", echo_factory, &fd2), MG_OK);
	CHECK_RC(mg_transport_open("sim:testdev", &t), MG_OK);
	mg_transport_close(t);
	CHECK(fd.calls == 4 && fd2.calls == 1);
	CHECK_RC(mg_transport_register_sim("testdev", NULL, NULL), MG_OK);
	CHECK_RC(mg_transport_open("sim:testdev", &t), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_transport_register_sim("broken", NULL, NULL), MG_OK);
}

int main(void)
{
	test_basic();
	test_drop();
	test_corrupt();
	test_stall();
	test_disconnect();
	test_combined();
	test_bad_faults();
	test_registry();
	return mg_test_finish("test_transport_loopback");
}
