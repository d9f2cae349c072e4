/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ICP-OES driver over USBTMC: the unchanged libusb path (drivers/
 * transport/usbtmc.c) against an emulated USB488 device (umockdev, interface
 * FE/03/01) played by the simulated ICP-OES's USBTMC function. Opening by
 * VID:PID, bus.address, iSerial; the scan; the standard checks; transfer
 * splitting both ways, continuation packets, zero-length packets, the bTag
 * wrap; an unanswered query aborted (INITIATE_ABORT_BULK_IN with the
 * request's bTag, drain, CHECK_ABORT_BULK_IN_STATUS, PENDING polled), halted
 * endpoints (abort Bulk-OUT + CLEAR_HALT), device clear, READ_STATUS_BYTE,
 * the kernel driver detached and given back, unplug. Timeouts are short:
 * libusb busy-polls an emulated device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/transport/usbtmc.h"
#include "icp_common.h"
#include "icp_harness.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"
#include "mg_harness.h"

#define VID ICP_USBTMC_VID
#define PID ICP_USBTMC_PID

static mg_usbsim *start(mg_icpsim *sim, const char *serial)
{
	mg_usbsim *s = icp_usbsim_start(sim, serial);
	CHECK(s != NULL);
	return s;
}

static const char *tmc_uri(mg_usbsim *s)
{
	return icp_usbsim_uri(s);
}

static void test_basic(void)
{
	mg_icpsim *sim = NULL, *truth = NULL;
	CHECK_RC(mg_icpsim_new("seed=4", &sim), MG_OK);
	CHECK_RC(mg_icpsim_new("seed=4", &truth), MG_OK);
	mg_usbsim *s = start(sim, "ICP-0001");
	if (!s)
		return;
	mg_usbsim_set_kernel_driver(s, "usbtmc");
	mg_icp_device *d = NULL;
	CHECK_RC(mg_icp_open("usbtmc:1209:0001", &d), MG_OK);
	if (d) {
		mg_transport *t = mg_icp_get_transport(d);
		CHECK(mg_transport_get_kind(t) == MG_TRANSPORT_USBTMC);
		CHECK(!strcmp(mg_transport_kind_name(MG_TRANSPORT_USBTMC), "usbtmc"));
		CHECK(strstr(mg_transport_description(t), "usbtmc 001.") && strstr(mg_transport_description(t), "1209:0001"));
		CHECK(!strcmp(mg_usbsim_kernel_driver(s), ""));
		mg_usbtmc_caps caps;
		CHECK_RC(mg_usbtmc_transport_caps(t, &caps), MG_OK);
		CHECK(caps.scpi && caps.is_488_2 && caps.bcd_usb488 == 0x0100 && caps.bcd_usbtmc == 0x0100);
		double t0 = icp_now_ms();
		icp_e2e_basic(d, truth, "usbtmc");
		CHECK_MSG(icp_now_ms() - t0 < 10000, "usbtmc basic took %.0f ms", icp_now_ms() - t0);
		mg_usbtmc_stats ts = mg_usbtmc_transport_stats(t);
		CHECK(ts.transfers_out > 100 && ts.requests_in > 100 && ts.transfers_in == ts.requests_in);
		CHECK(ts.aborts_in == 0 && ts.aborts_out == 0 && ts.clears == 0 && ts.bad_headers == 0);
		/* more than 255 headers went out: the bTag wrapped, and all was well */
		CHECK(ts.transfers_out + ts.requests_in > 255);
		mg_icpsim_stats ss = mg_icpsim_get_stats(sim);
		CHECK(ss.usbtmc_caps == 1 && ss.usbtmc_bad_headers == 0);
		CHECK(ss.usbtmc_transfers_out == ts.transfers_out && ss.usbtmc_requests_in == ts.requests_in);
		/* READ_STATUS_BYTE: EAV when the error queue holds something */
		uint8_t stb = 0xff;
		CHECK_RC(mg_usbtmc_transport_read_stb(t, &stb), MG_OK);
		CHECK(stb == 0);
		mg_transport_write(t, "BOGUS\n", 6, 200);
		CHECK_RC(mg_usbtmc_transport_read_stb(t, &stb), MG_OK);
		CHECK(stb & 0x04);
		mg_icp_instrument_error e[4];
		CHECK_RC(mg_icp_drain_errors(d, e, 4), 1);
		CHECK(e[0].code == -113 && strstr(e[0].text, "Undefined header"));
		mg_icp_close(d);
		/* the kernel driver is given back */
		CHECK(!strcmp(mg_usbsim_kernel_driver(s), "usbtmc"));
	}
	/* the same device by bus.address, by usb:VID:PID, by iSerial */
	const char *uris[] = {tmc_uri(s), "usb:1209:0001", "usbtmc:1209:0001?serial=ICP-0001"};
	for (size_t i = 0; i < 3; i++) {
		d = NULL;
		CHECK_RC(mg_icp_open(uris[i], &d), MG_OK);
		if (d)
			CHECK(mg_transport_get_kind(mg_icp_get_transport(d)) == MG_TRANSPORT_USBTMC);
		mg_icp_close(d);
	}
	CHECK_RC(mg_icp_open("usbtmc:1209:0001?serial=NOPE", &d), MG_ERR_NOT_FOUND);
	CHECK(strstr(mg_error_detail(), "NOPE") != NULL);
	CHECK_RC(mg_icp_open("usbtmc:1209:0002", &d), MG_ERR_NOT_FOUND);
	/* the registry: the scan lists it as usbtmc:BUS.ADDR, ICP family */
	mg_device_list list;
	CHECK(mg_device_scan(MG_SCAN_NO_SERIAL | MG_SCAN_NO_SIM, &list) >= 1);
	int found = 0;
	for (size_t i = 0; i < list.count; i++)
		if (list.items[i].uri && !strcmp(list.items[i].uri, tmc_uri(s))) {
			found = 1;
			CHECK_MSG(list.items[i].status == MG_OK && list.items[i].driver && !strcmp(list.items[i].driver, "icp"),
			          "scan: %s", list.items[i].error ? list.items[i].error : "?");
			CHECK(list.items[i].model && !strcmp(list.items[i].model, "SIM-ICP-OES"));
			CHECK(list.items[i].transport && !strcmp(list.items[i].transport, "usbtmc"));
			CHECK(strstr(list.items[i].description, "magassay simulated ICP-OES") != NULL);
		}
	CHECK_MSG(found, "the scan does not list %s", tmc_uri(s));
	mg_device_list_free(&list);
	mg_device *dev = NULL;
	CHECK_RC(mg_device_open("usb:1209:0001", &dev), MG_OK);
	if (dev)
		CHECK(!strcmp(mg_device_get_info(dev)->driver, "icp"));
	mg_device_close(dev);
	mg_usbsim_stop(s);
	mg_icpsim_free(sim);
	mg_icpsim_free(truth);
}

static void measure_ok(mg_icp_device *d, int pos, const char *what)
{
	mg_icp_measurement *m = mg_icp_measurement_new();
	CHECK_RC(mg_icp_measure(d, pos, what, m), MG_OK);
	icp_check_measurement(m, what, pos, m->nlines ? m->nlines : 1, (unsigned)m->nreplicates);
	mg_icp_measurement_free(m);
}

static void test_transfers(void)
{
	mg_icpsim *sim = NULL, *ref_sim = NULL;
	CHECK_RC(mg_icpsim_new("seed=8", &sim), MG_OK);
	mg_usbsim *s = start(sim, NULL);
	if (!s)
		return;
	mg_icp_device *d = NULL, *ref = NULL;
	CHECK_RC(mg_icp_open(tmc_uri(s), &d), MG_OK);
	CHECK_RC(mg_icp_open("sim:icp?seed=8", &ref), MG_OK);
	(void)ref_sim;
	if (!d || !ref)
		goto out;
	mg_transport *t = mg_icp_get_transport(d);
	mg_icp_line lines[MG_ICP_MAX_LINES];
	size_t n = icp_lines(lines);
	/* messages out in 7-byte transfers, answers in at most 50 bytes per transfer */
	mg_usbtmc_transport_set_max_transfer(t, 7, 50);
	mg_usbtmc_stats t0 = mg_usbtmc_transport_stats(t);
	CHECK_RC(mg_icp_configure(d, lines, n, 1.0, 2), MG_OK);
	CHECK_RC(mg_icp_configure(ref, lines, n, 1.0, 2), MG_OK);
	mg_icp_measurement *a = mg_icp_measurement_new(), *b = mg_icp_measurement_new();
	CHECK_RC(mg_icp_measure(d, POS_N38UH, "N38UH-A", a), MG_OK);
	CHECK_RC(mg_icp_measure(ref, POS_N38UH, "N38UH-A", b), MG_OK);
	int same = 1;
	for (size_t r = 0; r < 2; r++)
		for (size_t l = 0; l < n; l++)
			same &= !memcmp(&a->replicate[r].window[l], &b->replicate[r].window[l], sizeof(mg_icp_window));
	CHECK_MSG(same, "split transfers changed the data");
	mg_usbtmc_stats t1 = mg_usbtmc_transport_stats(t);
	mg_icp_device_stats ds = mg_icp_get_stats(d);
	CHECK_MSG(t1.transfers_out - t0.transfers_out > 3 * (ds.queries - 2), "%u transfers for %u messages",
	          t1.transfers_out - t0.transfers_out, ds.queries);
	/* each 1031-byte window answer came in 21 transfers of <= 50 bytes */
	CHECK_MSG(t1.requests_in - t0.requests_in > 2 * n * 21, "%u requests", t1.requests_in - t0.requests_in);
	/* one transfer arriving in 64-byte URBs (continuation packets without header) */
	mg_usbtmc_transport_set_max_transfer(t, 16384, 16384);
	mg_usbsim_set_max_transfer(s, 64);
	CHECK_RC(mg_icp_measure(d, POS_N38UH, "again", a), MG_OK);
	mg_usbtmc_stats t2 = mg_usbtmc_transport_stats(t);
	CHECK_MSG(t2.continuations - t1.continuations >= 2 * n * 16, "%u continuation reads", t2.continuations - t1.continuations);
	mg_usbsim_set_max_transfer(s, 0);
	/* zero-length packets before a header are skipped */
	mg_usbsim_zlp_next(s, 2);
	CHECK_RC(mg_icp_identify(d, NULL), MG_OK);
	CHECK(mg_usbtmc_transport_stats(t).empty_reads == t2.empty_reads + 2);
	mg_icp_measurement_free(a);
	mg_icp_measurement_free(b);
out:
	mg_icp_close(d);
	mg_icp_close(ref);
	mg_usbsim_stop(s);
	mg_icpsim_free(sim);
}

static void test_recovery(void)
{
	/* query messages: 1 *IDN?, 2 SYST:ERR? (open), then 3 *IDN? here: never answered */
	mg_icpsim *sim = NULL;
	CHECK_RC(mg_icpsim_new("hang=3", &sim), MG_OK);
	mg_usbsim *s = start(sim, NULL);
	if (!s)
		return;
	mg_icp_device *d = NULL;
	CHECK_RC(mg_icp_open(tmc_uri(s), &d), MG_OK);
	if (!d)
		goto out;
	mg_transport *t = mg_icp_get_transport(d);
	mg_icp_set_timeout(d, 80);
	mg_icp_set_retries(d, 0);
	mg_icpsim_usbtmc_pending(sim, 2);
	double t0 = icp_now_ms();
	int rc = mg_icp_identify(d, NULL);
	double dt = icp_now_ms() - t0;
	CHECK_MSG(rc == MG_ERR_TIMEOUT && dt < 2000, "unanswered *IDN?: %d after %.0f ms: %s", rc, dt, mg_error_detail());
	CHECK_MSG(strstr(mg_error_detail(), "transfer aborted"), "%s", mg_error_detail());
	mg_usbtmc_stats ts = mg_usbtmc_transport_stats(t);
	mg_icpsim_stats ss = mg_icpsim_get_stats(sim);
	CHECK(ts.aborts_in >= 1 && ss.usbtmc_aborts_in == ts.aborts_in);
	/* the abort named the request: the first REQUEST_DEV_DEP_MSG_IN after *IDN? went out */
	CHECK_MSG(ss.usbtmc_last_abort_btag != 0, "abort bTag %u", ss.usbtmc_last_abort_btag);
	mg_icp_set_timeout(d, 1000);
	CHECK_RC(mg_icp_identify(d, NULL), MG_OK);

	/* a halted Bulk-OUT: the write fails, the transfer is aborted, the halt cleared */
	mg_usbsim_stats u0 = mg_usbsim_get_stats(s);
	mg_usbsim_stall_next(s, 0x02);
	rc = mg_icp_identify(d, NULL);
	CHECK_MSG(rc == MG_ERR_IO && strstr(mg_error_detail(), "aborted"), "halted OUT: %d %s", rc, mg_error_detail());
	CHECK(mg_usbtmc_transport_stats(t).aborts_out == 1 && mg_icpsim_get_stats(sim).usbtmc_aborts_out == 1);
	CHECK(mg_usbsim_get_stats(s).clear_halts > u0.clear_halts);
	CHECK_RC(mg_icp_identify(d, NULL), MG_OK);
	/* a halted Bulk-IN: halt cleared, the answer aborted; then all is well */
	mg_usbsim_stall_next(s, 0x81);
	rc = mg_icp_identify(d, NULL);
	CHECK_MSG(rc == MG_ERR_IO && strstr(mg_error_detail(), "stalled"), "halted IN: %d %s", rc, mg_error_detail());
	CHECK_RC(mg_icp_identify(d, NULL), MG_OK);
	/* device clear, with a device that says PENDING twice */
	mg_icpsim_usbtmc_pending(sim, 2);
	CHECK_RC(mg_icp_clear(d), MG_OK);
	CHECK(mg_icpsim_get_stats(sim).usbtmc_clears == 1 && mg_usbtmc_transport_stats(t).clears == 1);
	mg_icp_line lines[MG_ICP_MAX_LINES];
	size_t n = icp_lines(lines);
	CHECK_RC(mg_icp_configure(d, lines, n, 0.5, 1), MG_OK);
	measure_ok(d, POS_STD1, "after recovery");
	/* unplugged mid-session */
	mg_usbsim_unplug(s);
	t0 = icp_now_ms();
	rc = mg_icp_identify(d, NULL);
	CHECK_MSG(rc == MG_ERR_DISCONNECTED && icp_now_ms() - t0 < 2000, "unplugged: %d %s", rc, mg_error_detail());
	CHECK_RC(mg_icp_identify(d, NULL), MG_ERR_DISCONNECTED);
out:
	mg_icp_close(d);
	mg_usbsim_stop(s);
	mg_icpsim_free(sim);
}

static void test_not_usbtmc(void)
{
	/* a vendor-class device with the same ids is not an instrument for this driver */
	mg_usbsim *s = mg_usbsim_start(VID, PID, NULL, mg_harness_echo, NULL);
	if (!s)
		return;
	mg_transport *t = NULL;
	CHECK_RC(mg_transport_open(tmc_uri(s), &t), MG_ERR_UNSUPPORTED);
	CHECK(strstr(mg_error_detail(), "not a USBTMC instrument") != NULL);
	mg_usbsim_stop(s);
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	icp_log_init();
	double t0 = icp_now_ms();
	test_basic();
	test_transfers();
	test_recovery();
	test_not_usbtmc();
	fprintf(stderr, "test_icp_usbtmc: %.0f ms\n", icp_now_ms() - t0);
	return mg_test_finish("test_icp_usbtmc");
}
