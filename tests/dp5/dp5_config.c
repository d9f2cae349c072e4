/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text configuration: validation, splitting into packets, readback parsing,
 * the mnemonic table. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dp5_tests.h"
#include "magassay/dp5.h"
#include "magassay/error.h"
#include "magassay/spectrum.h"

static void test_validate(void)
{
	CHECK_RC(mg_dp5_config_validate("MCAC=2048;PRET=60.0;TPEA=4.8;GAIN=20.0;"), 4);
	CHECK_RC(mg_dp5_config_validate("RESC=Y;"), 1);
	CHECK_RC(mg_dp5_config_validate("CON1=OFF;AUO2=ICR;PRET=OFF;THFA=-1.5;GPED=RISING;"), 5);
	static const char *bad[] = {
		"",                    /* empty */
		"MCAC=2048",           /* no ';' */
		"mcac=2048;",          /* lower case */
		"MCA=2048;",           /* 3 letters */
		"MCACX=1;",            /* 5 letters */
		"MCAC=;",              /* empty value */
		"MCAC==1;",            /* '=' in value */
		"MCAC=20 48;",         /* blank in value */
		"MCAC=2048;;",         /* empty command */
		"MCAC=2048; PRET=1;",  /* blank between commands */
		"MCAC=\x01;",          /* control byte */
		"MCAC=\xC3\xA9;",      /* non-ASCII */
		";",                   /* nothing */
		"MCAC;",               /* a readback item, not a setting */
		"MCAC=2048;\n",        /* newline */
		"MC-C=1;",             /* punctuation in mnemonic */
		"MCAC=1;PRET",         /* cut short */
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++)
		CHECK_MSG(mg_dp5_config_validate(bad[i]) == MG_ERR_ARG, "accepted bad config #%zu", i);
	CHECK_RC(mg_dp5_config_validate(NULL), MG_ERR_ARG);
	/* The detail has the byte offset. */
	CHECK_RC(mg_dp5_config_validate("MCAC=2048;PRET=6 0;"), MG_ERR_ARG);
	CHECK_MSG(strstr(mg_error_detail(), "byte 16") != NULL && strstr(mg_error_detail(), "command 2") != NULL,
	          "%s", mg_error_detail());

	/* Value length: 505 fits a 511-byte packet ("XXXX=" + 505 + ";"), 506 does not. */
	char cmd[600];
	memcpy(cmd, "TPEA=", 5);
	memset(cmd + 5, '1', 505);
	strcpy(cmd + 510, ";");
	CHECK_RC(mg_dp5_config_validate(cmd), 1);
	memset(cmd + 5, '1', 506);
	strcpy(cmd + 511, ";");
	CHECK_RC(mg_dp5_config_validate(cmd), MG_ERR_ARG);
}

/* Walk the packets in b: check each is 20 <pid2>, data <= 511 bytes, ends
 * with ';', and return the number; `joined` gets all data concatenated. */
static int walk(const mg_buf *b, uint8_t pid2, char *joined, size_t cap, size_t *sizes, int maxsizes)
{
	size_t off = 0, jl = 0;
	int n = 0;
	while (off < b->len) {
		mg_dp5_packet p;
		size_t used;
		if (mg_dp5_parse(b->data + off, b->len - off, &p, &used) != MG_OK)
			return -1;
		CHECK(p.pid1 == 0x20 && p.pid2 == pid2);
		CHECK(p.len >= 1 && p.len <= 511);
		CHECK(p.data[p.len - 1] == ';');
		if (jl + p.len < cap) {
			memcpy(joined + jl, p.data, p.len);
			jl += p.len;
		}
		if (n < maxsizes)
			sizes[n] = p.len;
		n++;
		off += used;
	}
	joined[jl] = '\0';
	return n;
}

/* Each packet's data is itself a valid command string (never a split command). */
static int packets_valid(const mg_buf *b, int with_value)
{
	size_t off = 0;
	while (off < b->len) {
		mg_dp5_packet p;
		size_t used;
		if (mg_dp5_parse(b->data + off, b->len - off, &p, &used) != MG_OK)
			return 0;
		char *s = malloc(p.len + 1);
		memcpy(s, p.data, p.len);
		s[p.len] = '\0';
		int ok;
		if (with_value) {
			ok = mg_dp5_config_validate(s) > 0;
		} else {
			mg_buf t;
			mg_buf_init(&t);
			ok = mg_dp5_config_get_packets(&t, s) == 1;
			mg_buf_free(&t);
		}
		free(s);
		if (!ok)
			return 0;
		off += used;
	}
	return 1;
}

