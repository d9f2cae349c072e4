/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Opening a USBTMC instrument (usbtmc.h): the device behind a `usbtmc:` URI
 * (VID:PID with an optional USB serial string, or bus.address), its first
 * interface of class FE subclass 03 with bulk IN and OUT, the kernel driver
 * detached, the interface claimed, GET_CAPABILITIES asked. */
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbtmc_internal.h"

#define DOM "usbtmc"

/* The first interface of class FE/03 (altsetting 0), its bulk endpoints and
 * Bulk-IN packet size. MG_ERR_UNSUPPORTED if there is none. */
static int find_usbtmc(libusb_device *dev, struct tmc_priv *p, const char *desc)
{
	struct libusb_config_descriptor *cfg = NULL;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 && libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return mg_fail(MG_ERR_IO, DOM, "%s: no configuration descriptor", desc);
	int found = 0;
	for (int i = 0; i < cfg->bNumInterfaces && !found; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
		if (alt->bInterfaceClass != MG_USBTMC_CLASS || alt->bInterfaceSubClass != MG_USBTMC_SUBCLASS)
			continue;
		int in = 0, out = 0;
		for (int e = 0; e < alt->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
			if ((ep->bmAttributes & 0x03) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
				if (!in++) {
					p->ep_in = ep->bEndpointAddress;
					p->in_packet = ep->wMaxPacketSize & 0x7ff;
				}
			} else if (!out++) {
				p->ep_out = ep->bEndpointAddress;
			}
		}
		if (in && out) {
			p->iface = alt->bInterfaceNumber;
			p->usb488 = alt->bInterfaceProtocol == MG_USBTMC_PROTOCOL_USB488;
			found = 1;
		}
	}
	libusb_free_config_descriptor(cfg);
	if (!found)
		return mg_fail(MG_ERR_UNSUPPORTED, DOM,
		               "%s: not a USBTMC instrument (no interface of class FE subclass 03 with bulk IN and OUT)",
		               desc);
	if (p->in_packet == 0)
		p->in_packet = 64;
	return MG_OK;
}

