/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A USB device in a umockdev testbed, served by a live usbdevfs ioctl handler
 * so that the unchanged libusb code enumerates, opens, claims and transfers.
 *
 * The handler runs on umockdev's worker thread ("handle-ioctl" signal):
 *   SUBMITURB     resolve the urb and its buffer; OUT bulk: hand the bytes to
 *                 the device callback and complete at once; IN bulk: wait in a
 *                 queue for device bytes; control: answer GET_DESCRIPTOR.
 *   REAPURB(NDELAY) hand back the next completed urb via set_ptr(), or
 *                 EAGAIN (how a silent device becomes LIBUSB_ERROR_TIMEOUT).
 *   DISCARDURB    libusb's timeout path: the waiting urb completes -ENOENT.
 *   GET_CAPABILITIES, CLAIM/RELEASEINTERFACE, CLEAR_HALT, ...: the obvious.
 * After an unplug, waiting urbs complete with -ESHUTDOWN (libusb:
 * LIBUSB_TRANSFER_NO_DEVICE) and everything else fails with ENODEV. */
#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "harness_internal.h"

#define SIM_BUS 1
#define CAPS                                                                                       \
	(USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM | \
	 USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_REAP_AFTER_DISCONNECT)
#define EP_OUT 0x02
#define EP_IN 0x81

struct urb {
	UMockdevIoctlData *data; /* struct usbdevfs_urb, resolved (owned reference) */
	UMockdevIoctlData *buf;  /* its buffer (owned reference), NULL if empty */
};

struct mg_usbsim {
	GMutex lock;
	UMockdevTestbed *tb;
	UMockdevIoctlBase *handler;
	char *syspath;
	char devnode[32];
	char uri[24];
	int addr;
	uint16_t vid, pid;
	char serial[128];
	char product[128];
	uint8_t iface_class, iface_subclass, iface_protocol;
	mg_harness_control control;
	void *control_userdata;
	int plugged;       /* in the testbed */
	int unplugged;     /* mg_usbsim_unplug() was called */
	int shutdown_done; /* waiting urbs were failed after the unplug */
	mg_harness_device device;
	void *userdata;
	mg_buf out;        /* device -> host bytes not yet transferred */
	size_t out_pos;
	GQueue waiting;    /* IN urbs waiting for data */
	GQueue done;       /* completed urbs, to be reaped */
	size_t max_xfer;
	int halt_in, halt_out;
	unsigned zlps;     /* IN urbs still to complete with zero bytes */
	void *claimed_by;  /* the client (open descriptor) holding interface 0 */
	char kdriver[32];  /* kernel driver bound to interface 0, "" if none */
	char detached[32]; /* the driver a USBDEVFS_DISCONNECT took away */
	uint8_t desc[18 + 32];
	mg_usbsim_stats st;
};

static GMutex addr_lock;
static int next_addr = 2;
static uint8_t addr_used[128];

/* Next free device address on the bus, 2..127 round robin (1 is the root hub). */
static int alloc_addr(void)
{
	int a = 0;
	g_mutex_lock(&addr_lock);
	for (int i = 0; i < 126 && !a; i++) {
		int c = next_addr;
		next_addr = next_addr >= 127 ? 2 : next_addr + 1;
		if (!addr_used[c])
			a = c;
	}
	if (a)
		addr_used[a] = 1;
	g_mutex_unlock(&addr_lock);
	return a;
}

static void free_addr(int a)
{
	g_mutex_lock(&addr_lock);
	if (a > 0 && a < 128)
		addr_used[a] = 0;
	g_mutex_unlock(&addr_lock);
}

/* ------------------------------------------------------------ descriptors */

