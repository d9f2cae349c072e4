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
 * by the whole model configuration (models are read-only once built). */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "drivers/sim/simdev_glue.h"
#include "internal.h"
#include "magassay/device.h"
#include "magassay/dp5.h"
#include "magassay/transport.h"
#include "magassay/xrfsim.h"

#define DOM "dp5sim"
#define SIM_NAME "xrf"
#define VAL_MAX 64
#define NCONF_MAX 80
#define FULL_SCALE_KEV_GAIN 819.2 /* full scale (keV) × GAIN: 40.96 keV at GAIN 20 */
#define MIN_STEP_S 1e-3           /* time shorter than this is kept for later */
#define PARTIAL_INPUT_NS 1000000000ull /* a partial request older than 1 s is dropped */
#define CACHE_SLOTS 8

/* ------------------------------------------------------------ model cache */

struct cache_slot {
	mg_xrfsim_config cfg;
	mg_xrfsim_model *model;
	int refs;
	uint64_t used;
};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_slot cache[CACHE_SLOTS];
static uint64_t cache_clock;

/* A model for cfg (which must be memset-clean: compared bytewise). *built is
 * set when it had to be built. Release with model_release(). */
static int model_get(const mg_xrfsim_config *cfg, mg_xrfsim_model **out, int *built)
{
	*built = 0;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].model && !memcmp(&cache[i].cfg, cfg, sizeof(*cfg))) {
			cache[i].refs++;
			cache[i].used = ++cache_clock;
			*out = cache[i].model;
			pthread_mutex_unlock(&cache_lock);
			return MG_OK;
		}
	/* Build under the lock: two simulators wanting the same model build it once. */
	mg_xrfsim_model *m = NULL;
	int rc = mg_xrfsim_model_new(cfg, &m);
	if (rc < 0) {
		pthread_mutex_unlock(&cache_lock);
		return rc;
	}
	*built = 1;
	int slot = -1;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (!cache[i].model) {
			slot = i;
			break;
		}
		if (cache[i].refs == 0 && (slot < 0 || cache[i].used < cache[slot].used))
			slot = i;
	}
	if (slot >= 0) {
		if (cache[slot].model)
			mg_xrfsim_model_free(cache[slot].model);
		memcpy(&cache[slot].cfg, cfg, sizeof(*cfg));
		cache[slot].model = m;
		cache[slot].refs = 1;
		cache[slot].used = ++cache_clock;
	} else {
		mg_dbg(DOM, "model cache full: this model is not shared");
	}
	pthread_mutex_unlock(&cache_lock);
	*out = m;
	return MG_OK;
}

static void model_release(mg_xrfsim_model *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].model == m) {
			cache[i].refs--;
			pthread_mutex_unlock(&cache_lock);
			return;
		}
	pthread_mutex_unlock(&cache_lock);
	mg_xrfsim_model_free(m); /* an unshared one */
}

/* ------------------------------------------------------------ configuration */

enum rule {
	R_ANY,      /* any syntactically valid value, stored as given */
	R_NUM,      /* number in [lo, hi], stored with fmt */
	R_NUM_OFF,  /* OFF or a number in [lo, hi]; 0 means OFF */
	R_INT_OFF,  /* OFF or an integer in [lo, hi]; 0 means OFF */
	R_INT,      /* integer in [lo, hi] */
	R_CHANNELS, /* 256, 512, ..., 8192 */
	R_ENUM,     /* one of the '|' separated words in `words` */
};

struct conf_rule {
	const char *mnem;
	const char *def;
	enum rule rule;
	double lo, hi;
	const char *fmt;   /* R_NUM, R_NUM_OFF */
	const char *words; /* R_ENUM */
};

/* Defaults and rules (an X-123SDD-like unit). Mnemonics of the codec's table
 * not listed here take any value and default to "OFF". */
