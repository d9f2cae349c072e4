/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated XRF instrument: a DP5-family pulse processor behind an SDD and
 * an X-ray tube, answering the DP5 host protocol byte for byte.
 *
 * Wire: bytes from the host are collected and cut into packets with the same
 * stream parser the driver uses; every request gets the answer the reference
 * (docs/drivers.md, docs/protocol-dp5.md) gives: status, spectrum ± status ±
 * clear, text configuration set (all-or-nothing per packet, ACK 05/07 with the
 * offending command) and readback, clear, enable, disable, keep-alive, comm
 * test ACK and echo; ACK 07 for requests it does not implement (sequential
 * buffers, scope, list mode, streaming), ACK 04 for a checksum error, ACK 03
 * for a wrong data length, ACK 02 for unknown PIDs, ACK 01 for bytes that do
 * not start a packet.
 *
 * Time: simulated time = CLOCK_MONOTONIC elapsed × speed, plus what the
 * loopback transport's tick() or mg_dp5sim_advance() add. While the MCA is
 * enabled the physics model (xrfsim.h) draws Poisson counts for the time
 * passed; the presets stop the MCA exactly: PRET at the exact accumulation
 * time, PRER at the exact real time, PREC at exactly PREC counts in the ROI
 * PRCL..PRCH (the last step is thinned without replacement, its time scaled).
 *
 * Physics models take 50-300 ms to build, so they are built only when counts
 * are needed (the MCA enabled), and kept in a small process-wide cache keyed
 * by the whole model configuration (models are read-only once built;
 * dp5_model_cache.c). The settings' rules and the configuration requests are
 * in dp5_config.c, creation from sim:xrf parameters in dp5_create.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>

#include "drivers/sim/dp5_sim.h"

uint64_t dp5sim_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int dp5sim_conf_index(const mg_dp5sim *s, const char *mnem)
{
	for (size_t i = 0; i < s->ntable; i++)
		if (!strcmp(s->table[i].mnemonic, mnem))
			return (int)i;
	return -1;
}

const char *dp5sim_conf(const mg_dp5sim *s, const char *mnem)
{
	int i = dp5sim_conf_index(s, mnem);
	return i < 0 ? "OFF" : s->values[i];
}

/* A setting as a number; NAN for OFF or anything not numeric. */
double dp5sim_conf_num(const mg_dp5sim *s, const char *mnem)
{
	const char *v = dp5sim_conf(s, mnem);
	char *end;
	double x = strtod(v, &end);
	return end != v && !*end ? x : NAN;
}


static double preset(const mg_dp5sim *s, const char *mnem)
{
	double v = dp5sim_conf_num(s, mnem);
	return v > 0 ? v : 0;
}

size_t dp5sim_conf_nchan(const mg_dp5sim *s)
{
	double v = dp5sim_conf_num(s, "MCAC");
	return v >= 256 && v <= 8192 ? (size_t)v : 2048;
}

void dp5sim_clear_spectrum(mg_dp5sim *s)
{
	memset(s->counts, 0, sizeof(s->counts));
	s->real_s = s->live_s = 0;
	s->fast = s->slow = 0;
	if (strcmp(dp5sim_conf(s, "GPMC"), "OFF"))
		s->gp = 0;
	s->preset_time_done = s->preset_count_done = 0;
}

/* The model configuration for the current settings, memset-clean. */
static void model_config(const mg_dp5sim *s, mg_xrfsim_config *cfg)
{
	mg_xrfsim_config_default(cfg); /* memsets */
	memcpy(cfg->tube.anode, s->anode, sizeof(cfg->tube.anode));
	cfg->tube.kv = s->kv;
	cfg->tube.current_ua = s->ua;
	cfg->sample = s->sample;
	cfg->beam_bin_kev = 0.1;
	double gain = dp5sim_conf_num(s, "GAIN");
	if (!(gain > 0))
		gain = 20;
	cfg->axis.nchan = (int)s->nchan;
	cfg->axis.offset_kev = 0;
	cfg->axis.gain_kev = FULL_SCALE_KEV_GAIN / (gain * (double)s->nchan);
	if (cfg->axis.gain_kev > 0.999)
		cfg->axis.gain_kev = 0.999;
	double tpea = dp5sim_conf_num(s, "TPEA"), tfla = dp5sim_conf_num(s, "TFLA");
	if (!(tpea > 0))
		tpea = 4.0;
	if (!(tfla >= 0))
		tfla = 0.8;
	cfg->det.dead_time_us = tpea + tfla + 0.2;
	/* shorter shaping: more series noise (a mild, monotonic model) */
	cfg->det.noise_fwhm_kev = 0.08 * (0.75 + 0.25 * sqrt(4.0 / tpea));
	double thsl = dp5sim_conf_num(s, "THSL");
	if (thsl >= 0)
		cfg->det.lld_kev = thsl / 100.0 * cfg->axis.gain_kev * (double)s->nchan;
	if (cfg->det.lld_kev < 0.05)
		cfg->det.lld_kev = 0.05;
}