static void test_split(void)
{
	mg_buf b;
	mg_buf_init(&b);
	static char joined[8192], cfg[8192];
	size_t sizes[16];

	/* 100 x "PRET=60.000;" (12 bytes) = 1200 bytes: 42 commands (504 bytes) fit a packet. */
	cfg[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(cfg, "PRET=60.000;");
	CHECK_RC(mg_dp5_config_set_packets(&b, cfg), 3);
	CHECK(walk(&b, 0x02, joined, sizeof(joined), sizes, 16) == 3);
	CHECK(sizes[0] == 504 && sizes[1] == 504 && sizes[2] == 192);
	CHECK(strcmp(joined, cfg) == 0);
	CHECK(packets_valid(&b, 1));
	CHECK(b.len == 1200 + 3 * 8);

	/* Mixed lengths, > 2 KiB: whole commands, order kept, each packet as full as it can be. */
	cfg[0] = '\0';
	dp5_srand(5);
	for (int i = 0; i < 150; i++) {
		char c[64];
		int vlen = 1 + (int)(dp5_rand() % 20);
		char v[32];
		for (int k = 0; k < vlen; k++)
			v[k] = (char)('0' + dp5_rand() % 10);
		v[vlen] = '\0';
		snprintf(c, sizeof(c), "G%03d=%s;", i, v);
		strcat(cfg, c);
	}
	mg_buf_reset(&b);
	int np = mg_dp5_config_set_packets(&b, cfg);
	CHECK(np >= 4);
	CHECK(walk(&b, 0x02, joined, sizeof(joined), sizes, 16) == np);
	CHECK(strcmp(joined, cfg) == 0);
	CHECK(packets_valid(&b, 1));
	/* Greedy: the next command would not have fitted into the previous packet. */
	{
		size_t pos = 0;
		for (int k = 0; k + 1 < np && k < 16; k++) {
			pos += sizes[k];
			const char *next = strchr(cfg + pos, ';');
			CHECK(next && sizes[k] + (size_t)(next - (cfg + pos) + 1) > 511);
		}
	}

	/* Boundaries: 500 + 11 = 511 bytes → 1 packet; 500 + 12 = 512 → 2 packets. */
	char big[600];
	memcpy(big, "TPEA=", 5);
	memset(big + 5, '7', 494);
	big[499] = ';';
	big[500] = '\0'; /* a 500-byte command */
	snprintf(cfg, sizeof(cfg), "%sGAIN=12345;", big); /* + 11 */
	CHECK(strlen(cfg) == 511);
	mg_buf_reset(&b);
	CHECK_RC(mg_dp5_config_set_packets(&b, cfg), 1);
	CHECK(walk(&b, 0x02, joined, sizeof(joined), sizes, 16) == 1 && sizes[0] == 511);
	snprintf(cfg, sizeof(cfg), "%sGAIN=123456;", big); /* + 12 */
	mg_buf_reset(&b);
	CHECK_RC(mg_dp5_config_set_packets(&b, cfg), 2);
	CHECK(walk(&b, 0x02, joined, sizeof(joined), sizes, 16) == 2 && sizes[0] == 500 && sizes[1] == 12);
	CHECK(strcmp(joined, cfg) == 0);
	/* A full 511-byte command followed by a short one. */
	memset(big + 5, '7', 505);
	big[510] = ';';
	big[511] = '\0';
	snprintf(cfg, sizeof(cfg), "%sMCAC=1024;%s", big, big);
	mg_buf_reset(&b);
	CHECK_RC(mg_dp5_config_set_packets(&b, cfg), 3);
	CHECK(walk(&b, 0x02, joined, sizeof(joined), sizes, 16) == 3);
	CHECK(sizes[0] == 511 && sizes[1] == 10 && sizes[2] == 511);

	/* Errors append nothing. */
	mg_buf_reset(&b);
	mg_buf_append(&b, "zz", 2);
	CHECK_RC(mg_dp5_config_set_packets(&b, "MCAC=1;bad"), MG_ERR_ARG);
	CHECK_RC(mg_dp5_config_set_packets(&b, ""), MG_ERR_ARG);
	CHECK_RC(mg_dp5_config_set_packets(&b, NULL), MG_ERR_ARG);
	CHECK_RC(mg_dp5_config_set_packets(NULL, "MCAC=1;"), MG_ERR_ARG);
	CHECK(b.len == 2);

	/* Readback requests: "CMD;" is 5 bytes, 102 per packet (510 bytes). */
	cfg[0] = '\0';
	for (int i = 0; i < 150; i++)
		strcat(cfg, i % 2 ? "MCAC;" : "TPEA;");
	mg_buf_reset(&b);
	CHECK_RC(mg_dp5_config_get_packets(&b, cfg), 2);
	CHECK(walk(&b, 0x03, joined, sizeof(joined), sizes, 16) == 2 && sizes[0] == 510 && sizes[1] == 240);
	CHECK(strcmp(joined, cfg) == 0);
	CHECK(packets_valid(&b, 0));
	static const char *badget[] = {"", "MCAC", "MCAC=1;", "MCAC;;", "mcac;", "MCAC;GAI;", " MCAC;"};
	mg_buf_reset(&b);
	for (size_t i = 0; i < MG_ARRAY_SIZE(badget); i++)
		CHECK_MSG(mg_dp5_config_get_packets(&b, badget[i]) == MG_ERR_ARG, "accepted \"%s\"", badget[i]);
	CHECK(b.len == 0);
	mg_buf_free(&b);
}

static void test_parse(void)
{
	mg_kvlist l = {0};
	static const char ans[] = "MCAC=2048;GAIN=20.000;ZZZZ=1;";
	CHECK_RC(mg_dp5_config_parse(ans, strlen(ans), &l), 3);
	CHECK(l.count == 3);
	if (l.count == 3) {
		CHECK(strcmp(l.items[0].key, "MCAC") == 0 && strcmp(l.items[0].value, "2048") == 0);
		CHECK(l.items[0].comment && strcmp(l.items[0].comment, "MCA/MCS Channels") == 0);
		CHECK(strcmp(l.items[1].key, "GAIN") == 0 && strcmp(l.items[1].value, "20.000") == 0);
		CHECK(l.items[1].comment && strcmp(l.items[1].comment, "Total Gain (Analog * Fine)") == 0);
		CHECK(strcmp(l.items[2].key, "ZZZZ") == 0 && l.items[2].comment == NULL);
	}
	/* Appends; repeated keys kept in the device's order. */
	CHECK_RC(mg_dp5_config_parse("MCAC=1024;", 10, &l), 1);
	CHECK(l.count == 4 && strcmp(l.items[3].value, "1024") == 0);

	/* Trailing NUL padding is accepted; an empty answer gives 0 entries. */
	static const char padded[] = "PRET=OFF;\0\0\0\0";
	CHECK_RC(mg_dp5_config_parse(padded, sizeof(padded), &l), 1);
	CHECK(l.count == 5 && strcmp(l.items[4].value, "OFF") == 0);
	CHECK_RC(mg_dp5_config_parse("", 0, &l), 0);
	CHECK_RC(mg_dp5_config_parse("\0\0", 2, &l), 0);
	CHECK_RC(mg_dp5_config_parse(NULL, 0, &l), 0);
	CHECK(l.count == 5);

	/* A longest value. */
	char longv[600];
	memcpy(longv, "TPEA=", 5);
	memset(longv + 5, 'X', 505);
	longv[510] = ';';
	CHECK_RC(mg_dp5_config_parse(longv, 511, &l), 1);
	CHECK(l.count == 6 && strlen(l.items[5].value) == 505);
	longv[510] = 'X';
	longv[511] = ';';
	CHECK_RC(mg_dp5_config_parse(longv, 512, &l), MG_ERR_FORMAT);

	/* Malformed: strict errors, the list untouched. */
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{"MCAC=2048", 9},
		{"MCAC=2048;GAIN", 14},
		{"MCAC=20\0" "48;", 11},
		{"MCAC=;", 6},
		{"mcac=1;", 7},
		{"MCAC=1;\r\n", 9},
		{" MCAC=1;", 8},
		{"MCAC=1;\0X", 9},
		{"MCAC:1;", 7},
		{"MCAC=1=2;", 9},
		{";", 1},
		{"MCAC;", 5},
		{"\xF5\xFA", 2},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
		CHECK_MSG(mg_dp5_config_parse(bad[i].s, bad[i].n, &l) == MG_ERR_FORMAT, "accepted readback #%zu", i);
		CHECK(l.count == 6);
	}
	CHECK_RC(mg_dp5_config_parse("MCAC=2048;GAIN=2 0;", 19, &l), MG_ERR_FORMAT);
	CHECK_MSG(strstr(mg_error_detail(), "byte 16") != NULL, "%s", mg_error_detail());
	CHECK_RC(mg_dp5_config_parse("MCAC=1;", 7, NULL), MG_ERR_ARG);
	CHECK_RC(mg_dp5_config_parse(NULL, 3, &l), MG_ERR_ARG);
	mg_kvlist_clear(&l);
}

