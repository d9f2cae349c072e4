/* SPDX-License-Identifier: GPL-3.0-or-later */
/* USB bulk transport over libusb-1.0: one libusb context per handle, interface 0,
 * bulk OUT / bulk IN endpoints from the descriptors (0x02 / 0x81 by default).
 * Reads go through a 32 KiB buffer (the DP5 maximum); bytes beyond what the
 * caller asked for are kept for the next read. */
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport_internal.h"

#define DOM "usb"
#define USB_IN_BUFSIZE 32768
#define DEFAULT_EP_OUT 0x02
#define DEFAULT_EP_IN 0x81
#define USB_IFACE 0

struct usb_priv {
	libusb_context *ctx;
	libusb_device_handle *h;
	uint8_t ep_in, ep_out;
	int reattach;        /* we detached a kernel driver */
	int claimed;
	uint8_t *inbuf;      /* USB_IN_BUFSIZE */
	size_t in_len, in_pos;
};

/* ------------------------------------------------------------ I/O */

/* A libusb error code as an mg_err with a message (shared with usbtmc.c). */
int mg_usb_map_err_(int lrc, const char *dom, const char *what, const char *desc)
{
	int code;
	switch (lrc) {
	case LIBUSB_ERROR_TIMEOUT:
		code = MG_ERR_TIMEOUT;
		break;
	case LIBUSB_ERROR_NO_DEVICE:
		code = MG_ERR_DISCONNECTED;
		break;
	case LIBUSB_ERROR_NOT_FOUND:
		code = MG_ERR_NOT_FOUND;
		break;
	case LIBUSB_ERROR_BUSY:
		code = MG_ERR_BUSY;
		break;
	case LIBUSB_ERROR_NO_MEM:
		code = MG_ERR_NOMEM;
		break;
	case LIBUSB_ERROR_OVERFLOW:
		code = MG_ERR_PROTOCOL;
		break;
	case LIBUSB_ERROR_INTERRUPTED:
		code = MG_ERR_INTERRUPTED;
		break;
	default:
		code = MG_ERR_IO;
		break;
	}
	const char *hint = "";
	if (lrc == LIBUSB_ERROR_ACCESS)
		hint = " (permission denied: install the udev rules from udev/ or check the device group)";
	else if (lrc == LIBUSB_ERROR_BUSY)
		hint = " (claimed by another program)";
	return mg_fail(code, dom, "%s: %s: %s%s", desc, what, libusb_error_name(lrc), hint);
}

static int usb_write(mg_transport *t, const uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct usb_priv *p = t->priv;
	size_t done = 0;
	while (done < n) {
		/* libusb takes an int length; DP5 requests are < 600 bytes anyway */
		int chunk = n - done > 1u << 20 ? 1 << 20 : (int)(n - done);
		int actual = 0;
		int lrc = libusb_bulk_transfer(p->h, p->ep_out, (unsigned char *)data + done, chunk, &actual,
		                               timeout_ms ? timeout_ms : 1);
		done += actual > 0 ? (size_t)actual : 0;
		if (lrc == LIBUSB_ERROR_PIPE) {
			int crc = libusb_clear_halt(p->h, p->ep_out);
			return mg_fail(MG_ERR_IO, DOM, "%s: endpoint 0x%02x stalled after %zu of %zu bytes; %s",
			               t->desc, p->ep_out, done, n,
			               crc ? "clearing the halt failed too" : "halt cleared, retry the request");
		}
		if (lrc == LIBUSB_ERROR_TIMEOUT)
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: wrote %zu of %zu bytes to endpoint 0x%02x in %u ms",
			               t->desc, done, n, p->ep_out, timeout_ms);
		if (lrc)
			return mg_usb_map_err_(lrc, DOM, "bulk OUT", t->desc);
	}
	return MG_OK;
}