static void build_descriptors(mg_usbsim *s)
{
	uint8_t config[32] = {
		9, 2, 32, 0, 1, 1, 0, 0x80, 50,       /* configuration 1, one interface, 100 mA */
		9, 4, 0, 0, 2, 0xff, 0, 0, 0,         /* interface 0, two endpoints, vendor class */
		7, 5, EP_OUT, 2, 64, 0, 0,            /* bulk OUT 0x02, 64 bytes */
		7, 5, EP_IN, 2, 64, 0, 0,             /* bulk IN 0x81, 64 bytes */
	};
	config[9 + 5] = s->iface_class;       /* bInterfaceClass, SubClass, Protocol */
	config[9 + 6] = s->iface_subclass;
	config[9 + 7] = s->iface_protocol;
	uint8_t *d = s->desc;
	d[0] = 18;
	d[1] = 1;                     /* DEVICE */
	d[2] = 0x00, d[3] = 0x02;     /* USB 2.00 */
	d[4] = d[5] = d[6] = 0;       /* class per interface */
	d[7] = 64;                    /* ep0 max packet */
	d[8] = s->vid & 0xff, d[9] = s->vid >> 8;
	d[10] = s->pid & 0xff, d[11] = s->pid >> 8;
	d[12] = 0x00, d[13] = 0x01;   /* bcdDevice 1.00 */
	d[14] = 1;                    /* iManufacturer */
	d[15] = 2;                    /* iProduct */
	d[16] = s->serial[0] ? 3 : 0; /* iSerialNumber */
	d[17] = 1;                    /* one configuration */
	memcpy(d + 18, config, sizeof(config));
}

static const char *string_for(const mg_usbsim *s, unsigned index)
{
	switch (index) {
	case 1:
		return "magassay test harness";
	case 2:
		return s->product;
	case 3:
		return s->serial[0] ? s->serial : NULL;
	}
	return NULL;
}

/* Answer a control request into dst (capacity cap). Returns the length, or -EPIPE. */
static int control(mg_usbsim *s, const uint8_t *setup, uint8_t *dst, size_t cap)
{
	uint8_t type = setup[0], req = setup[1];
	unsigned value = setup[2] | setup[3] << 8;
	uint8_t tmp[256];
	size_t n = 0;
	if (type == 0x80 && req == 6) { /* GET_DESCRIPTOR */
		unsigned dtype = value >> 8, index = value & 0xff;
		if (dtype == 1) {
			memcpy(tmp, s->desc, 18);
			n = 18;
		} else if (dtype == 2 && index == 0) {
			memcpy(tmp, s->desc + 18, 32);
			n = 32;
		} else if (dtype == 3 && index == 0) {
			tmp[0] = 4, tmp[1] = 3, tmp[2] = 0x09, tmp[3] = 0x04; /* en-US */
			n = 4;
		} else if (dtype == 3 && string_for(s, index)) {
			const char *str = string_for(s, index);
			size_t len = strlen(str);
			if (len > 126)
				len = 126;
			tmp[0] = (uint8_t)(2 + 2 * len);
			tmp[1] = 3;
			for (size_t i = 0; i < len; i++)
				tmp[2 + 2 * i] = (uint8_t)str[i], tmp[3 + 2 * i] = 0;
			n = 2 + 2 * len;
		} else {
			return -EPIPE;
		}
	} else if (type == 0x80 && req == 0) { /* GET_STATUS */
		tmp[0] = tmp[1] = 0;
		n = 2;
	} else if (type == 0x80 && req == 8) { /* GET_CONFIGURATION */
		tmp[0] = 1;
		n = 1;
	} else if ((type & 0x60) && s->control) { /* class or vendor: the device's */
		uint8_t buf[4096];
		size_t len = setup[6] | setup[7] << 8;
		if (len > sizeof(buf) || len > cap)
			return -EPIPE;
		if (!(type & 0x80))
			memcpy(buf, dst, len);
		else
			memset(buf, 0, len);
		mg_harness_ctrl c = {.setup = setup, .data = buf, .len = len};
		s->st.class_ctrl++;
		int r = s->control(&c, s->control_userdata);
		if (c.drop_in) {
			mg_buf_reset(&s->out);
			s->out_pos = 0;
		}
		s->zlps += c.zlps;
		if (r < 0)
			return -EPIPE;
		if (!(type & 0x80))
			return 0;
		n = (size_t)r < len ? (size_t)r : len;
		memcpy(tmp, buf, n < sizeof(tmp) ? n : sizeof(tmp));
		if (n > sizeof(tmp))
			n = sizeof(tmp);
	} else if (!(type & 0x80)) {
		return 0; /* host-to-device requests: accept */
	} else {
		return -EPIPE;
	}
	if (n > cap)
		n = cap;
	memcpy(dst, tmp, n);
	return (int)n;
}

