/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 64-byte status: every field from hand-built bytes, flag bits one by
 * one, encode/decode identities, the .mca "DPP STATUS" lines. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "dp5_tests.h"
#include "magassay/dp5.h"
#include "magassay/error.h"
#include "magassay/spectrum.h"

static const uint8_t hand[64] = {
	0x04, 0x03, 0x02, 0x01, /* 0-3 fast 0x01020304 = 16909060 */
	0x40, 0x42, 0x0F, 0x00, /* 4-7 slow 1000000 */
	0xEF, 0xBE, 0xAD, 0xDE, /* 8-11 GP 0xDEADBEEF */
	57,                     /* 12 acc ms */
	0x58, 0x02, 0x00,       /* 13-15 acc 600 x 100 ms → 60.057 s */
	0x39, 0x30, 0x00, 0x00, /* 16-19 live 12345 ms */
	0x32, 0xEF, 0x00, 0x00, /* 20-23 real 61234 ms */
	0x68,                   /* 24 FW 6.08 */
	0x64,                   /* 25 FPGA 6.04 */
	0x40, 0xE2, 0x01, 0x00, /* 26-29 serial 123456 */
	0xFD, 0x44,             /* 30-31 HV BE -700 → -350 V */
	0xF9, 0x08,             /* 32-33 det temp BE 12 bits 0x908 = 2312 → 231.2 K (high nibble ignored) */
	0xDD,                   /* 34 board -35 C */
	0xA2,                   /* 35 1010 0010: real-time preset done, MCA enabled, gated (bit3 0), configured */
	0x21,                   /* 36 0010 0001: first packet, clock auto */
	0xA7,                   /* 37 build 7 (high nibble ignored) */
	0x9F,                   /* 38 1001 1111: PC5 present only */
	0x00,                   /* 39 DP5 */
	0xF3, 0x2C,             /* 40-41 TEC BE 12 bits 0x32C = 812 */
	0x5A,                   /* 42 options 0xA */
	0xF6,                   /* 43 1111 0110: LMMO 0, 1 us clock, sync 2 */
	0xFE, 0x10,             /* 44-45 AN_IN BE 10 bits 0x210 = 528 */
	0x03, 0x2A,             /* 46-47 seq running, index 0x12A = 298 */
	0x77,                   /* 48 reserved */
	0x5C,                   /* 49 ECO */
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, /* 50-63 reserved */
};

