/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated ICP-OES (include/magassay/icp_device.h), private to its files:
 *   icp_device.c    the instrument: parameters, creation, what the tests ask it
 *   icp_rack.c      the autosampler rack: the rack file, grades, the built-in rack
 *   icp_measure.c   a run: the physics (icp_physics.c) over the configured lines,
 *                   and the data it leaves for FETCh
 *   icp_commands.c  the SCPI commands and their table
 *   icp_scpi.c      the SCPI server: program messages, headers, parameters, the
 *                   error queue and the status byte
 *   icp_adapters.c  the transports: byte streams (loopback, pty, tty), USBTMC
 *                   bulk and control transfers, the loopback registration */
#ifndef MAGASSAY_ICP_SIM_INTERNAL_H
#define MAGASSAY_ICP_SIM_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "drivers/sim/icp_physics.h"
#include "drivers/transport/usbtmc.h"
#include "magassay/buf.h"
#include "magassay/icp_device.h"

#define SIM_NAME "icp"
#define MAX_POS 256
#define ERRQ_DEPTH 20
#define UPTAKE_S 30.0
#define RINSE_S 20.0
#define MAX_INPUT (1u << 20)

struct sim_line {
	char el[4];
	double wl;
	int is;
};

struct slot {
	mg_icpsim_solution sol;
	mg_icpphys_solution phys; /* + internal standard */
	int have_grade, have_mass, have_volume;
};

enum fmt { FMT_ASCII = 1, FMT_REAL32, FMT_REAL64 };

struct mg_icpsim {
	pthread_mutex_t lock;
	/* parameters */
	uint64_t seed;
	char serial[32];
	double drift_pct_h, noise;
	size_t pixels;
	unsigned busy_polls;
	unsigned error_at;
	int error_code;
	double jump_pct;
	unsigned jump_at;
	unsigned hang_at;
	/* rack */
	struct slot *slots;
	size_t nslots;
	char is_el[4];
	double is_c;
	/* instrument state */
	int plasma;
	double t_s;          /* simulated seconds since creation */
	double lit_at_s;     /* when the plasma was lit */
	struct sim_line lines[MG_ICP_MAX_LINES];
	size_t nlines;
	double integration;
	unsigned replicates;
	int position;
	char label[65];
	enum fmt fmt;
	int swapped;
	/* the last run */
	int have_data;
	unsigned data_reps;
	size_t data_lines;
	double *data_wl;     /* [MG_ICP_MAX_LINES][pixels] */
	double *data;        /* [MG_ICP_MAX_REPLICATES][MG_ICP_MAX_LINES][pixels] */
	unsigned busy_left;
	/* status */
	int errq_code[ERRQ_DEPTH];
	char errq_text[ERRQ_DEPTH][200];
	size_t nerr;
	unsigned esr, ese, sre;
	unsigned runs, query_msgs;
	/* the keywords of the last command header (SCPI: ';' stays in the subsystem) */
	char path[8][32];
	size_t npath;
	/* transports */
	mg_buf in;
	int overrun;         /* the message being received is too long: dropped at its LF */
	mg_usbtmc_fn fn;
	gsl_rng *rng;
	mg_icpsim_stats st;
};

/* The parameters of a program message unit (views into the message). */
struct args {
	size_t n;
	const char *p[8];
	size_t len[8];
};

typedef int (*icpsim_handler)(struct mg_icpsim *s, const struct args *a, mg_buf *out);

/* A command: its header pattern (long forms, short form in capitals,
 * [:OPTional] nodes), query or not, and its handler. */
struct icpsim_cmd {
	const char *pattern;
	int query;
	icpsim_handler fn;
};

/* icp_scpi.c */
/* Queue a SCPI error (code, optional detail) and set its event status bit. */
void icpsim_push_error(struct mg_icpsim *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
unsigned icpsim_stb(const struct mg_icpsim *s);
/* One program message (without terminator): its answer (if any) + LF to out. */
void icpsim_message(struct mg_icpsim *s, const char *p, size_t n, mg_buf *out);

/* icp_commands.c: the command a header (keywords, query or not) names, or NULL. */
const struct icpsim_cmd *icpsim_find_cmd(int query, char kws[][32], size_t nk);

/* icp_rack.c */
/* A number from v in [min, max], or MG_ERR_FORMAT "<key>: '<v>' (a number from ...)". */
int icpsim_num(const char *key, const char *v, double min, double max, double *out);
int icpsim_parse_rack(struct mg_icpsim *s, const char *text, size_t n, const char *src);
/* The rack file at path, or the built-in rack (path NULL). */
int icpsim_load_rack(struct mg_icpsim *s, const char *path);
struct slot *icpsim_slot_at(struct mg_icpsim *s, int pos);
/* "Nd": an uppercase letter and an optional lowercase one. */
int icpsim_valid_symbol(const char *e);

/* icp_measure.c */
void icpsim_reset(struct mg_icpsim *s);
/* The physics' conditions at simulated time t_s (drift, jump, seed, axis). */
void icpsim_conditions(struct mg_icpsim *s, double t_s, mg_icpphys_conditions *c);
/* A run at the current position (*OPC/INITiate): errors go to the queue. */
void icpsim_run(struct mg_icpsim *s);
/* Numbers as the FORMat says: ASCII (pairs_prec: wavelength, intensity
 * pairs) or a definite-length binary block. */
void icpsim_put_numbers(struct mg_icpsim *s, const double *v, size_t n, int pairs_prec, mg_buf *out);

/* icp_device.c: a simulator from a sim:icp URI (the loopback's). */
int icpsim_from_uri(mg_transport_uri *uri, mg_icpsim **out);

#endif
