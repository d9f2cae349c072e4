/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The loopback glue the simulators share (simdev_glue.h). */
#include <pthread.h>
#include <stdlib.h>

#include "drivers/sim/simdev_glue.h"
#include "internal.h"

/* The mg_simdev first, so the pointer the transport holds is this one. */
typedef struct glued {
	mg_simdev dev;
	const sim_glue *g;
} glued;

static void dev_free(mg_simdev *dev)
{
	glued *d = (glued *)dev;
	d->g->free_ctx(dev->ctx);
	free(d);
}

int sim_glue_simdev(const sim_glue *g, void *ctx, mg_simdev **out)
{
	if (!out || !ctx) {
		g->free_ctx(ctx);
		return mg_fail(MG_ERR_ARG, g->dom, "%s: NULL argument", g->wrap_fn);
	}
	glued *d = calloc(1, sizeof(*d));
	if (!d) {
		g->free_ctx(ctx);
		return mg_fail(MG_ERR_NOMEM, g->dom, "out of memory");
	}
	d->g = g;
	d->dev.ctx = ctx;
	d->dev.feed = g->feed;
	d->dev.tick = g->tick;
	d->dev.free = dev_free;
	*out = &d->dev;
	return MG_OK;
}

static int factory(mg_transport_uri *uri, mg_simdev **out, void *userdata)
{
	const sim_glue *g = userdata;
	void *s = NULL;
	int rc = g->from_uri(uri, &s);
	if (rc < 0)
		return rc;
	return sim_glue_simdev(g, s, out);
}

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

int sim_glue_register(sim_glue *g)
{
	pthread_mutex_lock(&reg_lock);
	if (!g->registered) {
		g->reg_rc = mg_transport_register_sim(g->name, factory, g);
		g->registered = 1;
	}
	int rc = g->reg_rc;
	pthread_mutex_unlock(&reg_lock);
	return rc;
}