/* The bits the codec defines; everything else is reserved. */
static const uint8_t defined_mask[64] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0x0F, 0xFF, 0xFF, 0xFE, 0xE3, 0x0F, 0xE0, 0xFF, 0x0F, 0xFF, 0x0F, 0x0F, 0x03, 0xFF, 0x03, 0xFF,
	0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_hand_built(void)
{
	mg_dp5_status st;
	CHECK_RC(mg_dp5_status_decode(hand, 64, &st), MG_OK);
	CHECK(st.fast_count == 16909060u);
	CHECK(st.slow_count == 1000000u);
	CHECK(st.gp_count == 0xDEADBEEFu);
	CHECK(st.acc_time_ms == 57 && st.acc_time_100ms == 600);
	CHECK_NEAR(st.accumulation_s, 60.057, 1e-12);
	CHECK(st.live_time_ms == 12345);
	CHECK_NEAR(st.live_s, 12.345, 1e-12);
	CHECK(st.real_time_ms == 61234);
	CHECK_NEAR(st.real_s, 61.234, 1e-12);
	CHECK(st.fw_major == 6 && st.fw_minor == 8);
	CHECK(st.fpga_major == 6 && st.fpga_minor == 4);
	CHECK(st.serial_number == 123456 && st.serial_valid);
	CHECK(st.hv_raw == -700);
	CHECK_NEAR(st.hv_v, -350.0, 1e-12);
	CHECK(st.det_temp_raw == 2312);
	CHECK_NEAR(st.det_temp_k, 231.2, 1e-9);
	CHECK(st.board_temp_c == -35);
	CHECK(st.preset_real_time_done && !st.afast_locked && st.mca_enabled && !st.preset_count_done);
	CHECK(st.gated && !st.scope_ready && st.configured);
	CHECK(!st.aoffset_searching && !st.mcs_done && st.first_packet && !st.fpga_clock_80mhz && st.fpga_clock_auto);
	CHECK(st.fw_build == 7);
	CHECK(st.pc5_present && !st.pc5_hv_positive && !st.pc5_preamp_8_5v);
	CHECK(st.device_type == MG_DP5_DEV_DP5);
	CHECK(st.tec_raw == 812);
	CHECK_NEAR(st.tec_v, 812.0 / 758.5, 1e-12);
	CHECK(st.dpp_options == 0x0A);
	CHECK(!st.lm_lmmo && st.lm_clock_1us && st.lm_sync_source == 2);
	CHECK(st.an_in_raw == 528);
	CHECK_NEAR(st.an_in_v, 528.0 / 419.7, 1e-12);
	CHECK(st.seq_running && st.seq_index == 298);
	CHECK(st.eco == 0x5C);
	/* Derived. */
	CHECK_NEAR(st.dead_time_pct, 100.0 * (1.0 - 1000000.0 / 16909060.0), 1e-9);
	CHECK_NEAR(st.dead_time_pct, 94.086, 0.001);
	CHECK_NEAR(st.input_rate_cps, 16909060.0 / 61.234, 1e-6);
	CHECK_NEAR(st.output_rate_cps, 1000000.0 / 60.057, 1e-6);
	CHECK_NEAR(st.effective_live_s, 60.057, 1e-12); /* a DP5: accumulation time */

	/* Encoding gives back the defined bits, reserved ones zero. */
	uint8_t out[64];
	CHECK_RC(mg_dp5_status_encode(&st, out), MG_OK);
	uint8_t masked[64];
	for (int i = 0; i < 64; i++)
		masked[i] = hand[i] & defined_mask[i];
	CHECK(dp5_bytes_equal("status encode", out, masked, 64));

	/* Wrong lengths. */
	CHECK_RC(mg_dp5_status_decode(hand, 63, &st), MG_ERR_PROTOCOL);
	CHECK_RC(mg_dp5_status_decode(hand, 65, &st), MG_ERR_PROTOCOL);
	CHECK_RC(mg_dp5_status_decode(NULL, 64, &st), MG_ERR_ARG);
	CHECK_RC(mg_dp5_status_decode(hand, 64, NULL), MG_ERR_ARG);
}

static void test_big_endian_and_signed(void)
{
	uint8_t d[64];
	mg_dp5_status st;
	static const struct {
		uint8_t hi, lo;
		int raw;
	} hv[] = {{0x01, 0x5E, 350}, {0x00, 0x01, 1}, {0xFF, 0xFF, -1}, {0x80, 0x00, -32768}, {0x7F, 0xFF, 32767}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(hv); i++) {
		memset(d, 0, sizeof(d));
		d[30] = hv[i].hi;
		d[31] = hv[i].lo;
		CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
		CHECK(st.hv_raw == hv[i].raw);
		CHECK_NEAR(st.hv_v, hv[i].raw * 0.5, 1e-12);
	}
	memset(d, 0, sizeof(d));
	d[32] = 0x0F, d[33] = 0xFF; /* det temp max */
	d[34] = 0x7F;               /* board +127 */
	d[40] = 0xFF, d[41] = 0xFF; /* TEC: 12 bits */
	d[44] = 0xFF, d[45] = 0xFF; /* AN_IN: 10 bits */
	d[46] = 0xFD, d[47] = 0xFF; /* seq: not running (bit1 0), index 511 */
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.det_temp_raw == 4095);
	CHECK_NEAR(st.det_temp_k, 409.5, 1e-9);
	CHECK(st.board_temp_c == 127);
	CHECK(st.tec_raw == 4095);
	CHECK_NEAR(st.tec_v, 4095 / 758.5, 1e-12);
	CHECK(st.an_in_raw == 1023);
	CHECK_NEAR(st.an_in_v, 1023 / 419.7, 1e-12);
	CHECK(!st.seq_running && st.seq_index == 511);
	d[34] = 0x80;
	d[33] = 0x00, d[32] = 0x01; /* 0x100 = 256 → 25.6 K: the MSB is the high byte */
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.board_temp_c == -128);
	CHECK(st.det_temp_raw == 256);

	/* Little-endian u32 fields: only the MSB set. */
	memset(d, 0, sizeof(d));
	d[3] = 0x80, d[7] = 0x01, d[11] = 0xFF, d[19] = 0x02, d[23] = 0x03, d[15] = 0x01;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.fast_count == 0x80000000u && st.slow_count == 0x01000000u && st.gp_count == 0xFF000000u);
	CHECK(st.live_time_ms == 0x02000000u && st.real_time_ms == 0x03000000u);
	CHECK(st.acc_time_100ms == 0x010000u);

	/* Serial number validity: byte 29 >= 128 is invalid. */
	memset(d, 0, sizeof(d));
	d[26] = 1, d[29] = 0x7F;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.serial_valid && st.serial_number == 0x7F000001u);
	d[29] = 0x80;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(!st.serial_valid);
	d[29] = 0xFF;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(!st.serial_valid);

	/* Version nibbles. */
	d[24] = 0xF0, d[25] = 0x0F;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.fw_major == 15 && st.fw_minor == 0 && st.fpga_major == 0 && st.fpga_minor == 15);
}