static int ensure_model(mg_dp5sim *s)
{
	if (s->model && !s->model_dirty)
		return MG_OK;
	if (s->model_failed && s->model_dirty)
		return MG_ERR_ARG;
	mg_xrfsim_config cfg;
	model_config(s, &cfg);
	mg_xrfsim_model *m = NULL;
	int built = 0;
	int rc = dp5sim_model_get(&cfg, &m, &built);
	if (rc < 0) {
		s->model_failed = 1;
		mg_err(DOM, "the physics model failed (%s): no counts until the configuration changes",
		       mg_error_detail());
		return rc;
	}
	dp5sim_model_release(s->model);
	s->model = m;
	s->model_dirty = 0;
	s->model_failed = 0;
	if (built) {
		/* the instrument does not stall while we model it: not simulated time */
		s->last_ns = dp5sim_now_ns();
		s->st.model_builds++;
		mg_dbg(DOM, "physics model built: %zu channels, %.4f keV/ch", s->nchan, cfg.axis.gain_kev);
	}
	return MG_OK;
}

void dp5sim_set_dirty(mg_dp5sim *s)
{
	s->model_dirty = 1;
	s->model_failed = 0;
}

static uint64_t roi_sum(const mg_dp5sim *s, const uint32_t *c, size_t lo, size_t hi)
{
	uint64_t t = 0;
	for (size_t i = lo; i <= hi && i < s->nchan; i++)
		t += c[i];
	return t;
}

static void roi(const mg_dp5sim *s, size_t *lo, size_t *hi)
{
	double l = dp5sim_conf_num(s, "PRCL"), h = dp5sim_conf_num(s, "PRCH");
	*lo = l >= 0 ? (size_t)l : 0;
	*hi = h >= 0 ? (size_t)h : s->nchan - 1;
	if (*hi >= s->nchan)
		*hi = s->nchan - 1;
}

/* Stop at presets already met (e.g. at enable). 1 if stopped. */
int dp5sim_presets_met(mg_dp5sim *s)
{
	double pret = preset(s, "PRET"), prer = preset(s, "PRER"), prec = preset(s, "PREC");
	if ((pret > 0 && s->live_s >= pret - 1e-9) || (prer > 0 && s->real_s >= prer - 1e-9)) {
		s->preset_time_done = 1;
		s->enabled = 0;
		return 1;
	}
	if (prec > 0) {
		size_t lo, hi;
		roi(s, &lo, &hi);
		if ((double)roi_sum(s, s->counts, lo, hi) >= prec) {
			s->preset_count_done = 1;
			s->enabled = 0;
			return 1;
		}
	}
	return 0;
}

/* Keep exactly `keep` of the events in step[lo..hi] (sampling without
 * replacement), and a fraction `frac` of the others (binomial). */
static void thin(mg_dp5sim *s, size_t lo, size_t hi, uint64_t total, uint64_t keep, double frac)
{
	uint64_t left = total, want = keep;
	for (size_t i = 0; i < s->nchan; i++) {
		uint32_t k = s->step[i];
		if (!k)
			continue;
		if (i >= lo && i <= hi) {
			unsigned kept = 0;
			if (want >= left)
				kept = k;
			else if (want > 0)
				kept = gsl_ran_hypergeometric(s->thin, k, (unsigned)(left - k), (unsigned)want);
			left -= k;
			want -= kept;
			s->step[i] = kept;
		} else {
			s->step[i] = gsl_ran_binomial(s->thin, frac, k);
		}
	}
}

