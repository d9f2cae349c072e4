/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 driver against sim:xrf through the loopback transport, with the
 * transport's fault injection (dropped, corrupted bytes, stalls, disconnects
 * at a byte offset or after N writes): a clean retry or a clear error, never
 * a hang, never a wrong spectrum returned as good. Nothing here waits: the
 * loopback's timeouts are simulated. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "e2e_common.h"
#include "magassay/device.h"
#include "magassay/error.h"

#define SIM "sim:xrf?speed=" E2E_SPEED

static mg_device *open_ok(const char *uri)
{
	mg_device *dev = NULL;
	int rc = mg_device_open(uri, &dev);
	CHECK_MSG(rc == MG_OK, "open %s: %s", uri, mg_error_detail());
	return dev;
}

static void test_plain(void)
{
	mg_device *dev = open_ok(SIM "&serial=4242&model=PX5&sample=ndfeb-tb");
	if (!dev)
		return;
	const mg_device_info *i = mg_device_get_info(dev);
	CHECK(!strcmp(i->transport, "sim") && !strcmp(i->serial, "4242") && !strcmp(i->model, "PX5"));
	e2e_acquisition(dev, "loopback", NULL);
	mg_device_stats st = mg_device_get_stats(dev);
	CHECK(st.retries == 0 && st.checksum_errors == 0 && st.resyncs == 0 && st.requests > 50);
	mg_device_close(dev);

	/* bad URIs and parameters */
	CHECK_RC(mg_device_open("sim:xrf?bogus=1", &dev), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "bogus") != NULL);
	CHECK_RC(mg_device_open("sim:xrf?sample=unobtainium", &dev), MG_ERR_ARG);
	CHECK(strstr(mg_error_detail(), "unobtainium") != NULL);
	CHECK_RC(mg_device_open("sim:nosuch", &dev), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_device_open("nonsense", &dev), MG_ERR_ARG);
	CHECK(dev == NULL);
}

/* Offsets of the device byte stream: open = one status answer (72 bytes). */
static void test_drop_corrupt_stall(void)
{
	mg_xrf_status st;
	mg_device_stats s;
	mg_device *dev;

	/* 3 bytes of the second answer dropped: timeout, one retry */
	if ((dev = open_ok(SIM "&drop=3@100"))) {
		CHECK_RC(mg_device_status(dev, &st), MG_OK);
		s = mg_device_get_stats(dev);
		CHECK(s.retries == 1 && s.timeouts == 1);
		CHECK_RC(mg_device_status(dev, &st), MG_OK);
		mg_device_close(dev);
	}
	/* a corrupted byte: checksum error, one retry */
	if ((dev = open_ok(SIM "&corrupt=100"))) {
		CHECK_RC(mg_device_status(dev, &st), MG_OK);
		s = mg_device_get_stats(dev);
		CHECK(s.retries == 1 && s.checksum_errors == 1);
		mg_device_close(dev);
	}
	/* a corrupted sync byte: the rest is skipped, a timeout, one retry */
	if ((dev = open_ok(SIM "&corrupt=72"))) {
		CHECK_RC(mg_device_status(dev, &st), MG_OK);
		s = mg_device_get_stats(dev);
		CHECK(s.retries == 1 && s.resyncs >= 1);
		mg_device_close(dev);
	}
	/* corrupted in every attempt (4 answers of 72 bytes): a clear error */
	if ((dev = open_ok(SIM "&corrupt=100,172,244,316"))) {
		CHECK_RC(mg_device_status(dev, &st), MG_ERR_CHECKSUM);
		CHECK(strstr(mg_error_detail(), "failed 4 time(s), giving up") != NULL);
		s = mg_device_get_stats(dev);
		CHECK(s.retries == 3 && s.checksum_errors == 4);
		CHECK_RC(mg_device_status(dev, &st), MG_OK); /* and then it works again */
		mg_device_close(dev);
	}
	/* a corrupted open: the status at open is retried too */
	if ((dev = open_ok(SIM "&corrupt=20"))) {
		CHECK(mg_device_get_stats(dev).retries == 1);
		mg_device_close(dev);
	}
	/* a stall of two reads: two retries; a long stall: a timeout, at once */
	if ((dev = open_ok(SIM "&stall=2@72"))) {
		CHECK_RC(mg_device_status(dev, &st), MG_OK);
		CHECK(mg_device_get_stats(dev).retries == 2);
		mg_device_close(dev);
	}
	if ((dev = open_ok(SIM "&stall=50@72"))) {
		double t0 = e2e_now_ms();
		CHECK_RC(mg_device_status(dev, &st), MG_ERR_TIMEOUT);
		CHECK(e2e_now_ms() - t0 < 1000);
		CHECK(strstr(mg_error_detail(), "giving up") != NULL);
		mg_device_close(dev);
	}
	/* retries are bounded by the setting */
	if ((dev = open_ok(SIM "&stall=50@72"))) {
		mg_device_set_retries(dev, 0);
		CHECK_RC(mg_device_status(dev, &st), MG_ERR_TIMEOUT);
		CHECK(mg_device_get_stats(dev).requests == 2); /* open + one */
		mg_device_close(dev);
	}
}

