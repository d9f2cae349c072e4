/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the byte transports beneath the instrument drivers.
 *
 * One opaque handle for every way an instrument is reached:
 *   usb:VVVV:PPPP[?serial=S]   USB bulk (libusb), first device with that VID:PID (hex)
 *   usb:BUS.ADDR               USB bulk, the device at that bus number and address (decimal)
 *   serial:PATH[?baud=N]       RS-232 (libserialport; a pseudo-terminal goes through termios)
 *   sim:NAME[?k=v&k=v]         an in-process simulated instrument ("loopback")
 *   usbtmc:VVVV:PPPP[?serial=S], usbtmc:BUS.ADDR
 *                              USB test-and-measurement class (USBTMC/USB488 over
 *                              libusb): each write is one device message (EOM)
 *   scpi+serial:PATH[?baud=N]  serial:, marking the protocol (SCPI) for the driver choice
 * See docs/transports.md for the full grammar, the fault parameters of sim:
 * URIs and the timeouts.
 *
 * Return values follow error.h: 0 = OK, a positive count, or a negative
 * enum mg_err with a detail in mg_error_detail(). Every transfer is logged at
 * MG_LOG_SPEW as hex under the domain "transport".
 *
 * Timeouts are in milliseconds and always bounded: 0 means "do not wait"
 * (poll once), never "forever". A handle is not thread-safe: one thread
 * at a time. */
#ifndef MAGASSAY_TRANSPORT_H
#define MAGASSAY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* ---------------------------------------------------------------- URIs */

typedef enum mg_transport_scheme {
	MG_SCHEME_USB = 1,
	MG_SCHEME_SERIAL = 2,
	MG_SCHEME_SIM = 3,
	MG_SCHEME_USBTMC = 4, /* usbtmc: (same body and parameters as usb:) */
} mg_transport_scheme;

typedef struct mg_transport_param {
	char *key;    /* owned */
	char *value;  /* owned, never empty */
	int used;     /* set by mg_transport_uri_take(): a consumer recognised it */
} mg_transport_param;

/* A parsed URI. Strings are owned heap strings; free with mg_transport_uri_free(). */
typedef struct mg_transport_uri {
	mg_transport_scheme scheme;
	char *text;            /* the URI as given */
	/* usb: */
	int usb_by_address;    /* 1: usb:BUS.ADDR, 0: usb:VID:PID */
	uint16_t vid, pid;
	uint8_t bus, address;
	const char *serial;    /* ?serial= (points into params) or NULL */
	/* serial: */
	char *path;            /* the device path */
	unsigned baud;         /* ?baud=, default 115200 */
	/* sim: */
	char *name;            /* the simulated instrument's name */
	/* all ?k=v parameters in order (usb and serial ones are already checked) */
	size_t nparams;
	mg_transport_param *params;
	/* "scpi" for scpi+serial: (the PROTOCOL+ prefix), else NULL. Owned. */
	char *protocol;
} mg_transport_uri;

/* Parse strictly. On failure returns MG_ERR_ARG with a detail naming the bad
 * part ("unknown scheme 'foo'", "unknown parameter 'bauds' for serial:"). */
int mg_transport_uri_parse(const char *text, mg_transport_uri **out);
void mg_transport_uri_free(mg_transport_uri *uri);
/* The value of parameter `key`, or NULL if absent. */
const char *mg_transport_uri_get(const mg_transport_uri *uri, const char *key);
/* Like _get(), and marks the parameter as recognised. Simulator factories
 * take every parameter they understand; sim: URIs with parameters that
 * nobody took are rejected with their names. */
const char *mg_transport_uri_take(mg_transport_uri *uri, const char *key);

/* ------------------------------------------------------------ the handle */

typedef struct mg_transport mg_transport;

typedef enum mg_transport_kind {
	MG_TRANSPORT_USB = 1,
	MG_TRANSPORT_SERIAL = 2,   /* libserialport */
	MG_TRANSPORT_PTY = 3,      /* termios on a pseudo-terminal */
	MG_TRANSPORT_LOOPBACK = 4, /* in-process simulated device */
	MG_TRANSPORT_USBTMC = 5,   /* USBTMC over libusb: message-framed (see drivers/transport/usbtmc.h) */
} mg_transport_kind;

/* Open from a URI. *out is owned by the caller: mg_transport_close().
 * Errors: MG_ERR_ARG (bad URI), MG_ERR_NOT_FOUND (no such device, unknown
 * simulator), MG_ERR_BUSY (claimed by another program), MG_ERR_IO. */
int mg_transport_open(const char *uri, mg_transport **out);
/* The same from a parsed URI (not const: a sim: factory marks the parameters
 * it takes). The URI stays the caller's. */
int mg_transport_open_uri(mg_transport_uri *uri, mg_transport **out);
/* Close and free (NULL is fine). */
void mg_transport_close(mg_transport *t);

