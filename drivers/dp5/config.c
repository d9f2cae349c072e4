/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 text configuration: the table of commands (mnemonics), the syntax
 * check of "CMD=value;" text, its packets (set and readback request), and the
 * readback parsed into a list. Pure, like the codec (protocol.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "magassay/dp5.h"

#define DOM "dp5"

static const mg_dp5_config_entry config_table[] = {
	{"RESC", "Reset Configuration"},
	{"CLCK", "20MHz/80MHz"},
	{"TPEA", "Peaking Time"},
	{"GAIF", "Fine Gain"},
	{"GAIN", "Total Gain (Analog * Fine)"},
	{"RESL", "Detector Reset Lockout"},
	{"TFLA", "Flat Top"},
	{"TPFA", "Fast Channel Peaking Time"},
	{"PURE", "PUR Interval On/Off"},
	{"RTDE", "RTD On/Off"},
	{"MCAS", "MCA Source"},
	{"MCAC", "MCA/MCS Channels"},
	{"SOFF", "Set Spectrum Offset"},
	{"AINP", "Analog Input Pos/Neg"},
	{"INOF", "Input Offset"},
	{"GAIA", "Analog Gain Index"},
	{"CUSP", "Non-Trapezoidal Shaping"},
	{"PDMD", "Peak Detect Mode (Min/Max)"},
	{"THSL", "Slow Threshold"},
	{"TLLD", "LLD Threshold"},
	{"THFA", "Fast Threshold"},
	{"DACO", "DAC Output"},
	{"DACF", "DAC Offset"},
	{"RTDS", "RTD Sensitivity"},
	{"RTDT", "RTD Threshold"},
	{"BLRM", "BLR Mode"},
	{"BLRD", "BLR Down Correction"},
	{"BLRU", "BLR Up Correction"},
	{"GATE", "Gate Control"},
	{"AUO1", "AUX OUT Selection"},
	{"PRET", "Preset Time"},
	{"PRER", "Preset Real Time"},
	{"PREL", "Preset Live Time"},
	{"PREC", "Preset Counts"},
	{"PRCL", "Preset Counts Low Threshold"},
	{"PRCH", "Preset Counts High Threshold"},
	{"HVSE", "HV Set"},
	{"TECS", "TEC Set"},
	{"PAPZ", "Pole-Zero"},
	{"PAPS", "Preamp 8.5/5 (N/A)"},
	{"SCOE", "Scope Trigger Edge"},
	{"SCOT", "Scope Trigger Position"},
	{"SCOG", "Digital Scope Gain"},
	{"MCSL", "MCS Low Threshold"},
	{"MCSH", "MCS High Threshold"},
	{"MCST", "MCS Timebase"},
	{"AUO2", "AUX OUT 2 Selection"},
	{"TPMO", "Test Pulser On/Off"},
	{"GPED", "G.P. Counter Edge"},
	{"GPIN", "G.P. Counter Input"},
	{"GPME", "G.P. Counter Uses MCA_EN?"},
	{"GPGA", "G.P. Counter Uses GATE?"},
	{"GPMC", "G.P. Counter Cleared With MCA Counters?"},
	{"MCAE", "MCA/MCS Enable"},
	{"VOLU", "Speaker On/Off"},
	{"CON1", "Connector 1"},
	{"CON2", "Connector 2"},
};

const mg_dp5_config_entry *mg_dp5_config_table(size_t *count)
{
	if (count)
		*count = MG_ARRAY_SIZE(config_table);
	return config_table;
}

const char *mg_dp5_config_describe(const char *mnemonic)
{
	if (!mnemonic)
		return NULL;
	for (size_t i = 0; i < MG_ARRAY_SIZE(config_table); i++)
		if (strcmp(config_table[i].mnemonic, mnemonic) == 0)
			return config_table[i].description;
	return NULL;
}

#define MNEMONIC_LEN 4
#define VALUE_MAX (MG_DP5_CONFIG_MAX_DATA - MNEMONIC_LEN - 2) /* 505: "XXXX=" + value + ";" fits */

static int mnem_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int value_char(uint8_t c)
{
	return c >= 0x21 && c <= 0x7E && c != ';' && c != '=';
}

/* One command at s[pos..len): "XXXX;" (with_value 0) or "XXXX=value;".
 * On success *end = offset after ';', value at [*vpos, *vpos + *vlen).
 * On failure *err_at is the offending offset and *why says what was wrong. */
static int scan_command(const uint8_t *s, size_t len, size_t pos, int with_value, size_t *end,
                        size_t *vpos, size_t *vlen, size_t *err_at, const char **why)
{
	for (size_t i = 0; i < MNEMONIC_LEN; i++) {
		if (pos + i >= len || !mnem_char(s[pos + i])) {
			*err_at = pos + i;
			*why = pos + i >= len ? "command cut short: a mnemonic has 4 characters"
			                      : "a mnemonic is 4 characters from A-Z and 0-9";
			return -1;
		}
	}
	size_t p = pos + MNEMONIC_LEN;
	*vpos = p;
	*vlen = 0;
	if (with_value) {
		if (p >= len || s[p] != '=') {
			*err_at = p;
			*why = "expected '=' after the mnemonic";
			return -1;
		}
		p++;
		*vpos = p;
		while (p < len && s[p] != ';') {
			if (!value_char(s[p])) {
				*err_at = p;
				*why = "a value holds printable characters only, no blank, ';' or '='";
				return -1;
			}
			p++;
		}
		*vlen = p - *vpos;
		if (*vlen == 0) {
			*err_at = p;
			*why = "empty value";
			return -1;
		}
		if (*vlen > VALUE_MAX) {
			*err_at = *vpos;
			*why = "value too long: a command must fit in one 511-byte packet";
			return -1;
		}
	}
	if (p >= len || s[p] != ';') {
		*err_at = p;
		*why = p >= len ? "missing ';' at the end of the command" : "expected ';' after the mnemonic";
		return -1;
	}
	*end = p + 1;
	return 0;
}

/* Validate a whole command string. Returns the number of commands or a
 * negative code (`code`) with a detail. */
static int scan_all(const uint8_t *s, size_t len, int with_value, int code, const char *what)
{
	if (len == 0)
		return mg_fail(code, DOM, "empty %s", what);
	size_t pos = 0, end, vpos, vlen, at;
	const char *why;
	int count = 0;
	while (pos < len) {
		if (scan_command(s, len, pos, with_value, &end, &vpos, &vlen, &at, &why) != 0) {
			if (at < len) {
				char c[8];
				if (s[at] >= 0x20 && s[at] < 0x7F)
					snprintf(c, sizeof(c), "'%c'", s[at]);
				else
					snprintf(c, sizeof(c), "\\x%02X", s[at]);
				return mg_fail(code, DOM, "%s, command %d, byte %zu (%s): %s", what, count + 1, at,
				               c, why);
			}
			return mg_fail(code, DOM, "%s, command %d, byte %zu (end of text): %s", what, count + 1,
			               at, why);
		}
		count++;
		pos = end;
	}
	return count;
}

int mg_dp5_config_validate(const char *config)
{
	if (!config)
		return mg_fail(MG_ERR_ARG, DOM, "no configuration text");
	return scan_all((const uint8_t *)config, strlen(config), 1, MG_ERR_ARG, "configuration");
}

static int split_packets(mg_buf *out, const char *text, int with_value, uint8_t pid2, const char *what)
{
	if (!out || !text)
		return mg_fail(MG_ERR_ARG, DOM, "%s: NULL argument", what);
	const uint8_t *s = (const uint8_t *)text;
	size_t len = strlen(text);
	int rc = scan_all(s, len, with_value, MG_ERR_ARG, what);
	if (rc < 0)
		return rc;
	size_t old = out->len;
	int npackets = 0;
	size_t start = 0, pos = 0;
	while (pos < len) {
		size_t end, vpos, vlen, at;
		const char *why;
		if (scan_command(s, len, pos, with_value, &end, &vpos, &vlen, &at, &why) != 0)
			return mg_fail(MG_ERR_INTERNAL, DOM, "%s: rescan failed at %zu", what, at);
		if (end - start > MG_DP5_CONFIG_MAX_DATA) {
			/* pos > start here: a single command always fits (VALUE_MAX) */
			rc = mg_dp5_pack_buf(out, 0x20, pid2, s + start, pos - start);
			if (rc < 0)
				goto fail;
			npackets++;
			start = pos;
		}
		pos = end;
	}
	rc = mg_dp5_pack_buf(out, 0x20, pid2, s + start, len - start);
	if (rc < 0)
		goto fail;
	return npackets + 1;
fail:
	if (out->len > old)
		out->len = old;
	return rc;
}

int mg_dp5_config_set_packets(mg_buf *out, const char *config)
{
	return split_packets(out, config, 1, 0x02, "configuration");
}

int mg_dp5_config_get_packets(mg_buf *out, const char *mnemonics)
{
	return split_packets(out, mnemonics, 0, 0x03, "readback request");
}

int mg_dp5_config_parse(const void *data, size_t len, mg_kvlist *out)
{
	if (!out || (!data && len))
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_config_parse: NULL argument");
	const uint8_t *s = data;
	while (len > 0 && s[len - 1] == '\0')
		len--;
	if (len == 0)
		return 0;
	int count = scan_all(s, len, 1, MG_ERR_FORMAT, "configuration readback");
	if (count < 0)
		return count;
	size_t pos = 0;
	while (pos < len) {
		size_t end, vpos, vlen, at;
		const char *why;
		char key[MNEMONIC_LEN + 1], value[VALUE_MAX + 1];
		if (scan_command(s, len, pos, 1, &end, &vpos, &vlen, &at, &why) != 0)
			return mg_fail(MG_ERR_INTERNAL, DOM, "readback rescan failed at %zu", at);
		memcpy(key, s + pos, MNEMONIC_LEN);
		key[MNEMONIC_LEN] = '\0';
		memcpy(value, s + vpos, vlen);
		value[vlen] = '\0';
		if (mg_kvlist_add(out, key, value, mg_dp5_config_describe(key)) != MG_OK)
			return mg_fail(MG_ERR_NOMEM, DOM, "no memory for the configuration readback");
		pos = end;
	}
	return count;
}
