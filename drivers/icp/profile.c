/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Instrument profiles: the profile parser (every key known, typed and
 * range-checked; every template compiled with the placeholders its operation
 * offers; errors carry the line number; lines read by ini.c), the built-in
 * profile, files, and the [identify] match. docs/icp-profile.md. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "drivers/icp/protocol.h"
#include "internal.h"

#define DOM "icp"
#ifndef MG_ICP_PROFILE_DIR
#define MG_ICP_PROFILE_DIR "/usr/local/share/magassay/profiles"
#endif

extern const char mg_icp_builtin_profile[];
extern const size_t mg_icp_builtin_profile_size;

/* ------------------------------------------------------------ profile keys */

enum ktype { K_STR, K_NAME, K_TEXT, K_UINT, K_INT, K_DOUBLE, K_QUERY, K_COMMAND, K_TEMPLATE_CMD, K_TEMPLATE_QUERY, K_SPECIAL };

struct key {
	const char *section, *key;
	enum ktype type;
	int required;
	int repeat;       /* may appear several times */
	double min, max;  /* numbers */
	unsigned vars;    /* templates: allowed placeholders (bit masks built at run time) */
};

#define V(x) (1u << (x))
static const struct key keys[] = {
	{"profile", "format", K_UINT, 1, 0, 1, 1, 0},
	{"profile", "name", K_NAME, 1, 0, 0, 0, 0},
	{"profile", "description", K_TEXT, 0, 0, 0, 0, 0},
	{"identify", "query", K_QUERY, 0, 0, 0, 0, 0},
	{"identify", "manufacturer", K_TEXT, 1, 0, 0, 0, 0},
	{"identify", "model", K_TEXT, 1, 0, 0, 0, 0},
	{"identify", "firmware", K_TEXT, 0, 0, 0, 0, 0},
	{"session", "terminator", K_SPECIAL, 0, 0, 0, 0, 0},
	{"session", "timeout_ms", K_UINT, 0, 0, 50, 600000, 0},
	{"session", "init", K_COMMAND, 0, 1, 0, 0, 0},
	{"session", "error_query", K_QUERY, 0, 0, 0, 0, 0},
	{"session", "error_queue_max", K_UINT, 0, 0, 1, 1000, 0},
	{"session", "opc_query", K_QUERY, 0, 0, 0, 0, 0},
	{"plasma", "query", K_QUERY, 1, 0, 0, 0, 0},
	{"plasma", "fields", K_SPECIAL, 1, 0, 0, 0, 0},
	{"plasma", "lit_on", K_TEXT, 0, 0, 0, 0, 0},
	{"lines", "clear", K_TEMPLATE_CMD, 0, 0, 0, 0, 0},
	{"lines", "add", K_TEMPLATE_CMD, 1, 0, 0, 0,
	 V(MG_ICP_VAR_INDEX) | V(MG_ICP_VAR_INDEX0) | V(MG_ICP_VAR_ELEMENT) | V(MG_ICP_VAR_WAVELENGTH) |
	         V(MG_ICP_VAR_LABEL) | V(MG_ICP_VAR_IS)},
	{"lines", "count_query", K_TEMPLATE_QUERY, 0, 0, 0, 0, 0},
	{"lines", "max", K_UINT, 0, 0, 1, MG_ICP_MAX_LINES, 0},
	{"acquisition", "integration", K_TEMPLATE_CMD, 1, 0, 0, 0, V(MG_ICP_VAR_SECONDS)},
	{"acquisition", "integration_min", K_DOUBLE, 0, 0, 0.001, 3600, 0},
	{"acquisition", "integration_max", K_DOUBLE, 0, 0, 0.001, 3600, 0},
	{"acquisition", "replicates", K_TEMPLATE_CMD, 1, 0, 0, 0, V(MG_ICP_VAR_COUNT)},
	{"acquisition", "replicates_max", K_UINT, 0, 0, 1, MG_ICP_MAX_REPLICATES, 0},
	{"run", "position", K_TEMPLATE_CMD, 1, 0, 0, 0, V(MG_ICP_VAR_POSITION)},
	{"run", "position_min", K_INT, 0, 0, 0, 100000, 0},
	{"run", "position_max", K_INT, 0, 0, 0, 100000, 0},
	{"run", "label", K_TEMPLATE_CMD, 0, 0, 0, 0, V(MG_ICP_VAR_LABEL) | V(MG_ICP_VAR_POSITION)},
	{"run", "start", K_TEMPLATE_CMD, 1, 0, 0, 0, V(MG_ICP_VAR_LABEL) | V(MG_ICP_VAR_POSITION)},
	{"run", "wait", K_SPECIAL, 1, 0, 0, 0, 0},
	{"run", "poll_query", K_QUERY, 0, 0, 0, 0, 0},
	{"run", "poll_busy_mask", K_UINT, 0, 0, 1, 2147483647.0, 0},
	{"run", "poll_interval_ms", K_UINT, 0, 0, 0, 60000, 0},
	{"run", "overhead_s", K_DOUBLE, 0, 0, 0, 86400, 0},
	{"run", "count_query", K_TEMPLATE_QUERY, 0, 0, 0, 0, 0},
	{"fetch", "window", K_TEMPLATE_QUERY, 1, 0, 0, 0,
	 V(MG_ICP_VAR_LINE) | V(MG_ICP_VAR_LINE0) | V(MG_ICP_VAR_REPLICATE) | V(MG_ICP_VAR_REPLICATE0) |
	         V(MG_ICP_VAR_ELEMENT) | V(MG_ICP_VAR_WAVELENGTH)},
	{"fetch", "wavelengths", K_TEMPLATE_QUERY, 0, 0, 0, 0,
	 V(MG_ICP_VAR_LINE) | V(MG_ICP_VAR_LINE0) | V(MG_ICP_VAR_ELEMENT) | V(MG_ICP_VAR_WAVELENGTH)},
	{"fetch", "format", K_SPECIAL, 1, 0, 0, 0, 0},
	{"fetch", "number", K_SPECIAL, 0, 0, 0, 0, 0},
	{"fetch", "byte_order", K_SPECIAL, 0, 0, 0, 0, 0},
	{"fetch", "layout", K_SPECIAL, 0, 0, 0, 0, 0},
	{"fetch", "pixels_max", K_UINT, 0, 0, 3, MG_ICP_MAX_PIXELS, 0},
};
static const char *const sections[] = {"profile", "identify", "session", "plasma", "lines", "acquisition", "run", "fetch"};
static const int section_required[] = {1, 1, 0, 1, 1, 1, 1, 1};

