/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 driver end to end over the unchanged libusb path: simulated DP5
 * units (drivers/sim/dp5_device.c) plugged into umockdev (tests/harness/usbsim.c).
 * Opening by VID:PID, by the serial number in the status among two units, by
 * bus.address; acquisition, presets, every spectrum size; faults; unplug. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "e2e_common.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "mg_harness.h"

#define VID 0x10c4
#define PID 0x842a

static mg_dp5sim *new_sim(const char *params)
{
	mg_dp5sim *s = NULL;
	if (mg_dp5sim_new(params, &s) != MG_OK)
		fprintf(stderr, "mg_dp5sim_new(%s): %s\n", params, mg_error_detail());
	return s;
}

static void test_open(mg_usbsim *ua, mg_usbsim *ub)
{
	mg_device *dev = NULL;
	/* the first unit by VID:PID */
	CHECK_RC(mg_device_open("usb:10c4:842a", &dev), MG_OK);
	if (dev) {
		const mg_device_info *i = mg_device_get_info(dev);
		CHECK_MSG(i->serial && !strcmp(i->serial, "1001"), "serial '%s'", i->serial ? i->serial : "(null)");
		CHECK(!strcmp(i->driver, "dp5") && !strcmp(i->transport, "usb") && !strcmp(i->model, "DP5"));
		CHECK(!strcmp(i->firmware, "6.08 Build 3") && !strcmp(i->fpga, "6.04"));
		mg_device_close(dev);
	}
	/* by the serial number in the status packet */
	CHECK_RC(mg_device_open("usb:10c4:842a?serial=1002", &dev), MG_OK);
	if (dev) {
		const mg_device_info *i = mg_device_get_info(dev);
		CHECK(i->serial && !strcmp(i->serial, "1002"));
		CHECK(!strcmp(i->model, "PX5"));
		char want[32];
		snprintf(want, sizeof(want), "usb 001.%03d", mg_usbsim_address(ub));
		CHECK_MSG(strstr(mg_transport_description(mg_device_get_transport(dev)), want), "'%s'",
		          mg_transport_description(mg_device_get_transport(dev)));
		mg_device_close(dev);
	}
	CHECK_RC(mg_device_open("usb:10c4:842a?serial=9999", &dev), MG_ERR_NOT_FOUND);
	CHECK_MSG(strstr(mg_error_detail(), "9999") && strstr(mg_error_detail(), "1001") &&
	                  strstr(mg_error_detail(), "1002"),
	          "'%s'", mg_error_detail());
	CHECK(dev == NULL);
	/* by bus.address */
	CHECK_RC(mg_device_open(mg_usbsim_uri(ub), &dev), MG_OK);
	if (dev) {
		CHECK(!strcmp(mg_device_get_info(dev)->serial, "1002"));
		mg_device_close(dev);
	}
	CHECK_RC(mg_device_open("usb:1.99", &dev), MG_ERR_NOT_FOUND);
	/* ids that are not DP5 units */
	CHECK_RC(mg_device_open("usb:dead:beef", &dev), MG_ERR_UNSUPPORTED);
	CHECK_RC(mg_device_open("usb:10c4:ea60", &dev), MG_ERR_UNSUPPORTED);
	CHECK(strstr(mg_error_detail(), "serial") != NULL);
	(void)ua;
}

