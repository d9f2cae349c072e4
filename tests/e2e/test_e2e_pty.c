/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 driver end to end over a real pseudo-terminal (the termios path a
 * socat or ser2net bridge, or `magassay sim`, offers): tests/harness/ptysim.c
 * serving the simulated DP5. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "e2e_common.h"
#include "magassay/device.h"
#include "magassay/error.h"
#include "mg_harness.h"

int main(void)
{
	e2e_log_init();
	double t0 = e2e_now_ms();
	mg_dp5sim *sim = NULL;
	CHECK_RC(mg_dp5sim_new("serial=4711&sample=fe&kv=30&ua=10&speed=" E2E_SPEED, &sim), MG_OK);
	if (!sim)
		return mg_test_finish("test_e2e_pty");
	struct e2e_faulty f;
	e2e_faulty_init(&f, sim);
	mg_ptysim *pty = mg_ptysim_start(e2e_faulty_serve, &f);
	CHECK(pty != NULL);
	if (pty) {
		mg_device *dev = NULL;
		CHECK_RC(mg_device_open(mg_ptysim_uri(pty), &dev), MG_OK);
		if (dev) {
			const mg_device_info *i = mg_device_get_info(dev);
			CHECK(!strcmp(i->transport, "pty") && !strcmp(i->serial, "4711"));
			e2e_acquisition(dev, "pty", NULL);
			e2e_fault_checks(dev, &f, "pty");

			/* the peer goes away mid-run */
			mg_xrf_status st;
			mg_device_set_timeout(dev, 200);
			CHECK_RC(mg_device_start(dev), MG_OK);
			CHECK_RC(mg_device_status(dev, &st), MG_OK);
			mg_ptysim_hangup(pty);
			double t1 = e2e_now_ms();
			CHECK_RC(mg_device_status(dev, &st), MG_ERR_DISCONNECTED);
			CHECK(e2e_now_ms() - t1 < 1500);
			mg_spectrum *s = NULL;
			CHECK_RC(mg_device_read_spectrum(dev, 0, &s, &st), MG_ERR_DISCONNECTED);
			CHECK(s == NULL);
			mg_device_close(dev);
		}
		mg_ptysim_stop(pty);
	}
	e2e_faulty_destroy(&f);
	mg_dp5sim_free(sim);
	fprintf(stderr, "test_e2e_pty: %.0f ms\n", e2e_now_ms() - t0);
	return mg_test_finish("test_e2e_pty");
}
