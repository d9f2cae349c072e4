/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES as an emulated USBTMC/USB488 device under umockdev
 * (library mg_icp_harness, built when umockdev is there; needs
 * mg_harness_require_umockdev() first thing in main()). For any test that
 * wants the unchanged libusb USBTMC path, e.g. a whole run sequence. */
#ifndef MG_ICP_HARNESS_H
#define MG_ICP_HARNESS_H

#include "magassay/icp_device.h"
#include "mg_harness.h"

#define ICP_USBTMC_VID 0x1209
#define ICP_USBTMC_PID 0x0001

/* Plug `sim` in as a USB488 device 1209:0001 (interface FE/03/01, bulk OUT
 * 0x02 / IN 0x81) with iSerial `serial` (NULL: none). The simulator must
 * outlive the device: mg_usbsim_stop() first, then mg_icpsim_free(). */
mg_usbsim *icp_usbsim_start(mg_icpsim *sim, const char *serial);
/* "usbtmc:1.N" for exactly this device (static buffer per call site: copy it). */
const char *icp_usbsim_uri(mg_usbsim *s);

#endif