/* ------------------------------------------------------------ urbs */

static struct usbdevfs_urb *U(struct urb *u)
{
	return (struct usbdevfs_urb *)u->data->data;
}

static void urb_free(struct urb *u)
{
	if (!u)
		return;
	if (u->buf)
		g_object_unref(u->buf);
	g_object_unref(u->data);
	g_free(u);
}

static void finish(mg_usbsim *s, struct urb *u, int status, int actual)
{
	U(u)->status = status;
	U(u)->actual_length = actual;
	g_queue_push_tail(&s->done, u);
}

/* Move device bytes into waiting IN urbs. Called with the lock held. */
static void serve(mg_usbsim *s)
{
	while (!g_queue_is_empty(&s->waiting)) {
		struct urb *u = g_queue_peek_head(&s->waiting);
		if (s->halt_in) {
			g_queue_pop_head(&s->waiting);
			finish(s, u, -EPIPE, 0);
			continue;
		}
		if (s->zlps) {
			s->zlps--;
			g_queue_pop_head(&s->waiting);
			s->st.short_in++;
			finish(s, u, 0, 0);
			continue;
		}
		size_t avail = s->out.len - s->out_pos;
		if (avail == 0)
			break;
		size_t want = (size_t)U(u)->buffer_length;
		size_t n = avail < want ? avail : want;
		if (s->max_xfer && n > s->max_xfer)
			n = s->max_xfer;
		g_queue_pop_head(&s->waiting);
		if (n)
			memcpy(u->buf->data, s->out.data + s->out_pos, n);
		s->out_pos += n;
		s->st.bytes_in += n;
		if (n < want)
			s->st.short_in++;
		finish(s, u, 0, (int)n);
	}
	if (s->out_pos == s->out.len) {
		mg_buf_reset(&s->out);
		s->out_pos = 0;
	}
}

