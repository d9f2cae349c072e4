/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES driver end to end against the simulated ICP-OES through the
 * loopback transport (sim:icp): the standard checks, an instrument error
 * mid-run, a drift jump that a CCV sees, unanswered queries, the loopback's
 * transport faults (stall, drop, corrupt, disconnect), other profile
 * dialects (status polling, ASCII data, intensities + wavelengths), the
 * profile search path, determinism, and the "icp" family of the registry. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "icp_common.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"

static mg_icp_device *open_ok(const char *uri)
{
	mg_icp_device *d = NULL;
	int rc = mg_icp_open(uri, &d);
	CHECK_MSG(rc == MG_OK, "open %s: %s", uri, mg_error_detail());
	return rc == MG_OK ? d : NULL;
}

static void test_basic(void)
{
	mg_icpsim *truth;
	CHECK_RC(mg_icpsim_new("seed=7", &truth), MG_OK);
	mg_icp_device *d = open_ok("sim:icp?seed=7");
	if (d) {
		double t0 = icp_now_ms();
		icp_e2e_basic(d, truth, "loopback");
		CHECK_MSG(icp_now_ms() - t0 < 5000, "loopback basic took %.0f ms", icp_now_ms() - t0);
		mg_icp_device_stats st = mg_icp_get_stats(d);
		CHECK(st.measurements == 4 && st.windows == (3 * 9 * 3 + 9 * 2) && st.retries == 0);
		CHECK(st.instrument_errors == 1 && st.bytes_in > 10000);
		CHECK(mg_transport_get_kind(mg_icp_get_transport(d)) == MG_TRANSPORT_LOOPBACK);
		mg_icp_close(d);
	}
	mg_icpsim_free(truth);
}

static size_t configure_default(mg_icp_device *d, unsigned reps)
{
	mg_icp_line lines[MG_ICP_MAX_LINES];
	size_t n = icp_lines(lines);
	CHECK_RC(mg_icp_configure(d, lines, n, 1.0, reps), MG_OK);
	return n;
}

static void test_error_mid_run(void)
{
	mg_icp_device *d = open_ok("sim:icp?error_at=2");
	if (!d)
		return;
	configure_default(d, 2);
	mg_icp_measurement *m = mg_icp_measurement_new();
	CHECK_RC(mg_icp_measure(d, POS_BLANK, "CAL BLANK", m), MG_OK);
	int rc = mg_icp_measure(d, POS_STD1, "STD 1", m);
	CHECK_MSG(rc == MG_ERR_DEVICE, "error mid-run gave %d", rc);
	const char *det = mg_error_detail();
	CHECK_MSG(strstr(det, "measuring position 2 (STD 1)") && strstr(det, "-240") && strstr(det, "Hardware error") &&
	                  strstr(det, "nebulizer pressure low") && strstr(det, "execution error"),
	          "detail: %s", det);
	/* the queue was drained by the failing call; the next run is fine */
	CHECK_RC(mg_icp_drain_errors(d, NULL, 0), 0);
	CHECK_RC(mg_icp_measure(d, POS_STD1, "STD 1", m), MG_OK);
	icp_check_measurement(m, "after the error", POS_STD1, 9, 2);
	/* a custom error code */
	mg_icp_close(d);
	d = open_ok("sim:icp?error_at=1:-310");
	if (d) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, POS_BLANK, NULL, m), MG_ERR_DEVICE);
		CHECK_MSG(strstr(mg_error_detail(), "-310") && strstr(mg_error_detail(), "System error") &&
		                  strstr(mg_error_detail(), "device-specific error"),
		          "detail: %s", mg_error_detail());
		mg_icp_close(d);
	}
	mg_icp_measurement_free(m);
}