struct parse {
	mg_icp_profile *p;
	const char *source;
	int seen_section[MG_ARRAY_SIZE(sections)];
	long seen_key[MG_ARRAY_SIZE(keys)]; /* line of the key, 0 if absent */
	const char *cur;
};

static int section_index(const char *s)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(sections); i++)
		if (!strcmp(sections[i], s))
			return (int)i;
	return -1;
}

static int dupstr(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? MG_OK : mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
}

static mg_icp_template *template_for(mg_icp_profile *p, const char *section, const char *key)
{
	static const struct {
		const char *s, *k;
		size_t off;
	} map[] = {
		{"lines", "clear", offsetof(mg_icp_profile, lines_clear)},
		{"lines", "add", offsetof(mg_icp_profile, lines_add)},
		{"lines", "count_query", offsetof(mg_icp_profile, lines_count)},
		{"acquisition", "integration", offsetof(mg_icp_profile, integration)},
		{"acquisition", "replicates", offsetof(mg_icp_profile, replicates)},
		{"run", "position", offsetof(mg_icp_profile, position)},
		{"run", "label", offsetof(mg_icp_profile, label)},
		{"run", "start", offsetof(mg_icp_profile, start)},
		{"run", "count_query", offsetof(mg_icp_profile, run_count)},
		{"fetch", "window", offsetof(mg_icp_profile, window)},
		{"fetch", "wavelengths", offsetof(mg_icp_profile, wavelengths)},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(map); i++)
		if (!strcmp(map[i].s, section) && !strcmp(map[i].k, key))
			return (mg_icp_template *)((char *)p + map[i].off);
	return NULL;
}

static int parse_number_value(const struct key *k, const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !isfinite(d))
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' is not a number", k->key, v);
	if (k->type != K_DOUBLE && d != floor(d))
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' is not a whole number", k->key, v);
	if (d < k->min || d > k->max)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s: %s is out of range (%g to %g)", k->key, v, k->min, k->max);
	*out = d;
	return MG_OK;
}

