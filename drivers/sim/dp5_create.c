/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated DP5 made from sim:xrf parameters (or mg_dp5sim_new's text),
 * freed, and served through the loopback transport (simdev_glue.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/sim/dp5_sim.h"
#include "drivers/sim/simdev_glue.h"
#include "magassay/device.h"
#include "magassay/transport.h"

static const struct {
	const char *name;
	int type;
} models[] = {
	{"DP5", MG_DP5_DEV_DP5},   {"X-123", MG_DP5_DEV_DP5},       {"X123", MG_DP5_DEV_DP5},
	{"PX5", MG_DP5_DEV_PX5},   {"DP5G", MG_DP5_DEV_DP5G},       {"MCA8000D", MG_DP5_DEV_MCA8000D},
	{"TB5", MG_DP5_DEV_TB5},   {"DP5-X", MG_DP5_DEV_DP5X},      {"DP5X", MG_DP5_DEV_DP5X},
};

/* ------------------------------------------------------------ creation */

void mg_dp5sim_free(mg_dp5sim *s)
{
	if (!s)
		return;
	dp5sim_model_release(s->model);
	mg_xrfsim_rng_free(s->rng);
	if (s->thin)
		gsl_rng_free(s->thin);
	mg_buf_free(&s->in);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int bad(const char *key, const char *v, const char *what)
{
	return mg_fail(MG_ERR_ARG, DOM, "sim:%s parameter %s=%s: %s", SIM_NAME, key, v, what);
}

static int parse_double(const char *key, const char *v, double lo, double hi, double *out)
{
	double x;
	if (!dp5sim_parse_number(v, &x) || x < lo || x > hi) {
		char what[96];
		snprintf(what, sizeof(what), "expected a number from %g to %g", lo, hi);
		return bad(key, v, what);
	}
	*out = x;
	return MG_OK;
}

static int parse_u64(const char *key, const char *v, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	if (!*v)
		return bad(key, v, "expected a decimal number");
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || x > (max - (uint64_t)(*p - '0')) / 10) {
			char what[96];
			snprintf(what, sizeof(what), "expected a decimal number from 0 to %llu", (unsigned long long)max);
			return bad(key, v, what);
		}
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*out = x;
	return MG_OK;
}

/* Build a simulator from the parameters of a sim:xrf URI (taking them). */
static int sim_from_uri(mg_transport_uri *uri, mg_dp5sim **out)
{
	*out = NULL;
	mg_dp5sim *s = calloc(1, sizeof(*s));
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	mg_buf_init(&s->in);
	memcpy(s->anode, "Rh", 3);
	s->kv = 40;
	s->ua = 20;
	s->speed = 1;
	s->serial = 31337;
	s->device_type = MG_DP5_DEV_DP5;
	s->seed = 1;
	int rc;
	const char *v;
	const char *sample = "ndfeb";
	if ((v = mg_transport_uri_take(uri, "sample")))
		sample = v;
	rc = mg_xrfsim_sample_lookup(sample, &s->sample);
	if (rc < 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		rc = mg_fail(MG_ERR_ARG, DOM, "sim:%s parameter sample=%s: %s", SIM_NAME, sample, why);
		goto fail;
	}
	if ((v = mg_transport_uri_take(uri, "kv")) && (rc = parse_double("kv", v, 5, 50, &s->kv)))
		goto fail;
	if ((v = mg_transport_uri_take(uri, "ua")) && (rc = parse_double("ua", v, 0, 10000, &s->ua)))
		goto fail;
	if ((v = mg_transport_uri_take(uri, "anode"))) {
		mg_xrf_tube tube;
		memset(&tube, 0, sizeof(tube));
		if (strlen(v) < 1 || strlen(v) > 2 || !isupper((unsigned char)v[0]) ||
		    (v[1] && !islower((unsigned char)v[1]))) {
			rc = bad("anode", v, "expected an element symbol (Rh, W, Ag, Mo, Cu, ...)");
			goto fail;
		}
		memcpy(tube.anode, v, strlen(v) + 1);
		tube.kv = s->kv;
		tube.current_ua = 1;
		tube.electron_angle_deg = 75;
		tube.takeoff_angle_deg = 15;
		if (mg_xrf_tube_lines(&tube, NULL, 0) < 0) {
			rc = bad("anode", v, "not an anode element the tube model knows");
			goto fail;
		}
		memcpy(s->anode, v, strlen(v) + 1);
	}
	uint64_t u;
	if ((v = mg_transport_uri_take(uri, "serial"))) {
		if ((rc = parse_u64("serial", v, 0x7FFFFFFF, &u)))
			goto fail;
		s->serial = (uint32_t)u;
	}
	if ((v = mg_transport_uri_take(uri, "model"))) {
		size_t i;
		for (i = 0; i < MG_ARRAY_SIZE(models); i++)
			if (dp5sim_ieq(models[i].name, v))
				break;
		if (i == MG_ARRAY_SIZE(models)) {
			rc = bad("model", v, "expected DP5, PX5, DP5G, MCA8000D, TB5, DP5-X or X-123");
			goto fail;
		}
		s->device_type = models[i].type;
	}
	if ((v = mg_transport_uri_take(uri, "seed")) && (rc = parse_u64("seed", v, UINT64_MAX, &s->seed)))
		goto fail;
	if ((v = mg_transport_uri_take(uri, "speed")) && (rc = parse_double("speed", v, 1e-3, 1e9, &s->speed)))
		goto fail;

	s->table = mg_dp5_config_table(&s->ntable);
	if (s->ntable > NCONF_MAX) {
		rc = mg_fail(MG_ERR_INTERNAL, DOM, "%zu configuration mnemonics, room for %d", s->ntable, NCONF_MAX);
		goto fail;
	}
	dp5sim_conf_defaults(s);
	s->nchan = dp5sim_conf_nchan(s);
	s->rng = mg_xrfsim_rng_new(s->seed);
	s->thin = gsl_rng_alloc(gsl_rng_mt19937);
	if (!s->rng || !s->thin) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		goto fail;
	}
	gsl_rng_set(s->thin, (unsigned long)(s->seed * 2654435761u + 1));
	s->first_status = 1;
	s->model_dirty = 1;
	s->last_ns = dp5sim_now_ns();
	mg_dbg(DOM, "sim:%s serial %u, %s, sample %s, %s %.0f kV %.0f uA, speed %g", SIM_NAME, s->serial,
	       mg_dp5_device_name(s->device_type), s->sample.name, s->anode, s->kv, s->ua, s->speed);
	*out = s;
	return MG_OK;
fail:
	mg_dp5sim_free(s);
	return rc;
}

int mg_dp5sim_new(const char *params, mg_dp5sim **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5sim_new: out is NULL");
	*out = NULL;
	mg_buf text;
	mg_buf_init(&text);
	mg_buf_printf(&text, "sim:%s%s%s", SIM_NAME, params && *params ? "?" : "", params ? params : "");
	if (mg_buf_status(&text)) {
		mg_buf_free(&text);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	mg_transport_uri *uri = NULL;
	int rc = mg_transport_uri_parse(text.data, &uri);
	mg_buf_free(&text);
	if (rc < 0)
		return rc;
	rc = sim_from_uri(uri, out);
	if (rc == MG_OK) {
		for (size_t i = 0; i < uri->nparams; i++)
			if (!uri->params[i].used) {
				rc = mg_fail(MG_ERR_ARG, DOM,
				             "unknown simulator parameter '%s' (known: sample, kv, ua, anode, serial, "
				             "model, seed, speed)",
				             uri->params[i].key);
				mg_dp5sim_free(*out);
				*out = NULL;
				break;
			}
	}
	mg_transport_uri_free(uri);
	return rc;
}

/* ------------------------------------------------------------ loopback glue */

static int dev_feed(mg_simdev *dev, const uint8_t *in, size_t n, mg_buf *out)
{
	return mg_dp5sim_feed(dev->ctx, in, n, out);
}

static int dev_tick(mg_simdev *dev, unsigned elapsed_ms, mg_buf *out)
{
	(void)out;
	mg_dp5sim *s = dev->ctx;
	return mg_dp5sim_advance(s, (double)elapsed_ms * 1e-3 * s->speed);
}

static void free_ctx(void *ctx)
{
	mg_dp5sim_free(ctx);
}

static int from_uri(mg_transport_uri *uri, void **out)
{
	mg_dp5sim *s = NULL;
	int rc = sim_from_uri(uri, &s);
	*out = s;
	return rc;
}

static sim_glue glue = {
	.name = SIM_NAME,
	.dom = DOM,
	.wrap_fn = "mg_dp5sim_simdev",
	.from_uri = from_uri,
	.free_ctx = free_ctx,
	.feed = dev_feed,
	.tick = dev_tick,
};

int mg_dp5sim_simdev(mg_dp5sim *sim, mg_simdev **out)
{
	return sim_glue_simdev(&glue, sim, out);
}

int mg_dp5sim_register(void)
{
	return sim_glue_register(&glue);
}

__attribute__((constructor)) static void register_at_load(void)
{
	mg_dp5sim_register();
}