static void test_drift_jump(void)
{
	mg_icp_device *d = open_ok("sim:icp?drift_jump=15@3&seed=3");
	if (!d)
		return;
	size_t n = configure_default(d, 3);
	mg_icp_measurement *m = mg_icp_measurement_new();
	double r[3], y[3];
	for (int i = 0; i < 3; i++) {
		CHECK_RC(mg_icp_measure(d, POS_CCV, "CCV", m), MG_OK);
		r[i] = icp_ratio(m, 0, n - 1);
		y[i] = icp_net(&m->replicate[0].window[n - 1], 371.030);
	}
	CHECK_MSG(fabs(r[1] / r[0] - 1) < 0.01, "CCV before the jump: %.4f", r[1] / r[0]);
	CHECK_MSG(fabs(r[2] / r[0] - 1.15) < 0.02, "CCV after a +15 %% jump reads %.4f", r[2] / r[0]);
	CHECK_MSG(fabs(y[2] / y[0] - 1) < 0.03, "the internal standard does not see the jump: %.4f", y[2] / y[0]);
	mg_icp_measurement_free(m);
	mg_icp_close(d);
}

static void test_hang(void)
{
	/* query messages: 1 *IDN?, 2 SYST:ERR? (open), 3 SYST:ERR?, 4 CONF:LINE:COUN? (configure),
	 * 5 *OPC?, 6 SYST:ERR?, 7 FETC:COUN?, 8 PLAS:COND?, 9.. FETC:WIND? */
	mg_icp_device *d = open_ok("sim:icp?hang=5");
	if (!d)
		return;
	configure_default(d, 1);
	mg_icp_measurement *m = mg_icp_measurement_new();
	double t0 = icp_now_ms();
	int rc = mg_icp_measure(d, POS_BLANK, "x", m);
	CHECK_MSG(rc == MG_ERR_TIMEOUT && strstr(mg_error_detail(), "*OPC?"), "unanswered *OPC?: %d %s", rc,
	          mg_error_detail());
	CHECK(icp_now_ms() - t0 < 1000);
	CHECK_RC(mg_icp_measure(d, POS_BLANK, "x", m), MG_OK);
	mg_icp_close(d);

	/* an unanswered idempotent query is asked again */
	d = open_ok("sim:icp?hang=8");
	if (d) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, POS_BLANK, "x", m), MG_OK);
		CHECK(mg_icp_get_stats(d).retries == 1);
		mg_icp_close(d);
	}
	/* and a fetch */
	d = open_ok("sim:icp?hang=12");
	if (d) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", m), MG_OK);
		icp_check_measurement(m, "fetch asked twice", POS_STD4, 9, 1);
		CHECK(mg_icp_get_stats(d).retries == 1);
		mg_icp_close(d);
	}
	/* no retries: the timeout is the error, explained by nothing in the queue */
	d = open_ok("sim:icp?hang=9");
	if (d) {
		configure_default(d, 1);
		mg_icp_set_retries(d, 0);
		rc = mg_icp_measure(d, POS_STD4, "x", m);
		CHECK_MSG(rc == MG_ERR_TIMEOUT && strstr(mg_error_detail(), "FETCh:WINDow? 1,1"), "%d %s", rc,
		          mg_error_detail());
		mg_icp_close(d);
	}
	mg_icp_measurement_free(m);
}

/* The byte offset where the first window answer starts (deterministic). */
static size_t first_window_offset(void)
{
	mg_icp_device *d = open_ok("sim:icp");
	if (!d)
		return 0;
	configure_default(d, 1);
	mg_icp_measurement *m = mg_icp_measurement_new();
	CHECK_RC(mg_icp_measure(d, POS_STD4, "x", m), MG_OK);
	size_t total = mg_icp_get_stats(d).bytes_in;
	mg_icp_measurement_free(m);
	mg_icp_close(d);
	/* each window: "#41024" + 64 x 2 x 8 bytes + LF; then the final SYST:ERR? answer */
	return total - strlen("0,\"No error\"\n") - 9 * (6 + 1024 + 1);
}