static int special(struct parse *ps, const char *section, const char *key, const char *v)
{
	mg_icp_profile *p = ps->p;
	if (!strcmp(key, "terminator")) {
		if (!strcasecmp(v, "LF"))
			snprintf(p->terminator, sizeof(p->terminator), "\n");
		else if (!strcasecmp(v, "CRLF"))
			snprintf(p->terminator, sizeof(p->terminator), "\r\n");
		else
			return mg_fail(MG_ERR_FORMAT, DOM, "terminator: '%s' (LF or CRLF)", v);
		return MG_OK;
	}
	if (!strcmp(section, "plasma") && !strcmp(key, "fields")) {
		static const struct {
			const char *name;
			mg_icp_plasma_field f;
		} names[] = {{"-", MG_ICP_PF_SKIP},
		             {"lit", MG_ICP_PF_LIT},
		             {"rf_power_w", MG_ICP_PF_RF_POWER},
		             {"nebulizer_flow_lmin", MG_ICP_PF_NEBULIZER},
		             {"plasma_flow_lmin", MG_ICP_PF_PLASMA_FLOW},
		             {"aux_flow_lmin", MG_ICP_PF_AUX}};
		p->nplasma_fields = 0;
		int have_lit = 0;
		const char *s = v;
		while (*s) {
			const char *c = strchr(s, ',');
			size_t len = c ? (size_t)(c - s) : strlen(s);
			const char *w = s;
			while (len && isspace((unsigned char)*w))
				w++, len--;
			while (len && isspace((unsigned char)w[len - 1]))
				len--;
			int f = -1;
			for (size_t i = 0; i < MG_ARRAY_SIZE(names); i++)
				if (strlen(names[i].name) == len && !strncmp(names[i].name, w, len))
					f = (int)names[i].f;
			if (f < 0)
				return mg_fail(MG_ERR_FORMAT, DOM,
				               "fields: unknown field '%.*s' (lit, rf_power_w, nebulizer_flow_lmin, plasma_flow_lmin, "
				               "aux_flow_lmin, or - to skip one)",
				               (int)(len > 30 ? 30 : len), w);
			if (p->nplasma_fields >= MG_ICP_MAX_PLASMA_FIELDS)
				return mg_fail(MG_ERR_FORMAT, DOM, "fields: more than %d", MG_ICP_MAX_PLASMA_FIELDS);
			for (size_t i = 0; i < p->nplasma_fields; i++)
				if (f != MG_ICP_PF_SKIP && (int)p->plasma_fields[i] == f)
					return mg_fail(MG_ERR_FORMAT, DOM, "fields: '%.*s' given twice", (int)len, w);
			have_lit |= f == MG_ICP_PF_LIT;
			p->plasma_fields[p->nplasma_fields++] = (mg_icp_plasma_field)f;
			if (!c)
				break;
			s = c + 1;
			if (!*s)
				return mg_fail(MG_ERR_FORMAT, DOM, "fields: empty field after the last ','");
		}
		if (!have_lit)
			return mg_fail(MG_ERR_FORMAT, DOM, "fields: 'lit' (plasma on/off) is required");
		return MG_OK;
	}
	if (!strcmp(key, "wait")) {
		if (!strcasecmp(v, "opc"))
			p->wait = MG_ICP_WAIT_OPC;
		else if (!strcasecmp(v, "poll"))
			p->wait = MG_ICP_WAIT_POLL;
		else
			return mg_fail(MG_ERR_FORMAT, DOM, "wait: '%s' (opc or poll)", v);
		return MG_OK;
	}
	if (!strcmp(key, "format")) {
		if (!strcasecmp(v, "block"))
			p->format = MG_ICP_DATA_BLOCK;
		else if (!strcasecmp(v, "ascii"))
			p->format = MG_ICP_DATA_ASCII;
		else
			return mg_fail(MG_ERR_FORMAT, DOM, "format: '%s' (block or ascii)", v);
		return MG_OK;
	}
	if (!strcmp(key, "number")) {
		if (!strcasecmp(v, "real64"))
			p->number = MG_SCPI_REAL64;
		else if (!strcasecmp(v, "real32"))
			p->number = MG_SCPI_REAL32;
		else if (!strcasecmp(v, "int32"))
			p->number = MG_SCPI_INT32;
		else if (!strcasecmp(v, "int16"))
			p->number = MG_SCPI_INT16;
		else
			return mg_fail(MG_ERR_FORMAT, DOM, "number: '%s' (real64, real32, int32 or int16)", v);
		return MG_OK;
	}
	if (!strcmp(key, "byte_order")) {
		if (!strcasecmp(v, "little"))
			p->big_endian = 0;
		else if (!strcasecmp(v, "big"))
			p->big_endian = 1;
		else
			return mg_fail(MG_ERR_FORMAT, DOM, "byte_order: '%s' (little = FORMat:BORDer SWAPped, big = NORMal)", v);
		return MG_OK;
	}
	if (!strcmp(key, "layout")) {
		if (!strcasecmp(v, "pairs"))
			p->layout = MG_ICP_LAYOUT_PAIRS;
		else if (!strcasecmp(v, "intensities"))
			p->layout = MG_ICP_LAYOUT_INTENSITIES;
		else
			return mg_fail(MG_ERR_FORMAT, DOM, "layout: '%s' (pairs or intensities)", v);
		return MG_OK;
	}
	return mg_fail(MG_ERR_INTERNAL, DOM, "no handler for %s", key);
}