static const struct conf_rule rules[] = {
	{"RESC", "Y", R_ENUM, 0, 0, NULL, "Y|YES"},
	{"CLCK", "80", R_ENUM, 0, 0, NULL, "20|80|AUTO"},
	{"TPEA", "4.000", R_NUM, 0.05, 102.4, "%.3f", NULL},
	{"GAIF", "1.0000", R_NUM, 0.75, 1.25, "%.4f", NULL},
	{"GAIN", "20.000", R_NUM, 0.75, 500, "%.3f", NULL},
	{"RESL", "102", R_INT, 0, 65535, NULL, NULL},
	{"TFLA", "0.800", R_NUM, 0, 51.2, "%.3f", NULL},
	{"TPFA", "400", R_ENUM, 0, 0, NULL, "50|100|400|1600|3200"},
	{"PURE", "ON", R_ENUM, 0, 0, NULL, "ON|OFF|MAX"},
	{"RTDE", "OFF", R_ENUM, 0, 0, NULL, "ON|OFF"},
	{"MCAS", "NORM", R_ENUM, 0, 0, NULL, "NORM|MCS|FAST|PUR|RTD"},
	{"MCAC", "2048", R_CHANNELS, 0, 0, NULL, NULL},
	{"SOFF", "OFF", R_ANY, 0, 0, NULL, NULL},
	{"AINP", "POS", R_ENUM, 0, 0, NULL, "POS|NEG"},
	{"INOF", "DEF", R_ANY, 0, 0, NULL, NULL},
	{"GAIA", "6", R_INT, 1, 16, NULL, NULL},
	{"CUSP", "0", R_INT, 0, 100, NULL, NULL},
	{"PDMD", "NORM", R_ENUM, 0, 0, NULL, "NORM|MIN"},
	{"THSL", "0.750", R_NUM, 0, 24.9, "%.3f", NULL},
	{"TLLD", "OFF", R_ANY, 0, 0, NULL, NULL},
	{"THFA", "20.00", R_NUM, 0, 511.9, "%.2f", NULL},
	{"DACO", "SHAPED", R_ANY, 0, 0, NULL, NULL},
	{"DACF", "50", R_INT, 0, 255, NULL, NULL},
	{"RTDS", "0", R_INT, 0, 63, NULL, NULL},
	{"RTDT", "0.00", R_ANY, 0, 0, NULL, NULL},
	{"BLRM", "1", R_ENUM, 0, 0, NULL, "OFF|1"},
	{"BLRD", "3", R_INT, 0, 3, NULL, NULL},
	{"BLRU", "1", R_INT, 0, 3, NULL, NULL},
	{"GATE", "OFF", R_ENUM, 0, 0, NULL, "OFF|HIGH|LOW"},
	{"AUO1", "ICR", R_ANY, 0, 0, NULL, NULL},
	{"PRET", "OFF", R_NUM_OFF, 0, 99999999.9, "%.1f", NULL},
	{"PRER", "OFF", R_NUM_OFF, 0, 99999999.9, "%.1f", NULL},
	{"PREL", "OFF", R_NUM_OFF, 0, 99999999.9, "%.1f", NULL},
	{"PREC", "OFF", R_INT_OFF, 0, 4294967295.0, NULL, NULL},
	{"PRCL", "0", R_INT, 0, 8191, NULL, NULL},
	{"PRCH", "8191", R_INT, 0, 8191, NULL, NULL},
	{"HVSE", "130", R_NUM_OFF, -1500, 1500, "%.0f", NULL},
	{"TECS", "220", R_NUM_OFF, 150, 310, "%.0f", NULL},
	{"PAPZ", "OFF", R_ANY, 0, 0, NULL, NULL},
	{"PAPS", "OFF", R_ENUM, 0, 0, NULL, "8.5|5|OFF|ON"},
	{"SCOE", "RI", R_ENUM, 0, 0, NULL, "RI|FA|LE"},
	{"SCOT", "50", R_ENUM, 0, 0, NULL, "0|10|25|50|75|90|100"},
	{"SCOG", "1", R_INT, 1, 16, NULL, NULL},
	{"MCSL", "1", R_INT, 0, 8191, NULL, NULL},
	{"MCSH", "8191", R_INT, 0, 8191, NULL, NULL},
	{"MCST", "0.01", R_ANY, 0, 0, NULL, NULL},
	{"AUO2", "ICR", R_ANY, 0, 0, NULL, NULL},
	{"TPMO", "OFF", R_ENUM, 0, 0, NULL, "ON|OFF|-SNG|+SNG|-DBL|+DBL"},
	{"GPED", "RI", R_ENUM, 0, 0, NULL, "RI|FA"},
	{"GPIN", "AUX1", R_ANY, 0, 0, NULL, NULL},
	{"GPME", "ON", R_ENUM, 0, 0, NULL, "ON|OFF"},
	{"GPGA", "ON", R_ENUM, 0, 0, NULL, "ON|OFF"},
	{"GPMC", "ON", R_ENUM, 0, 0, NULL, "ON|OFF"},
	{"MCAE", "OFF", R_ENUM, 0, 0, NULL, "ON|OFF"},
	{"VOLU", "OFF", R_ENUM, 0, 0, NULL, "ON|OFF"},
	{"CON1", "DAC", R_ANY, 0, 0, NULL, NULL},
	{"CON2", "AUXOUT2", R_ANY, 0, 0, NULL, NULL},
};