static void test_transport_faults(void)
{
	mg_icp_measurement *m = mg_icp_measurement_new();
	/* a stalled first answer: *IDN? is asked again at open */
	mg_icp_device *d = open_ok("sim:icp?stall=1@0");
	if (d) {
		CHECK(mg_icp_get_stats(d).retries == 1);
		mg_icp_close(d);
	}
	size_t off = first_window_offset();
	CHECK(off > 100);
	char uri[128];
	/* bytes lost inside a binary block: the answer never completes; asked again */
	snprintf(uri, sizeof(uri), "sim:icp?drop=3@%zu", off + 300);
	if ((d = open_ok(uri))) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", m), MG_OK);
		CHECK_MSG(mg_icp_get_stats(d).retries == 1, "retries %u", mg_icp_get_stats(d).retries);
		icp_check_measurement(m, "drop", POS_STD4, 9, 1);
		mg_icp_close(d);
	}
	/* a corrupted block header: a malformed answer; asked again */
	snprintf(uri, sizeof(uri), "sim:icp?corrupt=%zu", off);
	if ((d = open_ok(uri))) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", m), MG_OK);
		CHECK(mg_icp_get_stats(d).retries == 1);
		mg_icp_close(d);
	}
	/* a corrupted wavelength (the sign byte of a little-endian double): caught by the checks */
	snprintf(uri, sizeof(uri), "sim:icp?corrupt=%zu", off + 6 + 7);
	if ((d = open_ok(uri))) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", m), MG_OK);
		CHECK(mg_icp_get_stats(d).retries == 1);
		mg_icp_close(d);
	}
	/* the device goes away mid-run: disconnected, at once, every later call too */
	snprintf(uri, sizeof(uri), "sim:icp?disconnect=%zu", off + 2000);
	if ((d = open_ok(uri))) {
		configure_default(d, 1);
		double t0 = icp_now_ms();
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", m), MG_ERR_DISCONNECTED);
		CHECK_RC(mg_icp_identify(d, NULL), MG_ERR_DISCONNECTED);
		CHECK(icp_now_ms() - t0 < 500);
		mg_icp_close(d);
	}
	/* nothing answers at all: open fails with a bounded timeout, saying so */
	d = NULL;
	int rc = mg_icp_open("sim:icp?disconnect=0", &d);
	CHECK_MSG(rc == MG_ERR_DISCONNECTED && d == NULL, "open of a dead device: %d", rc);
	mg_icp_measurement_free(m);
}

static void test_plasma_off(void)
{
	mg_icp_device *d = open_ok("sim:icp?plasma=off");
	if (!d)
		return;
	mg_icp_plasma p;
	CHECK_RC(mg_icp_plasma_status(d, &p), MG_OK);
	CHECK(p.lit == 0);
	configure_default(d, 1);
	mg_icp_measurement *m = mg_icp_measurement_new();
	CHECK_RC(mg_icp_measure(d, POS_BLANK, "x", m), MG_ERR_DEVICE);
	CHECK_MSG(strstr(mg_error_detail(), "-221") && strstr(mg_error_detail(), "plasma is off"), "%s", mg_error_detail());
	/* an empty position */
	mg_icp_close(d);
	d = open_ok("sim:icp");
	if (d) {
		configure_default(d, 1);
		CHECK_RC(mg_icp_measure(d, 99, "x", m), MG_ERR_DEVICE);
		CHECK_MSG(strstr(mg_error_detail(), "-222") && strstr(mg_error_detail(), "position 99 is empty"), "%s",
		          mg_error_detail());
		/* arguments checked before anything is sent */
		CHECK_RC(mg_icp_measure(d, 0, "x", m), MG_ERR_ARG);
		CHECK_RC(mg_icp_measure(d, 1, "bad\nlabel", m), MG_ERR_ARG);
		mg_icp_line l[1] = {{"nd", 430.358, "", 0}};
		CHECK_RC(mg_icp_configure(d, l, 1, 1.0, 1), MG_ERR_ARG);
		l[0] = (mg_icp_line){"Nd", 430.358, "", 0};
		CHECK_RC(mg_icp_configure(d, l, 1, 0.001, 1), MG_ERR_ARG);
		CHECK_RC(mg_icp_configure(d, l, 1, 1.0, 11), MG_ERR_ARG);
		CHECK_RC(mg_icp_configure(d, l, 1, 1.0, 10), MG_OK);
		/* a label with a quote goes through quoted */
		CHECK_RC(mg_icp_measure(d, POS_BLANK, "it's \"odd\"; ok", m), MG_OK);
		CHECK(!strcmp(m->sample_label, "it's \"odd\"; ok") && m->nreplicates == 10);
		CHECK(!strcmp(m->line[0].label, "Nd 430.358"));
		mg_icp_close(d);
	}
	mg_icp_measurement_free(m);
}