/* The named flags, in a fixed order, and where each lives. */
#define NFLAGS 18
static void flags_of(const mg_dp5_status *s, bool f[NFLAGS])
{
	f[0] = s->preset_real_time_done, f[1] = s->afast_locked, f[2] = s->mca_enabled;
	f[3] = s->preset_count_done, f[4] = s->gated, f[5] = s->scope_ready, f[6] = s->configured;
	f[7] = s->aoffset_searching, f[8] = s->mcs_done, f[9] = s->first_packet;
	f[10] = s->fpga_clock_80mhz, f[11] = s->fpga_clock_auto;
	f[12] = s->pc5_present, f[13] = s->pc5_hv_positive, f[14] = s->pc5_preamp_8_5v;
	f[15] = s->lm_lmmo, f[16] = s->lm_clock_1us, f[17] = s->seq_running;
}

static void test_flag_bits(void)
{
	static const struct {
		int byte, bit, flag;
	} where[NFLAGS] = {
		{35, 7, 0},  {35, 6, 1},  {35, 5, 2},  {35, 4, 3},  {35, 3, 4},  {35, 2, 5},
		{35, 1, 6},  {36, 7, 7},  {36, 6, 8},  {36, 5, 9},  {36, 1, 10}, {36, 0, 11},
		{38, 7, 12}, {38, 6, 13}, {38, 5, 14}, {43, 3, 15}, {43, 2, 16}, {46, 1, 17},
	};
	uint8_t d[64], out[64];
	mg_dp5_status st;
	bool base[NFLAGS], f[NFLAGS];
	memset(d, 0, sizeof(d));
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	flags_of(&st, base);
	for (int i = 0; i < NFLAGS; i++)
		CHECK(base[i] == (i == 4)); /* all clear but "gated": bit3 = 0 means gated */
	for (int i = 0; i < NFLAGS; i++) {
		memset(d, 0, sizeof(d));
		d[where[i].byte] = (uint8_t)(1u << where[i].bit);
		CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
		flags_of(&st, f);
		for (int j = 0; j < NFLAGS; j++)
			CHECK_MSG(f[j] == (j == where[i].flag ? !base[j] : base[j]), "byte %d bit %d: flag %d",
			          where[i].byte, where[i].bit, j);
		CHECK_RC(mg_dp5_status_encode(&st, out), MG_OK);
		CHECK(memcmp(out, d, 64) == 0);
	}
	/* Reserved bits of the flag bytes change nothing and encode as 0. */
	static const struct {
		int byte;
		uint8_t bits;
	} reserved[] = {{35, 0x01}, {36, 0x1C}, {38, 0x1F}, {43, 0xF0}, {46, 0xFC}};
	for (size_t i = 0; i < MG_ARRAY_SIZE(reserved); i++) {
		memset(d, 0, sizeof(d));
		d[reserved[i].byte] = reserved[i].bits;
		CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
		flags_of(&st, f);
		CHECK(memcmp(f, base, sizeof(f)) == 0);
		CHECK(st.lm_sync_source == 0 && st.seq_index == 0);
		CHECK_RC(mg_dp5_status_encode(&st, out), MG_OK);
		CHECK(out[reserved[i].byte] == 0);
	}
	/* Sync source: bits 1:0 of byte 43. */
	for (int s = 0; s < 4; s++) {
		memset(d, 0, sizeof(d));
		d[43] = (uint8_t)s;
		CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
		CHECK(st.lm_sync_source == s && !st.lm_lmmo && !st.lm_clock_1us);
	}
}