/* Acquire for dt seconds of simulated real time (the MCA enabled). */
static void acquire(mg_dp5sim *s, double dt)
{
	while (dt > 0 && s->enabled) {
		if (dp5sim_presets_met(s))
			break;
		if (ensure_model(s) < 0) {
			/* no physics: time passes, nothing counts */
			s->real_s += dt;
			s->live_s += dt;
			dp5sim_presets_met(s);
			return;
		}
		mg_xrfsim_rates r;
		mg_xrfsim_model_rates(s->model, &r);
		double step = dt;
		int which = 0; /* 1 PRET, 2 PRER, 3 PREC */
		double pret = preset(s, "PRET"), prer = preset(s, "PRER"), prec = preset(s, "PREC");
		if (pret > 0) {
			double need = mg_xrfsim_real_for_live(s->model, pret - s->live_s);
			if (need <= step) {
				step = need > 0 ? need : 0;
				which = 1;
			}
		}
		if (prer > 0 && prer - s->real_s <= step) {
			step = prer - s->real_s > 0 ? prer - s->real_s : 0;
			which = 2;
		}
		memset(s->step, 0, s->nchan * sizeof(s->step[0]));
		mg_xrfsim_counters c = {0};
		if (mg_xrfsim_acquire(s->model, &c, step, s->rng, s->step, s->nchan) < 0) {
			mg_err(DOM, "acquire: %s", mg_error_detail());
			return;
		}
		uint64_t lost = c.fast - c.slow;
		if (prec > 0) {
			size_t lo, hi;
			roi(s, &lo, &hi);
			uint64_t have = roi_sum(s, s->counts, lo, hi), add = roi_sum(s, s->step, lo, hi);
			if (add > 0 && (double)(have + add) >= prec) {
				uint64_t keep = (uint64_t)prec - have;
				double frac = (double)keep / (double)add;
				thin(s, lo, hi, add, keep, frac);
				step *= frac;
				lost = (uint64_t)llround((double)lost * frac);
				which = 3;
			}
		}
		uint64_t added = 0;
		for (size_t i = 0; i < s->nchan; i++) {
			uint64_t v = (uint64_t)s->counts[i] + s->step[i];
			added += s->step[i];
			s->counts[i] = v > MG_DP5_COUNT_MAX ? MG_DP5_COUNT_MAX : (uint32_t)v;
		}
		s->slow += added;
		s->fast += added + lost;
		s->real_s += step;
		s->live_s += step * r.live_fraction;
		dt -= step;
		if (which == 1) {
			s->live_s = pret;
			s->preset_time_done = 1;
			s->enabled = 0;
		} else if (which == 2) {
			s->real_s = prer;
			s->preset_time_done = 1;
			s->enabled = 0;
		} else if (which == 3) {
			s->preset_count_done = 1;
			s->enabled = 0;
		}
	}
}

/* Bring simulated time up to now. */
static void sync_time(mg_dp5sim *s, double extra_s)
{
	uint64_t t = dp5sim_now_ns();
	double dt = (double)(t - s->last_ns) * 1e-9 * s->speed + extra_s;
	s->last_ns = t;
	if (!(dt > 0))
		return;
	s->sim_time_s += dt;
	if (!s->enabled) {
		s->pending_s = 0;
		return;
	}
	s->pending_s += dt;
	if (s->pending_s < MIN_STEP_S)
		return;
	double d = s->pending_s;
	s->pending_s = 0;
	acquire(s, d);
}

/* ------------------------------------------------------------ answers */

