/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulated DP5's settings: defaults and value rules per mnemonic (an
 * X-123SDD-like unit), and the text configuration set (all or nothing per
 * packet, ACK 05/07 naming the offending command) and readback requests. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/sim/dp5_sim.h"

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


void dp5sim_conf_defaults(mg_dp5sim *s)
{
	for (size_t i = 0; i < s->ntable; i++) {
		const struct conf_rule *r = rule_for(s->table[i].mnemonic);
		snprintf(s->values[i], VAL_MAX, "%s", r ? r->def : "OFF");
	}
}

int dp5sim_ieq(const char *a, const char *b)
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

int dp5sim_parse_number(const char *v, double *x)
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
		if (!dp5sim_parse_number(v, &x))
			return 0;
		for (int n = 256; n <= 8192; n *= 2)
			if (x == n) {
				snprintf(canon, VAL_MAX, "%d", n);
				return 1;
			}
		return 0;
	case R_INT:
		if (!dp5sim_parse_number(v, &x) || x != floor(x) || x < r->lo || x > r->hi)
			return 0;
		snprintf(canon, VAL_MAX, "%.0f", x);
		return 1;
	case R_NUM:
		if (!dp5sim_parse_number(v, &x) || x < r->lo || x > r->hi)
			return 0;
		snprintf(canon, VAL_MAX, r->fmt, x);
		return 1;
	case R_NUM_OFF:
	case R_INT_OFF:
		if (!strcmp(v, "OFF")) {
			snprintf(canon, VAL_MAX, "OFF");
			return 1;
		}
		if (!dp5sim_parse_number(v, &x) || x < r->lo || x > r->hi)
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

void dp5sim_config_set(mg_dp5sim *s, const uint8_t *data, size_t len, mg_buf *out)
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
			dp5sim_ack(s, out, MG_DP5_ACK_BAD_PARAM, c.text, c.len);
			mg_info(DOM, "config: malformed command '%.*s' -> ACK 05", (int)c.len, c.text);
			return;
		}
		int i = dp5sim_conf_index(s, c.mnem);
		if (i < 0 || (!strcmp(c.mnem, "PREL") && s->device_type != MG_DP5_DEV_MCA8000D)) {
			dp5sim_ack(s, out, MG_DP5_ACK_UNRECOG_COMMAND, c.text, c.len);
			mg_info(DOM, "config: unknown command '%.*s' -> ACK 07", (int)c.len, c.text);
			return;
		}
		if (rc == -2 || n == NCONF_MAX || !check_value(c.mnem, c.value, canon[n])) {
			dp5sim_ack(s, out, MG_DP5_ACK_BAD_PARAM, c.text, c.len);
			mg_info(DOM, "config: bad value '%.*s' -> ACK 05", (int)c.len, c.text);
			return;
		}
		idx[n++] = i;
	}
	size_t old_nchan = s->nchan;
	for (size_t k = 0; k < n; k++) {
		const char *mnem = s->table[idx[k]].mnemonic;
		if (!strcmp(mnem, "RESC")) {
			dp5sim_conf_defaults(s);
			dp5sim_set_dirty(s);
			continue;
		}
		if (strcmp(s->values[idx[k]], canon[k]) && model_affecting(mnem))
			dp5sim_set_dirty(s);
		memcpy(s->values[idx[k]], canon[k], VAL_MAX);
		if (!strcmp(mnem, "MCAE")) {
			if (!strcmp(canon[k], "ON") && !s->enabled) {
				s->enabled = 1;
				dp5sim_presets_met(s);
			} else if (!strcmp(canon[k], "OFF")) {
				s->enabled = 0;
			}
		}
	}
	s->configured = 1;
	s->nchan = dp5sim_conf_nchan(s);
	if (s->nchan != old_nchan) /* the MCA restarts with the new channel count */
		dp5sim_clear_spectrum(s);
	mg_info(DOM, "config: %zu command(s) applied", n);
	dp5sim_ack(s, out, MG_DP5_ACK_OK, NULL, 0);
}

void dp5sim_config_get(mg_dp5sim *s, const uint8_t *data, size_t len, mg_buf *out)
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
			dp5sim_ack(s, out, MG_DP5_ACK_BAD_PARAM, c.text, c.len);
			mg_buf_free(&text);
			return;
		}
		int i = dp5sim_conf_index(s, c.mnem);
		if (i < 0 || (!strcmp(c.mnem, "PREL") && s->device_type != MG_DP5_DEV_MCA8000D)) {
			dp5sim_ack(s, out, MG_DP5_ACK_UNRECOG_COMMAND, c.text, c.len);
			mg_info(DOM, "readback: unknown command '%.*s' -> ACK 07", (int)c.len, c.text);
			mg_buf_free(&text);
			return;
		}
		mg_buf_printf(&text, "%s=%s;", c.mnem, s->values[i]);
	}
	if (mg_buf_status(&text) || text.len > MG_DP5_MAX_DATA) {
		dp5sim_ack(s, out, MG_DP5_ACK_LEN_ERROR, NULL, 0);
	} else {
		mg_dp5_pack_buf(out, 0x82, 0x07, text.data, text.len);
		mg_info(DOM, "readback: %zu bytes", text.len);
	}
	mg_buf_free(&text);
}