static int on_key(const char *section, const char *key, const char *v, long line, void *ud)
{
	struct parse *ps = ud;
	mg_icp_profile *p = ps->p;
	if (!key) {
		int si = section_index(section);
		if (si < 0)
			return mg_fail(MG_ERR_FORMAT, DOM,
			               "unknown section [%s] (known: profile, identify, session, plasma, lines, acquisition, run, fetch)",
			               section);
		if (ps->seen_section[si])
			return mg_fail(MG_ERR_FORMAT, DOM, "section [%s] appears twice", section);
		ps->seen_section[si] = 1;
		return MG_OK;
	}
	int ki = -1;
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
			ki = (int)i;
	if (ki < 0) {
		char list[300] = "";
		for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
			if (!strcmp(keys[i].section, section)) {
				strncat(list, *list ? ", " : "", sizeof(list) - strlen(list) - 1);
				strncat(list, keys[i].key, sizeof(list) - strlen(list) - 1);
			}
		return mg_fail(MG_ERR_FORMAT, DOM, "unknown key '%s' in [%s] (known: %s)", key, section, list);
	}
	const struct key *k = &keys[ki];
	if (ps->seen_key[ki] && !k->repeat)
		return mg_fail(MG_ERR_FORMAT, DOM, "'%s' in [%s] given twice (first on line %ld)", key, section,
		               ps->seen_key[ki]);
	ps->seen_key[ki] = line;
	double d = 0;
	int rc;
	switch (k->type) {
	case K_NAME:
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
				return mg_fail(MG_ERR_FORMAT, DOM, "name: '%s' (letters, digits, '-', '_', '.')", v);
		if (strlen(v) >= sizeof(p->name))
			return mg_fail(MG_ERR_FORMAT, DOM, "name: longer than %zu characters", sizeof(p->name) - 1);
		snprintf(p->name, sizeof(p->name), "%s", v);
		return MG_OK;
	case K_TEXT:
	case K_STR:
		if (!strcmp(key, "description")) {
			if (strlen(v) >= sizeof(p->description))
				return mg_fail(MG_ERR_FORMAT, DOM, "description: longer than %zu characters", sizeof(p->description) - 1);
			snprintf(p->description, sizeof(p->description), "%s", v);
			return MG_OK;
		}
		if (!strcmp(key, "manufacturer"))
			return dupstr(&p->idn_manufacturer, v);
		if (!strcmp(key, "model"))
			return dupstr(&p->idn_model, v);
		if (!strcmp(key, "firmware"))
			return dupstr(&p->idn_firmware, v);
		if (!strcmp(key, "lit_on"))
			return dupstr(&p->lit_on, v);
		return mg_fail(MG_ERR_INTERNAL, DOM, "no target for %s", key);
	case K_UINT:
	case K_INT:
	case K_DOUBLE:
		if ((rc = parse_number_value(k, v, &d)))
			return rc;
		if (!strcmp(key, "format"))
			return MG_OK;
		if (!strcmp(key, "timeout_ms"))
			p->timeout_ms = (unsigned)d;
		else if (!strcmp(key, "error_queue_max"))
			p->error_queue_max = (unsigned)d;
		else if (!strcmp(key, "max"))
			p->lines_max = (size_t)d;
		else if (!strcmp(key, "integration_min"))
			p->integration_min = d;
		else if (!strcmp(key, "integration_max"))
			p->integration_max = d;
		else if (!strcmp(key, "replicates_max"))
			p->replicates_max = (unsigned)d;
		else if (!strcmp(key, "position_min"))
			p->position_min = (int)d;
		else if (!strcmp(key, "position_max"))
			p->position_max = (int)d;
		else if (!strcmp(key, "poll_busy_mask"))
			p->poll_busy_mask = (long)d;
		else if (!strcmp(key, "poll_interval_ms"))
			p->poll_interval_ms = (unsigned)d;
		else if (!strcmp(key, "overhead_s"))
			p->overhead_s = d;
		else if (!strcmp(key, "pixels_max"))
			p->pixels_max = (size_t)d;
		return MG_OK;
	case K_QUERY:
	case K_COMMAND: {
		int q = mg_scpi_count_queries(v, strlen(v));
		if (k->type == K_QUERY && q != 1)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' must be exactly one query (a header ending in '?'), not %d", key,
			               v, q);
		if (k->type == K_COMMAND && q != 0)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' holds a query; its answer would be left unread", key, v);
		if (strchr(v, '{') || strchr(v, '}'))
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: placeholders are not allowed here", key);
		if (!strcmp(key, "init")) {
			if (p->ninit >= MG_ICP_MAX_INIT)
				return mg_fail(MG_ERR_FORMAT, DOM, "init: more than %d messages", MG_ICP_MAX_INIT);
			return dupstr(&p->init[p->ninit++], v);
		}
		if (!strcmp(section, "identify"))
			return dupstr(&p->idn_query, v);
		if (!strcmp(key, "error_query"))
			return dupstr(&p->error_query, v);
		if (!strcmp(key, "opc_query"))
			return dupstr(&p->opc_query, v);
		if (!strcmp(section, "plasma"))
			return dupstr(&p->plasma_query, v);
		if (!strcmp(key, "poll_query"))
			return dupstr(&p->poll_query, v);
		return mg_fail(MG_ERR_INTERNAL, DOM, "no target for %s", key);
	}
	case K_TEMPLATE_CMD:
	case K_TEMPLATE_QUERY: {
		mg_icp_template *t = template_for(p, section, key);
		if (!t)
			return mg_fail(MG_ERR_INTERNAL, DOM, "no template for %s", key);
		rc = mg_icp_template_compile(v, k->vars, t);
		if (rc)
			return mg_fail(rc, DOM, "%s: %s", key, mg_error_detail());
		if (k->type == K_TEMPLATE_QUERY && t->queries != 1)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' must be exactly one query (a header ending in '?')", key, v);
		if (k->type == K_TEMPLATE_CMD && t->queries != 0)
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: '%s' holds a query; its answer would be left unread", key, v);
		return MG_OK;
	}
	case K_SPECIAL:
		return special(ps, section, key, v);
	}
	return MG_OK;
}

