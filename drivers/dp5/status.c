/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DP5 status: the 64-byte status packet decoded and encoded (the
 * simulated device encodes what the driver decodes), its derived values, the
 * status and spectrum + status packets, and the status as "Key: value" lines
 * (Amptek's <<DPP STATUS>> block). Pure, like the codec (protocol.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "magassay/dp5.h"

#define DOM "dp5"

static const char *const device_names[] = {"DP5", "PX5", "DP5G", "MCA8000D", "TB5", "DP5-X"};

const char *mg_dp5_device_name(int type)
{
	if (type < 0 || (size_t)type >= MG_ARRAY_SIZE(device_names))
		return "unknown";
	return device_names[type];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)((v >> 8) & 0xFF);
	p[2] = (uint8_t)((v >> 16) & 0xFF);
	p[3] = (uint8_t)((v >> 24) & 0xFF);
}

static bool bit(uint8_t b, int n)
{
	return (b >> n) & 1;
}

void mg_dp5_status_derive(mg_dp5_status *st)
{
	if (!st)
		return;
	uint64_t acc_ms = (uint64_t)st->acc_time_100ms * 100u + st->acc_time_ms;
	st->accumulation_s = (double)acc_ms / 1000.0;
	st->live_s = st->live_time_ms / 1000.0;
	st->real_s = st->real_time_ms / 1000.0;
	st->effective_live_s = st->device_type == MG_DP5_DEV_MCA8000D ? st->live_s : st->accumulation_s;
	st->hv_v = st->hv_raw * 0.5;
	st->det_temp_k = st->det_temp_raw / 10.0;
	st->tec_v = st->tec_raw / 758.5;
	st->an_in_v = st->an_in_raw / 419.7;
	st->serial_valid = st->serial_number < 0x80000000u;
	if (st->fast_count == 0) {
		st->dead_time_pct = 0.0;
	} else {
		double dt = 100.0 * (1.0 - (double)st->slow_count / (double)st->fast_count);
		st->dead_time_pct = dt < 0.0 ? 0.0 : dt > 100.0 ? 100.0 : dt;
	}
	st->input_rate_cps = st->real_s > 0.0 ? st->fast_count / st->real_s : NAN;
	st->output_rate_cps = st->accumulation_s > 0.0 ? st->slow_count / st->accumulation_s : NAN;
}

int mg_dp5_status_decode(const uint8_t *d, size_t len, mg_dp5_status *st)
{
	if (!st || (!d && len))
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_status_decode: NULL argument");
	if (len != MG_DP5_STATUS_LEN)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "status of %zu bytes: expected %d", len, MG_DP5_STATUS_LEN);
	memset(st, 0, sizeof(*st));
	st->fast_count = le32(d + 0);
	st->slow_count = le32(d + 4);
	st->gp_count = le32(d + 8);
	st->acc_time_ms = d[12];
	st->acc_time_100ms = (uint32_t)d[13] | ((uint32_t)d[14] << 8) | ((uint32_t)d[15] << 16);
	st->live_time_ms = le32(d + 16);
	st->real_time_ms = le32(d + 20);
	st->fw_major = d[24] >> 4;
	st->fw_minor = d[24] & 0x0F;
	st->fpga_major = d[25] >> 4;
	st->fpga_minor = d[25] & 0x0F;
	st->serial_number = le32(d + 26);
	int hv = (d[30] << 8) | d[31];
	st->hv_raw = (int16_t)(hv >= 0x8000 ? hv - 0x10000 : hv);
	st->det_temp_raw = (uint16_t)(((d[32] & 0x0F) << 8) | d[33]);
	st->board_temp_c = (int8_t)(d[34] >= 0x80 ? (int)d[34] - 0x100 : (int)d[34]);
	st->preset_real_time_done = bit(d[35], 7);
	st->afast_locked = bit(d[35], 6);
	st->mca_enabled = bit(d[35], 5);
	st->preset_count_done = bit(d[35], 4);
	st->gated = !bit(d[35], 3);
	st->scope_ready = bit(d[35], 2);
	st->configured = bit(d[35], 1);
	st->aoffset_searching = bit(d[36], 7);
	st->mcs_done = bit(d[36], 6);
	st->first_packet = bit(d[36], 5);
	st->fpga_clock_80mhz = bit(d[36], 1);
	st->fpga_clock_auto = bit(d[36], 0);
	st->fw_build = d[37] & 0x0F;
	st->pc5_present = bit(d[38], 7);
	st->pc5_hv_positive = bit(d[38], 6);
	st->pc5_preamp_8_5v = bit(d[38], 5);
	st->device_type = d[39];
	st->tec_raw = (uint16_t)(((d[40] & 0x0F) << 8) | d[41]);
	st->dpp_options = d[42] & 0x0F;
	st->lm_lmmo = bit(d[43], 3);
	st->lm_clock_1us = bit(d[43], 2);
	st->lm_sync_source = d[43] & 0x03;
	st->an_in_raw = (uint16_t)(((d[44] & 0x03) << 8) | d[45]);
	st->seq_running = bit(d[46], 1);
	st->seq_index = (uint16_t)(((d[46] & 0x01) << 8) | d[47]);
	st->eco = d[49];
	mg_dp5_status_derive(st);
	return MG_OK;
}

