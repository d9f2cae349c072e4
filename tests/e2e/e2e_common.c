/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "e2e_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "magassay/dp5.h"
#include "magassay/error.h"
#include "magassay/log.h"

static const size_t all_sizes[] = {256, 512, 1024, 2048, 4096, 8192, 0};

static void log_to_stderr(int level, const char *domain, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "[%d %s] %s\n", level, domain, msg);
}

void e2e_log_init(void)
{
	const char *v = getenv("MG_E2E_VERBOSE");
	mg_log_set_handler(log_to_stderr, NULL);
	mg_log_set_level(v ? atoi(v) : MG_LOG_ERR);
}

double e2e_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int e2e_wait_stopped(mg_device *dev, mg_xrf_status *st, double max_ms)
{
	double t0 = e2e_now_ms();
	for (;;) {
		int rc = mg_device_status(dev, st);
		if (rc < 0)
			return rc;
		if (!st->acquiring)
			return MG_OK;
		if (e2e_now_ms() - t0 > max_ms)
			return MG_ERR_TIMEOUT;
	}
}

static int cfg(mg_device *dev, const char *what, const char *text)
{
	int rc = mg_device_configure(dev, text);
	CHECK_MSG(rc == MG_OK, "%s: configure '%s': %s", what, text, mg_error_detail());
	return rc;
}

/* Read spectrum + status; checks that apply to every read. */
static mg_spectrum *read_checked(mg_device *dev, const char *what, mg_xrf_status *st, size_t nchan)
{
	mg_spectrum *s = NULL;
	int rc = mg_device_read_spectrum(dev, 0, &s, st);
	CHECK_MSG(rc == MG_OK && s, "%s: read spectrum: %s", what, mg_error_detail());
	if (!s)
		return NULL;
	CHECK_MSG(s->nchan == nchan, "%s: %zu channels, wanted %zu", what, s->nchan, nchan);
	double total = mg_spectrum_total(s);
	CHECK_MSG(total == (double)st->slow_count, "%s: total counts %.0f != slow count %llu", what, total,
	          (unsigned long long)st->slow_count);
	CHECK_MSG(st->fast_count >= st->slow_count, "%s: fast %llu < slow %llu", what,
	          (unsigned long long)st->fast_count, (unsigned long long)st->slow_count);
	CHECK_MSG(st->live_s <= st->real_s + 1e-9, "%s: live %.3f > real %.3f", what, st->live_s, st->real_s);
	CHECK_NEAR(s->live_time_s, st->live_s, 1e-9);
	CHECK_NEAR(s->real_time_s, st->real_s, 1e-9);
	const char *sn = mg_kvlist_get(&s->meta, "dp5.status.Serial Number");
	CHECK_MSG(sn && !strcmp(sn, st->serial), "%s: meta serial '%s' vs '%s'", what, sn ? sn : "(none)", st->serial);
	CHECK(mg_kvlist_get(&s->meta, "dp5.status.Fast Count") != NULL);
	char mc[16];
	snprintf(mc, sizeof(mc), "%zu", nchan);
	const char *mcac = mg_kvlist_get(&s->meta, "dp5.config.MCAC");
	CHECK_MSG(mcac && !strcmp(mcac, mc), "%s: meta dp5.config.MCAC '%s', wanted %s", what, mcac ? mcac : "(none)",
	          mc);
	const mg_kv *tpea = mg_kvlist_find(&s->meta, "dp5.config.TPEA");
	CHECK_MSG(tpea && tpea->comment && !strcmp(tpea->comment, "Peaking Time"), "%s: TPEA meta/comment", what);
	CHECK(s->instrument.model && !strcmp(s->instrument.model, st->model));
	CHECK(s->instrument.serial && !strcmp(s->instrument.serial, st->serial));
	CHECK(s->instrument.firmware && !strncmp(s->instrument.firmware, "6.", 2));
	CHECK(mg_spectrum_validate(s) == MG_OK);
	return s;
}