/* The built-in profile with some lines replaced. */
static char *variant(const char *const *from, const char *const *to, size_t n)
{
	size_t len;
	const char *t = mg_icp_profile_builtin_text(NULL, &len);
	char *s = strdup(t);
	for (size_t i = 0; i < n; i++) {
		char *p = strstr(s, from[i]);
		CHECK_MSG(p != NULL, "variant: '%s' not in the built-in profile", from[i]);
		if (!p)
			continue;
		size_t a = (size_t)(p - s), fl = strlen(from[i]), tl = strlen(to[i]);
		char *ns = malloc(strlen(s) - fl + tl + 1);
		memcpy(ns, s, a);
		memcpy(ns + a, to[i], tl);
		strcpy(ns + a + tl, s + a + fl);
		free(s);
		s = ns;
	}
	return s;
}

static void test_dialects(void)
{
	mg_icp_measurement *a = mg_icp_measurement_new(), *b = mg_icp_measurement_new();
	/* status polling instead of *OPC? */
	static const char *const poll_from[] = {"wait = opc", "name = magassay-sim-icp"};
	static const char *const poll_to[] = {
		"wait = poll\npoll_query = STATus:OPERation:CONDition?\npoll_busy_mask = 16\npoll_interval_ms = 0",
		"name = sim-poll"};
	char *text = variant(poll_from, poll_to, 2);
	mg_icp_profile *p = NULL;
	CHECK_RC(mg_icp_profile_parse(text, strlen(text), "poll.ini", &p), MG_OK);
	free(text);
	mg_icp_device *d = NULL;
	if (p && mg_icp_open_with("sim:icp?busy_polls=3&seed=5", p, NULL, &d) == MG_OK) {
		CHECK(!strcmp(mg_icp_get_identity(d)->profile, "sim-poll"));
		configure_default(d, 2);
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", a), MG_OK);
		CHECK_MSG(mg_icp_get_stats(d).polls == 4, "polls %u", mg_icp_get_stats(d).polls);
		mg_icp_close(d);
	} else {
		CHECK_MSG(0, "poll profile: %s", mg_error_detail());
	}
	mg_icp_profile_free(p);

	/* ASCII data, intensities and wavelengths asked apart, CR LF terminator: the same numbers */
	static const char *const ascii_from[] = {"init = FORMat:DATA REAL,64;BORDer SWAPped",
	                                         "window = FETCh:WINDow? {line},{replicate}",
	                                         "format = block\nnumber = real64\nbyte_order = little\nlayout = pairs",
	                                         "terminator = LF"};
	static const char *const ascii_to[] = {"init = FORMat:DATA ASCii", "window = FETCh:INTensity? {line},{replicate}",
	                                       "format = ascii\nlayout = intensities\nwavelengths = FETCh:WAVelength? {line}",
	                                       "terminator = CRLF"};
	text = variant(ascii_from, ascii_to, 4);
	p = NULL;
	CHECK_RC(mg_icp_profile_parse(text, strlen(text), "ascii.ini", &p), MG_OK);
	free(text);
	d = NULL;
	if (p && mg_icp_open_with("sim:icp?seed=5", p, NULL, &d) == MG_OK) {
		configure_default(d, 2);
		CHECK_RC(mg_icp_measure(d, POS_STD4, "x", b), MG_OK);
		mg_icp_close(d);
		double worst = 0;
		for (size_t l = 0; l < a->nlines; l++)
			for (size_t i = 0; i < a->replicate[1].window[l].npix; i++) {
				worst = fmax(worst, fabs(a->replicate[1].window[l].intensity[i] - b->replicate[1].window[l].intensity[i]));
				worst = fmax(worst, 1e4 * fabs(a->replicate[1].window[l].wavelength_nm[i] -
				                              b->replicate[1].window[l].wavelength_nm[i]));
			}
		CHECK_MSG(worst < 0.01, "ASCII and binary windows differ by %g", worst);
	} else {
		CHECK_MSG(0, "ascii profile: %s", mg_error_detail());
	}
	mg_icp_profile_free(p);
	mg_icp_measurement_free(a);
	mg_icp_measurement_free(b);
}