static void fill_status(mg_dp5sim *s, mg_dp5_status *st)
{
	memset(st, 0, sizeof(*st));
	st->fast_count = s->fast > UINT32_MAX ? UINT32_MAX : (uint32_t)s->fast;
	st->slow_count = s->slow > UINT32_MAX ? UINT32_MAX : (uint32_t)s->slow;
	st->gp_count = s->gp > UINT32_MAX ? UINT32_MAX : (uint32_t)s->gp;
	uint64_t lms = (uint64_t)floor(s->live_s * 1000.0 + 1e-6);
	uint64_t units = lms / 100;
	if (units > 0xFFFFFF)
		units = 0xFFFFFF;
	st->acc_time_100ms = (uint32_t)units;
	st->acc_time_ms = (uint8_t)(lms % 100);
	uint64_t rms = (uint64_t)floor(s->real_s * 1000.0 + 1e-6);
	st->real_time_ms = rms > UINT32_MAX ? UINT32_MAX : (uint32_t)rms;
	if (s->device_type == MG_DP5_DEV_MCA8000D)
		st->live_time_ms = lms > UINT32_MAX ? UINT32_MAX : (uint32_t)lms;
	st->fw_major = 6;
	st->fw_minor = 8;
	st->fw_build = 3;
	st->fpga_major = 6;
	st->fpga_minor = 4;
	st->serial_number = s->serial;
	double hv = dp5sim_conf_num(s, "HVSE");
	st->hv_raw = (int16_t)(isnan(hv) ? 0 : lround(hv * 2));
	double tecs = dp5sim_conf_num(s, "TECS");
	/* regulated detector: the setpoint ± 0.1 K; TEC off: room temperature */
	double tdet = isnan(tecs) ? 296.0 : tecs;
	tdet += 0.1 * (double)((int)fmod(s->sim_time_s, 3.0) - 1);
	st->det_temp_raw = (uint16_t)lround(tdet * 10) & 0x0FFF;
	st->board_temp_c = (int8_t)(34 + (s->enabled ? 2 : 0));
	st->preset_real_time_done = s->preset_time_done;
	st->afast_locked = s->device_type != MG_DP5_DEV_MCA8000D ? true : s->preset_time_done;
	st->mca_enabled = s->enabled;
	st->preset_count_done = s->preset_count_done;
	st->gated = false; /* no gate signal wired: counting is never blocked */
	st->configured = s->configured;
	st->first_packet = s->first_status;
	const char *clck = dp5sim_conf(s, "CLCK");
	st->fpga_clock_80mhz = strcmp(clck, "20") != 0;
	st->fpga_clock_auto = !strcmp(clck, "AUTO");
	st->pc5_present = s->device_type == MG_DP5_DEV_DP5;
	st->pc5_hv_positive = hv > 0;
	st->device_type = (uint8_t)s->device_type;
	st->tec_raw = isnan(tecs) ? 0 : (uint16_t)lround(2.4 * 758.5);
	mg_dp5_status_derive(st);
}

void dp5sim_ack(mg_dp5sim *s, mg_buf *out, int code, const void *text, size_t n)
{
	if (n > 256)
		n = 256;
	mg_dp5_pack_buf(out, 0xFF, (uint8_t)code, n ? text : NULL, n);
	if (code != MG_DP5_ACK_OK)
		s->st.ack_errors++;
}

static void answer(mg_dp5sim *s, const mg_dp5_packet *pkt, mg_buf *out)
{
	enum mg_dp5_request req;
	int rc = mg_dp5_request_identify(pkt, &req);
	if (rc == MG_ERR_UNSUPPORTED) {
		mg_info(DOM, "unknown request %02X %02X -> ACK 02", pkt->pid1, pkt->pid2);
		dp5sim_ack(s, out, MG_DP5_ACK_PID_ERROR, NULL, 0);
		return;
	}
	if (rc < 0) {
		mg_info(DOM, "%s with %zu data bytes -> ACK 03", mg_dp5_packet_name(pkt->pid1, pkt->pid2), pkt->len);
		dp5sim_ack(s, out, MG_DP5_ACK_LEN_ERROR, NULL, 0);
		return;
	}
	s->st.requests++;
	mg_info(DOM, "request: %s", mg_dp5_request_name(req));
	mg_dp5_status st;
	switch (req) {
	case MG_DP5_REQ_STATUS: {
		uint8_t pk[MG_DP5_STATUS_LEN + MG_DP5_OVERHEAD];
		fill_status(s, &st);
		s->first_status = 0;
		int n = mg_dp5_pack_status(&st, pk, sizeof(pk));
		if (n > 0)
			mg_buf_append(out, pk, (size_t)n);
		break;
	}
	case MG_DP5_REQ_SPECTRUM:
	case MG_DP5_REQ_SPECTRUM_CLEAR:
	case MG_DP5_REQ_SPECTRUM_STATUS:
	case MG_DP5_REQ_SPECTRUM_STATUS_CLEAR: {
		int with_status = req == MG_DP5_REQ_SPECTRUM_STATUS || req == MG_DP5_REQ_SPECTRUM_STATUS_CLEAR;
		int clear = req == MG_DP5_REQ_SPECTRUM_CLEAR || req == MG_DP5_REQ_SPECTRUM_STATUS_CLEAR;
		fill_status(s, &st);
		if (with_status)
			s->first_status = 0;
		int n = mg_dp5_pack_spectrum(out, s->counts, s->nchan, with_status ? &st : NULL);
		if (n < 0)
			mg_err(DOM, "cannot encode the spectrum: %s", mg_error_detail());
		s->st.spectra++;
		if (clear)
			dp5sim_clear_spectrum(s);
		break;
	}
	case MG_DP5_REQ_CONFIG_SET:
		dp5sim_config_set(s, pkt->data, pkt->len, out);
		break;
	case MG_DP5_REQ_CONFIG_GET:
		dp5sim_config_get(s, pkt->data, pkt->len, out);
		break;
	case MG_DP5_REQ_CLEAR_SPECTRUM:
		dp5sim_clear_spectrum(s);
		dp5sim_ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_ENABLE_MCA:
		if (!s->enabled) {
			s->enabled = 1;
			s->pending_s = 0;
			dp5sim_presets_met(s);
		}
		dp5sim_ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_DISABLE_MCA:
		s->enabled = 0;
		dp5sim_ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_CLEAR_GP_COUNTER:
		s->gp = 0;
		dp5sim_ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_CLEAR_LIST_TIMER:
	case MG_DP5_REQ_KEEP_ALIVE:
	case MG_DP5_REQ_COMM_TEST_ACK:
		dp5sim_ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_COMM_TEST_ECHO:
		mg_dp5_pack_buf(out, 0x8F, 0x7F, pkt->data, pkt->len);
		break;
	default: /* sequential buffers, scope, list mode, streaming */
		mg_info(DOM, "%s is not simulated -> ACK 07", mg_dp5_request_name(req));
		dp5sim_ack(s, out, MG_DP5_ACK_UNRECOG_COMMAND, NULL, 0);
		break;
	}
}

