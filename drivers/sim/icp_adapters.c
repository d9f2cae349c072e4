/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES on its transports (icp_sim_internal.h): a byte
 * stream (the loopback `sim:icp`, a pty, the harness's tty: LF ends a
 * program message), USB488 over USBTMC (bulk messages and the class control
 * requests, for the harness's emulated USB device), and its registration
 * with the loopback. */
#include <string.h>

#include "drivers/sim/icp_sim_internal.h"
#include "drivers/sim/simdev_glue.h"
#include "internal.h"

#define DOM "icpsim"

int mg_icpsim_feed(mg_icpsim *s, const uint8_t *in, size_t n, mg_buf *out)
{
	if (!s || (!in && n) || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_feed: NULL argument");
	pthread_mutex_lock(&s->lock);
	int rc = MG_OK;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\n') {
			if (s->in.len < MAX_INPUT) {
				mg_buf_append(&s->in, in + i, 1);
			} else if (!s->overrun) {
				icpsim_push_error(s, -363, "a program message longer than %u bytes", MAX_INPUT);
				s->overrun = 1;
			}
			continue;
		}
		size_t len = s->in.len;
		if (len && s->in.data[len - 1] == '\r')
			len--;
		if (!s->overrun)
			icpsim_message(s, s->in.data ? s->in.data : "", len, out);
		s->overrun = 0;
		mg_buf_reset(&s->in);
	}
	if (mg_buf_status(&s->in) || mg_buf_status(out))
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void mg_icpsim_serve(const uint8_t *in, size_t n, mg_buf *out, void *sim)
{
	if (mg_icpsim_feed(sim, in, n, out))
		mg_warn(DOM, "%s", mg_error_detail());
}

static int usbtmc_message(const uint8_t *msg, size_t n, mg_buf *response, void *ud)
{
	struct mg_icpsim *s = ud;
	size_t len = n;
	if (len && msg[len - 1] == '\n')
		len--;
	if (len && msg[len - 1] == '\r')
		len--;
	if (memchr(msg, '\n', len)) {
		/* several messages in one: each LF ends one */
		size_t start = 0;
		for (size_t i = 0; i <= len; i++)
			if (i == len || msg[i] == '\n') {
				size_t l = i - start;
				if (l && msg[start + l - 1] == '\r')
					l--;
				icpsim_message(s, (const char *)msg + start, l, response);
				start = i + 1;
			}
	} else {
		icpsim_message(s, (const char *)msg, len, response);
	}
	return MG_OK;
}

void mg_icpsim_serve_usbtmc(const uint8_t *in, size_t n, mg_buf *out, void *sim)
{
	struct mg_icpsim *s = sim;
	pthread_mutex_lock(&s->lock);
	if (mg_usbtmc_fn_bulk_out(&s->fn, in, n, usbtmc_message, s, out))
		mg_dbg(DOM, "USBTMC: %s", mg_error_detail());
	pthread_mutex_unlock(&s->lock);
}

int mg_icpsim_usbtmc_control(mg_icpsim *s, const uint8_t setup[8], uint8_t *data, size_t cap, unsigned *actions)
{
	pthread_mutex_lock(&s->lock);
	int r = mg_usbtmc_fn_control(&s->fn, setup, data, cap, actions);
	pthread_mutex_unlock(&s->lock);
	return r;
}

void mg_icpsim_usbtmc_pending(mg_icpsim *s, unsigned n)
{
	pthread_mutex_lock(&s->lock);
	s->fn.check_pending = n;
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------ loopback glue */

static int dev_feed(mg_simdev *dev, const uint8_t *in, size_t n, mg_buf *out)
{
	return mg_icpsim_feed(dev->ctx, in, n, out);
}

static int dev_tick(mg_simdev *dev, unsigned elapsed_ms, mg_buf *out)
{
	(void)out;
	return mg_icpsim_advance(dev->ctx, (double)elapsed_ms * 1e-3);
}

static void free_ctx(void *ctx)
{
	mg_icpsim_free(ctx);
}

static int from_uri(mg_transport_uri *uri, void **out)
{
	mg_icpsim *s = NULL;
	int rc = icpsim_from_uri(uri, &s);
	*out = s;
	return rc;
}

static sim_glue glue = {
	.name = SIM_NAME,
	.dom = DOM,
	.wrap_fn = "mg_icpsim_simdev",
	.from_uri = from_uri,
	.free_ctx = free_ctx,
	.feed = dev_feed,
	.tick = dev_tick,
};

int mg_icpsim_simdev(mg_icpsim *sim, mg_simdev **out)
{
	return sim_glue_simdev(&glue, sim, out);
}

int mg_icpsim_register(void)
{
	return sim_glue_register(&glue);
}

__attribute__((constructor)) static void register_at_load(void)
{
	mg_icpsim_register();
}