void mg_icp_profile_free(mg_icp_profile *p)
{
	if (!p)
		return;
	free(p->source);
	free(p->idn_query);
	free(p->idn_manufacturer);
	free(p->idn_model);
	free(p->idn_firmware);
	for (size_t i = 0; i < p->ninit; i++)
		free(p->init[i]);
	free(p->error_query);
	free(p->opc_query);
	free(p->plasma_query);
	free(p->lit_on);
	free(p->poll_query);
	mg_icp_template *ts[] = {&p->lines_clear, &p->lines_add, &p->lines_count, &p->integration, &p->replicates,
	                         &p->position,    &p->label,     &p->start,       &p->run_count,   &p->window,
	                         &p->wavelengths};
	for (size_t i = 0; i < MG_ARRAY_SIZE(ts); i++)
		mg_icp_template_free(ts[i]);
	free(p);
}

static long key_line(const struct parse *ps, const char *section, const char *key)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
			return ps->seen_key[i];
	return 0;
}

static int finish(struct parse *ps)
{
	mg_icp_profile *p = ps->p;
	const char *src = ps->source;
	for (size_t i = 0; i < MG_ARRAY_SIZE(sections); i++)
		if (section_required[i] && !ps->seen_section[i])
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: section [%s] is missing", src, sections[i]);
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
		if (keys[i].required && !ps->seen_key[i])
			return mg_fail(MG_ERR_FORMAT, DOM, "%s: [%s] needs '%s'", src, keys[i].section, keys[i].key);
	/* defaults */
	if (!p->terminator[0])
		snprintf(p->terminator, sizeof(p->terminator), "\n");
	if (!p->timeout_ms)
		p->timeout_ms = 2000;
	if (!p->idn_query && dupstr(&p->idn_query, "*IDN?"))
		return MG_ERR_NOMEM;
	if (!p->error_query && dupstr(&p->error_query, "SYSTem:ERRor?"))
		return MG_ERR_NOMEM;
	if (!p->opc_query && dupstr(&p->opc_query, "*OPC?"))
		return MG_ERR_NOMEM;
	if (!p->lit_on && dupstr(&p->lit_on, "1,ON"))
		return MG_ERR_NOMEM;
	if (!p->error_queue_max)
		p->error_queue_max = 32;
	if (!p->lines_max)
		p->lines_max = MG_ICP_MAX_LINES;
	if (!key_line(ps, "acquisition", "integration_min"))
		p->integration_min = 0.01;
	if (!key_line(ps, "acquisition", "integration_max"))
		p->integration_max = 600;
	if (!p->replicates_max)
		p->replicates_max = MG_ICP_MAX_REPLICATES;
	if (!key_line(ps, "run", "position_min"))
		p->position_min = 1;
	if (!key_line(ps, "run", "position_max"))
		p->position_max = 100000;
	if (!key_line(ps, "run", "overhead_s"))
		p->overhead_s = 120;
	if (!key_line(ps, "run", "poll_interval_ms"))
		p->poll_interval_ms = 200;
	if (!p->number)
		p->number = MG_SCPI_REAL64;
	if (!p->layout)
		p->layout = MG_ICP_LAYOUT_PAIRS;
	if (!p->pixels_max)
		p->pixels_max = MG_ICP_MAX_PIXELS;
	/* consistency */
	if (p->integration_min > p->integration_max)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: integration_min %g is above integration_max %g", src,
		               key_line(ps, "acquisition", "integration_min"), p->integration_min, p->integration_max);
	if (p->position_min > p->position_max)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: position_min %d is above position_max %d", src,
		               key_line(ps, "run", "position_min"), p->position_min, p->position_max);
	if (p->wait == MG_ICP_WAIT_POLL && (!p->poll_query || !p->poll_busy_mask))
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: wait = poll needs poll_query and poll_busy_mask", src,
		               key_line(ps, "run", "wait"));
	if (p->wait == MG_ICP_WAIT_OPC && p->poll_query)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: poll_query is set but wait = opc", src,
		               key_line(ps, "run", "poll_query"));
	if (p->layout == MG_ICP_LAYOUT_INTENSITIES && !p->wavelengths.source)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: layout = intensities needs 'wavelengths' (a query)", src,
		               key_line(ps, "fetch", "layout"));
	if (p->layout == MG_ICP_LAYOUT_PAIRS && p->wavelengths.source)
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: 'wavelengths' is only used with layout = intensities", src,
		               key_line(ps, "fetch", "wavelengths"));
	if (p->format == MG_ICP_DATA_ASCII &&
	    (key_line(ps, "fetch", "number") || key_line(ps, "fetch", "byte_order")))
		return mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: number and byte_order apply to format = block only", src,
		               key_line(ps, "fetch", "number") ? key_line(ps, "fetch", "number")
		                                               : key_line(ps, "fetch", "byte_order"));
	return MG_OK;
}

