/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The loopback glue the simulators share: wrap a simulator in an mg_simdev,
 * make one from a `sim:NAME?...` URI, register the factory once. */
#ifndef MAGASSAY_SIM_SIMDEV_GLUE_H
#define MAGASSAY_SIM_SIMDEV_GLUE_H

#include "magassay/transport.h"

/* One per simulator, static in its file. */
typedef struct sim_glue {
	const char *name;     /* sim:NAME */
	const char *dom;      /* error domain */
	const char *wrap_fn;  /* the public wrapper named in its NULL-argument error */
	/* Make a simulator from the URI's parameters (takes those it knows). */
	int (*from_uri)(mg_transport_uri *uri, void **out);
	void (*free_ctx)(void *ctx);
	int (*feed)(mg_simdev *dev, const uint8_t *in, size_t n, mg_buf *out);
	int (*tick)(mg_simdev *dev, unsigned elapsed_ms, mg_buf *out);
	/* registration state, guarded by sim_glue_register() */
	int registered;
	int reg_rc;
} sim_glue;

/* Wrap ctx (owned; freed with free_ctx, also on failure) in an mg_simdev
 * whose free() frees ctx and itself. */
int sim_glue_simdev(const sim_glue *g, void *ctx, mg_simdev **out);

/* mg_transport_register_sim(g->name, ...) the first time; the result of
 * that first call every time. Thread-safe. */
int sim_glue_register(sim_glue *g);

#endif
