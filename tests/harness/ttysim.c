/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A /dev/ttyUSBn that the unchanged libserialport code accepts: umockdev's tty
 * emulation (a testbed device with `dev=188:n` under a CP2102 USB parent is
 * backed by a pty whose master is umockdev_testbed_get_dev_fd()), served by a
 * thread playing the instrument.
 *
 * Why the ioctl() below: sp_open() reads the modem lines with TIOCMGET, and a
 * pty answers ENOTTY, so sp_open() fails ("Inappropriate ioctl for device").
 * A function named ioctl in the test executable takes precedence over libc's
 * (and over libumockdev-preload's) for every library in the process, so it
 * answers the four modem-line requests itself when the real call (reached
 * with dlsym(RTLD_NEXT), i.e. through umockdev's preload and the sanitizer
 * interceptors) says ENOTTY, and is transparent otherwise. The harness's
 * CMake exports the symbol from the executable (-Wl,--export-dynamic-symbol=ioctl);
 * the object file is only linked when a test uses mg_ttysim_start(). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness_internal.h"

/* ------------------------------------------------------------ ioctl wrapper */

static int modem_bits = TIOCM_DTR | TIOCM_RTS | TIOCM_CTS | TIOCM_DSR | TIOCM_CD;

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int saved = errno;
	int r = real(fd, request, arg);
	if (r < 0 && errno == ENOTTY && arg) {
		int *bits = arg;
		switch (request) {
		case TIOCMGET:
			*bits = __atomic_load_n(&modem_bits, __ATOMIC_RELAXED);
			break;
		case TIOCMSET:
			__atomic_store_n(&modem_bits, *bits, __ATOMIC_RELAXED);
			break;
		case TIOCMBIS:
			__atomic_fetch_or(&modem_bits, *bits, __ATOMIC_RELAXED);
			break;
		case TIOCMBIC:
			__atomic_fetch_and(&modem_bits, ~*bits, __ATOMIC_RELAXED);
			break;
		default:
			return r;
		}
		errno = saved;
		return 0;
	}
	return r;
}

/* ------------------------------------------------------------ the tty */

struct mg_ttysim {
	UMockdevTestbed *tb;
	int index;
	char path[32];
	char uri[48];
	char *usb_syspath, *tty_syspath;
	struct mg_fdserver server;
};

mg_ttysim *mg_ttysim_start(int index, mg_harness_device device, void *userdata)
{
	if (index < 0 || index > 63) {
		fprintf(stderr, "ttysim: index %d out of range\n", index);
		return NULL;
	}
	mg_ttysim *s = g_new0(mg_ttysim, 1);
	s->index = index;
	snprintf(s->path, sizeof(s->path), "/dev/ttyUSB%d", index);
	snprintf(s->uri, sizeof(s->uri), "serial:%s", s->path);
	/* the CP2102 on bus 2, so that its addresses never meet mg_usbsim's on bus 1 */
	int port = index + 1;
	s->usb_syspath = g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb2/2-%d", port);
	s->tty_syspath = g_strdup_printf("%s/2-%d:1.0/ttyUSB%d/tty/ttyUSB%d", s->usb_syspath, port, index, index);
	char *text = g_strdup_printf(
		"P: /devices/pci0000:00/0000:00:14.0/usb2/2-%d\n"
		"E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\n"
		"A: idVendor=10c4\nA: idProduct=ea60\nA: busnum=2\nA: devnum=%d\n"
		"A: manufacturer=Silicon Labs\nA: product=CP2102 USB to UART Bridge Controller\n"
		"A: serial=MGTTY%04d\n"
		"\n"
		"P: /devices/pci0000:00/0000:00:14.0/usb2/2-%d/2-%d:1.0\n"
		"E: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\nE: DRIVER=cp210x\n"
		"A: bInterfaceNumber=00\nA: bInterfaceClass=ff\n"
		"\n"
		"P: /devices/pci0000:00/0000:00:14.0/usb2/2-%d/2-%d:1.0/ttyUSB%d/tty/ttyUSB%d\n"
		"N: ttyUSB%d\n"
		"E: DEVNAME=/dev/ttyUSB%d\nE: SUBSYSTEM=tty\n"
		"A: dev=188:%d\n",
		port, port + 1, index, port, port, port, port, index, index, index, index, index);
	GError *err = NULL;
	s->tb = mg_harness_testbed_ref_();
	if (!umockdev_testbed_add_from_string(s->tb, text, &err)) {
		fprintf(stderr, "ttysim: adding %s: %s\n", s->path, err ? err->message : "?");
		g_clear_error(&err);
		g_free(text);
		mg_ttysim_stop(s);
		return NULL;
	}
	g_free(text);
	int fd = umockdev_testbed_get_dev_fd(s->tb, s->path);
	if (fd < 0) {
		fprintf(stderr, "ttysim: no emulated tty behind %s\n", s->path);
		mg_ttysim_stop(s);
		return NULL;
	}
	if (mg_fdserver_start_(&s->server, fd, device, userdata) != 0) {
		fprintf(stderr, "ttysim: cannot start the device thread\n");
		mg_ttysim_stop(s);
		return NULL;
	}
	return s;
}

void mg_ttysim_stop(mg_ttysim *s)
{
	if (!s)
		return;
	mg_fdserver_stop_(&s->server);
	if (s->tb) {
		char *itf = g_strdup_printf("%s/2-%d:1.0", s->usb_syspath, s->index + 1);
		umockdev_testbed_remove_device(s->tb, s->tty_syspath);
		umockdev_testbed_remove_device(s->tb, itf);
		umockdev_testbed_remove_device(s->tb, s->usb_syspath);
		g_free(itf);
		mg_harness_testbed_unref_();
	}
	g_free(s->usb_syspath);
	g_free(s->tty_syspath);
	g_free(s);
}

const char *mg_ttysim_path(const mg_ttysim *s)
{
	return s->path;
}

const char *mg_ttysim_uri(const mg_ttysim *s)
{
	return s->uri;
}

int mg_ttysim_hangup(mg_ttysim *s)
{
	/* What the kernel does when a USB-serial adapter is pulled: tty_vhangup().
	 * Every open descriptor of the tty then reads end-of-file, polls
	 * POLLHUP and fails writes with EIO. TIOCVHANGUP needs CAP_SYS_ADMIN.
	 * The raw system call: umockdev's preload answers ENOTTY to ioctls it
	 * does not know on an emulated node. */
	int fd = open(s->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = syscall(SYS_ioctl, fd, TIOCVHANGUP, 0) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

void mg_ttysim_push(mg_ttysim *s, const void *data, size_t n)
{
	mg_fdserver_push_(&s->server, data, n);
}