static const struct conf_rule *rule_for(const char *mnem)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(rules); i++)
		if (!strcmp(rules[i].mnem, mnem))
			return &rules[i];
	return NULL;
}

/* ------------------------------------------------------------ the device */

static const struct {
	const char *name;
	int type;
} models[] = {
	{"DP5", MG_DP5_DEV_DP5},   {"X-123", MG_DP5_DEV_DP5},       {"X123", MG_DP5_DEV_DP5},
	{"PX5", MG_DP5_DEV_PX5},   {"DP5G", MG_DP5_DEV_DP5G},       {"MCA8000D", MG_DP5_DEV_MCA8000D},
	{"TB5", MG_DP5_DEV_TB5},   {"DP5-X", MG_DP5_DEV_DP5X},      {"DP5X", MG_DP5_DEV_DP5X},
};

struct mg_dp5sim {
	pthread_mutex_t lock;
	/* parameters */
	mg_xrf_sample sample;
	char anode[4];
	double kv, ua, speed;
	uint32_t serial;
	int device_type;
	uint64_t seed;
	/* configuration: values in the codec table's order */
	const mg_dp5_config_entry *table;
	size_t ntable;
	char values[NCONF_MAX][VAL_MAX];
	int configured;
	/* acquisition */
	int enabled;
	int preset_time_done, preset_count_done;
	int first_status;
	size_t nchan;
	uint32_t counts[MG_DP5_MAX_CHANNELS];
	uint32_t step[MG_DP5_MAX_CHANNELS];
	double real_s, live_s;
	uint64_t fast, slow, gp;
	/* time */
	uint64_t last_ns;
	double pending_s;
	double sim_time_s;
	/* physics */
	mg_xrfsim_model *model;
	int model_dirty;
	int model_failed;    /* logged once per configuration */
	mg_xrfsim_rng *rng;
	gsl_rng *thin;       /* thinning at the count preset */
	/* input */
	mg_buf in;
	uint64_t in_last_ns;
	mg_dp5sim_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int conf_index(const mg_dp5sim *s, const char *mnem)
{
	for (size_t i = 0; i < s->ntable; i++)
		if (!strcmp(s->table[i].mnemonic, mnem))
			return (int)i;
	return -1;
}

static const char *conf(const mg_dp5sim *s, const char *mnem)
{
	int i = conf_index(s, mnem);
	return i < 0 ? "OFF" : s->values[i];
}

/* A setting as a number; NAN for OFF or anything not numeric. */
static double conf_num(const mg_dp5sim *s, const char *mnem)
{
	const char *v = conf(s, mnem);
	char *end;
	double x = strtod(v, &end);
	return end != v && !*end ? x : NAN;
}

static void conf_defaults(mg_dp5sim *s)
{
	for (size_t i = 0; i < s->ntable; i++) {
		const struct conf_rule *r = rule_for(s->table[i].mnemonic);
		snprintf(s->values[i], VAL_MAX, "%s", r ? r->def : "OFF");
	}
}

static double preset(const mg_dp5sim *s, const char *mnem)
{
	double v = conf_num(s, mnem);
	return v > 0 ? v : 0;
}

static size_t conf_nchan(const mg_dp5sim *s)
{
	double v = conf_num(s, "MCAC");
	return v >= 256 && v <= 8192 ? (size_t)v : 2048;
}

static void clear_spectrum(mg_dp5sim *s)
{
	memset(s->counts, 0, sizeof(s->counts));
	s->real_s = s->live_s = 0;
	s->fast = s->slow = 0;
	if (strcmp(conf(s, "GPMC"), "OFF"))
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
	double gain = conf_num(s, "GAIN");
	if (!(gain > 0))
		gain = 20;
	cfg->axis.nchan = (int)s->nchan;
	cfg->axis.offset_kev = 0;
	cfg->axis.gain_kev = FULL_SCALE_KEV_GAIN / (gain * (double)s->nchan);
	if (cfg->axis.gain_kev > 0.999)
		cfg->axis.gain_kev = 0.999;
	double tpea = conf_num(s, "TPEA"), tfla = conf_num(s, "TFLA");
	if (!(tpea > 0))
		tpea = 4.0;
	if (!(tfla >= 0))
		tfla = 0.8;
	cfg->det.dead_time_us = tpea + tfla + 0.2;
	/* shorter shaping: more series noise (a mild, monotonic model) */
	cfg->det.noise_fwhm_kev = 0.08 * (0.75 + 0.25 * sqrt(4.0 / tpea));
	double thsl = conf_num(s, "THSL");
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
	int rc = model_get(&cfg, &m, &built);
	if (rc < 0) {
		s->model_failed = 1;
		mg_err(DOM, "the physics model failed (%s): no counts until the configuration changes",
		       mg_error_detail());
		return rc;
	}
	model_release(s->model);
	s->model = m;
	s->model_dirty = 0;
	s->model_failed = 0;
	if (built) {
		/* the instrument does not stall while we model it: not simulated time */
		s->last_ns = now_ns();
		s->st.model_builds++;
		mg_dbg(DOM, "physics model built: %zu channels, %.4f keV/ch", s->nchan, cfg.axis.gain_kev);
	}
	return MG_OK;
}

static void set_dirty(mg_dp5sim *s)
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
	double l = conf_num(s, "PRCL"), h = conf_num(s, "PRCH");
	*lo = l >= 0 ? (size_t)l : 0;
	*hi = h >= 0 ? (size_t)h : s->nchan - 1;
	if (*hi >= s->nchan)
		*hi = s->nchan - 1;
}