static void test_device_types(void)
{
	static const char *names[] = {"DP5", "PX5", "DP5G", "MCA8000D", "TB5", "DP5-X"};
	uint8_t d[64];
	mg_dp5_status st;
	for (int t = 0; t < 6; t++) {
		CHECK(strcmp(mg_dp5_device_name(t), names[t]) == 0);
		memset(d, 0, sizeof(d));
		d[39] = (uint8_t)t;
		CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
		CHECK(st.device_type == t);
	}
	CHECK(strcmp(mg_dp5_device_name(6), "unknown") == 0);
	CHECK(strcmp(mg_dp5_device_name(255), "unknown") == 0);
	CHECK(strcmp(mg_dp5_device_name(-1), "unknown") == 0);
}

static void test_derived(void)
{
	uint8_t d[64];
	mg_dp5_status st;
	memset(d, 0, sizeof(d));
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.dead_time_pct == 0.0);
	CHECK(isnan(st.input_rate_cps) && isnan(st.output_rate_cps));
	CHECK(st.accumulation_s == 0.0 && st.real_s == 0.0);

	/* slow > fast: dead time clamps at 0. */
	d[0] = 100, d[4] = 150;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK(st.dead_time_pct == 0.0);
	/* slow == 0, fast > 0: 100 %. */
	d[4] = 0;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK_NEAR(st.dead_time_pct, 100.0, 1e-12);
	/* 25 %. */
	d[0] = 200, d[4] = 150;
	d[12] = 0, d[13] = 20; /* 2.0 s */
	d[20] = 0xA0, d[21] = 0x0F; /* 4000 ms */
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK_NEAR(st.dead_time_pct, 25.0, 1e-12);
	CHECK_NEAR(st.input_rate_cps, 50.0, 1e-12);
	CHECK_NEAR(st.output_rate_cps, 75.0, 1e-12);

	/* MCA8000D: the hardware live time is the effective live time. */
	d[39] = MG_DP5_DEV_MCA8000D;
	d[16] = 0xE8, d[17] = 0x03; /* 1000 ms */
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK_NEAR(st.effective_live_s, 1.0, 1e-12);
	CHECK_NEAR(st.accumulation_s, 2.0, 1e-12);

	/* mg_dp5_status_derive recomputes from raw fields. */
	st.acc_time_100ms = 100;
	st.acc_time_ms = 5;
	st.hv_raw = 300;
	st.device_type = MG_DP5_DEV_PX5;
	mg_dp5_status_derive(&st);
	CHECK_NEAR(st.accumulation_s, 10.005, 1e-12);
	CHECK_NEAR(st.effective_live_s, 10.005, 1e-12);
	CHECK_NEAR(st.hv_v, 150.0, 1e-12);
	mg_dp5_status_derive(NULL); /* no crash */
}

static void randomize_raw(mg_dp5_status *s)
{
	memset(s, 0, sizeof(*s));
	s->fast_count = dp5_rand();
	s->slow_count = dp5_rand();
	s->gp_count = dp5_rand();
	s->acc_time_ms = (uint8_t)dp5_rand();
	s->acc_time_100ms = dp5_rand() & 0xFFFFFF;
	s->live_time_ms = dp5_rand();
	s->real_time_ms = dp5_rand();
	s->fw_major = dp5_rand() & 15, s->fw_minor = dp5_rand() & 15;
	s->fpga_major = dp5_rand() & 15, s->fpga_minor = dp5_rand() & 15;
	s->serial_number = dp5_rand();
	s->hv_raw = (int16_t)(int)((dp5_rand() & 0xFFFF) - 0x8000);
	s->det_temp_raw = dp5_rand() & 0xFFF;
	s->board_temp_c = (int8_t)(int)((dp5_rand() & 0xFF) - 0x80);
	uint32_t f = dp5_rand();
	s->preset_real_time_done = f & 1, s->afast_locked = (f >> 1) & 1, s->mca_enabled = (f >> 2) & 1;
	s->preset_count_done = (f >> 3) & 1, s->gated = (f >> 4) & 1, s->scope_ready = (f >> 5) & 1;
	s->configured = (f >> 6) & 1, s->aoffset_searching = (f >> 7) & 1, s->mcs_done = (f >> 8) & 1;
	s->first_packet = (f >> 9) & 1, s->fpga_clock_80mhz = (f >> 10) & 1, s->fpga_clock_auto = (f >> 11) & 1;
	s->pc5_present = (f >> 12) & 1, s->pc5_hv_positive = (f >> 13) & 1, s->pc5_preamp_8_5v = (f >> 14) & 1;
	s->lm_lmmo = (f >> 15) & 1, s->lm_clock_1us = (f >> 16) & 1, s->seq_running = (f >> 17) & 1;
	s->fw_build = dp5_rand() & 15;
	s->device_type = (uint8_t)dp5_rand();
	s->tec_raw = dp5_rand() & 0xFFF;
	s->dpp_options = dp5_rand() & 15;
	s->lm_sync_source = dp5_rand() & 3;
	s->an_in_raw = dp5_rand() & 0x3FF;
	s->seq_index = dp5_rand() & 0x1FF;
	s->eco = (uint8_t)dp5_rand();
}

