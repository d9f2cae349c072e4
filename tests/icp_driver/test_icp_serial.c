/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES driver over the unchanged libserialport path: the simulated
 * ICP-OES behind an emulated /dev/ttyUSB<n> (umockdev, tests/harness/
 * ttysim.c), opened as scpi+serial: (the registry's ICP family) and through
 * the ICP API; the standard checks at two baud rates, a CR LF profile, an
 * instrument error mid-run, a bounded timeout, a hang-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "icp_common.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"
#include "mg_harness.h"

static void test_basic(void)
{
	mg_icpsim *sim = NULL, *truth = NULL;
	CHECK_RC(mg_icpsim_new("seed=13&serial=TTY-1", &sim), MG_OK);
	CHECK_RC(mg_icpsim_new("seed=13", &truth), MG_OK);
	mg_ttysim *tty = sim ? mg_ttysim_start(0, mg_icpsim_serve, sim) : NULL;
	CHECK(tty != NULL);
	if (tty) {
		char uri[256];
		snprintf(uri, sizeof(uri), "scpi+%s?baud=57600", mg_ttysim_uri(tty));
		mg_icp_device *d = NULL;
		CHECK_RC(mg_icp_open(uri, &d), MG_OK);
		if (d) {
			mg_transport *t = mg_icp_get_transport(d);
			CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_SERIAL);
			CHECK(strstr(mg_transport_description(t), "57600") != NULL);
			CHECK(!strcmp(mg_icp_get_identity(d)->serial, "TTY-1"));
			double t0 = icp_now_ms();
			icp_e2e_basic(d, truth, "serial");
			CHECK_MSG(icp_now_ms() - t0 < 15000, "serial basic took %.0f ms", icp_now_ms() - t0);
			mg_icp_close(d);
		}
		/* the registry: scpi+serial: is the ICP family, serial: stays the DP5's */
		snprintf(uri, sizeof(uri), "scpi+%s", mg_ttysim_uri(tty));
		mg_device_info info;
		CHECK_RC(mg_device_probe(uri, &info), MG_OK);
		CHECK(info.driver && !strcmp(info.driver, "icp") && info.transport && !strcmp(info.transport, "serial"));
		CHECK(info.serial && !strcmp(info.serial, "TTY-1"));
		mg_device_info_clear(&info);

		/* a CR LF profile */
		size_t n;
		const char *text = mg_icp_profile_builtin_text(NULL, &n);
		char *crlf = malloc(n + 16);
		const char *at = strstr(text, "terminator = LF");
		CHECK(at != NULL);
		if (at) {
			size_t a = (size_t)(at - text);
			memcpy(crlf, text, a);
			strcpy(crlf + a, "terminator = CRLF");
			strcat(crlf, at + strlen("terminator = LF"));
			mg_icp_profile *p = NULL;
			CHECK_RC(mg_icp_profile_parse(crlf, strlen(crlf), "crlf.ini", &p), MG_OK);
			d = NULL;
			if (p && mg_icp_open_with(uri, p, NULL, &d) == MG_OK) {
				mg_icp_line lines[MG_ICP_MAX_LINES];
				size_t nl = icp_lines(lines);
				CHECK_RC(mg_icp_configure(d, lines, nl, 1.0, 1), MG_OK);
				mg_icp_measurement *m = mg_icp_measurement_new();
				CHECK_RC(mg_icp_measure(d, POS_CCV, "CCV", m), MG_OK);
				icp_check_measurement(m, "CR LF", POS_CCV, nl, 1);
				mg_icp_measurement_free(m);
				mg_icp_close(d);
			} else {
				CHECK_MSG(0, "CR LF profile: %s", mg_error_detail());
			}
			mg_icp_profile_free(p);
		}
		free(crlf);

		/* a hang-up (a pulled USB-serial adapter) */
		d = NULL;
		CHECK_RC(mg_icp_open(uri, &d), MG_OK);
		if (d) {
			int hr = mg_ttysim_hangup(tty);
			if (hr == 0) {
				double t0 = icp_now_ms();
				CHECK_RC(mg_icp_identify(d, NULL), MG_ERR_DISCONNECTED);
				CHECK(icp_now_ms() - t0 < 1500);
			} else {
				fprintf(stderr, "note: ttysim hang-up unavailable (%d): checked in test_icp_pty\n", hr);
			}
			mg_icp_close(d);
		}
		mg_ttysim_stop(tty);
	}
	mg_icpsim_free(sim);
	mg_icpsim_free(truth);
}

static void test_faults(void)
{
	/* an instrument error mid-run; then a query never answered (bounded) */
	mg_icpsim *sim = NULL;
	CHECK_RC(mg_icpsim_new("error_at=2&hang=24", &sim), MG_OK);
	mg_ttysim *tty = sim ? mg_ttysim_start(1, mg_icpsim_serve, sim) : NULL;
	if (!tty) {
		mg_icpsim_free(sim);
		return;
	}
	char uri[256];
	snprintf(uri, sizeof(uri), "scpi+%s", mg_ttysim_uri(tty));
	mg_icp_device *d = NULL;
	CHECK_RC(mg_icp_open(uri, &d), MG_OK);
	if (d) {
		mg_icp_line lines[MG_ICP_MAX_LINES];
		size_t n = icp_lines(lines);
		CHECK_RC(mg_icp_configure(d, lines, n, 1.0, 1), MG_OK);
		mg_icp_measurement *m = mg_icp_measurement_new();
		/* query messages: 1 *IDN?, 2-3 SYST:ERR?, 4 CONF:LINE:COUN?; run 1: 5 *OPC?, 6 SYST:ERR?,
		 * 7 FETC:COUN?, 8 PLAS:COND?, 9-17 FETC:WIND?, 18 SYST:ERR?; run 2: 19 *OPC?, 20 SYST:ERR?
		 * and 21 SYST:ERR? (the error, then none); 22 PLAS:COND?; 23.. *IDN?: the second is
		 * never answered */
		CHECK_RC(mg_icp_measure(d, POS_BLANK, "CAL BLANK", m), MG_OK);
		int rc = mg_icp_measure(d, POS_STD1, "STD 1", m);
		CHECK_MSG(rc == MG_ERR_DEVICE && strstr(mg_error_detail(), "-240") &&
		                  strstr(mg_error_detail(), "measuring position 2 (STD 1)"),
		          "error mid-run over serial: %d %s", rc, mg_error_detail());
		mg_icp_set_timeout(d, 150);
		mg_icp_set_retries(d, 0);
		double t0 = icp_now_ms();
		rc = mg_icp_plasma_status(d, &m->plasma);
		CHECK(rc == MG_OK);
		int results[6];
		for (int i = 0; i < 6; i++)
			results[i] = mg_icp_identify(d, NULL);
		CHECK_MSG(results[0] == MG_OK && results[1] == MG_ERR_TIMEOUT && results[2] == MG_OK && results[5] == MG_OK,
		          "identify: %d %d %d ... %d", results[0], results[1], results[2], results[5]);
		CHECK_MSG(icp_now_ms() - t0 < 2000, "%.0f ms", icp_now_ms() - t0);
		mg_icp_measurement_free(m);
		mg_icp_close(d);
	}
	mg_ttysim_stop(tty);
	mg_icpsim_free(sim);
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	icp_log_init();
	test_basic();
	test_faults();
	return mg_test_finish("test_icp_serial");
}
