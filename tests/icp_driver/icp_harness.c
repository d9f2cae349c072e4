/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "icp_harness.h"

#include <stdio.h>

#include "drivers/transport/usbtmc.h"

static int control(mg_harness_ctrl *c, void *ud)
{
	unsigned act = 0;
	int r = mg_icpsim_usbtmc_control(ud, c->setup, c->data, c->len, &act);
	if (act & MG_USBTMC_FN_DROP_IN)
		c->drop_in = 1;
	if (act & MG_USBTMC_FN_ZLP)
		c->zlps = 1;
	return r;
}

mg_usbsim *icp_usbsim_start(mg_icpsim *sim, const char *serial)
{
	mg_usbsim_config cfg = {.vid = ICP_USBTMC_VID,
	                        .pid = ICP_USBTMC_PID,
	                        .serial = serial,
	                        .product = "magassay simulated ICP-OES",
	                        .iface_class = MG_USBTMC_CLASS,
	                        .iface_subclass = MG_USBTMC_SUBCLASS,
	                        .iface_protocol = MG_USBTMC_PROTOCOL_USB488,
	                        .device = mg_icpsim_serve_usbtmc,
	                        .userdata = sim,
	                        .control = control,
	                        .control_userdata = sim};
	return mg_usbsim_start_config(&cfg);
}

const char *icp_usbsim_uri(mg_usbsim *s)
{
	static _Thread_local char uri[32];
	snprintf(uri, sizeof(uri), "usbtmc:%d.%d", mg_usbsim_bus(s), mg_usbsim_address(s));
	return uri;
}
