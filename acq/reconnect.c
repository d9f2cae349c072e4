/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reconnect policy after a device loss: which errors mean the link is
 * gone, how the same unit is found again (by the serial number its status
 * reports: a replugged USB unit gets a new bus address, a USB-serial adapter
 * may come back as another ttyUSB), how many attempts and how long between
 * them (bounded: reconnect_attempts × (reconnect_wait_ms + one open)), and
 * whether the unit still holds the spectrum (its times did not go back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acq/acq_internal.h"

int acq_link_error(int rc)
{
	/* The driver has already retried TIMEOUT/CHECKSUM/PROTOCOL/IO; after that
	 * the line is as good as gone. A refusal (MG_ERR_DEVICE) is not a loss. */
	return rc == MG_ERR_DISCONNECTED || rc == MG_ERR_TIMEOUT || rc == MG_ERR_IO || rc == MG_ERR_CHECKSUM ||
	       rc == MG_ERR_PROTOCOL;
}

static int dup_out(const char *s, char **out)
{
	if (!(*out = strdup(s)))
		return mg_fail(MG_ERR_NOMEM, ACQ_DOM, "out of memory");
	return MG_OK;
}

int acq_reconnect_uri(const char *uri, const mg_device_info *info, char **out)
{
	*out = NULL;
	const char *serial = info && info->serial && *info->serial ? info->serial : NULL;
	mg_transport_uri *u = NULL;
	if (!uri || mg_transport_uri_parse(uri, &u) != MG_OK)
		return dup_out(uri ? uri : "", out);
	int rc = MG_ERR_NA;
	/* A USB unit without ?serial=: look for it by the serial number its status reported. */
	if (u->scheme == MG_SCHEME_USB && serial && !u->serial) {
		uint16_t vid = u->vid, pid = u->pid;
		int known = !u->usb_by_address;
		if (u->usb_by_address) {
			/* bus.address changes on replug: find the VID:PID now, while it is there */
			mg_transport_usb_info *list = NULL;
			size_t n = 0;
			if (mg_transport_usb_list(0, 0, &list, &n) == MG_OK) {
				for (size_t i = 0; i < n; i++)
					if (list[i].bus == u->bus && list[i].address == u->address) {
						vid = list[i].vid;
						pid = list[i].pid;
						known = 1;
					}
				free(list);
			}
		}
		if (known) {
			char buf[128];
			snprintf(buf, sizeof(buf), "usb:%04x:%04x?serial=%s", vid, pid, serial);
			rc = dup_out(buf, out);
		}
	}
	if (rc == MG_ERR_NA)
		rc = dup_out(uri, out); /* serial ports, simulators, a USB URI that names its unit already */
	mg_transport_uri_free(u);
	return rc;
}

int acq_reconnect_open(const struct acq_reconnect *r, mg_device **dev, mg_xrf_status *st)
{
	int rc = MG_ERR_DISCONNECTED;
	char last[1000] = "no attempt made";
	*dev = NULL;
	for (unsigned a = 1; a <= r->attempts; a++) {
		if (r->on_attempt)
			r->on_attempt(a, r->attempts, r->userdata);
		if (acq_sleep_ms(r->wait_ms, r->stop))
			return mg_fail(MG_ERR_INTERRUPTED, ACQ_DOM, "reconnecting stopped on request (%s)", last);
		mg_device *d = NULL;
		rc = mg_device_open(r->uri, &d);
		if (rc == MG_OK) {
			if (r->timeout_ms)
				mg_device_set_timeout(d, r->timeout_ms);
			const mg_device_info *info = mg_device_get_info(d);
			if (r->serial && *r->serial && (!info->serial || strcmp(info->serial, r->serial) != 0)) {
				rc = mg_fail(MG_ERR_NOT_FOUND, ACQ_DOM,
				             "%s now answers as serial number %s, not %s: another instrument", r->uri,
				             info->serial ? info->serial : "(none)", r->serial);
				mg_device_close(d);
			} else if ((rc = mg_device_status(d, st)) == MG_OK) {
				*dev = d;
				mg_info(ACQ_DOM, "%s: back after %u attempt(s)", r->uri, a);
				return MG_OK;
			} else {
				mg_device_close(d);
			}
		}
		snprintf(last, sizeof(last), "%s", mg_error_detail());
		mg_dbg(ACQ_DOM, "reconnect attempt %u of %u: %s", a, r->attempts, last);
	}
	return mg_fail(rc, ACQ_DOM, "the instrument did not come back after %u attempt(s): %s", r->attempts, last);
}

int acq_can_resume(const mg_xrf_status *before, const mg_xrf_status *now)
{
	/* Times are kept in ms (accumulation in 1 ms + 100 ms units): allow for rounding. */
	return now->accumulation_s + 1e-3 >= before->accumulation_s && now->real_s + 1e-3 >= before->real_s &&
	       now->slow_count >= before->slow_count && now->fast_count >= before->fast_count;
}