/* Stop at presets already met (e.g. at enable). 1 if stopped. */
static int presets_met(mg_dp5sim *s)
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
		if (presets_met(s))
			break;
		if (ensure_model(s) < 0) {
			/* no physics: time passes, nothing counts */
			s->real_s += dt;
			s->live_s += dt;
			presets_met(s);
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
	uint64_t t = now_ns();
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
	double hv = conf_num(s, "HVSE");
	st->hv_raw = (int16_t)(isnan(hv) ? 0 : lround(hv * 2));
	double tecs = conf_num(s, "TECS");
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
	const char *clck = conf(s, "CLCK");
	st->fpga_clock_80mhz = strcmp(clck, "20") != 0;
	st->fpga_clock_auto = !strcmp(clck, "AUTO");
	st->pc5_present = s->device_type == MG_DP5_DEV_DP5;
	st->pc5_hv_positive = hv > 0;
	st->device_type = (uint8_t)s->device_type;
	st->tec_raw = isnan(tecs) ? 0 : (uint16_t)lround(2.4 * 758.5);
	mg_dp5_status_derive(st);
}

static void ack(mg_dp5sim *s, mg_buf *out, int code, const void *text, size_t n)
{
	if (n > 256)
		n = 256;
	mg_dp5_pack_buf(out, 0xFF, (uint8_t)code, n ? text : NULL, n);
	if (code != MG_DP5_ACK_OK)
		s->st.ack_errors++;
}