static void preset_runs(mg_device *dev, const char *what)
{
	mg_xrf_status st;
	mg_spectrum *s;
	/* PRET: accumulation (live) time */
	if (cfg(dev, what, "MCAC=1024;PRET=3.0;PRER=OFF;PREC=OFF;") == MG_OK) {
		CHECK_RC(mg_device_clear(dev), MG_OK);
		CHECK_RC(mg_device_start(dev), MG_OK);
		CHECK_RC(e2e_wait_stopped(dev, &st, 5000), MG_OK);
		CHECK_MSG(st.accumulation_s == 3.0, "%s: PRET 3.0 stopped at accumulation %.6f s", what, st.accumulation_s);
		CHECK(st.preset_time_reached && st.preset_reached && !st.preset_count_reached);
		CHECK(st.real_s > st.accumulation_s);
		s = read_checked(dev, what, &st, 1024);
		if (s) {
			CHECK_NEAR(s->live_time_s, 3.0, 1e-12);
			CHECK_NEAR(s->acq.preset_time_s, 3.0, 1e-12);
			CHECK(mg_spectrum_total(s) > 1000);
			mg_spectrum_free(s);
		}
		/* stopped: nothing changes any more */
		mg_xrf_status st2;
		s = read_checked(dev, what, &st2, 1024);
		CHECK(st2.slow_count == st.slow_count && st2.real_s == st.real_s);
		mg_spectrum_free(s);
		/* enabling again with the preset met stops at once */
		CHECK_RC(mg_device_start(dev), MG_OK);
		CHECK_RC(mg_device_status(dev, &st2), MG_OK);
		CHECK(!st2.acquiring && st2.slow_count == st.slow_count);
	}
	/* PRER: real time */
	if (cfg(dev, what, "PRET=OFF;PRER=2.5;") == MG_OK) {
		CHECK_RC(mg_device_clear(dev), MG_OK);
		CHECK_RC(mg_device_start(dev), MG_OK);
		CHECK_RC(e2e_wait_stopped(dev, &st, 5000), MG_OK);
		CHECK_MSG(st.real_s == 2.5, "%s: PRER 2.5 stopped at real %.6f s", what, st.real_s);
		CHECK(st.preset_time_reached);
		mg_spectrum_free(read_checked(dev, what, &st, 1024));
	}
	/* PREC: counts */
	if (cfg(dev, what, "PRER=OFF;PREC=40000;") == MG_OK) {
		CHECK_RC(mg_device_clear(dev), MG_OK);
		CHECK_RC(mg_device_start(dev), MG_OK);
		CHECK_RC(e2e_wait_stopped(dev, &st, 5000), MG_OK);
		CHECK_MSG(st.slow_count == 40000, "%s: PREC 40000 stopped at %llu counts", what,
		          (unsigned long long)st.slow_count);
		CHECK(st.preset_count_reached && st.preset_reached && !st.preset_time_reached);
		s = read_checked(dev, what, &st, 1024);
		if (s) {
			CHECK(mg_spectrum_total(s) == 40000);
			CHECK_NEAR(s->acq.preset_counts, 40000, 0);
			mg_spectrum_free(s);
		}
	}
	cfg(dev, what, "PREC=OFF;");
}