/* A spectrum hit by a fault is read again, never returned. The offsets come
 * from a clean run of the same requests. */
static void test_spectrum_faults(void)
{
	static const char *const steps = "MCAC=2048;PRET=OFF;";
	mg_device *dev = open_ok(SIM);
	if (!dev)
		return;
	mg_xrf_status st;
	CHECK_RC(mg_device_configure(dev, steps), MG_OK);
	CHECK_RC(mg_device_clear(dev), MG_OK);
	size_t off = mg_device_get_stats(dev).bytes_in; /* where the spectrum answer starts */
	mg_spectrum *ref = NULL;
	CHECK_RC(mg_device_read_spectrum(dev, MG_READ_NO_CONFIG, &ref, &st), MG_OK);
	mg_device_close(dev);
	CHECK(off == 72 + 8 + 8);

	char uri[256];
	/* a flipped count byte in the middle of the spectrum: retried, the same spectrum */
	snprintf(uri, sizeof(uri), SIM "&corrupt=%zu", off + 3000);
	if ((dev = open_ok(uri))) {
		CHECK_RC(mg_device_configure(dev, steps), MG_OK);
		CHECK_RC(mg_device_clear(dev), MG_OK);
		mg_spectrum *s = NULL;
		CHECK_RC(mg_device_read_spectrum(dev, MG_READ_NO_CONFIG, &s, &st), MG_OK);
		CHECK(mg_device_get_stats(dev).retries == 1);
		if (s && ref)
			CHECK(s->nchan == ref->nchan && !memcmp(s->counts, ref->counts, s->nchan * sizeof(double)));
		mg_spectrum_free(s);
		mg_device_close(dev);
	}
	/* bytes dropped from the spectrum: retried */
	snprintf(uri, sizeof(uri), SIM "&drop=2@%zu", off + 4000);
	if ((dev = open_ok(uri))) {
		CHECK_RC(mg_device_configure(dev, steps), MG_OK);
		CHECK_RC(mg_device_clear(dev), MG_OK);
		mg_spectrum *s = NULL;
		CHECK_RC(mg_device_read_spectrum(dev, MG_READ_NO_CONFIG, &s, &st), MG_OK);
		CHECK(s && mg_spectrum_total(s) == (double)st.slow_count);
		mg_spectrum_free(s);
		mg_device_close(dev);
	}
	/* the same with clear: not sent twice, an error, no spectrum */
	snprintf(uri, sizeof(uri), SIM "&corrupt=%zu", off + 3000);
	if ((dev = open_ok(uri))) {
		CHECK_RC(mg_device_configure(dev, steps), MG_OK);
		CHECK_RC(mg_device_clear(dev), MG_OK);
		mg_spectrum *s = (mg_spectrum *)1;
		CHECK_RC(mg_device_read_spectrum(dev, MG_READ_NO_CONFIG | MG_READ_CLEAR, &s, &st), MG_ERR_CHECKSUM);
		CHECK(s == NULL && strstr(mg_error_detail(), "not sent again"));
		CHECK(mg_device_get_stats(dev).retries == 0);
		mg_device_close(dev);
	}
	mg_spectrum_free(ref);
}