int mg_icp_profile_parse(const char *text, size_t n, const char *source, mg_icp_profile **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_profile_parse: out is NULL");
	*out = NULL;
	if (!text && n)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_profile_parse: NULL text");
	if (!source)
		source = "(profile)";
	mg_icp_profile *p = calloc(1, sizeof(*p));
	struct parse *ps = calloc(1, sizeof(*ps));
	if (!p || !ps || !(p->source = strdup(source))) {
		free(ps);
		mg_icp_profile_free(p);
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	}
	ps->p = p;
	ps->source = source;
	int rc = mg_icp_ini_parse(text ? text : "", n, source, on_key, ps);
	if (rc == MG_OK)
		rc = finish(ps);
	free(ps);
	if (rc) {
		mg_icp_profile_free(p);
		return rc < 0 ? rc : MG_ERR_FORMAT;
	}
	*out = p;
	return MG_OK;
}

int mg_icp_profile_load(const char *path, mg_icp_profile **out)
{
	if (!path || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_profile_load: NULL argument");
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "profile %s: cannot open: %s", path, strerror(errno));
	mg_buf b;
	mg_buf_init(&b);
	char chunk[4096];
	size_t r;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		mg_buf_append(&b, chunk, r);
		if (b.len > (1u << 20)) {
			fclose(f);
			mg_buf_free(&b);
			return mg_fail(MG_ERR_FORMAT, DOM, "profile %s: larger than 1 MiB", path);
		}
	}
	int err = ferror(f);
	fclose(f);
	if (err || mg_buf_status(&b)) {
		mg_buf_free(&b);
		return mg_fail(err ? MG_ERR_IO : MG_ERR_NOMEM, DOM, "profile %s: cannot read", path);
	}
	int rc = mg_icp_profile_parse(b.data ? b.data : "", b.len, path, out);
	mg_buf_free(&b);
	return rc;
}