static int usb_read(mg_transport *t, uint8_t *data, size_t n, unsigned timeout_ms)
{
	struct usb_priv *p = t->priv;
	uint64_t deadline = mg_transport_now_ms_() + timeout_ms;
	unsigned left = timeout_ms;
	while (p->in_pos >= p->in_len) {
		int actual = 0;
		p->in_pos = p->in_len = 0;
		/* Always ask for the whole buffer (a multiple of any max packet size),
		 * so that a long answer never overflows a short request. libusb
		 * reads 0 as "no timeout": never pass it. */
		int lrc = libusb_bulk_transfer(p->h, p->ep_in, p->inbuf, USB_IN_BUFSIZE, &actual,
		                               left ? left : 1);
		if (actual > 0) {
			/* Data counts even when the transfer ended in a timeout. */
			p->in_len = (size_t)actual;
		} else if (lrc == 0) {
			/* a zero-length packet: nothing yet, wait on for the time left */
			left = mg_transport_left_ms_(deadline);
			if (left == 0)
				return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: no data on endpoint 0x%02x within %u ms",
				               t->desc, p->ep_in, timeout_ms);
		} else if (lrc == LIBUSB_ERROR_TIMEOUT) {
			return mg_fail(MG_ERR_TIMEOUT, DOM, "%s: no data on endpoint 0x%02x within %u ms", t->desc,
			               p->ep_in, timeout_ms);
		} else if (lrc == LIBUSB_ERROR_PIPE) {
			int crc = libusb_clear_halt(p->h, p->ep_in);
			return mg_fail(MG_ERR_IO, DOM, "%s: endpoint 0x%02x stalled; %s", t->desc, p->ep_in,
			               crc ? "clearing the halt failed too" : "halt cleared, retry the request");
		} else {
			return mg_usb_map_err_(lrc, DOM, "bulk IN", t->desc);
		}
	}
	size_t k = p->in_len - p->in_pos;
	if (k > n)
		k = n;
	memcpy(data, p->inbuf + p->in_pos, k);
	p->in_pos += k;
	return (int)k;
}

static int usb_flush_input(mg_transport *t)
{
	struct usb_priv *p = t->priv;
	size_t dropped = p->in_len - p->in_pos;
	p->in_pos = p->in_len = 0;
	/* Drain what the device still holds: a few short reads, bounded. */
	for (int i = 0; i < 8; i++) {
		int actual = 0;
		int lrc = libusb_bulk_transfer(p->h, p->ep_in, p->inbuf, USB_IN_BUFSIZE, &actual, 2);
		if (actual > 0) {
			dropped += (size_t)actual;
			continue;
		}
		if (lrc == LIBUSB_ERROR_TIMEOUT || lrc == 0)
			break;
		if (lrc == LIBUSB_ERROR_PIPE) {
			libusb_clear_halt(p->h, p->ep_in);
			continue;
		}
		return mg_usb_map_err_(lrc, DOM, "flushing bulk IN", t->desc);
	}
	if (dropped)
		mg_dbg(DOM, "%s: flushed %zu input bytes", t->desc, dropped);
	return MG_OK;
}

static void usb_close(mg_transport *t)
{
	struct usb_priv *p = t->priv;
	if (!p)
		return;
	if (p->h) {
		if (p->claimed)
			libusb_release_interface(p->h, USB_IFACE);
		if (p->reattach)
			libusb_attach_kernel_driver(p->h, USB_IFACE);
		libusb_close(p->h);
	}
	if (p->ctx)
		libusb_exit(p->ctx);
	free(p->inbuf);
	free(p);
	t->priv = NULL;
}

static const struct mg_transport_ops usb_ops = {
	.write = usb_write,
	.read = usb_read,
	.flush_input = usb_flush_input,
	.close = usb_close,
};

/* ------------------------------------------------------------ open */

static void find_endpoints(libusb_device *dev, uint8_t *ep_in, uint8_t *ep_out)
{
	struct libusb_config_descriptor *cfg = NULL;
	*ep_in = DEFAULT_EP_IN;
	*ep_out = DEFAULT_EP_OUT;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0) {
		mg_dbg(DOM, "no configuration descriptor: using endpoints 0x%02x/0x%02x", *ep_out, *ep_in);
		return;
	}
	int found_in = 0, found_out = 0;
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting < 1 || itf->altsetting[0].bInterfaceNumber != USB_IFACE)
			continue;
		const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
		for (int e = 0; e < alt->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
			if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
				if (!found_in++)
					*ep_in = ep->bEndpointAddress;
			} else if (!found_out++) {
				*ep_out = ep->bEndpointAddress;
			}
		}
	}
	if (!found_in || !found_out)
		mg_dbg(DOM, "interface 0 lacks a bulk %s endpoint: using the default", !found_in ? "IN" : "OUT");
	libusb_free_config_descriptor(cfg);
}

/* Open `dev` (of p->ctx) into a handle. Takes ownership of p and of one
 * reference on dev, which is dropped before the context can go away. */