static void submit(mg_usbsim *s, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	UMockdevIoctlData *data = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
	if (!data) {
		fprintf(stderr, "usbsim: cannot resolve urb: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	struct urb *u = g_new0(struct urb, 1);
	u->data = data;
	struct usbdevfs_urb *urb = U(u);
	if (urb->buffer_length > 0) {
		u->buf = umockdev_ioctl_data_resolve(data, offsetof(struct usbdevfs_urb, buffer),
		                                     (gsize)urb->buffer_length, &err);
		if (!u->buf) {
			fprintf(stderr, "usbsim: cannot resolve urb buffer: %s\n", err ? err->message : "?");
			g_clear_error(&err);
			urb_free(u);
			umockdev_ioctl_client_complete(client, -1, EFAULT);
			return;
		}
	}
	uint8_t *buf = u->buf ? u->buf->data : NULL;
	size_t len = (size_t)urb->buffer_length;

	if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
		s->st.submitted_ctrl++;
		if (len < 8) {
			finish(s, u, -EINVAL, 0);
		} else {
			int r = control(s, buf, buf + 8, len - 8);
			finish(s, u, r < 0 ? r : 0, r < 0 ? 0 : r);
		}
	} else if (urb->type != USBDEVFS_URB_TYPE_BULK ||
	           (urb->endpoint != EP_IN && urb->endpoint != EP_OUT)) {
		urb_free(u);
		umockdev_ioctl_client_complete(client, -1, EINVAL);
		return;
	} else if (urb->endpoint == EP_OUT) {
		s->st.submitted_out++;
		if (s->halt_out) {
			finish(s, u, -EPIPE, 0);
		} else {
			s->st.bytes_out += len;
			if (s->device && len)
				s->device(buf, len, &s->out, s->userdata);
			finish(s, u, 0, (int)len);
		}
	} else {
		s->st.submitted_in++;
		g_queue_push_tail(&s->waiting, u);
	}
	serve(s);
	umockdev_ioctl_client_complete(client, 0, 0);
}

static void reap(mg_usbsim *s, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	serve(s);
	if (s->unplugged && !s->shutdown_done) {
		struct urb *u;
		while ((u = g_queue_pop_head(&s->waiting)))
			finish(s, u, -ESHUTDOWN, 0);
		s->shutdown_done = 1;
	}
	struct urb *u = g_queue_pop_head(&s->done);
	if (!u) {
		umockdev_ioctl_client_complete(client, -1, s->unplugged ? ENODEV : EAGAIN);
		return;
	}
	GError *err = NULL;
	UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
	if (!ptr) {
		fprintf(stderr, "usbsim: cannot resolve reap pointer: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		g_queue_push_head(&s->done, u);
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	umockdev_ioctl_data_set_ptr(ptr, 0, u->data);
	s->st.reaped++;
	umockdev_ioctl_client_complete(client, 0, 0);
	g_object_unref(ptr);
	urb_free(u);
}

static void discard(mg_usbsim *s, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	gulong addr = *(gulong *)arg->data;
	for (GList *l = s->waiting.head; l; l = l->next) {
		struct urb *u = l->data;
		if (u->data->client_addr == addr) {
			g_queue_delete_link(&s->waiting, l);
			finish(s, u, -ENOENT, 0);
			s->st.discarded++;
			umockdev_ioctl_client_complete(client, 0, 0);
			return;
		}
	}
	/* already completed (or unknown): the kernel says EINVAL */
	umockdev_ioctl_client_complete(client, -1, EINVAL);
}

static unsigned read_uint_arg(UMockdevIoctlData *arg)
{
	GError *err = NULL;
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), &err);
	unsigned v = 0;
	if (d) {
		memcpy(&v, d->data, sizeof(v));
		g_object_unref(d);
	}
	g_clear_error(&err);
	return v;
}

static void getdriver(mg_usbsim *s, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_getdriver), &err);
	if (!d) {
		g_clear_error(&err);
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	struct usbdevfs_getdriver *gd = (struct usbdevfs_getdriver *)d->data;
	if (gd->interface == 0 && s->kdriver[0]) {
		snprintf(gd->driver, sizeof(gd->driver), "%s", s->kdriver);
		umockdev_ioctl_client_complete(client, 0, 0);
	} else {
		umockdev_ioctl_client_complete(client, -1, ENODATA);
	}
	g_object_unref(d);
}

