/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The instrument driver registry: which driver serves a URI, the mg_device
 * handle and its argument checks, and the scan behind `magassay devices`.
 *
 * Driver choice: usb:VID:PID through the supported-device table (usbids.h,
 * the one list of USB ids) and its kind; usb:BUS.ADDR by looking the device
 * up first; serial: to the family that speaks RS-232 (the DP5, today); sim:NAME
 * to the family whose simulator that is. */
#include <libserialport.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/device_internal.h"
#include "magassay/usbids.h"

#define DOM "device"
#define SCAN_TIMEOUT_MS 300u
#define SCAN_RETRIES 1u
#define UDEV_HINT " (see udev/README.md to grant access without root)"

static const mg_device_driver *const drivers[] = {
	&mg_dp5_driver,
	&mg_icp_driver,
};

/* ------------------------------------------------------------ info */

int mg_device_info_set_(char **field, const char *value)
{
	char *d = NULL;
	if (value && !(d = strdup(value)))
		return MG_ERR_NOMEM;
	free(*field);
	*field = d;
	return MG_OK;
}

void mg_device_info_clear(mg_device_info *info)
{
	if (!info)
		return;
	free(info->uri);
	free(info->driver);
	free(info->transport);
	free(info->model);
	free(info->serial);
	free(info->firmware);
	free(info->fpga);
	free(info->description);
	free(info->error);
	memset(info, 0, sizeof(*info));
}

void mg_device_list_free(mg_device_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		mg_device_info_clear(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int info_copy(mg_device_info *dst, const mg_device_info *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->status = src->status;
	if (mg_device_info_set_(&dst->uri, src->uri) || mg_device_info_set_(&dst->driver, src->driver) ||
	    mg_device_info_set_(&dst->transport, src->transport) || mg_device_info_set_(&dst->model, src->model) ||
	    mg_device_info_set_(&dst->serial, src->serial) || mg_device_info_set_(&dst->firmware, src->firmware) ||
	    mg_device_info_set_(&dst->fpga, src->fpga) ||
	    mg_device_info_set_(&dst->description, src->description) ||
	    mg_device_info_set_(&dst->error, src->error)) {
		mg_device_info_clear(dst);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	return MG_OK;
}

/* Record an error in info, with a pointer to the udev rules for permission problems. */
static int info_error(mg_device_info *info, int code, const char *detail)
{
	char buf[1200];
	int perm = strstr(detail, "ermission") != NULL || strstr(detail, "ACCESS") != NULL;
	snprintf(buf, sizeof(buf), "%s%s", detail, perm && !strstr(detail, "README") ? UDEV_HINT : "");
	info->status = code;
	return mg_device_info_set_(&info->error, buf);
}

/* ------------------------------------------------------------ driver choice */

static const mg_usb_id *usb_id(uint16_t vid, uint16_t pid)
{
	size_t n;
	const mg_usb_id *ids = mg_usb_ids(&n);
	for (size_t i = 0; i < n; i++)
		if (ids[i].vid == vid && ids[i].pid == pid)
			return &ids[i];
	return NULL;
}

static const mg_device_driver *driver_for_kind(mg_usb_kind kind)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(drivers); i++)
		if (drivers[i]->usb_kind == kind && kind != MG_USB_SERIAL)
			return drivers[i];
	return NULL;
}

static int driver_for_usb(uint16_t vid, uint16_t pid, const char *uri, const mg_device_driver **out)
{
	const mg_usb_id *id = usb_id(vid, pid);
	if (!id)
		return mg_fail(MG_ERR_UNSUPPORTED, DOM,
		               "%s: USB device %04x:%04x is not a supported instrument (see drivers/usbids.c)", uri,
		               vid, pid);
	if (id->kind == MG_USB_SERIAL)
		return mg_fail(MG_ERR_UNSUPPORTED, DOM,
		               "%s: %04x:%04x is a USB-serial bridge (%s): open its port, e.g. serial:/dev/ttyUSB0",
		               uri, vid, pid, id->description);
	*out = driver_for_kind(id->kind);
	if (!*out)
		return mg_fail(MG_ERR_UNSUPPORTED, DOM, "%s: no instrument driver for %04x:%04x (%s) yet", uri, vid,
		               pid, id->description);
	return MG_OK;
}

static int pick_driver(const mg_transport_uri *uri, const mg_device_driver **out)
{
	switch (uri->scheme) {
	case MG_SCHEME_USB:
		if (!uri->usb_by_address)
			return driver_for_usb(uri->vid, uri->pid, uri->text, out);
		{
			mg_transport_usb_info *list = NULL;
			size_t n = 0;
			int rc = mg_transport_usb_list(0, 0, &list, &n);
			if (rc < 0)
				return rc;
			for (size_t i = 0; i < n; i++)
				if (list[i].bus == uri->bus && list[i].address == uri->address) {
					uint16_t vid = list[i].vid, pid = list[i].pid;
					free(list);
					return driver_for_usb(vid, pid, uri->text, out);
				}
			free(list);
			return mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: no USB device at bus %u address %u", uri->text, uri->bus,
			               uri->address);
		}
	case MG_SCHEME_USBTMC:
		*out = driver_for_kind(MG_USB_USBTMC);
		return *out ? MG_OK : mg_fail(MG_ERR_UNSUPPORTED, DOM, "%s: no driver for USBTMC instruments", uri->text);
	case MG_SCHEME_SERIAL:
		for (size_t i = 0; i < MG_ARRAY_SIZE(drivers) && uri->protocol; i++)
			if (drivers[i]->protocol && !strcmp(drivers[i]->protocol, uri->protocol)) {
				*out = drivers[i];
				return MG_OK;
			}
		for (size_t i = 0; i < MG_ARRAY_SIZE(drivers); i++)
			if (drivers[i]->serial) {
				*out = drivers[i];
				return MG_OK;
			}
		return mg_fail(MG_ERR_UNSUPPORTED, DOM, "%s: no instrument driver speaks over serial ports", uri->text);
	case MG_SCHEME_SIM:
		for (size_t i = 0; i < MG_ARRAY_SIZE(drivers); i++)
			for (const char *const *s = drivers[i]->sim_names; s && *s; s++)
				if (!strcmp(*s, uri->name)) {
					*out = drivers[i];
					return MG_OK;
				}
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "%s: no simulated instrument '%s' (known: xrf, icp)", uri->text,
		               uri->name);
	}
	return mg_fail(MG_ERR_ARG, DOM, "%s: bad scheme", uri->text);
}