static void test_table(void)
{
	static const struct {
		const char *m, *d;
	} known[] = {
		{"RESC", "Reset Configuration"},  {"CLCK", "20MHz/80MHz"},        {"TPEA", "Peaking Time"},
		{"GAIN", "Total Gain (Analog * Fine)"}, {"MCAC", "MCA/MCS Channels"}, {"PRET", "Preset Time"},
		{"PRER", "Preset Real Time"},    {"PREC", "Preset Counts"},       {"HVSE", "HV Set"},
		{"TECS", "TEC Set"},             {"THSL", "Slow Threshold"},      {"THFA", "Fast Threshold"},
		{"TLLD", "LLD Threshold"},       {"PURE", "PUR Interval On/Off"}, {"RTDE", "RTD On/Off"},
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(known); i++) {
		const char *d = mg_dp5_config_describe(known[i].m);
		CHECK_MSG(d && strcmp(d, known[i].d) == 0, "%s: \"%s\"", known[i].m, d ? d : "(null)");
	}
	/* Every mnemonic the reference lists (section 8) is described. */
	static const char *ref[] = {
		"RESC", "CLCK", "TPEA", "GAIF", "GAIN", "RESL", "TFLA", "TPFA", "PURE", "RTDE", "MCAS", "MCAC",
		"SOFF", "AINP", "INOF", "GAIA", "CUSP", "PDMD", "THSL", "TLLD", "THFA", "DACO", "DACF", "RTDS",
		"RTDT", "BLRM", "BLRD", "BLRU", "GATE", "AUO1", "AUO2", "PRET", "PRER", "PREL", "PREC", "PRCL",
		"PRCH", "HVSE", "TECS", "PAPZ", "PAPS", "SCOE", "SCOT", "SCOG", "MCSL", "MCSH", "MCST", "TPMO",
		"GPED", "GPIN", "GPME", "GPGA", "GPMC", "MCAE", "VOLU", "CON1", "CON2",
	};
	for (size_t i = 0; i < MG_ARRAY_SIZE(ref); i++)
		CHECK_MSG(mg_dp5_config_describe(ref[i]) != NULL, "%s not described", ref[i]);
	CHECK(mg_dp5_config_describe("XXXX") == NULL);
	CHECK(mg_dp5_config_describe("tpea") == NULL);
	CHECK(mg_dp5_config_describe("TPEAX") == NULL);
	CHECK(mg_dp5_config_describe("") == NULL);
	CHECK(mg_dp5_config_describe(NULL) == NULL);

	/* The table: valid, unique mnemonics, non-empty descriptions. */
	size_t n = 0;
	const mg_dp5_config_entry *t = mg_dp5_config_table(&n);
	CHECK(t != NULL && n == MG_ARRAY_SIZE(ref));
	for (size_t i = 0; i < n; i++) {
		char c[16];
		snprintf(c, sizeof(c), "%s=1;", t[i].mnemonic);
		CHECK(mg_dp5_config_validate(c) == 1);
		CHECK(t[i].description && t[i].description[0]);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(t[i].mnemonic, t[j].mnemonic) != 0);
	}
	CHECK(strcmp(t[0].mnemonic, "RESC") == 0);
}

void test_dp5_config(void)
{
	test_validate();
	test_split();
	test_parse();
	test_table();
}