void e2e_acquisition(mg_device *dev, const char *what, const size_t *sizes)
{
	mg_xrf_status st, st1, st2;
	const mg_device_info *info = mg_device_get_info(dev);
	CHECK(info && info->model && info->serial && info->firmware && !strncmp(info->firmware, "6.", 2));
	mg_device_set_timeout(dev, 5000); /* a first model build may take a while under sanitizers */

	if (cfg(dev, what, "MCAC=1024;PRET=OFF;PRER=OFF;PREC=OFF;GAIN=20;TPEA=4.000;") != MG_OK)
		return;
	CHECK_RC(mg_device_stop(dev), MG_OK);
	CHECK_RC(mg_device_clear(dev), MG_OK);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	CHECK(!st.acquiring && st.slow_count == 0 && st.fast_count == 0 && st.real_s == 0);
	CHECK_MSG(!strcmp(st.serial, info->serial), "%s: status serial '%s', open said '%s'", what, st.serial,
	          info->serial);

	/* counts grow with time */
	CHECK_RC(mg_device_start(dev), MG_OK);
	CHECK_RC(mg_device_status(dev, &st1), MG_OK);
	double t0 = e2e_now_ms();
	int grew = 0;
	while (e2e_now_ms() - t0 < 3000) {
		if (mg_device_status(dev, &st2) != MG_OK)
			break;
		if (st2.slow_count > st1.slow_count + 1000 && st2.real_s > st1.real_s) {
			grew = 1;
			break;
		}
	}
	CHECK_MSG(grew, "%s: counts did not grow: %llu then %llu", what, (unsigned long long)st1.slow_count,
	          (unsigned long long)st2.slow_count);
	CHECK(st2.acquiring && !st2.preset_reached);
	CHECK(st2.fast_count >= st2.slow_count);
	CHECK(st2.live_s <= st2.real_s && st2.accumulation_s == st2.live_s);
	CHECK_MSG(st2.detector_temp_k > 210 && st2.detector_temp_k < 230, "%s: detector at %.1f K", what,
	          st2.detector_temp_k);
	CHECK(st2.board_temp_c > 20 && st2.board_temp_c < 60);
	CHECK(st2.hv_v != 0);
	CHECK(st2.dead_time_pct > 0 && st2.dead_time_pct < 100);
	CHECK(st2.input_rate_cps > st2.output_rate_cps * 0.5 && st2.output_rate_cps > 0);
	CHECK(st2.dp5.fw_major == 6);

	mg_spectrum *s = read_checked(dev, what, &st1, 1024);
	mg_spectrum *s2 = read_checked(dev, what, &st2, 1024);
	if (s && s2) {
		CHECK(mg_spectrum_total(s2) >= mg_spectrum_total(s));
		CHECK(st2.real_s >= st1.real_s);
		CHECK(s->start_time[0] && s->start_time[strlen(s->start_time) - 1] == 'Z');
	}
	mg_spectrum_free(s);
	mg_spectrum_free(s2);
	CHECK_RC(mg_device_stop(dev), MG_OK);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	CHECK(!st.acquiring);

	/* read + clear: the counts start again from 0 */
	s = NULL;
	CHECK_RC(mg_device_read_spectrum(dev, MG_READ_CLEAR, &s, &st1), MG_OK);
	if (s)
		CHECK(mg_spectrum_total(s) == (double)st1.slow_count && st1.slow_count > 0);
	mg_spectrum_free(s);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	CHECK(st.slow_count == 0 && st.real_s == 0);

	/* the configuration reads back; the remembered one feeds the spectra */
	mg_kvlist kv = {0};
	int n = mg_device_read_config(dev, NULL, &kv);
	CHECK_MSG(n > 40, "%s: full readback gave %d entries: %s", what, n, n < 0 ? mg_error_detail() : "");
	CHECK(mg_kvlist_get(&kv, "MCAC") && !strcmp(mg_kvlist_get(&kv, "MCAC"), "1024"));
	CHECK(mg_kvlist_get(&kv, "PRET") && !strcmp(mg_kvlist_get(&kv, "PRET"), "OFF"));
	mg_kvlist_clear(&kv);
	CHECK_RC(mg_device_read_config(dev, "GAIN;TPEA;", &kv), 2);
	CHECK(kv.count == 2 && !strcmp(kv.items[0].key, "GAIN") && !strcmp(kv.items[0].value, "20.000"));
	mg_kvlist_clear(&kv);
	CHECK_RC(mg_device_ping(dev), MG_OK);

	preset_runs(dev, what);

	/* every spectrum size */
	for (const size_t *n2 = sizes ? sizes : all_sizes; *n2; n2++) {
		char c[64];
		snprintf(c, sizeof(c), "MCAC=%zu;PRET=0.5;", *n2);
		if (cfg(dev, what, c) != MG_OK)
			continue;
		CHECK_RC(mg_device_clear(dev), MG_OK);
		CHECK_RC(mg_device_start(dev), MG_OK);
		CHECK_RC(e2e_wait_stopped(dev, &st, 5000), MG_OK);
		s = read_checked(dev, what, &st, *n2);
		if (s)
			CHECK_MSG(mg_spectrum_total(s) > 100, "%s: %zu channels: %.0f counts", what, *n2, mg_spectrum_total(s));
		mg_spectrum_free(s);
	}
	cfg(dev, what, "MCAC=2048;PRET=OFF;");
	mg_device_set_timeout(dev, 0);
}

/* ------------------------------------------------------------ faults */

void e2e_faulty_init(struct e2e_faulty *f, mg_dp5sim *sim)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->sim = sim;
	f->corrupt_at = 10;
}

void e2e_faulty_destroy(struct e2e_faulty *f)
{
	pthread_mutex_destroy(&f->lock);
}

