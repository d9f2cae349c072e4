/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to drivers/: the instrument driver interface behind mg_device.
 *
 * One driver per instrument family, a table of typed function pointers
 * (registry.c lists the drivers). The handle is the common part (struct
 * mg_device) plus one typed pointer per family for its own state, so there is
 * no void* anywhere: a family's functions use only their own member. */
#ifndef MG_DEVICE_INTERNAL_H
#define MG_DEVICE_INTERNAL_H

#include "internal.h"
#include "magassay/device.h"
#include "magassay/transport.h"
#include "magassay/usbids.h"

#define MG_DEVICE_DEFAULT_TIMEOUT_MS 1000u
#define MG_DEVICE_DEFAULT_RETRIES 3u
#define MG_DEVICE_MAX_RETRIES 10u

struct mg_dp5_dev; /* drivers/dp5/exchange.h */
struct mg_icp_device; /* drivers/icp/api.c (include/magassay/icp_device.h) */

struct mg_device {
	const struct mg_device_driver *driver;
	mg_transport *transport;
	mg_device_info info;
	unsigned timeout_ms;       /* base answer timeout */
	unsigned retries;
	int quiet;                 /* a probe: retries are logged at debug level only */
	mg_device_stats stats;
	struct mg_dp5_dev *dp5;    /* the DP5 family's state */
	struct mg_icp_device *icp; /* the ICP-OES family's state */
};

typedef struct mg_device_driver {
	const char *name;            /* "dp5" */
	const char *description;
	mg_usb_kind usb_kind;        /* the usbids.h entries it drives */
	int serial;                  /* speaks over serial ports (RS-232, ptys) */
	const char *const *sim_names;/* simulators that speak its protocol (NULL-terminated) */

	/* Open the transport for uri (already parsed; usb:VID:PID?serial= is the
	 * driver's job), set dev->transport and the family state, and fill
	 * dev->info from one status request. On failure everything the driver
	 * made is released (dev itself belongs to the caller). */
	int (*open)(mg_device *dev, mg_transport_uri *uri);
	void (*close)(mg_device *dev);
	int (*configure)(mg_device *dev, const char *config);
	int (*read_config)(mg_device *dev, const char *mnemonics, mg_kvlist *out);
	int (*clear)(mg_device *dev);
	int (*start)(mg_device *dev);
	int (*stop)(mg_device *dev);
	int (*status)(mg_device *dev, mg_xrf_status *st);
	int (*ping)(mg_device *dev);
	int (*read_spectrum)(mg_device *dev, unsigned flags, mg_spectrum **out, mg_xrf_status *st);
	const char *protocol;        /* "scpi": serves PROTOCOL+TRANSPORT URIs (scpi+serial:), else NULL */
	const char *sim_description; /* the scan's line for its simulators (NULL: the XRF text) */
} mg_device_driver;

extern const mg_device_driver mg_dp5_driver;
extern const mg_device_driver mg_icp_driver;

/* registry.c helpers for drivers */
int mg_device_info_set_(char **field, const char *value);

#endif