static int raw_equal(const mg_dp5_status *a, const mg_dp5_status *b)
{
	bool fa[NFLAGS], fb[NFLAGS];
	flags_of(a, fa);
	flags_of(b, fb);
	return a->fast_count == b->fast_count && a->slow_count == b->slow_count && a->gp_count == b->gp_count &&
	       a->acc_time_ms == b->acc_time_ms && a->acc_time_100ms == b->acc_time_100ms &&
	       a->live_time_ms == b->live_time_ms && a->real_time_ms == b->real_time_ms &&
	       a->fw_major == b->fw_major && a->fw_minor == b->fw_minor && a->fpga_major == b->fpga_major &&
	       a->fpga_minor == b->fpga_minor && a->serial_number == b->serial_number && a->hv_raw == b->hv_raw &&
	       a->det_temp_raw == b->det_temp_raw && a->board_temp_c == b->board_temp_c &&
	       memcmp(fa, fb, sizeof(fa)) == 0 && a->fw_build == b->fw_build && a->device_type == b->device_type &&
	       a->tec_raw == b->tec_raw && a->dpp_options == b->dpp_options &&
	       a->lm_sync_source == b->lm_sync_source && a->an_in_raw == b->an_in_raw &&
	       a->seq_index == b->seq_index && a->eco == b->eco;
}

static void test_identities(void)
{
	dp5_srand(99);
	uint8_t d[64], out[64], masked[64];
	mg_dp5_status st, st2;
	int bad_bytes = 0, bad_struct = 0;
	for (int iter = 0; iter < 2000; iter++) {
		/* bytes → struct → bytes: the defined bits come back. */
		for (int i = 0; i < 64; i++)
			d[i] = (uint8_t)dp5_rand();
		CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
		CHECK_RC(mg_dp5_status_encode(&st, out), MG_OK);
		for (int i = 0; i < 64; i++)
			masked[i] = d[i] & defined_mask[i];
		if (memcmp(out, masked, 64) != 0 && bad_bytes++ == 0)
			CHECK(dp5_bytes_equal("encode(decode(bytes))", out, masked, 64));
		/* struct → bytes → struct: every raw field comes back. */
		randomize_raw(&st);
		CHECK_RC(mg_dp5_status_encode(&st, out), MG_OK);
		CHECK_RC(mg_dp5_status_decode(out, 64, &st2), MG_OK);
		if (!raw_equal(&st, &st2))
			bad_struct++;
	}
	CHECK_MSG(bad_bytes == 0, "%d byte identities failed", bad_bytes);
	CHECK_MSG(bad_struct == 0, "%d struct identities failed", bad_struct);

	/* Values that do not fit are refused, naming the field. */
	static const char *fields[] = {"acc_time_100ms", "fw_major", "fw_minor", "fpga_major", "fpga_minor",
	                               "det_temp_raw", "fw_build", "tec_raw", "dpp_options", "lm_sync_source",
	                               "an_in_raw", "seq_index"};
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++) {
		mg_dp5_status s;
		memset(&s, 0, sizeof(s));
		switch (i) {
		case 0: s.acc_time_100ms = 0x1000000; break;
		case 1: s.fw_major = 16; break;
		case 2: s.fw_minor = 16; break;
		case 3: s.fpga_major = 16; break;
		case 4: s.fpga_minor = 16; break;
		case 5: s.det_temp_raw = 4096; break;
		case 6: s.fw_build = 16; break;
		case 7: s.tec_raw = 4096; break;
		case 8: s.dpp_options = 16; break;
		case 9: s.lm_sync_source = 4; break;
		case 10: s.an_in_raw = 1024; break;
		case 11: s.seq_index = 512; break;
		}
		CHECK_RC(mg_dp5_status_encode(&s, out), MG_ERR_ARG);
		CHECK_MSG(strstr(mg_error_detail(), fields[i]) != NULL, "%s: %s", fields[i], mg_error_detail());
	}
	CHECK_RC(mg_dp5_status_encode(NULL, out), MG_ERR_ARG);

	/* The 80 01 response through the whole path. */
	uint8_t pkt[80];
	randomize_raw(&st);
	CHECK_RC(mg_dp5_pack_status(&st, pkt, sizeof(pkt)), 72);
	CHECK(pkt[2] == 0x80 && pkt[3] == 0x01 && pkt[4] == 0 && pkt[5] == 64 && dp5_checksum_ok(pkt, 72));
	mg_dp5_packet p;
	mg_dp5_response r;
	size_t used;
	CHECK_RC(mg_dp5_parse(pkt, 72, &p, &used), MG_OK);
	CHECK_RC(mg_dp5_classify(&p, &r), MG_OK);
	CHECK(r.kind == MG_DP5_RSP_STATUS);
	CHECK_RC(mg_dp5_status_decode(r.status, 64, &st2), MG_OK);
	CHECK(raw_equal(&st, &st2));
	CHECK_RC(mg_dp5_pack_status(&st, pkt, 71), MG_ERR_ARG);
}