/* USBDEVFS_IOCTL: libusb's detach (DISCONNECT) and attach (CONNECT) of the kernel driver. */
static void usb_ioctl(mg_usbsim *s, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ioctl), &err);
	if (!d) {
		g_clear_error(&err);
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return;
	}
	struct usbdevfs_ioctl *c = (struct usbdevfs_ioctl *)d->data;
	if (c->ifno != 0) {
		umockdev_ioctl_client_complete(client, -1, EINVAL);
	} else if ((unsigned long)c->ioctl_code == USBDEVFS_DISCONNECT) {
		if (!s->kdriver[0]) {
			umockdev_ioctl_client_complete(client, -1, ENODATA);
		} else {
			memcpy(s->detached, s->kdriver, sizeof(s->detached));
			s->kdriver[0] = '\0';
			s->st.detaches++;
			umockdev_ioctl_client_complete(client, 0, 0);
		}
	} else if ((unsigned long)c->ioctl_code == USBDEVFS_CONNECT) {
		if (s->kdriver[0]) {
			umockdev_ioctl_client_complete(client, -1, EBUSY);
		} else if (!s->detached[0]) {
			umockdev_ioctl_client_complete(client, 0, 0); /* no driver found to bind */
		} else {
			memcpy(s->kdriver, s->detached, sizeof(s->kdriver));
			s->detached[0] = '\0';
			s->st.attaches++;
			umockdev_ioctl_client_complete(client, 1, 0); /* the kernel: 1 = bound */
		}
	} else {
		s->st.unknown_ioctls++;
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
	}
	g_object_unref(d);
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer userdata)
{
	mg_usbsim *s = userdata;
	gulong req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	(void)base;
	g_mutex_lock(&s->lock);
	if (s->unplugged && req != USBDEVFS_REAPURB && req != USBDEVFS_REAPURBNDELAY) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		g_mutex_unlock(&s->lock);
		return TRUE;
	}
	switch (req) {
	case USBDEVFS_SUBMITURB:
		submit(s, client, arg);
		break;
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		reap(s, client, arg);
		break;
	case USBDEVFS_DISCARDURB:
		discard(s, client, arg);
		break;
	case USBDEVFS_GET_CAPABILITIES: {
		GError *err = NULL;
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), &err);
		if (d) {
			guint32 caps = CAPS;
			memcpy(d->data, &caps, sizeof(caps));
			umockdev_ioctl_client_complete(client, 0, 0);
			g_object_unref(d);
		} else {
			g_clear_error(&err);
			umockdev_ioctl_client_complete(client, -1, EFAULT);
		}
		break;
	}
	case USBDEVFS_GETDRIVER:
		getdriver(s, client, arg);
		break;
	case USBDEVFS_IOCTL:
		usb_ioctl(s, client, arg);
		break;
	case USBDEVFS_CLAIMINTERFACE:
		/* the kernel driver, or another open descriptor, has it: EBUSY */
		if (s->kdriver[0] || (s->claimed_by && s->claimed_by != (void *)client)) {
			umockdev_ioctl_client_complete(client, -1, EBUSY);
			break;
		}
		s->claimed_by = client;
		s->st.claims++;
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	case USBDEVFS_RELEASEINTERFACE:
		if (s->claimed_by == (void *)client)
			s->claimed_by = NULL;
		s->st.releases++;
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	case USBDEVFS_CLEAR_HALT: {
		unsigned ep = read_uint_arg(arg);
		if (ep == EP_IN)
			s->halt_in = 0;
		else if (ep == EP_OUT)
			s->halt_out = 0;
		s->st.clear_halts++;
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	}
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_RESET:
	case USBDEVFS_RESETEP:
	case USBDEVFS_DISCONNECT_CLAIM:
	case USBDEVFS_CONNECT:
	case USBDEVFS_DISCONNECT:
		umockdev_ioctl_client_complete(client, 0, 0);
		break;
	case USBDEVFS_GET_SPEED:
		umockdev_ioctl_client_complete(client, 2 /* USB_SPEED_FULL */, 0);
		break;
	default:
		s->st.unknown_ioctls++;
		if (getenv("MG_HARNESS_DEBUG"))
			fprintf(stderr, "usbsim %s: unhandled ioctl 0x%lx\n", s->devnode, req);
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
		break;
	}
	g_mutex_unlock(&s->lock);
	return TRUE;
}