void e2e_faulty_set(struct e2e_faulty *f, int *field, int value)
{
	pthread_mutex_lock(&f->lock);
	*field = value;
	pthread_mutex_unlock(&f->lock);
}

void e2e_faulty_serve(const uint8_t *in, size_t n, mg_buf *out, void *userdata)
{
	struct e2e_faulty *f = userdata;
	mg_buf tmp;
	mg_buf_init(&tmp);
	pthread_mutex_lock(&f->lock);
	mg_dp5sim_feed(f->sim, in, n, &tmp);
	if (tmp.len) {
		f->answers++;
		uint8_t *a = (uint8_t *)tmp.data;
		if (f->ack_error && a[2] != 0x80) {
			mg_buf_reset(&tmp);
			mg_dp5_pack_buf(&tmp, 0xFF, (uint8_t)f->ack_error, NULL, 0);
			a = (uint8_t *)tmp.data;
		}
		if (f->silent) {
			f->silent--;
			tmp.len = 0;
		} else {
			if (f->corrupt) {
				f->corrupt--;
				size_t pos = f->corrupt_at < tmp.len ? f->corrupt_at : tmp.len - 1;
				a[pos] ^= 0xFF;
			}
			if (f->truncate && tmp.len > 3) {
				f->truncate--;
				tmp.len -= 3;
			}
			if (f->garbage) {
				f->garbage--;
				static const uint8_t junk[] = {0x00, 0x13, 0xF5, 0x00, 0xFA, 0x42, 0xF5};
				mg_buf_append(out, junk, sizeof(junk));
			}
		}
		mg_buf_append(out, tmp.data, tmp.len);
	}
	pthread_mutex_unlock(&f->lock);
	mg_buf_free(&tmp);
}