static void test_determinism(void)
{
	mg_icp_measurement *a = mg_icp_measurement_new(), *b = mg_icp_measurement_new();
	for (int k = 0; k < 2; k++) {
		mg_icp_device *d = open_ok("sim:icp?seed=11");
		if (!d)
			break;
		configure_default(d, 3);
		CHECK_RC(mg_icp_measure(d, POS_N38UH, "N38UH-A", k ? b : a), MG_OK);
		mg_icp_close(d);
	}
	int same = 1;
	for (size_t r = 0; r < 3; r++)
		for (size_t l = 0; l < 9; l++)
			same &= !memcmp(&a->replicate[r].window[l], &b->replicate[r].window[l], sizeof(mg_icp_window));
	CHECK_MSG(same, "same seed, same commands: different windows");
	mg_icp_measurement_free(a);
	mg_icp_measurement_free(b);
}

static void test_profile_path(void)
{
	const char *dir = mg_test_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/profiles", dir);
	mkdir(path, 0700);
	static const char *const from[] = {"name = magassay-sim-icp"};
	static const char *const to[] = {"name = site-sim"};
	char *text = variant(from, to, 1);
	char file[600];
	snprintf(file, sizeof(file), "%s/site.ini", path);
	FILE *f = fopen(file, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	snprintf(file, sizeof(file), "%s/broken.ini", path);
	f = fopen(file, "w");
	if (f) {
		fputs("[profile]\nnonsense\n", f);
		fclose(f);
	}
	free(text);
	setenv("MAGASSAY_PROFILE_PATH", path, 1);
	mg_icp_device *d = open_ok("sim:icp");
	if (d) {
		CHECK_MSG(!strcmp(mg_icp_get_identity(d)->profile, "site-sim"), "profile %s", mg_icp_get_identity(d)->profile);
		mg_icp_close(d);
	}
	unsetenv("MAGASSAY_PROFILE_PATH");
	/* an explicit file */
	snprintf(file, sizeof(file), "%s/site.ini", path);
	d = NULL;
	CHECK_RC(mg_icp_open_with("sim:icp", NULL, file, &d), MG_OK);
	if (d) {
		CHECK(!strcmp(mg_icp_get_identity(d)->profile, "site-sim"));
		mg_icp_close(d);
	}
	snprintf(file, sizeof(file), "%s/broken.ini", path);
	CHECK_RC(mg_icp_open_with("sim:icp", NULL, file, &d), MG_ERR_FORMAT);
	CHECK_MSG(strstr(mg_error_detail(), "broken.ini line 2"), "%s", mg_error_detail());
	/* a profile for another instrument: used as asked (warned) */
	static const char *const f2[] = {"manufacturer = magassay", "model = SIM-ICP-OES*"};
	static const char *const t2[] = {"manufacturer = Other", "model = X*"};
	text = variant(f2, t2, 2);
	mg_icp_profile *p = NULL;
	CHECK_RC(mg_icp_profile_parse(text, strlen(text), "other.ini", &p), MG_OK);
	free(text);
	CHECK(p && !mg_icp_profile_matches(p, "magassay", "SIM-ICP-OES", "1.0.0"));
	CHECK(p && mg_icp_profile_matches(p, "OTHER", "x-2000", "9"));
	if (p && mg_icp_open_with("sim:icp", p, NULL, &d) == MG_OK)
		mg_icp_close(d);
	else
		CHECK_MSG(0, "open with a non-matching profile: %s", mg_error_detail());
	mg_icp_profile_free(p);
	/* URIs */
	CHECK_RC(mg_icp_open("sim:xrf", &d), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_icp_open("bogus:x", &d), MG_ERR_ARG);
	CHECK_RC(mg_icp_open("sim:icp?nonsense=1", &d), MG_ERR_ARG);
	CHECK_MSG(strstr(mg_error_detail(), "nonsense"), "%s", mg_error_detail());
	CHECK_RC(mg_icp_open("sim:icp?pixels=8", &d), MG_ERR_ARG);
}

static void test_registry(void)
{
	mg_device *dev = NULL;
	CHECK_RC(mg_device_open("sim:icp?serial=REG-9", &dev), MG_OK);
	if (dev) {
		const mg_device_info *in = mg_device_get_info(dev);
		CHECK(!strcmp(in->driver, "icp") && !strcmp(in->model, "SIM-ICP-OES") && !strcmp(in->serial, "REG-9"));
		CHECK(!strcmp(in->transport, "sim") && !strcmp(in->firmware, "1.0.0"));
		CHECK_RC(mg_device_ping(dev), MG_OK);
		CHECK_RC(mg_device_configure(dev, "MCAC=1024;"), MG_ERR_UNSUPPORTED);
		mg_xrf_status st;
		CHECK_RC(mg_device_status(dev, &st), MG_ERR_UNSUPPORTED);
		mg_spectrum *sp = NULL;
		CHECK_RC(mg_device_read_spectrum(dev, 0, &sp, NULL), MG_ERR_UNSUPPORTED);
		mg_device_close(dev);
	}
	mg_device_info info;
	CHECK_RC(mg_device_probe("sim:icp", &info), MG_OK);
	CHECK(info.driver && !strcmp(info.driver, "icp"));
	mg_device_info_clear(&info);
	mg_device_list list;
	int n = mg_device_scan(MG_SCAN_NO_USB | MG_SCAN_NO_SERIAL, &list);
	CHECK(n >= 2);
	int found = 0;
	for (size_t i = 0; i < list.count; i++)
		if (list.items[i].uri && !strcmp(list.items[i].uri, "sim:icp")) {
			found = 1;
			CHECK(list.items[i].status == MG_OK && !strcmp(list.items[i].driver, "icp"));
			CHECK(strstr(list.items[i].description, "simulated ICP-OES") != NULL);
		}
	CHECK_MSG(found, "the scan does not list sim:icp");
	mg_device_list_free(&list);
	/* scpi+serial: picks the ICP family (the port does not exist here) */
	CHECK(mg_device_open("scpi+serial:/dev/nonexistent-magassay", &dev) < 0);
	CHECK_MSG(strstr(mg_error_detail(), "nonexistent") != NULL, "%s", mg_error_detail());
}

int main(void)
{
	icp_log_init();
	test_basic();
	test_error_mid_run();
	test_drift_jump();
	test_hang();
	test_transport_faults();
	test_plasma_off();
	test_dialects();
	test_determinism();
	test_profile_path();
	test_registry();
	return mg_test_finish("test_icp_loopback");
}