/* ------------------------------------------------------------ the handle */

/* drv: the driver when the caller knows it (a scan), else NULL: chosen from the URI. */
static int open_with(const char *text, const mg_device_driver *drv, unsigned timeout_ms, unsigned retries, int quiet,
                     mg_device **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_open: out is NULL");
	*out = NULL;
	if (!text)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_open: uri is NULL");
	mg_dp5sim_register();
	mg_transport_uri *uri = NULL;
	int rc = mg_transport_uri_parse(text, &uri);
	if (rc < 0)
		return rc;
	if (!drv)
		rc = pick_driver(uri, &drv);
	if (rc < 0) {
		mg_transport_uri_free(uri);
		return rc;
	}
	mg_device *dev = calloc(1, sizeof(*dev));
	if (!dev || mg_device_info_set_(&dev->info.uri, text)) {
		free(dev);
		mg_transport_uri_free(uri);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	dev->driver = drv;
	dev->timeout_ms = timeout_ms;
	dev->retries = retries;
	dev->quiet = quiet;
	rc = drv->open(dev, uri);
	mg_transport_uri_free(uri);
	if (rc < 0) {
		mg_device_info_clear(&dev->info);
		free(dev);
		return rc;
	}
	*out = dev;
	return MG_OK;
}

int mg_device_open(const char *uri, mg_device **out)
{
	return open_with(uri, NULL, MG_DEVICE_DEFAULT_TIMEOUT_MS, MG_DEVICE_DEFAULT_RETRIES, 0, out);
}

void mg_device_close(mg_device *dev)
{
	if (!dev)
		return;
	if (dev->driver)
		dev->driver->close(dev);
	mg_device_info_clear(&dev->info);
	free(dev);
}

const mg_device_info *mg_device_get_info(const mg_device *dev)
{
	return dev ? &dev->info : NULL;
}

mg_transport *mg_device_get_transport(mg_device *dev)
{
	return dev ? dev->transport : NULL;
}

void mg_device_set_timeout(mg_device *dev, unsigned base_ms)
{
	if (dev)
		dev->timeout_ms = base_ms ? base_ms : MG_DEVICE_DEFAULT_TIMEOUT_MS;
}

void mg_device_set_retries(mg_device *dev, unsigned retries)
{
	if (dev)
		dev->retries = retries > MG_DEVICE_MAX_RETRIES ? MG_DEVICE_MAX_RETRIES : retries;
}

mg_device_stats mg_device_get_stats(const mg_device *dev)
{
	mg_device_stats s = {0};
	return dev ? dev->stats : s;
}

#define CHECK_DEV(dev, fn)                                                                         \
	do {                                                                                       \
		if (!(dev) || !(dev)->transport)                                                   \
			return mg_fail(MG_ERR_ARG, DOM, "%s: NULL or closed device", fn);          \
	} while (0)

int mg_device_configure(mg_device *dev, const char *config)
{
	CHECK_DEV(dev, "mg_device_configure");
	if (!config)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_configure: NULL configuration");
	return dev->driver->configure(dev, config);
}

int mg_device_read_config(mg_device *dev, const char *mnemonics, mg_kvlist *out)
{
	CHECK_DEV(dev, "mg_device_read_config");
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_read_config: NULL list");
	return dev->driver->read_config(dev, mnemonics, out);
}

int mg_device_clear(mg_device *dev)
{
	CHECK_DEV(dev, "mg_device_clear");
	return dev->driver->clear(dev);
}

int mg_device_start(mg_device *dev)
{
	CHECK_DEV(dev, "mg_device_start");
	return dev->driver->start(dev);
}

int mg_device_stop(mg_device *dev)
{
	CHECK_DEV(dev, "mg_device_stop");
	return dev->driver->stop(dev);
}

int mg_device_status(mg_device *dev, mg_xrf_status *st)
{
	CHECK_DEV(dev, "mg_device_status");
	if (!st)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_status: NULL status");
	return dev->driver->status(dev, st);
}

int mg_device_ping(mg_device *dev)
{
	CHECK_DEV(dev, "mg_device_ping");
	return dev->driver->ping(dev);
}

int mg_device_read_spectrum(mg_device *dev, unsigned flags, mg_spectrum **out, mg_xrf_status *st)
{
	if (out)
		*out = NULL;
	CHECK_DEV(dev, "mg_device_read_spectrum");
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_read_spectrum: out is NULL");
	if (flags & ~(unsigned)(MG_READ_CLEAR | MG_READ_NO_CONFIG | MG_READ_NO_STATUS))
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_read_spectrum: unknown flags 0x%x", flags);
	return dev->driver->read_spectrum(dev, flags, out, st);
}

/* ------------------------------------------------------------ probe and scan */

static const char *transport_of(const char *uri)
{
	if (!strncmp(uri, "usb:", 4))
		return "usb";
	if (!strncmp(uri, "usbtmc:", 7))
		return "usbtmc";
	if (!strncmp(uri, "serial:", 7) || !strncmp(uri, "scpi+serial:", 12))
		return "serial";
	if (!strncmp(uri, "sim:", 4))
		return "sim";
	return NULL;
}

static int probe_with(const char *uri, const mg_device_driver *drv, unsigned timeout_ms, unsigned retries,
                      mg_device_info *out)
{
	memset(out, 0, sizeof(*out));
	mg_device *dev = NULL;
	int rc = open_with(uri, drv, timeout_ms, retries, 1, &dev);
	if (rc == MG_OK) {
		dev->quiet = 0;
		rc = info_copy(out, &dev->info);
		mg_device_close(dev);
		return rc;
	}
	char detail[1024];
	snprintf(detail, sizeof(detail), "%s", mg_error_detail());
	if (mg_device_info_set_(&out->uri, uri) || mg_device_info_set_(&out->transport, transport_of(uri)) ||
	    info_error(out, rc, detail))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_fail(rc, DOM, "%s", detail); /* keep the detail for the caller */
	return rc;
}

int mg_device_probe(const char *uri, mg_device_info *out)
{
	if (!uri || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_probe: NULL argument");
	return probe_with(uri, NULL, SCAN_TIMEOUT_MS, SCAN_RETRIES, out);
}

static mg_device_info *list_add(mg_device_list *l)
{
	mg_device_info *n = realloc(l->items, (l->count + 1) * sizeof(*n));
	if (!n)
		return NULL;
	l->items = n;
	memset(&n[l->count], 0, sizeof(*n));
	return &n[l->count++];
}

static int scan_usb(mg_device_list *l)
{
	mg_transport_usb_info *usb = NULL;
	size_t n = 0;
	int rc = mg_transport_usb_list(0, 0, &usb, &n);
	if (rc < 0) {
		mg_info(DOM, "no USB scan: %s", mg_error_detail());
		return MG_OK;
	}
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		const mg_usb_id *id = usb_id(usb[i].vid, usb[i].pid);
		if (!id || id->kind == MG_USB_SERIAL) /* bridges show up as serial ports */
			continue;
		char uri[32], desc[512];
		snprintf(uri, sizeof(uri), "%s:%u.%u", id->kind == MG_USB_USBTMC ? "usbtmc" : "usb", usb[i].bus,
		         usb[i].address);
		snprintf(desc, sizeof(desc), "%s (usb %03u.%03u %04x:%04x%s%s%s%s)", id->description, usb[i].bus,
		         usb[i].address, usb[i].vid, usb[i].pid, usb[i].product[0] ? ", " : "", usb[i].product,
		         usb[i].serial[0] ? ", iSerial " : "", usb[i].serial);
		const mg_device_driver *drv = driver_for_kind(id->kind);
		mg_device_info *info = list_add(l);
		if (!info) {
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			break;
		}
		if (drv) {
			int prc = probe_with(uri, drv, SCAN_TIMEOUT_MS, SCAN_RETRIES, info);
			if (prc == MG_ERR_NOMEM) {
				rc = prc;
				break;
			}
		} else {
			info->status = MG_ERR_UNSUPPORTED;
			if (mg_device_info_set_(&info->uri, uri) || mg_device_info_set_(&info->transport, "usb") ||
			    mg_device_info_set_(&info->error, "no driver for this instrument family yet"))
				rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
		if (mg_device_info_set_(&info->description, desc) ||
		    (drv && mg_device_info_set_(&info->driver, drv->name)))
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	free(usb);
	return rc;
}

static int scan_serial(mg_device_list *l, int probe)
{
	struct sp_port **ports = NULL;
	if (sp_list_ports(&ports) != SP_OK) {
		char *msg = sp_last_error_message();
		mg_info(DOM, "no serial port list: %s", msg ? msg : "libserialport failed");
		sp_free_error_message(msg);
		return MG_OK;
	}
	int rc = MG_OK;
	for (size_t i = 0; ports[i] && rc == MG_OK; i++) {
		const char *name = sp_get_port_name(ports[i]);
		const char *pdesc = sp_get_port_description(ports[i]);
		char uri[300], desc[512];
		snprintf(uri, sizeof(uri), "serial:%s", name);
		snprintf(desc, sizeof(desc), "%s", pdesc && *pdesc ? pdesc : name);
		if (sp_get_port_transport(ports[i]) == SP_TRANSPORT_USB) {
			int vid = 0, pid = 0;
			if (sp_get_port_usb_vid_pid(ports[i], &vid, &pid) == SP_OK) {
				const mg_usb_id *id = usb_id((uint16_t)vid, (uint16_t)pid);
				size_t len = strlen(desc);
				snprintf(desc + len, sizeof(desc) - len, " (usb %04x:%04x%s%s)", vid, pid, id ? ", " : "",
				         id ? id->description : "");
			}
		}
		mg_device_info *info = list_add(l);
		if (!info) {
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			break;
		}
		if (probe) {
			int prc = probe_with(uri, NULL, SCAN_TIMEOUT_MS, SCAN_RETRIES, info);
			if (prc == MG_ERR_NOMEM)
				rc = prc;
		} else {
			info->status = MG_ERR_NA;
			if (mg_device_info_set_(&info->uri, uri) || mg_device_info_set_(&info->transport, "serial"))
				rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
		if (mg_device_info_set_(&info->description, desc))
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	sp_free_port_list(ports);
	return rc;
}

static int scan_sim(mg_device_list *l)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(drivers); i++)
		for (const char *const *s = drivers[i]->sim_names; s && *s; s++) {
			char uri[64], desc[256];
			snprintf(uri, sizeof(uri), "sim:%s", *s);
			mg_device_info *info = list_add(l);
			if (!info)
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			int rc = probe_with(uri, drivers[i], SCAN_TIMEOUT_MS, SCAN_RETRIES, info);
			if (rc == MG_ERR_NOMEM)
				return rc;
			if (drivers[i]->sim_description)
				snprintf(desc, sizeof(desc), "%s", drivers[i]->sim_description);
			else
				snprintf(desc, sizeof(desc),
				         "simulated XRF instrument, %s protocol, in process (parameters: docs/drivers.md)",
				         drivers[i]->name);
			if (mg_device_info_set_(&info->description, desc))
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
	return MG_OK;
}

int mg_device_scan(unsigned flags, mg_device_list *out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_device_scan: out is NULL");
	out->items = NULL;
	out->count = 0;
	mg_dp5sim_register();
	int rc = MG_OK;
	if (!(flags & MG_SCAN_NO_USB))
		rc = scan_usb(out);
	if (rc == MG_OK && !(flags & MG_SCAN_NO_SERIAL))
		rc = scan_serial(out, (flags & MG_SCAN_PROBE_SERIAL) != 0);
	if (rc == MG_OK && !(flags & MG_SCAN_NO_SIM))
		rc = scan_sim(out);
	if (rc < 0) {
		mg_device_list_free(out);
		return rc;
	}
	return (int)out->count;
}
