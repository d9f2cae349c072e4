/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to drivers/icp (and tests): the parsed instrument profile, command
 * templates, and the parsing of the answers the profile describes. Pure
 * functions, no I/O (profile.c, protocol.c). See docs/icp-profile.md. */
#ifndef MG_ICP_PROTOCOL_H
#define MG_ICP_PROTOCOL_H

#include <stddef.h>

#include "drivers/scpi/scpi.h"
#include "magassay/buf.h"
#include "magassay/icp.h"
#include "magassay/icp_device.h"

#define MG_ICP_PROFILE_FORMAT 1
#define MG_ICP_MAX_INIT 8

/* Placeholders a template may use. */
typedef enum mg_icp_var {
	MG_ICP_VAR_INDEX = 1,   /* line number, from 1 */
	MG_ICP_VAR_INDEX0,      /* from 0 */
	MG_ICP_VAR_ELEMENT,
	MG_ICP_VAR_WAVELENGTH,  /* nm, default %.4f */
	MG_ICP_VAR_LABEL,       /* line label or sample label */
	MG_ICP_VAR_IS,          /* 1 for an internal-standard line, else 0 */
	MG_ICP_VAR_SECONDS,     /* integration time, default %.3f */
	MG_ICP_VAR_COUNT,       /* replicates */
	MG_ICP_VAR_POSITION,
	MG_ICP_VAR_LINE,        /* fetch: line number from 1 */
	MG_ICP_VAR_LINE0,
	MG_ICP_VAR_REPLICATE,   /* fetch: replicate from 1 */
	MG_ICP_VAR_REPLICATE0,
	MG_ICP_VAR_COUNT_VARS
} mg_icp_var;

/* Sets of placeholders (bits 1 << var). */
#define MG_ICP_VARS(...) mg_icp_var_mask((const int[]){__VA_ARGS__, 0})
unsigned mg_icp_var_mask(const int *vars);

typedef struct mg_icp_segment {
	char *text;         /* literal text (owned), or NULL for a placeholder */
	mg_icp_var var;
	char fmt;           /* 0 default, 'f' fixed (prec), 'd', 'q' quoted string, 'e' exponent */
	int prec;
} mg_icp_segment;

/* A compiled command template ("CONF:LINE {index},\"{element}\",{wavelength:.4f}"). */
typedef struct mg_icp_template {
	char *source;       /* owned, NULL: not set */
	mg_icp_segment *seg;
	size_t nseg;
	int queries;        /* query units in it (the driver reads that many answers... one message) */
} mg_icp_template;

/* Values for expansion. */
typedef struct mg_icp_vars {
	int index;          /* from 1 */
	const char *element;
	double wavelength;
	const char *label;
	int is;
	double seconds;
	int count;
	int position;
	int line;           /* from 1 */
	int replicate;      /* from 1 */
} mg_icp_vars;

/* Compile src, allowing the placeholders in `allowed`. MG_ERR_FORMAT with a
 * reason (no line number: the caller adds it). */
int mg_icp_template_compile(const char *src, unsigned allowed, mg_icp_template *t);
void mg_icp_template_free(mg_icp_template *t);
/* Expand into out (reset first). MG_ERR_ARG if a value cannot go in the
 * command (a raw string with ';', '"', a control character ...). */
int mg_icp_template_expand(const mg_icp_template *t, const mg_icp_vars *v, mg_buf *out);

typedef enum mg_icp_wait { MG_ICP_WAIT_OPC = 1, MG_ICP_WAIT_POLL = 2 } mg_icp_wait;
typedef enum mg_icp_data_format { MG_ICP_DATA_BLOCK = 1, MG_ICP_DATA_ASCII = 2 } mg_icp_data_format;
typedef enum mg_icp_layout { MG_ICP_LAYOUT_PAIRS = 1, MG_ICP_LAYOUT_INTENSITIES = 2 } mg_icp_layout;