void e2e_fault_checks(mg_device *dev, struct e2e_faulty *f, const char *what)
{
	mg_xrf_status st;
	mg_spectrum *s = NULL;
	mg_device_stats a, b;
	mg_device_set_timeout(dev, 100);
	CHECK_RC(mg_device_configure(dev, "MCAC=4096;PRET=OFF;PREC=OFF;PRER=OFF;"), MG_OK);
	mg_kvlist kv = {0};
	CHECK_MSG(mg_device_read_config(dev, NULL, &kv) > 40, "%s: readback: %s", what, mg_error_detail());
	mg_kvlist_clear(&kv);

	/* one corrupted answer: a clean retry */
	a = mg_device_get_stats(dev);
	e2e_faulty_set(f, &f->corrupt, 1);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	b = mg_device_get_stats(dev);
	CHECK_MSG(b.retries == a.retries + 1 && b.checksum_errors == a.checksum_errors + 1,
	          "%s: retries %u->%u, checksum errors %u->%u", what, a.retries, b.retries, a.checksum_errors,
	          b.checksum_errors);

	/* corrupted every time: a clear error after the retries */
	e2e_faulty_set(f, &f->corrupt, 100);
	CHECK_RC(mg_device_status(dev, &st), MG_ERR_CHECKSUM);
	CHECK_MSG(strstr(mg_error_detail(), "giving up") && strstr(mg_error_detail(), "checksum"), "%s: '%s'", what,
	          mg_error_detail());
	e2e_faulty_set(f, &f->corrupt, 0);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);

	/* bytes that are no packet before the answer: resync, no retry */
	a = mg_device_get_stats(dev);
	e2e_faulty_set(f, &f->garbage, 1);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	b = mg_device_get_stats(dev);
	CHECK(b.resyncs > a.resyncs && b.retries == a.retries);

	/* a truncated answer (dropped bytes): timeout, then a clean retry */
	a = mg_device_get_stats(dev);
	e2e_faulty_set(f, &f->truncate, 1);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	b = mg_device_get_stats(dev);
	CHECK(b.retries == a.retries + 1 && b.timeouts == a.timeouts + 1);

	/* no answer once: retry; never: a bounded timeout */
	e2e_faulty_set(f, &f->silent, 1);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	e2e_faulty_set(f, &f->silent, 100);
	double t0 = e2e_now_ms();
	CHECK_RC(mg_device_status(dev, &st), MG_ERR_TIMEOUT);
	double dt = e2e_now_ms() - t0;
	CHECK_MSG(dt < 3000, "%s: a silent device took %.0f ms to time out", what, dt);
	CHECK(strstr(mg_error_detail(), "no answer") != NULL);
	e2e_faulty_set(f, &f->silent, 0);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);

	/* spectra: a corrupted one is read again, never returned */
	CHECK_RC(mg_device_clear(dev), MG_OK);
	CHECK_RC(mg_device_start(dev), MG_OK);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	CHECK_RC(mg_device_status(dev, &st), MG_OK);
	CHECK_RC(mg_device_stop(dev), MG_OK);
	mg_spectrum *good = NULL;
	mg_xrf_status gst;
	CHECK_RC(mg_device_read_spectrum(dev, 0, &good, &gst), MG_OK);
	pthread_mutex_lock(&f->lock);
	f->corrupt = 1;
	f->corrupt_at = 6000;
	pthread_mutex_unlock(&f->lock);
	a = mg_device_get_stats(dev);
	CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_OK);
	b = mg_device_get_stats(dev);
	CHECK(b.retries == a.retries + 1);
	if (s && good) {
		CHECK(s->nchan == 4096 && mg_spectrum_total(s) == (double)st.slow_count);
		CHECK(!memcmp(s->counts, good->counts, s->nchan * sizeof(double)));
	}
	mg_spectrum_free(s);
	mg_spectrum_free(good);
	e2e_faulty_set(f, &f->corrupt, 100);
	s = (mg_spectrum *)1;
	CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_ERR_CHECKSUM);
	CHECK(s == NULL);
	/* read + clear is not sent twice: the device may have cleared already */
	e2e_faulty_set(f, &f->corrupt, 1);
	CHECK_RC(mg_device_read_spectrum(dev, MG_READ_CLEAR, &s, &st), MG_ERR_CHECKSUM);
	CHECK(s == NULL && strstr(mg_error_detail(), "not sent again"));
	pthread_mutex_lock(&f->lock);
	f->corrupt = 0;
	f->corrupt_at = 10;
	pthread_mutex_unlock(&f->lock);

	/* a device answering ACK errors */
	e2e_faulty_set(f, &f->ack_error, MG_DP5_ACK_FPGA_ERROR);
	CHECK_RC(mg_device_start(dev), MG_ERR_DEVICE);
	CHECK_MSG(strstr(mg_error_detail(), "FPGA") && strstr(mg_error_detail(), "ACK 08"), "%s: '%s'", what,
	          mg_error_detail());
	CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_ERR_DEVICE);
	CHECK(s == NULL);
	e2e_faulty_set(f, &f->ack_error, MG_DP5_ACK_BUSY); /* retryable, but for ever */
	CHECK_RC(mg_device_stop(dev), MG_ERR_DEVICE);
	CHECK(strstr(mg_error_detail(), "giving up") != NULL);
	e2e_faulty_set(f, &f->ack_error, 0);
	CHECK_RC(mg_device_stop(dev), MG_OK);

	/* configuration the device refuses: the offending command is named */
	CHECK_RC(mg_device_configure(dev, "GAIN=9999;"), MG_ERR_DEVICE);
	CHECK_MSG(strstr(mg_error_detail(), "GAIN=9999") && strstr(mg_error_detail(), "bad parameter"), "%s: '%s'",
	          what, mg_error_detail());
	CHECK_RC(mg_device_configure(dev, "TPEA=2.4;ZZZZ=1;"), MG_ERR_DEVICE);
	CHECK_MSG(strstr(mg_error_detail(), "ZZZZ=1") && strstr(mg_error_detail(), "unrecognised"), "%s: '%s'", what,
	          mg_error_detail());
	/* a long configuration: the bad command in its second packet */
	mg_buf big;
	mg_buf_init(&big);
	for (int i = 0; i < 60; i++)
		mg_buf_printf(&big, "TPEA=%d.000;", 1 + i % 8);
	mg_buf_puts(&big, "MCAC=3000;");
	CHECK_RC(mg_device_configure(dev, big.data), MG_ERR_DEVICE);
	CHECK_MSG(strstr(mg_error_detail(), "MCAC=3000") && strstr(mg_error_detail(), "before it were applied"),
	          "%s: '%s'", what, mg_error_detail());
	mg_buf_free(&big);
	CHECK_RC(mg_device_configure(dev, "not a config"), MG_ERR_ARG);
	CHECK_RC(mg_device_configure(dev, "TPEA=4.000;MCAC=2048;"), MG_OK);
	mg_device_set_timeout(dev, 0);
}