static int open_device(struct usb_priv *p, libusb_device *dev, mg_transport **out)
{
	struct libusb_device_descriptor dd;
	char desc[64];
	uint8_t bus = libusb_get_bus_number(dev), addr = libusb_get_device_address(dev);
	libusb_get_device_descriptor(dev, &dd);
	snprintf(desc, sizeof(desc), "usb %03u.%03u %04x:%04x", bus, addr, dd.idVendor, dd.idProduct);

	mg_transport *t = mg_transport_alloc_(MG_TRANSPORT_USB, &usb_ops, DOM, p, "%s", desc);
	if (!t) {
		libusb_unref_device(dev);
		libusb_exit(p->ctx);
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	p->inbuf = malloc(USB_IN_BUFSIZE);
	if (!p->inbuf) {
		libusb_unref_device(dev);
		mg_transport_close(t);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	int lrc = libusb_open(dev, &p->h);
	if (lrc == 0)
		find_endpoints(dev, &p->ep_in, &p->ep_out);
	libusb_unref_device(dev); /* an open handle holds its own reference */
	if (lrc) {
		p->h = NULL;
		int rc = mg_usb_map_err_(lrc, DOM, "open", desc);
		if (rc == MG_ERR_DISCONNECTED)
			rc = mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: the device went away while opening", desc);
		mg_transport_close(t);
		return rc;
	}
	lrc = libusb_kernel_driver_active(p->h, USB_IFACE);
	if (lrc == 1) {
		lrc = libusb_detach_kernel_driver(p->h, USB_IFACE);
		if (lrc) {
			int rc = mg_usb_map_err_(lrc, DOM, "detaching the kernel driver from interface 0", desc);
			mg_transport_close(t);
			return rc;
		}
		p->reattach = 1;
		mg_dbg(DOM, "%s: detached the kernel driver", desc);
	}
	lrc = libusb_claim_interface(p->h, USB_IFACE);
	if (lrc) {
		int rc = mg_usb_map_err_(lrc, DOM, "claiming interface 0", desc);
		mg_transport_close(t);
		return rc;
	}
	p->claimed = 1;
	mg_dbg(DOM, "%s: interface 0, bulk OUT 0x%02x, bulk IN 0x%02x", desc, p->ep_out, p->ep_in);
	*out = t;
	return MG_OK;
}

static int new_priv(struct usb_priv **out)
{
	struct usb_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	int lrc = libusb_init(&p->ctx);
	if (lrc) {
		free(p);
		return mg_fail(MG_ERR_IO, DOM, "libusb_init: %s", libusb_error_name(lrc));
	}
	*out = p;
	return MG_OK;
}

int mg_transport_open_usb(uint8_t bus, uint8_t address, mg_transport **out)
{
	struct usb_priv *p = NULL;
	libusb_device **list;
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_open_usb: out is NULL");
	*out = NULL;
	int rc = new_priv(&p);
	if (rc)
		return rc;
	ssize_t n = libusb_get_device_list(p->ctx, &list);
	if (n < 0) {
		libusb_exit(p->ctx);
		free(p);
		return mg_usb_map_err_((int)n, DOM, "listing devices", "usb");
	}
	libusb_device *dev = NULL;
	for (ssize_t i = 0; i < n; i++)
		if (libusb_get_bus_number(list[i]) == bus && libusb_get_device_address(list[i]) == address)
			dev = libusb_ref_device(list[i]);
	libusb_free_device_list(list, 1);
	if (!dev) {
		libusb_exit(p->ctx);
		free(p);
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "no USB device at bus %u address %u (%zd devices seen)",
		               bus, address, n);
	}
	return open_device(p, dev, out);
}

static void read_string(libusb_device_handle *h, uint8_t index, char *dst, size_t cap)
{
	dst[0] = '\0';
	if (!index)
		return;
	int r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)dst, (int)cap);
	if (r < 0) {
		mg_dbg(DOM, "string descriptor %u: %s", index, libusb_error_name(r));
		dst[0] = '\0';
	} else {
		dst[r < (int)cap ? r : (int)cap - 1] = '\0';
	}
}

