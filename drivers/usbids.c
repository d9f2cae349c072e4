/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "internal.h"
#include "magassay/usbids.h"

/* Keep sorted by VID:PID; udev/60-magassay.rules tags every entry but the untagged ones
 * (last field 1), and tests/udev checks that it does. */
static const mg_usb_id ids[] = {
	{0x0403, 0x6001, MG_USB_SERIAL, "tty", "FTDI FT232R USB-serial (RS-232 adapters for DP5 and ICP-OES)", 0},
	{0x0403, 0x6015, MG_USB_SERIAL, "tty", "FTDI FT-X USB-serial", 0},
	{0x067b, 0x2303, MG_USB_SERIAL, "tty", "Prolific PL2303 USB-serial", 0},
	{0x10c4, 0x842a, MG_USB_DP5, "usb", "Amptek DP5 / PX5 / X-123 / DP5G", 0},
	{0x10c4, 0xea60, MG_USB_SERIAL, "tty", "Silicon Labs CP210x USB-serial", 0},
	{0x1209, 0x0001, MG_USB_USBTMC, "usb", "magassay simulated ICP-OES, USBTMC/USB488 (pid.codes test id)", 1},
};

const mg_usb_id *mg_usb_ids(size_t *count)
{
	*count = MG_ARRAY_SIZE(ids);
	return ids;
}
