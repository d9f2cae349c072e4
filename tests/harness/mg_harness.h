/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The test harness that runs the unchanged transport code against emulated
 * devices (library mg_testharness, built from tests/drivers/CMakeLists.txt).
 *
 *  - mg_usbsim: a USB device in a umockdev testbed, served by a usbdevfs
 *    ioctl handler: the real libusb code path (enumeration, open, claim,
 *    bulk URBs, string descriptors, unplug).
 *  - mg_ttysim: a /dev/ttyUSB0 under a CP2102 parent in a umockdev testbed:
 *    the real libserialport code path.
 *  - mg_ptysim: a real pseudo-terminal pair served by a thread: the pty path.
 *
 * In all three the device side is an mg_harness_device callback: it gets the
 * bytes the host sent and appends its answer to `out`. It runs on a harness
 * thread (umockdev's worker thread for USB), never concurrently with itself
 * for one device. Later end-to-end tests plug the simulated DP5 in here.
 *
 * Tests using mg_usbsim/mg_ttysim must call mg_harness_require_umockdev()
 * first thing in main(). See docs/transports.md for the pitfalls. */
#ifndef MG_HARNESS_H
#define MG_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mg_harness_device)(const uint8_t *in, size_t n, mg_buf *out, void *userdata);

/* ------------------------------------------------------------ umockdev */

/* Make sure the process runs under libumockdev-preload.so: if it is not
 * loaded, re-exec /proc/self/exe with it in LD_PRELOAD (and, in sanitizer
 * builds, ASAN_OPTIONS+=verify_asan_link_order=0). Exits 77 (skip) with a
 * message when umockdev is unavailable or the re-exec did not take.
 * (umockdev_in_mock_environment() is false until a testbed exists, so it
 * cannot decide this.) */
void mg_harness_require_umockdev(int argc, char **argv);
/* 1 if libumockdev-preload.so is mapped into this process. */
int mg_harness_preload_active(void);

/* ------------------------------------------------------------ USB */

typedef struct mg_usbsim mg_usbsim;

/* Add a USB device VID:PID (interface 0, bulk OUT 0x02, bulk IN 0x81, full
 * speed) to the process's testbed, at bus 1 and the next free address (2, 3,
 * ...). serial: its iSerial string, or NULL for none. device may be NULL: a
 * device that never answers. NULL on failure (message on stderr). */
mg_usbsim *mg_usbsim_start(uint16_t vid, uint16_t pid, const char *serial, mg_harness_device device,
                           void *userdata);
/* A class or vendor control request to the device (bmRequestType bits 5-6
 * not "standard"). setup: the 8 setup bytes; data/len: the data stage
 * (wLength bytes: IN, fill it; OUT, what the host sent). The callback may set
 * drop_in (discard the device -> host bytes not transferred yet) and zlps
 * (complete the next IN URBs with zero-length packets), as a USBTMC device
 * does on an abort or a clear. Return the bytes of an IN answer, 0 for OUT,
 * or a negative number to stall the request. Runs on umockdev's thread with
 * the device's lock held: do not call mg_usbsim_* from it. */
typedef struct mg_harness_ctrl {
	const uint8_t *setup;
	uint8_t *data;
	size_t len;
	int drop_in;
	unsigned zlps;
} mg_harness_ctrl;
typedef int (*mg_harness_control)(mg_harness_ctrl *ctrl, void *userdata);

/* mg_usbsim_start() with more to say. Zero fields take the defaults. */
typedef struct mg_usbsim_config {
	uint16_t vid, pid;
	const char *serial;          /* iSerial string, NULL for none */
	const char *product;         /* iProduct string (default "simulated instrument") */
	uint8_t iface_class;         /* interface 0 (default 0xff, vendor); 0xfe for USBTMC */
	uint8_t iface_subclass;      /* (0x03 for USBTMC) */
	uint8_t iface_protocol;      /* (0x01 for USB488) */
	mg_harness_device device;    /* bulk OUT bytes -> answer bytes (NULL: never answers) */
	void *userdata;
	mg_harness_control control;  /* class/vendor control requests (NULL: IN ones stall) */
	void *control_userdata;
} mg_usbsim_config;
mg_usbsim *mg_usbsim_start_config(const mg_usbsim_config *cfg);
/* Remove the device (if still plugged) and free everything. */
void mg_usbsim_stop(mg_usbsim *sim);
/* Unplug: URBs in flight complete with -ESHUTDOWN (libusb: NO_DEVICE), every
 * later ioctl fails with ENODEV, and the device leaves sysfs. */
void mg_usbsim_unplug(mg_usbsim *sim);
int mg_usbsim_bus(const mg_usbsim *sim);
int mg_usbsim_address(const mg_usbsim *sim);
/* "usb:1.2" — the URI of exactly this device. Static per device. */
const char *mg_usbsim_uri(const mg_usbsim *sim);
/* At most this many bytes per IN URB (0 = as many as the host asks for and
 * the device has): a device that sends a long answer in several transfers. */
void mg_usbsim_set_max_transfer(mg_usbsim *sim, size_t max);
/* The next URB on endpoint ep (0x81 or 0x02) fails with a stall (-EPIPE);
 * the host must clear the halt (USBDEVFS_CLEAR_HALT) before it works again. */
void mg_usbsim_stall_next(mg_usbsim *sim, uint8_t ep);
/* The next count IN URBs complete at once with zero bytes (zero-length
 * packets), whether the device has data or not. 0 cancels. */
void mg_usbsim_zlp_next(mg_usbsim *sim, unsigned count);
/* Pretend a kernel driver (e.g. "cp210x") is bound to interface 0: claiming
 * fails with EBUSY until the host detaches it (libusb_detach_kernel_driver);
 * a later attach binds it again. NULL or "" for none (the default). */
void mg_usbsim_set_kernel_driver(mg_usbsim *sim, const char *driver);
/* The driver bound now ("" if none); valid until the next call on this thread. */
const char *mg_usbsim_kernel_driver(mg_usbsim *sim);
/* Append bytes to what the device will send without a request (thread-safe). */
void mg_usbsim_push(mg_usbsim *sim, const void *data, size_t n);

typedef struct mg_usbsim_stats {
	unsigned submitted_out, submitted_in, submitted_ctrl;
	unsigned class_ctrl;       /* class/vendor control requests handed to the callback */
	unsigned reaped, discarded, clear_halts, claims, releases;
	unsigned detaches, attaches; /* kernel driver */
	unsigned short_in;         /* IN URBs completed with fewer bytes than asked */
	size_t bytes_out, bytes_in;
	unsigned unknown_ioctls;
} mg_usbsim_stats;
mg_usbsim_stats mg_usbsim_get_stats(mg_usbsim *sim);

/* ------------------------------------------------------------ tty (libserialport) */

typedef struct mg_ttysim mg_ttysim;

/* Add /dev/ttyUSB<index> under a CP2102 (10c4:ea60) USB parent to the
 * testbed and serve it with `device` on a thread (reading the testbed's
 * master side, umockdev_testbed_get_dev_fd()). Linking this pulls in an
 * ioctl() wrapper that answers TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC when the
 * backing pty says ENOTTY, without which sp_open() fails. */
mg_ttysim *mg_ttysim_start(int index, mg_harness_device device, void *userdata);
void mg_ttysim_stop(mg_ttysim *sim);
const char *mg_ttysim_path(const mg_ttysim *sim); /* "/dev/ttyUSB0" */
const char *mg_ttysim_uri(const mg_ttysim *sim);  /* "serial:/dev/ttyUSB0" */
void mg_ttysim_push(mg_ttysim *sim, const void *data, size_t n);
/* Hang the tty up as a pulled USB-serial adapter does (TIOCVHANGUP): open
 * descriptors read end-of-file and poll POLLHUP. 0, or -errno (-EPERM
 * without CAP_SYS_ADMIN: the caller should skip that check). */
int mg_ttysim_hangup(mg_ttysim *sim);

/* ------------------------------------------------------------ pty */

typedef struct mg_ptysim mg_ptysim;

/* A pty pair (posix_openpt); the device serves the master on a thread, the
 * transport opens the slave (through its pty path, not libserialport). Needs
 * no umockdev, and also works in a process that has a testbed. */
mg_ptysim *mg_ptysim_start(mg_harness_device device, void *userdata);
/* Close the master: the slave side sees a hang-up (-> MG_ERR_DISCONNECTED). */
void mg_ptysim_hangup(mg_ptysim *sim);
void mg_ptysim_stop(mg_ptysim *sim);
const char *mg_ptysim_path(const mg_ptysim *sim); /* "/dev/pts/N" */
const char *mg_ptysim_uri(const mg_ptysim *sim);  /* "serial:/dev/pts/N" */
void mg_ptysim_push(mg_ptysim *sim, const void *data, size_t n);

/* ------------------------------------------------------------ devices */

/* Echoes every byte back. */
void mg_harness_echo(const uint8_t *in, size_t n, mg_buf *out, void *userdata);

/* The "packet" device: a request is 'P' followed by a 3-byte big-endian
 * length L; the answer is L bytes of mg_harness_pattern(0..L-1). Bytes that
 * are not part of a request are ignored. userdata: a struct
 * mg_harness_packet_state (zeroed) to keep partial requests across calls. */
struct mg_harness_packet_state {
	uint8_t req[4];
	size_t have;
	unsigned requests;  /* complete requests seen */
};
void mg_harness_packet(const uint8_t *in, size_t n, mg_buf *out, void *userdata);
/* The request bytes for an answer of len bytes (len < 2^24). */
void mg_harness_packet_request(uint8_t req[4], size_t len);
/* Byte i of every packet answer. */
uint8_t mg_harness_pattern(size_t i);
/* Index of the first byte of buf (at answer offset off) that is not the
 * pattern, or (size_t)-1 if all match. */
size_t mg_harness_pattern_mismatch(const uint8_t *buf, size_t n, size_t off);

#ifdef __cplusplus
}
#endif
#endif