/* with_strings: open each device to read its iSerial/iProduct strings. */
static int usb_list(uint16_t vid, uint16_t pid, int with_strings, mg_transport_usb_info **outlist,
                    size_t *count)
{
	libusb_context *ctx;
	libusb_device **list;
	if (!outlist || !count)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_usb_list: NULL argument");
	*outlist = NULL;
	*count = 0;
	int lrc = libusb_init(&ctx);
	if (lrc)
		return mg_fail(MG_ERR_IO, DOM, "libusb_init: %s", libusb_error_name(lrc));
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0) {
		libusb_exit(ctx);
		return mg_usb_map_err_((int)n, DOM, "listing devices", "usb");
	}
	mg_transport_usb_info *info = calloc((size_t)n + 1, sizeof(*info));
	if (!info) {
		libusb_free_device_list(list, 1);
		libusb_exit(ctx);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	size_t k = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd))
			continue;
		if ((vid || pid) && (dd.idVendor != vid || dd.idProduct != pid))
			continue;
		mg_transport_usb_info *d = &info[k++];
		d->bus = libusb_get_bus_number(list[i]);
		d->address = libusb_get_device_address(list[i]);
		d->vid = dd.idVendor;
		d->pid = dd.idProduct;
		if (with_strings && (dd.iSerialNumber || dd.iProduct)) {
			libusb_device_handle *h;
			lrc = libusb_open(list[i], &h);
			if (lrc == 0) {
				read_string(h, dd.iSerialNumber, d->serial, sizeof(d->serial));
				read_string(h, dd.iProduct, d->product, sizeof(d->product));
				libusb_close(h);
			} else {
				mg_dbg(DOM, "usb %03u.%03u: cannot open to read its strings: %s", d->bus, d->address,
				       libusb_error_name(lrc));
			}
		}
	}
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	/* stable order: bus, then address */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && (info[j - 1].bus > info[j].bus ||
		                             (info[j - 1].bus == info[j].bus && info[j - 1].address > info[j].address));
		     j--) {
			mg_transport_usb_info tmp = info[j];
			info[j] = info[j - 1];
			info[j - 1] = tmp;
		}
	*outlist = info;
	*count = k;
	return MG_OK;
}

int mg_transport_usb_list(uint16_t vid, uint16_t pid, mg_transport_usb_info **list, size_t *count)
{
	return usb_list(vid, pid, 1, list, count);
}

int mg_transport_open_usb_match(uint16_t vid, uint16_t pid,
                                int (*match)(mg_transport *t, void *userdata), void *userdata,
                                mg_transport **out)
{
	mg_transport_usb_info *list;
	size_t n;
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_transport_open_usb_match: out is NULL");
	*out = NULL;
	int rc = usb_list(vid, pid, 0, &list, &n);
	if (rc)
		return rc;
	size_t tried = 0;
	for (size_t i = 0; i < n; i++) {
		mg_transport *t;
		rc = mg_transport_open_usb(list[i].bus, list[i].address, &t);
		if (rc) {
			mg_dbg(DOM, "usb %03u.%03u: %s", list[i].bus, list[i].address, mg_error_detail());
			continue;
		}
		tried++;
		int m = match ? match(t, userdata) : 1;
		if (m == 1) {
			free(list);
			*out = t;
			return MG_OK;
		}
		mg_transport_close(t);
		if (m < 0) {
			free(list);
			return m;
		}
	}
	free(list);
	return mg_fail(MG_ERR_NOT_FOUND, DOM, "no matching %04x:%04x device (%zu found, %zu opened)", vid, pid,
	               n, tried);
}

int mg_transport_usb_open_uri_(const mg_transport_uri *uri, mg_transport **out)
{
	if (uri->usb_by_address)
		return mg_transport_open_usb(uri->bus, uri->address, out);
	mg_transport_usb_info *list;
	size_t n;
	int rc = usb_list(uri->vid, uri->pid, uri->serial != NULL, &list, &n);
	if (rc)
		return rc;
	if (n == 0) {
		free(list);
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "no USB device %04x:%04x connected", uri->vid, uri->pid);
	}
	size_t pick = 0;
	if (uri->serial) {
		/* Match the iSerial string when the device has one. DP5-class units
		 * report their serial number in the status packet instead: drivers do
		 * that with mg_transport_open_usb_match(). */
		pick = n;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(list[i].serial, uri->serial))
				pick = i;
		if (pick == n) {
			free(list);
			return mg_fail(MG_ERR_NOT_FOUND, DOM,
			               "no %04x:%04x device with USB serial string '%s' (%zu device(s) found; the "
			               "instrument driver matches serials reported in status packets)",
			               uri->vid, uri->pid, uri->serial, n);
		}
	} else if (n > 1) {
		mg_info(DOM, "%zu devices %04x:%04x connected; opening the first (usb:%u.%u)", n, uri->vid,
		        uri->pid, list[0].bus, list[0].address);
	}
	uint8_t bus = list[pick].bus, addr = list[pick].address;
	free(list);
	return mg_transport_open_usb(bus, addr, out);
}
