/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to the simulated DP5 device (dp5_device.c, dp5_config.c,
 * dp5_model_cache.c, dp5_create.c): its state and what the parts share. */
#ifndef MAGASSAY_DRIVERS_SIM_DP5_SIM_H
#define MAGASSAY_DRIVERS_SIM_DP5_SIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

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

/* dp5_device.c: the state machine */
uint64_t dp5sim_now_ns(void);
/* Index of a mnemonic in the codec's table, -1 if not there. */
int dp5sim_conf_index(const mg_dp5sim *s, const char *mnem);
/* A setting's value ("OFF" for one not in the table). */
const char *dp5sim_conf(const mg_dp5sim *s, const char *mnem);
/* A setting as a number; NAN for OFF or anything not numeric. */
double dp5sim_conf_num(const mg_dp5sim *s, const char *mnem);
/* The channel count MCAC sets. */
size_t dp5sim_conf_nchan(const mg_dp5sim *s);
void dp5sim_clear_spectrum(mg_dp5sim *s);
/* The physics model must be rebuilt for the settings. */
void dp5sim_set_dirty(mg_dp5sim *s);
/* Stop the MCA when a preset is reached; 1 if one is. */
int dp5sim_presets_met(mg_dp5sim *s);
/* An ACK packet (text: the offending command, at most 256 bytes). */
void dp5sim_ack(mg_dp5sim *s, mg_buf *out, int code, const void *text, size_t n);

/* dp5_config.c: the settings' rules and the text configuration requests */
void dp5sim_conf_defaults(mg_dp5sim *s);
/* A whole finite number, nothing after it; 1 if v is one. */
int dp5sim_parse_number(const char *v, double *x);
/* Case-insensitive equality. */
int dp5sim_ieq(const char *a, const char *b);
/* Answer a configuration set (all or nothing) or readback request. */
void dp5sim_config_set(mg_dp5sim *s, const uint8_t *data, size_t len, mg_buf *out);
void dp5sim_config_get(mg_dp5sim *s, const uint8_t *data, size_t len, mg_buf *out);

/* dp5_model_cache.c: physics models shared by simulators of one configuration */
int dp5sim_model_get(const mg_xrfsim_config *cfg, mg_xrfsim_model **out, int *built);
void dp5sim_model_release(mg_xrfsim_model *m);

#endif