/* A descriptor was closed: the kernel releases its interfaces and kills its URBs. */
static void on_vanished(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer userdata)
{
	mg_usbsim *s = userdata;
	(void)base;
	g_mutex_lock(&s->lock);
	if (s->claimed_by == (void *)client)
		s->claimed_by = NULL;
	g_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------ public */

mg_usbsim *mg_usbsim_start(uint16_t vid, uint16_t pid, const char *serial, mg_harness_device device,
                           void *userdata)
{
	mg_usbsim_config cfg = {.vid = vid, .pid = pid, .serial = serial, .device = device, .userdata = userdata};
	return mg_usbsim_start_config(&cfg);
}

mg_usbsim *mg_usbsim_start_config(const mg_usbsim_config *cfg)
{
	uint16_t vid = cfg->vid, pid = cfg->pid;
	const char *serial = cfg->serial;
	mg_harness_device device = cfg->device;
	void *userdata = cfg->userdata;
	mg_usbsim *s = g_new0(mg_usbsim, 1);
	snprintf(s->product, sizeof(s->product), "%s", cfg->product ? cfg->product : "simulated instrument");
	s->iface_class = cfg->iface_class ? cfg->iface_class : 0xff;
	s->iface_subclass = cfg->iface_subclass;
	s->iface_protocol = cfg->iface_protocol;
	s->control = cfg->control;
	s->control_userdata = cfg->control_userdata;
	g_mutex_init(&s->lock);
	g_queue_init(&s->waiting);
	g_queue_init(&s->done);
	mg_buf_init(&s->out);
	s->vid = vid;
	s->pid = pid;
	s->device = device;
	s->userdata = userdata;
	if (serial)
		snprintf(s->serial, sizeof(s->serial), "%s", serial);
	s->addr = alloc_addr();
	if (!s->addr) {
		fprintf(stderr, "usbsim: all 126 addresses on bus %d are in use\n", SIM_BUS);
		mg_buf_free(&s->out);
		g_mutex_clear(&s->lock);
		g_free(s);
		return NULL;
	}
	snprintf(s->devnode, sizeof(s->devnode), "/dev/bus/usb/%03d/%03d", SIM_BUS, s->addr);
	snprintf(s->uri, sizeof(s->uri), "usb:%d.%d", SIM_BUS, s->addr);
	build_descriptors(s);

	GString *hex = g_string_new(NULL);
	for (size_t i = 0; i < sizeof(s->desc); i++)
		g_string_append_printf(hex, "%02x", s->desc[i]);
	char *text = g_strdup_printf("P: /devices/pci0000:00/0000:00:14.0/usb%d/%d-%d\n"
	                             "N: bus/usb/%03d/%03d\n"
	                             "E: SUBSYSTEM=usb\n"
	                             "E: DEVTYPE=usb_device\n"
	                             "E: DEVNAME=%s\n"
	                             "E: BUSNUM=%03d\n"
	                             "E: DEVNUM=%03d\n"
	                             "E: PRODUCT=%x/%x/100\n"
	                             "A: busnum=%d\\n\n"
	                             "A: devnum=%d\\n\n"
	                             "A: idVendor=%04x\\n\n"
	                             "A: idProduct=%04x\\n\n"
	                             "A: bcdDevice=0100\\n\n"
	                             "A: speed=12\\n\n"
	                             "A: bConfigurationValue=1\\n\n"
	                             "A: bNumConfigurations=1\\n\n"
	                             "A: manufacturer=%s\\n\n"
	                             "A: product=%s\\n\n"
	                             "%s%s%s"
	                             "H: descriptors=%s\n",
	                             SIM_BUS, SIM_BUS, s->addr, SIM_BUS, s->addr, s->devnode, SIM_BUS, s->addr,
	                             vid, pid, SIM_BUS, s->addr, vid, pid, string_for(s, 1), string_for(s, 2),
	                             s->serial[0] ? "A: serial=" : "", s->serial, s->serial[0] ? "\\n\n" : "",
	                             hex->str);
	g_string_free(hex, TRUE);
	s->syspath = g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb%d/%d-%d", SIM_BUS, SIM_BUS,
	                             s->addr);

	GError *err = NULL;
	s->tb = mg_harness_testbed_ref_();
	if (!umockdev_testbed_add_from_string(s->tb, text, &err)) {
		fprintf(stderr, "usbsim: adding %s: %s\n", s->devnode, err ? err->message : "?");
		goto fail;
	}
	s->plugged = 1;
	s->handler = umockdev_ioctl_base_new();
	g_signal_connect(s->handler, "handle-ioctl", G_CALLBACK(on_ioctl), s);
	g_signal_connect(s->handler, "client-vanished", G_CALLBACK(on_vanished), s);
	if (!umockdev_testbed_attach_ioctl(s->tb, s->devnode, s->handler, &err)) {
		fprintf(stderr, "usbsim: attaching the ioctl handler to %s: %s\n", s->devnode,
		        err ? err->message : "?");
		goto fail;
	}
	g_free(text);
	return s;
fail:
	g_clear_error(&err);
	g_free(text);
	mg_usbsim_stop(s);
	return NULL;
}