const char *mg_icp_profile_builtin_text(const char *name, size_t *n)
{
	if (name && strcmp(name, "magassay-sim-icp"))
		return NULL;
	if (n)
		*n = mg_icp_builtin_profile_size;
	return mg_icp_builtin_profile;
}

int mg_icp_profile_builtin(const char *name, mg_icp_profile **out)
{
	size_t n;
	const char *t = mg_icp_profile_builtin_text(name, &n);
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_icp_profile_builtin: out is NULL");
	*out = NULL;
	if (!t)
		return mg_fail(MG_ERR_NOT_FOUND, DOM, "no built-in profile '%s' (built in: magassay-sim-icp)", name);
	return mg_icp_profile_parse(t, n, "(built-in magassay-sim-icp.ini)", out);
}

const char *mg_icp_profile_name(const mg_icp_profile *p)
{
	return p ? p->name : NULL;
}

const char *mg_icp_profile_description(const mg_icp_profile *p)
{
	return p ? p->description : NULL;
}

int mg_icp_profile_matches(const mg_icp_profile *p, const char *manufacturer, const char *model, const char *firmware)
{
	if (!p || !manufacturer || !model)
		return 0;
	return mg_icp_glob(p->idn_manufacturer, manufacturer) && mg_icp_glob(p->idn_model, model) &&
	       (!p->idn_firmware || mg_icp_glob(p->idn_firmware, firmware ? firmware : ""));
}

/* ------------------------------------------------------------ search */

/* Try the .ini files of one folder (sorted by name). 1 and *out on a match. */
static int search_dir(const char *dir, const char *man, const char *model, const char *fw, mg_buf *tried,
                      mg_icp_profile **out)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".ini") || e->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (!found) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			mg_icp_profile *p = NULL;
			if (mg_icp_profile_load(path, &p) != MG_OK) {
				mg_warn(DOM, "skipping profile %s: %s", path, mg_error_detail());
			} else if (mg_icp_profile_matches(p, man, model, fw)) {
				*out = p;
				found = 1;
			} else {
				mg_buf_printf(tried, "%s%s", tried->len ? ", " : "", path);
				mg_icp_profile_free(p);
			}
		}
		free(names[i]);
	}
	free(names);
	return found;
}

int mg_icp_profile_find_(const char *man, const char *model, const char *fw, mg_icp_profile **out)
{
	*out = NULL;
	mg_buf tried;
	mg_buf_init(&tried);
	const char *env = getenv("MAGASSAY_PROFILE_PATH");
	if (env && *env) {
		char *copy = strdup(env);
		char *save = NULL;
		for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save))
			if (search_dir(dir, man, model, fw, &tried, out)) {
				free(copy);
				mg_buf_free(&tried);
				return MG_OK;
			}
		free(copy);
	}
	if (search_dir(MG_ICP_PROFILE_DIR, man, model, fw, &tried, out)) {
		mg_buf_free(&tried);
		return MG_OK;
	}
	mg_icp_profile *b = NULL;
	int rc = mg_icp_profile_builtin(NULL, &b);
	if (rc == MG_OK && mg_icp_profile_matches(b, man, model, fw)) {
		*out = b;
		mg_buf_free(&tried);
		return MG_OK;
	}
	mg_icp_profile_free(b);
	mg_buf_printf(&tried, "%sthe built-in magassay-sim-icp", tried.len ? ", " : "");
	rc = mg_fail(MG_ERR_NOT_FOUND, DOM,
	             "no instrument profile matches '%s,%s' (*IDN?) (tried %s; put a profile in $MAGASSAY_PROFILE_PATH, "
	             "see docs/icp-profile.md)",
	             man, model, tried.data ? tried.data : "");
	mg_buf_free(&tried);
	return rc;
}