static void test_scan(mg_usbsim *ua, mg_usbsim *ub)
{
	mg_device_list l;
	int n = mg_device_scan(MG_SCAN_NO_SERIAL, &l);
	CHECK_MSG(n >= 3, "scan: %d: %s", n, n < 0 ? mg_error_detail() : "");
	int found = 0;
	for (size_t i = 0; i < l.count; i++) {
		const mg_device_info *d = &l.items[i];
		if (!strcmp(d->uri, mg_usbsim_uri(ua)) || !strcmp(d->uri, mg_usbsim_uri(ub))) {
			found++;
			CHECK_MSG(d->status == MG_OK, "%s: %s", d->uri, d->error ? d->error : "");
			CHECK(d->driver && !strcmp(d->driver, "dp5"));
			CHECK(d->serial && (!strcmp(d->serial, "1001") || !strcmp(d->serial, "1002")));
			CHECK(d->description && strstr(d->description, "10c4:842a"));
		}
		if (!strcmp(d->uri, "sim:xrf"))
			CHECK(d->status == MG_OK && d->serial && !strcmp(d->serial, "31337"));
	}
	CHECK_MSG(found == 2, "%d simulated USB units listed", found);
	mg_device_list_free(&l);
}

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	e2e_log_init();
	double t0 = e2e_now_ms();

	mg_dp5sim *sa = new_sim("serial=1001&speed=" E2E_SPEED);
	mg_dp5sim *sb = new_sim("serial=1002&model=PX5&sample=ndfeb-dy&speed=" E2E_SPEED);
	CHECK(sa && sb);
	if (!sa || !sb)
		return mg_test_finish("test_e2e_usb");
	struct e2e_faulty fa, fb;
	e2e_faulty_init(&fa, sa);
	e2e_faulty_init(&fb, sb);
	mg_usbsim *ua = mg_usbsim_start(VID, PID, NULL, e2e_faulty_serve, &fa);
	mg_usbsim *ub = mg_usbsim_start(VID, PID, NULL, e2e_faulty_serve, &fb);
	CHECK(ua && ub);
	if (ua && ub) {
		test_open(ua, ub);
		test_scan(ua, ub);

		mg_device *dev = NULL;
		CHECK_RC(mg_device_open(mg_usbsim_uri(ua), &dev), MG_OK);
		if (dev) {
			e2e_acquisition(dev, "usb", NULL);
			/* a long answer in many short transfers */
			mg_usbsim_set_max_transfer(ua, 512);
			static const size_t big[] = {8192, 0};
			e2e_acquisition(dev, "usb 512-byte transfers", big);
			mg_usbsim_set_max_transfer(ua, 0);
			mg_usbsim_stats us = mg_usbsim_get_stats(ua);
			CHECK(us.short_in > 0);
			/* a stalled IN endpoint: cleared by the transport, the request sent again */
			mg_device_stats a = mg_device_get_stats(dev);
			mg_usbsim_stall_next(ua, 0x81);
			mg_xrf_status st;
			CHECK_RC(mg_device_status(dev, &st), MG_OK);
			mg_device_stats b = mg_device_get_stats(dev);
			CHECK(b.retries == a.retries + 1);
			e2e_fault_checks(dev, &fa, "usb");
			mg_device_close(dev);
		}

		/* unplugged while acquiring: MG_ERR_DISCONNECTED at once, and after */
		CHECK_RC(mg_device_open(mg_usbsim_uri(ub), &dev), MG_OK);
		if (dev) {
			mg_xrf_status st;
			CHECK_RC(mg_device_start(dev), MG_OK);
			CHECK_RC(mg_device_status(dev, &st), MG_OK);
			mg_usbsim_unplug(ub);
			double t1 = e2e_now_ms();
			CHECK_RC(mg_device_status(dev, &st), MG_ERR_DISCONNECTED);
			CHECK(e2e_now_ms() - t1 < 1500);
			mg_spectrum *s = NULL;
			CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_ERR_DISCONNECTED);
			CHECK(s == NULL);
			CHECK_RC(mg_device_stop(dev), MG_ERR_DISCONNECTED);
			mg_device_close(dev);
		}
	}
	mg_usbsim_stop(ua);
	mg_usbsim_stop(ub);
	e2e_faulty_destroy(&fa);
	e2e_faulty_destroy(&fb);
	mg_dp5sim_free(sa);
	mg_dp5sim_free(sb);
	fprintf(stderr, "test_e2e_usb: %.0f ms\n", e2e_now_ms() - t0);
	return mg_test_finish("test_e2e_usb");
}