void mg_usbsim_unplug(mg_usbsim *s)
{
	if (!s)
		return;
	g_mutex_lock(&s->lock);
	s->unplugged = 1;
	int plugged = s->plugged;
	s->plugged = 0;
	g_mutex_unlock(&s->lock);
	if (plugged) {
		/* keep the ioctl handler attached: an open handle must keep seeing
		 * ENODEV / -ESHUTDOWN, as with a real unplug */
		umockdev_testbed_uevent(s->tb, s->syspath, "remove");
		umockdev_testbed_remove_device(s->tb, s->syspath);
	}
}

void mg_usbsim_stop(mg_usbsim *s)
{
	if (!s)
		return;
	if (s->tb) {
		if (s->handler) {
			GError *err = NULL;
			if (!umockdev_testbed_detach_ioctl(s->tb, s->devnode, &err))
				g_clear_error(&err);
		}
		if (s->plugged)
			umockdev_testbed_remove_device(s->tb, s->syspath);
		mg_harness_testbed_unref_();
	}
	if (s->handler)
		g_object_unref(s->handler);
	struct urb *u;
	while ((u = g_queue_pop_head(&s->waiting)))
		urb_free(u);
	while ((u = g_queue_pop_head(&s->done)))
		urb_free(u);
	mg_buf_free(&s->out);
	g_free(s->syspath);
	free_addr(s->addr);
	g_mutex_clear(&s->lock);
	g_free(s);
}

int mg_usbsim_bus(const mg_usbsim *s)
{
	(void)s;
	return SIM_BUS;
}

int mg_usbsim_address(const mg_usbsim *s)
{
	return s->addr;
}

const char *mg_usbsim_uri(const mg_usbsim *s)
{
	return s->uri;
}

void mg_usbsim_set_max_transfer(mg_usbsim *s, size_t max)
{
	g_mutex_lock(&s->lock);
	s->max_xfer = max;
	g_mutex_unlock(&s->lock);
}

void mg_usbsim_stall_next(mg_usbsim *s, uint8_t ep)
{
	g_mutex_lock(&s->lock);
	if (ep == EP_IN)
		s->halt_in = 1;
	else if (ep == EP_OUT)
		s->halt_out = 1;
	g_mutex_unlock(&s->lock);
}

void mg_usbsim_set_kernel_driver(mg_usbsim *s, const char *driver)
{
	g_mutex_lock(&s->lock);
	snprintf(s->kdriver, sizeof(s->kdriver), "%s", driver ? driver : "");
	s->detached[0] = '\0';
	g_mutex_unlock(&s->lock);
}

const char *mg_usbsim_kernel_driver(mg_usbsim *s)
{
	static _Thread_local char name[32];
	g_mutex_lock(&s->lock);
	memcpy(name, s->kdriver, sizeof(name));
	g_mutex_unlock(&s->lock);
	return name;
}

void mg_usbsim_zlp_next(mg_usbsim *s, unsigned count)
{
	g_mutex_lock(&s->lock);
	s->zlps = count;
	g_mutex_unlock(&s->lock);
}

void mg_usbsim_push(mg_usbsim *s, const void *data, size_t n)
{
	g_mutex_lock(&s->lock);
	mg_buf_append(&s->out, data, n);
	g_mutex_unlock(&s->lock);
}

mg_usbsim_stats mg_usbsim_get_stats(mg_usbsim *s)
{
	g_mutex_lock(&s->lock);
	mg_usbsim_stats st = s->st;
	g_mutex_unlock(&s->lock);
	return st;
}