static int open_at(uint8_t bus, uint8_t addr, mg_transport **out)
{
	struct tmc_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_buf_init(&p->tx);
	p->max_out = DEFAULT_MAX_OUT;
	p->max_in = DEFAULT_MAX_IN;
	p->eom = 1;
	int lrc = libusb_init(&p->ctx);
	if (lrc) {
		free(p);
		return mg_fail(MG_ERR_IO, DOM, "libusb_init: %s", libusb_error_name(lrc));
	}
	libusb_device **list;
	ssize_t n = libusb_get_device_list(p->ctx, &list);
	if (n < 0) {
		libusb_exit(p->ctx);
		free(p);
		return mg_usb_map_err_((int)n, DOM, "listing devices", "usbtmc");
	}
	libusb_device *dev = NULL;
	for (ssize_t i = 0; i < n; i++)
		if (libusb_get_bus_number(list[i]) == bus && libusb_get_device_address(list[i]) == addr)
			dev = libusb_ref_device(list[i]);
	libusb_free_device_list(list, 1);
	if (!dev) {
		libusb_exit(p->ctx);
		free(p);
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "no USB device at bus %u address %u", bus, addr);
	}
	struct libusb_device_descriptor dd;
	libusb_get_device_descriptor(dev, &dd);
	char desc[64];
	snprintf(desc, sizeof(desc), "usbtmc %03u.%03u %04x:%04x", bus, addr, dd.idVendor, dd.idProduct);
	mg_transport *t = mg_transport_alloc_(MG_TRANSPORT_USBTMC, &usbtmc_ops, DOM, p, "%s", desc);
	if (!t) {
		libusb_unref_device(dev);
		libusb_exit(p->ctx);
		free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	int rc = find_usbtmc(dev, p, desc);
	if (rc == MG_OK) {
		lrc = libusb_open(dev, &p->h);
		if (lrc) {
			p->h = NULL;
			rc = mg_usb_map_err_(lrc, DOM, "open", desc);
			if (rc == MG_ERR_DISCONNECTED)
				rc = mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: the device went away while opening", desc);
		}
	}
	libusb_unref_device(dev);
	if (rc) {
		mg_transport_close(t);
		return rc;
	}
	/* A buffer of whole packets holding a header, the most data asked for and padding. */
	p->rx_cap = (MG_USBTMC_HEADER_LEN + DEFAULT_MAX_IN + 3 + p->in_packet - 1) / p->in_packet * p->in_packet;
	p->rx = malloc(p->rx_cap);
	if (!p->rx) {
		mg_transport_close(t);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	lrc = libusb_kernel_driver_active(p->h, p->iface);
	if (lrc == 1) {
		lrc = libusb_detach_kernel_driver(p->h, p->iface);
		if (lrc) {
			rc = mg_usb_map_err_(lrc, DOM, "detaching the kernel driver (usbtmc)", desc);
			mg_transport_close(t);
			return rc;
		}
		p->reattach = 1;
		mg_dbg(DOM, "%s: detached the kernel driver from interface %d", desc, p->iface);
	}
	lrc = libusb_claim_interface(p->h, p->iface);
	if (lrc) {
		rc = mg_usb_map_err_(lrc, DOM, "claiming the USBTMC interface", desc);
		mg_transport_close(t);
		return rc;
	}
	p->claimed = 1;
	uint8_t caps[MG_USBTMC_CAPS_LEN];
	int r = usbtmc_ctrl_in(p, MG_USBTMC_RT_IFACE, MG_USBTMC_REQ_GET_CAPABILITIES, 0, (uint16_t)p->iface, caps,
	                sizeof(caps));
	if (r == LIBUSB_ERROR_NO_DEVICE) {
		rc = mg_usb_map_err_(r, DOM, "GET_CAPABILITIES", desc);
		mg_transport_close(t);
		return rc == MG_ERR_DISCONNECTED ? mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: gone while opening", desc) : rc;
	}
	if (r >= 0 && mg_usbtmc_decode_caps(caps, (size_t)r, &p->caps) == MG_OK)
		p->have_caps = 1;
	else
		mg_dbg(DOM, "%s: GET_CAPABILITIES refused (%s): going on without", desc,
		       r < 0 ? libusb_error_name(r) : mg_error_detail());
	mg_dbg(DOM, "%s: interface %d (%s), bulk OUT 0x%02x, bulk IN 0x%02x (%u-byte packets)%s%s%s", desc, p->iface,
	       p->usb488 ? "USB488" : "USBTMC", p->ep_out, p->ep_in, p->in_packet, p->have_caps ? ", caps:" : "",
	       p->have_caps && p->caps.scpi ? " SCPI" : "", p->have_caps && p->caps.term_char ? " TermChar" : "");
	*out = t;
	return MG_OK;
}

int mg_transport_usbtmc_open_uri_(const mg_transport_uri *uri, mg_transport **out)
{
	*out = NULL;
	if (uri->usb_by_address)
		return open_at(uri->bus, uri->address, out);
	mg_transport_usb_info *list;
	size_t n;
	int rc = mg_transport_usb_list(uri->vid, uri->pid, &list, &n);
	if (rc)
		return rc;
	size_t pick = n;
	for (size_t i = 0; i < n && pick == n; i++)
		if (!uri->serial || !strcmp(list[i].serial, uri->serial))
			pick = i;
	if (pick == n) {
		rc = n == 0 ? mg_fail(MG_ERR_NOT_FOUND, DOM, "no USB device %04x:%04x connected", uri->vid, uri->pid)
		            : mg_fail(MG_ERR_NOT_FOUND, DOM,
		                      "no %04x:%04x device with USB serial string '%s' (%zu device(s) found)", uri->vid,
		                      uri->pid, uri->serial, n);
		free(list);
		return rc;
	}
	if (!uri->serial && n > 1)
		mg_info(DOM, "%zu devices %04x:%04x connected; opening the first (usbtmc:%u.%u)", n, uri->vid, uri->pid,
		        list[0].bus, list[0].address);
	uint8_t bus = list[pick].bus, addr = list[pick].address;
	free(list);
	return open_at(bus, addr, out);
}