static void drop_input(mg_dp5sim *s, size_t n)
{
	if (n >= s->in.len) {
		mg_buf_reset(&s->in);
		return;
	}
	memmove(s->in.data, s->in.data + n, s->in.len - n);
	s->in.len -= n;
}

int mg_dp5sim_feed(mg_dp5sim *s, const uint8_t *in, size_t n, mg_buf *out)
{
	if (!s || (!in && n) || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5sim_feed: NULL argument");
	pthread_mutex_lock(&s->lock);
	uint64_t t = dp5sim_now_ns();
	if (s->in.len && t - s->in_last_ns > PARTIAL_INPUT_NS) {
		mg_info(DOM, "dropping %zu bytes of an incomplete request", s->in.len);
		mg_buf_reset(&s->in);
	}
	s->in_last_ns = t;
	mg_buf_append(&s->in, in, n);
	sync_time(s, 0);
	int rc = MG_OK;
	for (;;) {
		mg_dp5_packet pkt;
		size_t consumed = 0;
		int prc = mg_dp5_parse(s->in.data, s->in.len, &pkt, &consumed);
		if (prc == MG_ERR_NEED_MORE)
			break;
		if (prc == MG_OK) {
			answer(s, &pkt, out);
		} else if (prc == MG_ERR_CHECKSUM) {
			s->st.bad_checksum++;
			mg_info(DOM, "request with a bad checksum -> ACK 04");
			dp5sim_ack(s, out, MG_DP5_ACK_CHECKSUM_ERROR, NULL, 0);
		} else if (prc == MG_ERR_FORMAT) {
			s->st.sync_errors++;
			mg_info(DOM, "%zu bytes without a sync -> ACK 01", consumed);
			dp5sim_ack(s, out, MG_DP5_ACK_SYNC_ERROR, NULL, 0);
		} else {
			rc = prc;
			break;
		}
		drop_input(s, consumed ? consumed : s->in.len);
	}
	if (mg_buf_status(out) || mg_buf_status(&s->in))
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void mg_dp5sim_serve(const uint8_t *in, size_t n, mg_buf *out, void *sim)
{
	mg_dp5sim_feed(sim, in, n, out);
}

int mg_dp5sim_advance(mg_dp5sim *s, double seconds)
{
	if (!s || !(seconds >= 0) || !isfinite(seconds))
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5sim_advance: bad argument");
	pthread_mutex_lock(&s->lock);
	sync_time(s, seconds);
	pthread_mutex_unlock(&s->lock);
	return MG_OK;
}

mg_dp5sim_stats mg_dp5sim_get_stats(mg_dp5sim *s)
{
	mg_dp5sim_stats st = {0};
	if (!s)
		return st;
	pthread_mutex_lock(&s->lock);
	st = s->st;
	st.sim_time_s = s->sim_time_s;
	pthread_mutex_unlock(&s->lock);
	return st;
}