static void test_disconnect(void)
{
	mg_xrf_status st;
	mg_device *dev;
	/* the device vanishes at byte 1000 while acquiring */
	if ((dev = open_ok(SIM "&disconnect=1000"))) {
		CHECK_RC(mg_device_start(dev), MG_OK);
		int rc = MG_OK, polls = 0;
		while (rc == MG_OK && polls < 100) {
			rc = mg_device_status(dev, &st);
			polls++;
		}
		CHECK_MSG(rc == MG_ERR_DISCONNECTED, "after %d polls: %d %s", polls, rc, mg_error_detail());
		CHECK(mg_device_get_stats(dev).retries == 0);
		mg_spectrum *s = NULL;
		CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_ERR_DISCONNECTED);
		CHECK(s == NULL);
		CHECK_RC(mg_device_stop(dev), MG_ERR_DISCONNECTED);
		mg_device_close(dev);
	}
	/* in the middle of a spectrum */
	if ((dev = open_ok(SIM "&disconnect=2000"))) {
		mg_spectrum *s = NULL;
		CHECK_RC(mg_device_read_spectrum(dev, MG_READ_NO_CONFIG, &s, &st), MG_ERR_DISCONNECTED);
		CHECK(s == NULL);
		mg_device_close(dev);
	}
	/* after 3 writes: the third answer can still be read, then it is gone */
	if ((dev = open_ok(SIM "&disconnect=3w"))) {
		CHECK_RC(mg_device_configure(dev, "MCAC=1024;"), MG_OK);
		CHECK_RC(mg_device_status(dev, &st), MG_OK);
		CHECK_RC(mg_device_status(dev, &st), MG_ERR_DISCONNECTED);
		mg_device_close(dev);
	}
	/* gone before it answered open */
	CHECK_RC(mg_device_open(SIM "&disconnect=10", &dev), MG_ERR_DISCONNECTED);
	CHECK(dev == NULL);
}

static void test_args(void)
{
	mg_xrf_status st;
	mg_spectrum *s = NULL;
	CHECK_RC(mg_device_status(NULL, &st), MG_ERR_ARG);
	CHECK_RC(mg_device_read_spectrum(NULL, 0, &s, NULL), MG_ERR_ARG);
	mg_device_close(NULL);
	mg_device *dev = open_ok(SIM);
	if (!dev)
		return;
	CHECK_RC(mg_device_read_spectrum(dev, 0x100, &s, NULL), MG_ERR_ARG);
	CHECK_RC(mg_device_configure(dev, NULL), MG_ERR_ARG);
	CHECK_RC(mg_device_configure(dev, "MCAC=1024"), MG_ERR_ARG); /* no ';': nothing sent */
	/* the spectrum alone, and read + clear */
	CHECK_RC(mg_device_read_spectrum(dev, MG_READ_NO_STATUS, &s, &st), MG_OK);
	if (s) {
		CHECK(s->nchan == 2048 && s->live_time_s != s->live_time_s); /* NAN: no status */
		CHECK(mg_kvlist_get(&s->meta, "dp5.config.MCAC") != NULL);
		mg_spectrum_free(s);
	}
	mg_device_close(dev);
}

int main(void)
{
	e2e_log_init();
	double t0 = e2e_now_ms();
	test_plain();
	test_drop_corrupt_stall();
	test_spectrum_faults();
	test_disconnect();
	test_args();
	fprintf(stderr, "test_e2e_loopback: %.0f ms\n", e2e_now_ms() - t0);
	return mg_test_finish("test_e2e_loopback");
}
