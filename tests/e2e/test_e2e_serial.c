/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 driver end to end over the unchanged libserialport path: the
 * simulated DP5 behind an emulated /dev/ttyUSB0 (umockdev, tests/harness/ttysim.c). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "e2e_common.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "mg_harness.h"

int main(int argc, char **argv)
{
	mg_harness_require_umockdev(argc, argv);
	e2e_log_init();
	double t0 = e2e_now_ms();

	mg_dp5sim *sim = NULL;
	CHECK_RC(mg_dp5sim_new("serial=2024&model=X-123&speed=" E2E_SPEED, &sim), MG_OK);
	if (!sim)
		return mg_test_finish("test_e2e_serial");
	struct e2e_faulty f;
	e2e_faulty_init(&f, sim);
	mg_ttysim *tty = mg_ttysim_start(0, e2e_faulty_serve, &f);
	CHECK(tty != NULL);
	if (tty) {
		mg_device *dev = NULL;
		CHECK_RC(mg_device_open(mg_ttysim_uri(tty), &dev), MG_OK);
		if (dev) {
			const mg_device_info *i = mg_device_get_info(dev);
			CHECK(!strcmp(i->transport, "serial") && !strcmp(i->serial, "2024") && !strcmp(i->model, "DP5"));
			CHECK(strstr(mg_transport_description(mg_device_get_transport(dev)), "115200") != NULL);
			e2e_acquisition(dev, "serial", NULL);
			e2e_fault_checks(dev, &f, "serial");
			mg_device_close(dev);
		}
		/* the scan lists the port; probing asks it */
		mg_device_list l;
		int n = mg_device_scan(MG_SCAN_NO_USB | MG_SCAN_NO_SIM, &l);
		int listed = 0;
		for (int k = 0; n > 0 && k < n; k++)
			if (!strcmp(l.items[k].uri, mg_ttysim_uri(tty))) {
				listed = 1;
				CHECK(l.items[k].status == MG_ERR_NA && !l.items[k].serial);
				CHECK(l.items[k].description && *l.items[k].description);
			}
		mg_device_list_free(&l);
		if (!listed) {
			fprintf(stderr, "note: libserialport does not list the emulated %s here; probe checked by URI\n",
			        mg_ttysim_path(tty));
		} else {
			n = mg_device_scan(MG_SCAN_NO_USB | MG_SCAN_NO_SIM | MG_SCAN_PROBE_SERIAL, &l);
			for (int k = 0; n > 0 && k < n; k++)
				if (!strcmp(l.items[k].uri, mg_ttysim_uri(tty)))
					CHECK_MSG(l.items[k].status == MG_OK && l.items[k].serial &&
					                  !strcmp(l.items[k].serial, "2024"),
					          "probe: %s", l.items[k].error ? l.items[k].error : "");
			mg_device_list_free(&l);
		}
		mg_device_info info;
		CHECK_RC(mg_device_probe(mg_ttysim_uri(tty), &info), MG_OK);
		CHECK(info.serial && !strcmp(info.serial, "2024") && info.driver && !strcmp(info.driver, "dp5"));
		mg_device_info_clear(&info);

		/* a hang-up mid-run (a pulled USB-serial adapter) */
		CHECK_RC(mg_device_open(mg_ttysim_uri(tty), &dev), MG_OK);
		if (dev) {
			mg_xrf_status st;
			mg_device_set_timeout(dev, 200);
			CHECK_RC(mg_device_start(dev), MG_OK);
			CHECK_RC(mg_device_status(dev, &st), MG_OK);
			int hr = mg_ttysim_hangup(tty);
			if (hr == 0) {
				double t1 = e2e_now_ms();
				CHECK_RC(mg_device_status(dev, &st), MG_ERR_DISCONNECTED);
				CHECK(e2e_now_ms() - t1 < 1500);
			} else {
				/* the tty emulation cannot hang up here: the pty test covers it */
				fprintf(stderr, "note: ttysim hang-up unavailable (%d): checked in test_e2e_pty\n", hr);
			}
			mg_device_close(dev);
		}
		mg_ttysim_stop(tty);
	}
	e2e_faulty_destroy(&f);
	mg_dp5sim_free(sim);
	fprintf(stderr, "test_e2e_serial: %.0f ms\n", e2e_now_ms() - t0);
	return mg_test_finish("test_e2e_serial");
}