/* Write all n bytes within timeout_ms. MG_OK, MG_ERR_TIMEOUT (not all bytes
 * went out), MG_ERR_DISCONNECTED, MG_ERR_IO. */
int mg_transport_write(mg_transport *t, const void *data, size_t n, unsigned timeout_ms);
/* Read up to n bytes (n <= INT_MAX). Returns a positive count as soon as any
 * bytes are there, MG_ERR_TIMEOUT if none arrived within timeout_ms,
 * MG_ERR_DISCONNECTED when the device is gone. */
int mg_transport_read(mg_transport *t, void *data, size_t n, unsigned timeout_ms);
/* Read exactly n bytes within timeout_ms in total (looping over short reads).
 * Returns n, or MG_ERR_TIMEOUT / another error; *got (may be NULL) receives
 * the number of bytes stored in either case. */
int mg_transport_read_exact(mg_transport *t, void *data, size_t n, unsigned timeout_ms, size_t *got);
/* Discard everything already received and not yet read. */
int mg_transport_flush_input(mg_transport *t);

mg_transport_kind mg_transport_get_kind(const mg_transport *t);
const char *mg_transport_kind_name(mg_transport_kind kind); /* "usb", "serial", "pty", "loopback" */
/* A one-line description for logs ("usb 001.002 10c4:842a", "serial /dev/ttyUSB0 115200 8N1").
 * Owned by the handle. */
const char *mg_transport_description(const mg_transport *t);
/* Time one byte takes on the wire in microseconds (10 bits per byte, 8N1):
 * 86.8 at 115200 baud; 0 for USB and loopback. */
double mg_transport_byte_time_us(const mg_transport *t);
/* base_ms plus the wire time of nbytes, rounded up: how long to wait for an
 * answer of nbytes. */
unsigned mg_transport_timeout_for(const mg_transport *t, size_t nbytes, unsigned base_ms);

/* ------------------------------------------------------------------ USB */

typedef struct mg_transport_usb_info {
	uint8_t bus, address;
	uint16_t vid, pid;
	char serial[128];   /* the iSerial string descriptor, "" if none or unreadable */
	char product[128];  /* the iProduct string descriptor, "" if none or unreadable */
} mg_transport_usb_info;

/* List the devices with this VID:PID (vid = pid = 0: every device).
 * *list is malloc'd (free()); *count its length (0 is not an error). */
int mg_transport_usb_list(uint16_t vid, uint16_t pid, mg_transport_usb_info **list, size_t *count);
/* Open the USB device at bus.address. */
int mg_transport_open_usb(uint8_t bus, uint8_t address, mg_transport **out);
/* Open every VID:PID device in turn and keep the first one for which
 * match(t, userdata) returns 1 (0: not this one, negative: abort with that
 * error). How a driver picks a unit by the serial number in its status
 * packet. MG_ERR_NOT_FOUND if none matched. */
int mg_transport_open_usb_match(uint16_t vid, uint16_t pid,
                                int (*match)(mg_transport *t, void *userdata), void *userdata,
                                mg_transport **out);

/* ----------------------------------------------- loopback (simulated) */

/* A simulated device behind a loopback transport. The simulator fills in the
 * callbacks; ctx is its own state. */
typedef struct mg_simdev mg_simdev;
struct mg_simdev {
	void *ctx;
	/* Bytes the host wrote; append the device's answer (if any) to out.
	 * Return MG_OK or a negative error (reported to the writer as MG_ERR_IO). */
	int (*feed)(mg_simdev *dev, const uint8_t *in, size_t n, mg_buf *out);
	/* Optional: simulated time passes (the host waited elapsed_ms with
	 * nothing to read); append spontaneous output to out. */
	int (*tick)(mg_simdev *dev, unsigned elapsed_ms, mg_buf *out);
	/* Optional: free ctx and the mg_simdev itself (called by mg_transport_close). */
	void (*free)(mg_simdev *dev);
};

/* Makes a device for `sim:NAME?...`. Take the parameters you understand with
 * mg_transport_uri_take() (unknown ones are then rejected by the transport).
 * Return MG_OK and *out, or a negative error with mg_fail(). */
typedef int (*mg_simdev_factory)(mg_transport_uri *uri, mg_simdev **out, void *userdata);

/* Register (or with factory NULL, remove) the simulator for `sim:NAME`.
 * The name is copied. Thread-safe; replaces a previous registration. */
int mg_transport_register_sim(const char *name, mg_simdev_factory factory, void *userdata);

/* Open a loopback transport around dev (ownership of dev passes to the
 * transport, also on failure). faults: NULL or the fault parameters of a
 * sim: URI without the '?', e.g. "drop=3@10&stall=2". */
int mg_transport_open_loopback(mg_simdev *dev, const char *faults, mg_transport **out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