static int ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int in_words(const char *v, const char *words)
{
	const char *p = words;
	size_t n = strlen(v);
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, v, n))
			return 1;
		if (!bar)
			break;
		p = bar + 1;
	}
	return 0;
}

static int parse_number(const char *v, double *x)
{
	char *end;
	if (!*v)
		return 0;
	*x = strtod(v, &end);
	return !*end && isfinite(*x);
}

/* Check one value, and write its canonical form. 1 if acceptable. */
static int check_value(const char *mnem, const char *v, char canon[VAL_MAX])
{
	const struct conf_rule *r = rule_for(mnem);
	double x;
	if (strlen(v) >= VAL_MAX)
		return 0;
	if (!r) {
		snprintf(canon, VAL_MAX, "%s", v);
		return 1;
	}
	switch (r->rule) {
	case R_ANY:
		snprintf(canon, VAL_MAX, "%s", v);
		return 1;
	case R_ENUM:
		if (!in_words(v, r->words))
			return 0;
		snprintf(canon, VAL_MAX, "%s", v);
		return 1;
	case R_CHANNELS:
		if (!parse_number(v, &x))
			return 0;
		for (int n = 256; n <= 8192; n *= 2)
			if (x == n) {
				snprintf(canon, VAL_MAX, "%d", n);
				return 1;
			}
		return 0;
	case R_INT:
		if (!parse_number(v, &x) || x != floor(x) || x < r->lo || x > r->hi)
			return 0;
		snprintf(canon, VAL_MAX, "%.0f", x);
		return 1;
	case R_NUM:
		if (!parse_number(v, &x) || x < r->lo || x > r->hi)
			return 0;
		snprintf(canon, VAL_MAX, r->fmt, x);
		return 1;
	case R_NUM_OFF:
	case R_INT_OFF:
		if (!strcmp(v, "OFF")) {
			snprintf(canon, VAL_MAX, "OFF");
			return 1;
		}
		if (!parse_number(v, &x) || x < r->lo || x > r->hi)
			return 0;
		if (r->rule == R_INT_OFF && x != floor(x))
			return 0;
		if (x == 0 && r->lo <= 0 && r->hi > 0 && strcmp(mnem, "HVSE"))
			snprintf(canon, VAL_MAX, "OFF");
		else if (r->rule == R_INT_OFF)
			snprintf(canon, VAL_MAX, "%.0f", x);
		else
			snprintf(canon, VAL_MAX, r->fmt, x);
		return 1;
	}
	return 0;
}

static int model_affecting(const char *mnem)
{
	static const char *const m[] = {"MCAC", "GAIN", "TPEA", "TFLA", "THSL", "RESC"};
	for (size_t i = 0; i < MG_ARRAY_SIZE(m); i++)
		if (!strcmp(m[i], mnem))
			return 1;
	return 0;
}

/* One command of "CMD=VAL;CMD=VAL;" (set) or "CMD;CMD;" (readback): next_cmd()
 * cuts it at *p and advances *p. 0, -1 for a malformed command, -2 for a value
 * too long; c->text/len is the command as sent in every case. */
struct cmd {
	char mnem[5];
	char value[VAL_MAX];
	int has_value;
	const char *text; /* the command as sent, up to and including ';' */
	size_t len;
};

