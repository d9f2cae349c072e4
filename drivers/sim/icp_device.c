/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES: an echelle ICP-OES with an autosampler rack, serving
 * the SCPI dialect of the built-in profile (drivers/icp/profiles/
 * magassay-sim-icp.ini) over any byte stream (loopback `sim:icp`, pty, the
 * harness's tty) and as a USBTMC/USB488 function (the harness's emulated USB
 * device). Physics: icp_physics.c. Parameters, rack format and faults:
 * include/magassay/icp_device.h and docs/commands/sim.md. This file: the
 * instrument's parameters, its creation, and what the tests ask it; the
 * rest is listed in icp_sim_internal.h.
 *
 * Time is simulated: a run advances it by uptake (30 s) + replicates x
 * integration + rinse (20 s); the loopback's tick and mg_icpsim_advance()
 * add to it. Runs complete at once (so *OPC? answers at once), unless
 * busy_polls=N keeps STATus:OPERation:CONDition? "measuring" for N polls.
 * Same seed and same commands: same numbers, on every transport. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "drivers/sim/icp_sim_internal.h"
#include "internal.h"

#define DOM "icpsim"

/* ---- parameters, creation ------------------------------------------------------- */

static int parse_params(struct mg_icpsim *s, mg_transport_uri *uri, const char **rack)
{
	const char *v;
	*rack = mg_transport_uri_take(uri, "rack");
	if ((v = mg_transport_uri_take(uri, "seed"))) {
		char *end;
		unsigned long long x = strtoull(v, &end, 10);
		if (*end || !*v || !isdigit((unsigned char)*v))
			return mg_fail(MG_ERR_ARG, DOM, "seed: '%s' (a whole number)", v);
		s->seed = x;
	}
	if ((v = mg_transport_uri_take(uri, "serial"))) {
		if (strlen(v) >= sizeof(s->serial) || strpbrk(v, ",;\"'"))
			return mg_fail(MG_ERR_ARG, DOM, "serial: '%s' (up to 31 characters, no , ; or quotes)", v);
		snprintf(s->serial, sizeof(s->serial), "%s", v);
	}
	if ((v = mg_transport_uri_take(uri, "plasma"))) {
		if (!strcmp(v, "on"))
			s->plasma = 1;
		else if (!strcmp(v, "off"))
			s->plasma = 0;
		else
			return mg_fail(MG_ERR_ARG, DOM, "plasma: '%s' (on or off)", v);
	}
	double d;
	if ((v = mg_transport_uri_take(uri, "drift"))) {
		if (icpsim_num("drift", v, -100, 100, &d))
			return MG_ERR_ARG;
		s->drift_pct_h = d;
	}
	if ((v = mg_transport_uri_take(uri, "noise"))) {
		if (icpsim_num("noise", v, 0, 100, &d))
			return MG_ERR_ARG;
		s->noise = d;
	}
	if ((v = mg_transport_uri_take(uri, "pixels"))) {
		if (icpsim_num("pixels", v, 16, 128, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "pixels: '%s' (16 to 128)", v);
		s->pixels = (size_t)d;
	}
	if ((v = mg_transport_uri_take(uri, "busy_polls"))) {
		if (icpsim_num("busy_polls", v, 0, 1000000, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "busy_polls: '%s' (a whole number)", v);
		s->busy_polls = (unsigned)d;
	}
	if ((v = mg_transport_uri_take(uri, "hang"))) {
		if (icpsim_num("hang", v, 1, 1e9, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "hang: '%s' (the Nth query message, from 1)", v);
		s->hang_at = (unsigned)d;
	}
	if ((v = mg_transport_uri_take(uri, "error_at"))) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", v);
		char *colon = strchr(buf, ':');
		long code = -240;
		if (colon) {
			*colon = '\0';
			char *end;
			code = strtol(colon + 1, &end, 10);
			if (*end || code == 0 || code < -999 || code > 9999)
				return mg_fail(MG_ERR_ARG, DOM, "error_at: bad error code '%s'", colon + 1);
		}
		if (icpsim_num("error_at", buf, 1, 1e9, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "error_at: '%s' (N[:CODE], the Nth run from 1)", v);
		s->error_at = (unsigned)d;
		s->error_code = (int)code;
	}
	if ((v = mg_transport_uri_take(uri, "drift_jump"))) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", v);
		char *at = strchr(buf, '@');
		if (!at)
			return mg_fail(MG_ERR_ARG, DOM, "drift_jump: '%s' (PCT@N)", v);
		*at = '\0';
		if (icpsim_num("drift_jump", buf, -90, 1000, &d))
			return MG_ERR_ARG;
		s->jump_pct = d;
		if (icpsim_num("drift_jump", at + 1, 1, 1e9, &d) || d != floor(d))
			return mg_fail(MG_ERR_ARG, DOM, "drift_jump: '%s' (PCT@N, the Nth run from 1)", v);
		s->jump_at = (unsigned)d;
	}
	return MG_OK;
}

void mg_icpsim_free(mg_icpsim *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s->data);
	free(s->data_wl);
	mg_buf_free(&s->in);
	mg_usbtmc_fn_free(&s->fn);
	if (s->rng)
		gsl_rng_free(s->rng);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sim_from_uri_rack(mg_transport_uri *uri, const char *rack_text, size_t rack_n, const char *rack_src,
                             mg_icpsim **out)
{
	*out = NULL;
	struct mg_icpsim *s = calloc(1, sizeof(*s));
	if (!s)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	mg_buf_init(&s->in);
	mg_usbtmc_caps caps = {.bcd_usbtmc = 0x0100, .bcd_usb488 = 0x0100, .is_488_2 = 1, .scpi = 1};
	mg_usbtmc_fn_init(&s->fn, &caps, 0x02, 0x81);
	s->seed = 1;
	snprintf(s->serial, sizeof(s->serial), "ICP-0001");
	s->plasma = 1;
	s->drift_pct_h = -1.0;
	s->noise = 1.0;
	s->pixels = 64;
	s->error_code = -240;
	const char *rack = NULL;
	int rc = parse_params(s, uri, &rack);
	if (rc == MG_OK && rack && rack_text)
		rc = mg_fail(MG_ERR_ARG, DOM, "rack=%s: the rack is given as text", rack);
	if (rc == MG_OK)
		rc = rack_text ? icpsim_parse_rack(s, rack_text, rack_n, rack_src ? rack_src : "(rack)") : icpsim_load_rack(s, rack);
	if (rc == MG_OK) {
		s->rng = gsl_rng_alloc(gsl_rng_mt19937);
		s->data = calloc((size_t)MG_ICP_MAX_REPLICATES * MG_ICP_MAX_LINES * s->pixels, sizeof(double));
		s->data_wl = calloc((size_t)MG_ICP_MAX_LINES * s->pixels, sizeof(double));
		if (!s->rng || !s->data || !s->data_wl)
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		else
			gsl_rng_set(s->rng, (unsigned long)(s->seed ^ (s->seed >> 32)) * 2654435761ul + 17ul);
	}
	if (rc) {
		mg_icpsim_free(s);
		return rc;
	}
	icpsim_reset(s);
	*out = s;
	return MG_OK;
}

int icpsim_from_uri(mg_transport_uri *uri, mg_icpsim **out)
{
	return sim_from_uri_rack(uri, NULL, 0, NULL, out);
}

static int new_sim(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out);

int mg_icpsim_new(const char *params, mg_icpsim **out)
{
	return new_sim(params, NULL, 0, NULL, out);
}

int mg_icpsim_new_with_rack(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out)
{
	if (!rack && n)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_new_with_rack: NULL rack");
	return new_sim(params, rack ? rack : "", n, source, out);
}

static int new_sim(const char *params, const char *rack, size_t n, const char *source, mg_icpsim **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_new: out is NULL");
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
	rc = sim_from_uri_rack(uri, rack, n, source, out);
	for (size_t i = 0; rc == MG_OK && i < uri->nparams; i++)
		if (!uri->params[i].used) {
			rc = mg_fail(MG_ERR_ARG, DOM,
			             "unknown simulator parameter '%s' (known: rack, seed, serial, plasma, drift, noise, pixels, "
			             "busy_polls, error_at, drift_jump, hang)",
			             uri->params[i].key);
			mg_icpsim_free(*out);
			*out = NULL;
		}
	mg_transport_uri_free(uri);
	return rc;
}

/* ---- what the tests ask ------------------------------------------------------- */

int mg_icpsim_advance(mg_icpsim *s, double seconds)
{
	if (!s || !(seconds >= 0))
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_advance: bad argument");
	pthread_mutex_lock(&s->lock);
	s->t_s += seconds;
	pthread_mutex_unlock(&s->lock);
	return MG_OK;
}

int mg_icpsim_solution_at(mg_icpsim *s, int position, mg_icpsim_solution *out)
{
	if (!s || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_solution_at: NULL argument");
	pthread_mutex_lock(&s->lock);
	struct slot *sl = icpsim_slot_at(s, position);
	if (sl)
		*out = sl->sol;
	pthread_mutex_unlock(&s->lock);
	return sl ? MG_OK : mg_fail(MG_ERR_NOT_FOUND, DOM, "position %d is empty", position);
}

int mg_icpsim_truth(mg_icpsim *s, int position, const char *element, double *mg_per_l)
{
	if (!s || !element || !mg_per_l)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_truth: NULL argument");
	mg_icpsim_solution sol;
	int rc = mg_icpsim_solution_at(s, position, &sol);
	if (rc)
		return rc;
	*mg_per_l = 0;
	for (size_t i = 0; i < sol.nelements; i++)
		if (!strcmp(sol.element[i], element))
			*mg_per_l = sol.mg_per_l[i];
	return MG_OK;
}

int mg_icpsim_internal_standard(mg_icpsim *s, char element[4], double *mg_per_l)
{
	if (!s || !element || !mg_per_l)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_internal_standard: NULL argument");
	snprintf(element, 4, "%s", s->is_el);
	*mg_per_l = s->is_c;
	return MG_OK;
}

int mg_icpsim_positions(mg_icpsim *s, int *positions, size_t cap)
{
	if (!s)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icpsim_positions: NULL simulator");
	for (size_t i = 0; i < s->nslots && i < cap && positions; i++)
		positions[i] = s->slots[i].sol.position;
	return (int)s->nslots;
}

mg_icpsim_stats mg_icpsim_get_stats(mg_icpsim *s)
{
	mg_icpsim_stats st = {0};
	if (!s)
		return st;
	pthread_mutex_lock(&s->lock);
	st = s->st;
	st.sim_time_s = s->t_s;
	st.usbtmc_transfers_out = s->fn.st.transfers_out;
	st.usbtmc_requests_in = s->fn.st.requests_in;
	st.usbtmc_transfers_in = s->fn.st.transfers_in;
	st.usbtmc_bad_headers = s->fn.st.bad_headers;
	st.usbtmc_aborts_in = s->fn.st.aborts_in;
	st.usbtmc_aborts_out = s->fn.st.aborts_out;
	st.usbtmc_clears = s->fn.st.clears;
	st.usbtmc_caps = s->fn.st.caps_requests;
	st.usbtmc_last_abort_btag = s->fn.st.last_abort_btag;
	pthread_mutex_unlock(&s->lock);
	return st;
}
