/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the USB devices the suite supports: the one list that drivers,
 * `magassay devices` and the udev rules agree on (a test checks the rules
 * in udev/ against it). */
#ifndef MAGASSAY_USBIDS_H
#define MAGASSAY_USBIDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

typedef enum mg_usb_kind {
	MG_USB_DP5,      /* Amptek DP5 family, native USB (libusb bulk) */
	MG_USB_SERIAL,   /* a USB-serial bridge carrying an instrument's RS-232 (tty) */
	MG_USB_USBTMC,   /* a USB test-and-measurement class instrument */
} mg_usb_kind;

typedef struct mg_usb_id {
	uint16_t vid;
	uint16_t pid;
	mg_usb_kind kind;
	const char *subsystem;   /* the udev subsystem the rule matches: "usb" or "tty" */
	const char *description;
	int untagged;            /* 1: known to the drivers but deliberately not tagged by the
	                            udev rules (the simulator's emulated device uses a generic
	                            test id that must not grant access to arbitrary hardware) */
} mg_usb_id;

const mg_usb_id *mg_usb_ids(size_t *count);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