static int next_cmd(const char **p, const char *end, struct cmd *c)
{
	const char *q = *p;
	const char *semi = memchr(q, ';', (size_t)(end - q));
	size_t len = semi ? (size_t)(semi - q) + 1 : (size_t)(end - q);
	c->text = q;
	c->len = len;
	*p = q + len;
	if (!semi)
		return -1;
	const char *eq = memchr(q, '=', len);
	size_t mlen = eq ? (size_t)(eq - q) : len - 1;
	if (mlen != 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		char ch = q[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			return -1;
		c->mnem[i] = ch;
	}
	c->mnem[4] = '\0';
	c->has_value = eq != NULL;
	c->value[0] = '\0';
	if (eq) {
		size_t vlen = (size_t)(semi - eq - 1);
		if (vlen == 0 || vlen >= VAL_MAX)
			return -2;
		memcpy(c->value, eq + 1, vlen);
		c->value[vlen] = '\0';
	}
	return 0;
}

static void config_set(mg_dp5sim *s, const uint8_t *data, size_t len, mg_buf *out)
{
	const char *p = (const char *)data, *end = p + len;
	while (end > p && end[-1] == '\0') /* NUL padding */
		end--;
	struct cmd c;
	char canon[NCONF_MAX][VAL_MAX];
	int idx[NCONF_MAX];
	size_t n = 0;
	/* validate the whole packet first: all or nothing */
	while (p < end) {
		int rc = next_cmd(&p, end, &c);
		if (rc == -1 || !c.has_value) {
			ack(s, out, MG_DP5_ACK_BAD_PARAM, c.text, c.len);
			mg_info(DOM, "config: malformed command '%.*s' -> ACK 05", (int)c.len, c.text);
			return;
		}
		int i = conf_index(s, c.mnem);
		if (i < 0 || (!strcmp(c.mnem, "PREL") && s->device_type != MG_DP5_DEV_MCA8000D)) {
			ack(s, out, MG_DP5_ACK_UNRECOG_COMMAND, c.text, c.len);
			mg_info(DOM, "config: unknown command '%.*s' -> ACK 07", (int)c.len, c.text);
			return;
		}
		if (rc == -2 || n == NCONF_MAX || !check_value(c.mnem, c.value, canon[n])) {
			ack(s, out, MG_DP5_ACK_BAD_PARAM, c.text, c.len);
			mg_info(DOM, "config: bad value '%.*s' -> ACK 05", (int)c.len, c.text);
			return;
		}
		idx[n++] = i;
	}
	size_t old_nchan = s->nchan;
	for (size_t k = 0; k < n; k++) {
		const char *mnem = s->table[idx[k]].mnemonic;
		if (!strcmp(mnem, "RESC")) {
			conf_defaults(s);
			set_dirty(s);
			continue;
		}
		if (strcmp(s->values[idx[k]], canon[k]) && model_affecting(mnem))
			set_dirty(s);
		memcpy(s->values[idx[k]], canon[k], VAL_MAX);
		if (!strcmp(mnem, "MCAE")) {
			if (!strcmp(canon[k], "ON") && !s->enabled) {
				s->enabled = 1;
				presets_met(s);
			} else if (!strcmp(canon[k], "OFF")) {
				s->enabled = 0;
			}
		}
	}
	s->configured = 1;
	s->nchan = conf_nchan(s);
	if (s->nchan != old_nchan) /* the MCA restarts with the new channel count */
		clear_spectrum(s);
	mg_info(DOM, "config: %zu command(s) applied", n);
	ack(s, out, MG_DP5_ACK_OK, NULL, 0);
}

static void config_get(mg_dp5sim *s, const uint8_t *data, size_t len, mg_buf *out)
{
	const char *p = (const char *)data, *end = p + len;
	while (end > p && end[-1] == '\0')
		end--;
	mg_buf text;
	mg_buf_init(&text);
	struct cmd c;
	while (p < end) {
		int rc = next_cmd(&p, end, &c);
		if (rc != 0 || c.has_value) {
			ack(s, out, MG_DP5_ACK_BAD_PARAM, c.text, c.len);
			mg_buf_free(&text);
			return;
		}
		int i = conf_index(s, c.mnem);
		if (i < 0 || (!strcmp(c.mnem, "PREL") && s->device_type != MG_DP5_DEV_MCA8000D)) {
			ack(s, out, MG_DP5_ACK_UNRECOG_COMMAND, c.text, c.len);
			mg_info(DOM, "readback: unknown command '%.*s' -> ACK 07", (int)c.len, c.text);
			mg_buf_free(&text);
			return;
		}
		mg_buf_printf(&text, "%s=%s;", c.mnem, s->values[i]);
	}
	if (mg_buf_status(&text) || text.len > MG_DP5_MAX_DATA) {
		ack(s, out, MG_DP5_ACK_LEN_ERROR, NULL, 0);
	} else {
		mg_dp5_pack_buf(out, 0x82, 0x07, text.data, text.len);
		mg_info(DOM, "readback: %zu bytes", text.len);
	}
	mg_buf_free(&text);
}

static void answer(mg_dp5sim *s, const mg_dp5_packet *pkt, mg_buf *out)
{
	enum mg_dp5_request req;
	int rc = mg_dp5_request_identify(pkt, &req);
	if (rc == MG_ERR_UNSUPPORTED) {
		mg_info(DOM, "unknown request %02X %02X -> ACK 02", pkt->pid1, pkt->pid2);
		ack(s, out, MG_DP5_ACK_PID_ERROR, NULL, 0);
		return;
	}
	if (rc < 0) {
		mg_info(DOM, "%s with %zu data bytes -> ACK 03", mg_dp5_packet_name(pkt->pid1, pkt->pid2), pkt->len);
		ack(s, out, MG_DP5_ACK_LEN_ERROR, NULL, 0);
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
			clear_spectrum(s);
		break;
	}
	case MG_DP5_REQ_CONFIG_SET:
		config_set(s, pkt->data, pkt->len, out);
		break;
	case MG_DP5_REQ_CONFIG_GET:
		config_get(s, pkt->data, pkt->len, out);
		break;
	case MG_DP5_REQ_CLEAR_SPECTRUM:
		clear_spectrum(s);
		ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_ENABLE_MCA:
		if (!s->enabled) {
			s->enabled = 1;
			s->pending_s = 0;
			presets_met(s);
		}
		ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_DISABLE_MCA:
		s->enabled = 0;
		ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_CLEAR_GP_COUNTER:
		s->gp = 0;
		ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_CLEAR_LIST_TIMER:
	case MG_DP5_REQ_KEEP_ALIVE:
	case MG_DP5_REQ_COMM_TEST_ACK:
		ack(s, out, MG_DP5_ACK_OK, NULL, 0);
		break;
	case MG_DP5_REQ_COMM_TEST_ECHO:
		mg_dp5_pack_buf(out, 0x8F, 0x7F, pkt->data, pkt->len);
		break;
	default: /* sequential buffers, scope, list mode, streaming */
		mg_info(DOM, "%s is not simulated -> ACK 07", mg_dp5_request_name(req));
		ack(s, out, MG_DP5_ACK_UNRECOG_COMMAND, NULL, 0);
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
	uint64_t t = now_ns();
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
			ack(s, out, MG_DP5_ACK_CHECKSUM_ERROR, NULL, 0);
		} else if (prc == MG_ERR_FORMAT) {
			s->st.sync_errors++;
			mg_info(DOM, "%zu bytes without a sync -> ACK 01", consumed);
			ack(s, out, MG_DP5_ACK_SYNC_ERROR, NULL, 0);
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

/* ------------------------------------------------------------ creation */

void mg_dp5sim_free(mg_dp5sim *s)
{
	if (!s)
		return;
	model_release(s->model);
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
	if (!parse_number(v, &x) || x < lo || x > hi) {
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
			if (ieq(models[i].name, v))
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
	conf_defaults(s);
	s->nchan = conf_nchan(s);
	s->rng = mg_xrfsim_rng_new(s->seed);
	s->thin = gsl_rng_alloc(gsl_rng_mt19937);
	if (!s->rng || !s->thin) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		goto fail;
	}
	gsl_rng_set(s->thin, (unsigned long)(s->seed * 2654435761u + 1));
	s->first_status = 1;
	s->model_dirty = 1;
	s->last_ns = now_ns();
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
