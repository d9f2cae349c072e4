/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An ICP-OES (icp_device.h) as the source of a run's readings (sequence.h):
 * configure checks that the plasma is lit, then sets lines, integration and
 * replicates; measure runs the item's autosampler position with its label. */
#include <string.h>

#include "icp_run_internal.h"
#include "internal.h"
#include "magassay/icp_device.h"

static int dev_configure(void *ctx, const mg_icp_line *lines, size_t n, double integration_s, int replicates)
{
	mg_icp_device *dev = ctx;
	mg_icp_plasma pl;
	int rc = mg_icp_plasma_status(dev, &pl);
	if (rc != MG_OK)
		return rc;
	if (!pl.lit)
		return mg_fail(MG_ERR_DEVICE, RUN_DOM, "the plasma is off: light it before running a sequence");
	return mg_icp_configure(dev, lines, n, integration_s, (unsigned)replicates);
}

static int dev_measure(void *ctx, const mg_icp_item *item, mg_icp_measurement *out)
{
	return mg_icp_measure(ctx, item->position, item->label, out);
}

void mg_icp_source_device(struct mg_icp_device *dev, const char *uri, mg_icp_source *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = dev;
	out->configure = dev_configure;
	out->measure = dev_measure;
	const mg_icp_identity *id = mg_icp_get_identity(dev);
	if (id) {
		out->model = id->model;
		out->serial = id->serial;
		out->firmware = id->firmware;
	}
	out->uri = uri;
}