#define FIELD_MAX(field, max)                                                                  \
	do {                                                                                   \
		if ((unsigned long)(st->field) > (unsigned long)(max))                         \
			return mg_fail(MG_ERR_ARG, DOM, "status field " #field " = %lu does not fit " \
			               "(max %lu)", (unsigned long)(st->field), (unsigned long)(max));  \
	} while (0)

int mg_dp5_status_encode(const mg_dp5_status *st, uint8_t out[MG_DP5_STATUS_LEN])
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_status_encode: NULL argument");
	FIELD_MAX(acc_time_100ms, 0xFFFFFFu);
	FIELD_MAX(fw_major, 15);
	FIELD_MAX(fw_minor, 15);
	FIELD_MAX(fpga_major, 15);
	FIELD_MAX(fpga_minor, 15);
	FIELD_MAX(det_temp_raw, 0xFFF);
	FIELD_MAX(fw_build, 15);
	FIELD_MAX(tec_raw, 0xFFF);
	FIELD_MAX(dpp_options, 15);
	FIELD_MAX(lm_sync_source, 3);
	FIELD_MAX(an_in_raw, 0x3FF);
	FIELD_MAX(seq_index, 0x1FF);
	uint8_t *d = out;
	memset(d, 0, MG_DP5_STATUS_LEN);
	put_le32(d + 0, st->fast_count);
	put_le32(d + 4, st->slow_count);
	put_le32(d + 8, st->gp_count);
	d[12] = st->acc_time_ms;
	d[13] = (uint8_t)(st->acc_time_100ms & 0xFF);
	d[14] = (uint8_t)((st->acc_time_100ms >> 8) & 0xFF);
	d[15] = (uint8_t)((st->acc_time_100ms >> 16) & 0xFF);
	put_le32(d + 16, st->live_time_ms);
	put_le32(d + 20, st->real_time_ms);
	d[24] = (uint8_t)((st->fw_major << 4) | st->fw_minor);
	d[25] = (uint8_t)((st->fpga_major << 4) | st->fpga_minor);
	put_le32(d + 26, st->serial_number);
	uint16_t hv = (uint16_t)st->hv_raw;
	d[30] = (uint8_t)(hv >> 8);
	d[31] = (uint8_t)(hv & 0xFF);
	d[32] = (uint8_t)(st->det_temp_raw >> 8);
	d[33] = (uint8_t)(st->det_temp_raw & 0xFF);
	d[34] = (uint8_t)st->board_temp_c;
	d[35] = (uint8_t)((st->preset_real_time_done << 7) | (st->afast_locked << 6) | (st->mca_enabled << 5) |
	                  (st->preset_count_done << 4) | ((!st->gated) << 3) | (st->scope_ready << 2) |
	                  (st->configured << 1));
	d[36] = (uint8_t)((st->aoffset_searching << 7) | (st->mcs_done << 6) | (st->first_packet << 5) |
	                  (st->fpga_clock_80mhz << 1) | (st->fpga_clock_auto << 0));
	d[37] = st->fw_build;
	d[38] = (uint8_t)((st->pc5_present << 7) | (st->pc5_hv_positive << 6) | (st->pc5_preamp_8_5v << 5));
	d[39] = st->device_type;
	d[40] = (uint8_t)(st->tec_raw >> 8);
	d[41] = (uint8_t)(st->tec_raw & 0xFF);
	d[42] = st->dpp_options;
	d[43] = (uint8_t)((st->lm_lmmo << 3) | (st->lm_clock_1us << 2) | st->lm_sync_source);
	d[44] = (uint8_t)(st->an_in_raw >> 8);
	d[45] = (uint8_t)(st->an_in_raw & 0xFF);
	d[46] = (uint8_t)((st->seq_running << 1) | (st->seq_index >> 8));
	d[47] = (uint8_t)(st->seq_index & 0xFF);
	d[49] = st->eco;
	return MG_OK;
}