/* Plasma answer fields. */
typedef enum mg_icp_plasma_field {
	MG_ICP_PF_SKIP = 0,
	MG_ICP_PF_LIT,
	MG_ICP_PF_RF_POWER,
	MG_ICP_PF_NEBULIZER,
	MG_ICP_PF_PLASMA_FLOW,
	MG_ICP_PF_AUX,
} mg_icp_plasma_field;
#define MG_ICP_MAX_PLASMA_FIELDS 16

struct mg_icp_profile {
	char *source;
	char name[64];
	char description[160];
	/* [identify] */
	char *idn_query;
	char *idn_manufacturer, *idn_model, *idn_firmware; /* glob patterns; firmware may be NULL */
	/* [session] */
	char terminator[4];
	unsigned timeout_ms;
	char *init[MG_ICP_MAX_INIT];
	size_t ninit;
	char *error_query;
	unsigned error_queue_max;
	char *opc_query;
	/* [plasma] */
	char *plasma_query;
	mg_icp_plasma_field plasma_fields[MG_ICP_MAX_PLASMA_FIELDS];
	size_t nplasma_fields;
	char *lit_on;       /* comma list of tokens meaning lit */
	/* [lines] */
	mg_icp_template lines_clear, lines_add, lines_count;
	size_t lines_max;
	/* [acquisition] */
	mg_icp_template integration, replicates;
	double integration_min, integration_max;
	unsigned replicates_max;
	/* [run] */
	mg_icp_template position, label, start, run_count;
	int position_min, position_max;
	mg_icp_wait wait;
	char *poll_query;
	long poll_busy_mask;
	unsigned poll_interval_ms;
	double overhead_s;
	/* [fetch] */
	mg_icp_template window, wavelengths;
	mg_icp_data_format format;
	mg_scpi_numtype number;
	int big_endian;
	mg_icp_layout layout;
	size_t pixels_max;
};

/* The INI dialect of profiles and the simulator's rack files (ini.c, over
 * core/inifile.h): lines "[section]", "key = value", comments (first
 * non-blank character '#' or ';'), blank lines; no comments after a value.
 * Section names: [a-z0-9_-]+, optionally one space and [A-Za-z0-9_.-]+
 * ("[position 12]"); keys: [A-Za-z][A-Za-z0-9_.]*; values are trimmed,
 * never empty, printable (tabs allowed). cb(section, NULL, NULL, line)
 * starts a section, cb(section, key, value, line) for each key. A callback
 * error becomes MG_ERR_FORMAT "source line N: <its detail>". */
typedef int (*mg_icp_ini_cb)(const char *section, const char *key, const char *value, long line, void *ud);
int mg_icp_ini_parse(const char *text, size_t n, const char *source, mg_icp_ini_cb cb, void *ud);

/* The profile for an *IDN? identity: the first match among the .ini files of
 * $MAGASSAY_PROFILE_PATH (':'-separated folders), the installed
 * share/magassay/profiles, then the built-in profile. MG_ERR_NOT_FOUND naming
 * what was tried. */
int mg_icp_profile_find_(const char *man, const char *model, const char *fw, mg_icp_profile **out);

/* Glob with '*' and '?', case-insensitive. */
int mg_icp_glob(const char *pattern, const char *text);

/* A spectral window from the answer to [fetch] window (and, for the
 * intensities layout, the wavelengths from [fetch] wavelengths). Validates:
 * 3..pixels_max pixels, finite values, strictly increasing wavelengths. */
int mg_icp_parse_window(const mg_icp_profile *p, const char *msg, size_t n, const double *wavelengths,
                        size_t nwl, mg_icp_window *w);
/* Wavelengths alone (answer to [fetch] wavelengths). */
int mg_icp_parse_wavelengths(const mg_icp_profile *p, const char *msg, size_t n, double *wl, size_t cap,
                             size_t *count);
/* The answer to [plasma] query. */
int mg_icp_parse_plasma(const mg_icp_profile *p, const char *msg, size_t n, mg_icp_plasma *out);

#endif