static void test_kvlist(void)
{
	mg_dp5_status st;
	CHECK_RC(mg_dp5_status_decode(hand, 64, &st), MG_OK);
	mg_kvlist l = {0};
	CHECK_RC(mg_dp5_status_to_kvlist(&st, &l), MG_OK);
	static const char *want[13][2] = {
		{"Device Type", "DP5"},
		{"Serial Number", "123456"},
		{"Firmware", "6.08 Build 7"},
		{"FPGA", "6.04"},
		{"Fast Count", "16909060"},
		{"Slow Count", "1000000"},
		{"GP Count", "3735928559"},
		{"Accumulation Time", "60.057"},
		{"Real Time", "61.234"},
		{"Dead Time", "94.09%"},
		{"HV Volt", "-350.0V"},
		{"TEC Temp", "231.2K"},
		{"Board Temp", "-35(C)"},
	};
	CHECK(l.count == 13);
	for (size_t i = 0; i < 13 && i < l.count; i++) {
		CHECK_MSG(strcmp(l.items[i].key, want[i][0]) == 0, "line %zu key \"%s\"", i, l.items[i].key);
		CHECK_MSG(strcmp(l.items[i].value, want[i][1]) == 0, "%s: \"%s\", wanted \"%s\"", want[i][0],
		          l.items[i].value, want[i][1]);
	}
	/* Rendering again replaces, does not duplicate. */
	uint8_t d[64];
	memcpy(d, hand, 64);
	d[24] = 0x65;               /* FW 6.05: no build number */
	d[29] = 0x80;               /* invalid serial */
	d[39] = MG_DP5_DEV_MCA8000D;
	d[30] = 0x01, d[31] = 0x5E; /* +175 V */
	d[34] = 35;
	CHECK_RC(mg_dp5_status_decode(d, 64, &st), MG_OK);
	CHECK_RC(mg_dp5_status_to_kvlist(&st, &l), MG_OK);
	CHECK(l.count == 13);
	CHECK(strcmp(mg_kvlist_get(&l, "Device Type"), "MCA8000D") == 0);
	CHECK(strcmp(mg_kvlist_get(&l, "Serial Number"), "invalid") == 0);
	CHECK(strcmp(mg_kvlist_get(&l, "Firmware"), "6.05") == 0);
	CHECK(strcmp(mg_kvlist_get(&l, "HV Volt"), "175.0V") == 0);
	CHECK(strcmp(mg_kvlist_get(&l, "Board Temp"), "35(C)") == 0);
	mg_kvlist_clear(&l);
	CHECK_RC(mg_dp5_status_to_kvlist(NULL, &l), MG_ERR_ARG);
	CHECK_RC(mg_dp5_status_to_kvlist(&st, NULL), MG_ERR_ARG);
}

void test_dp5_status(void)
{
	test_hand_built();
	test_big_endian_and_signed();
	test_flag_bits();
	test_device_types();
	test_derived();
	test_identities();
	test_kvlist();
}