int mg_dp5_pack_status(const mg_dp5_status *st, uint8_t *out, size_t cap)
{
	uint8_t d[MG_DP5_STATUS_LEN];
	int rc = mg_dp5_status_encode(st, d);
	if (rc)
		return rc;
	return mg_dp5_pack(0x80, 0x01, d, sizeof(d), out, cap);
}

int mg_dp5_pack_spectrum(mg_buf *out, const uint32_t *counts, size_t nchan, const mg_dp5_status *st)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output buffer");
	int pid2 = mg_dp5_spectrum_pid2(nchan, st != NULL);
	if (pid2 < 0)
		return pid2;
	uint8_t d[3 * MG_DP5_MAX_CHANNELS + MG_DP5_STATUS_LEN];
	int rc = mg_dp5_spectrum_encode(counts, nchan, d, sizeof(d));
	if (rc < 0)
		return rc;
	size_t n = 3 * nchan;
	if (st) {
		rc = mg_dp5_status_encode(st, d + n);
		if (rc)
			return rc;
		n += MG_DP5_STATUS_LEN;
	}
	return mg_dp5_pack_buf(out, 0x81, (uint8_t)pid2, d, n);
}

int mg_dp5_status_to_kvlist(const mg_dp5_status *st, mg_kvlist *out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_status_to_kvlist: NULL argument");
	char v[13][64];
	snprintf(v[0], sizeof(v[0]), "%s", mg_dp5_device_name(st->device_type));
	if (st->serial_valid)
		snprintf(v[1], sizeof(v[1]), "%lu", (unsigned long)st->serial_number);
	else
		snprintf(v[1], sizeof(v[1]), "invalid");
	unsigned fw = ((unsigned)st->fw_major << 4) | st->fw_minor;
	if (fw > 0x65)
		snprintf(v[2], sizeof(v[2]), "%u.%02u Build %u", st->fw_major, st->fw_minor, st->fw_build);
	else
		snprintf(v[2], sizeof(v[2]), "%u.%02u", st->fw_major, st->fw_minor);
	snprintf(v[3], sizeof(v[3]), "%u.%02u", st->fpga_major, st->fpga_minor);
	snprintf(v[4], sizeof(v[4]), "%lu", (unsigned long)st->fast_count);
	snprintf(v[5], sizeof(v[5]), "%lu", (unsigned long)st->slow_count);
	snprintf(v[6], sizeof(v[6]), "%lu", (unsigned long)st->gp_count);
	snprintf(v[7], sizeof(v[7]), "%.3f", st->accumulation_s);
	snprintf(v[8], sizeof(v[8]), "%.3f", st->real_s);
	snprintf(v[9], sizeof(v[9]), "%.2f%%", st->dead_time_pct);
	snprintf(v[10], sizeof(v[10]), "%.1fV", st->hv_v);
	snprintf(v[11], sizeof(v[11]), "%.1fK", st->det_temp_k);
	snprintf(v[12], sizeof(v[12]), "%d(C)", st->board_temp_c);
	static const char *const keys[13] = {
		"Device Type", "Serial Number", "Firmware", "FPGA", "Fast Count", "Slow Count", "GP Count",
		"Accumulation Time", "Real Time", "Dead Time", "HV Volt", "TEC Temp", "Board Temp",
	};
	for (int i = 0; i < 13; i++)
		if (mg_kvlist_set(out, keys[i], v[i], NULL) != MG_OK)
			return mg_fail(MG_ERR_NOMEM, DOM, "no memory for the status lines");
	return MG_OK;
}
