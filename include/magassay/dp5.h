/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the Amptek DP5-family host protocol codec (DP5, X-123, PX5, DP5G,
 * MCA8000D, TB5, DP5-X). Pure: no I/O, no global state, thread-safe.
 *
 * Packet layout (both directions):
 *   F5 FA PID1 PID2 LEN_MSB LEN_LSB DATA[LEN] CHK_MSB CHK_LSB
 * LEN < 32768; CHK is the two's complement of the 16-bit sum of every byte
 * before it, so the sum of the whole packet is 0 mod 65536.
 *
 * Return codes follow error.h: MG_OK (0) or a positive count on success, a
 * negative enum mg_err on failure with a detail in mg_error_detail().
 * Nothing here allocates except the functions that take an mg_buf or an
 * mg_kvlist (which append to the caller's object; the caller frees it).
 * See docs/protocol-dp5.md for the protocol as implemented. */
#ifndef MAGASSAY_DP5_H
#define MAGASSAY_DP5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "magassay/buf.h"
#include "magassay/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_DP5_SYNC1 0xF5
#define MG_DP5_SYNC2 0xFA
#define MG_DP5_HEADER_LEN 6         /* sync, sync, pid1, pid2, len msb, len lsb */
#define MG_DP5_OVERHEAD 8           /* header + 2 checksum bytes */
#define MG_DP5_MAX_DATA 32767       /* LEN MSB must be < 128 */
#define MG_DP5_MAX_PACKET (MG_DP5_MAX_DATA + MG_DP5_OVERHEAD)
#define MG_DP5_STATUS_LEN 64
#define MG_DP5_MIN_CHANNELS 256
#define MG_DP5_MAX_CHANNELS 8192
#define MG_DP5_COUNT_MAX 0xFFFFFFu  /* 3-byte spectrum counts */
#define MG_DP5_LARGEST_RESPONSE (MG_DP5_OVERHEAD + 3 * MG_DP5_MAX_CHANNELS + MG_DP5_STATUS_LEN) /* 24648 */
/* Text configuration packets carry at most this many data bytes (strictly
 * under 512), and a command is never split across two packets. */
#define MG_DP5_CONFIG_MAX_DATA 511
/* Every fixed request (all but text configuration and echo) fits in this. */
#define MG_DP5_REQUEST_MAX 16

/* ---- packets ----------------------------------------------------------- */

/* Two's complement of the 16-bit sum of bytes[0..n-1]. */
uint16_t mg_dp5_checksum(const uint8_t *bytes, size_t n);

/* Build one packet into out[0..cap-1]. data may be NULL when n == 0.
 * Returns the packet size (n + 8) or MG_ERR_ARG (n >= 32768, data NULL with
 * n > 0, or cap < n + 8; nothing written then). */
int mg_dp5_pack(uint8_t pid1, uint8_t pid2, const void *data, size_t n, uint8_t *out, size_t cap);
/* Same, appended to an mg_buf (the caller owns and frees it). Returns the
 * packet size, MG_ERR_ARG or MG_ERR_NOMEM. */
int mg_dp5_pack_buf(mg_buf *out, uint8_t pid1, uint8_t pid2, const void *data, size_t n);

/* One received packet. `data` points into the buffer given to
 * mg_dp5_parse() and is valid as long as that buffer is. */
typedef struct mg_dp5_packet {
	uint8_t pid1;
	uint8_t pid2;
	const uint8_t *data; /* NULL when len == 0 */
	size_t len;          /* data bytes */
	size_t size;         /* whole packet: len + 8. With MG_ERR_NEED_MORE: the size known
	                        so far (8 until the header is in, then LEN + 8), so a reader
	                        knows how many bytes to wait for. */
} mg_dp5_packet;

/* Stream parser for a receive path that gets bytes in arbitrary chunks.
 * Looks only at buf[0..len-1]. Exactly one of:
 *   MG_OK             a valid packet starts at buf[0]: *pkt filled, *consumed = pkt->size.
 *   MG_ERR_NEED_MORE  buf holds the start of a packet that may still be valid
 *                     (incl. len == 0): *consumed = 0, pkt->size = bytes needed so far.
 *                     Not a failure: no detail recorded.
 *   MG_ERR_FORMAT     buf[0] does not start a packet (no F5 FA), or LEN MSB >= 128;
 *   MG_ERR_CHECKSUM   the checksum does not match (pkt->pid1/pid2/len say what it claimed).
 *                     On both errors *consumed >= 1 is the number of bytes to discard:
 *                     up to the next F5 FA pair after buf[0] (a trailing lone F5 is kept),
 *                     or all of buf. Discard them and call again to resync.
 *   MG_ERR_ARG        NULL pointers.
 * The caller loop: parse; NEED_MORE → read more; otherwise drop *consumed bytes. */
int mg_dp5_parse(const void *buf, size_t len, mg_dp5_packet *pkt, size_t *consumed);

/* A short English name for logs: "request status", "spectrum 2048 + status",
 * "ACK: bad parameter", "unknown packet". Static, never NULL. */
const char *mg_dp5_packet_name(uint8_t pid1, uint8_t pid2);

/* ---- requests (host → device) ------------------------------------------ */

enum mg_dp5_request {
	MG_DP5_REQ_STATUS = 0,               /* 01 01 */
	MG_DP5_REQ_SPECTRUM,                 /* 02 01 */
	MG_DP5_REQ_SPECTRUM_CLEAR,           /* 02 02 */
	MG_DP5_REQ_SPECTRUM_STATUS,          /* 02 03 */
	MG_DP5_REQ_SPECTRUM_STATUS_CLEAR,    /* 02 04 */
	MG_DP5_REQ_BUFFER_SPECTRUM,          /* 02 05 + u16 BE buffer index */
	MG_DP5_REQ_BUFFER_CLEAR_SPECTRUM,    /* 02 06 + u16 BE buffer index */
	MG_DP5_REQ_GET_BUFFER,               /* 02 07 + u16 BE buffer index */
	MG_DP5_REQ_SCOPE,                    /* 03 01 */
	MG_DP5_REQ_LIST_MODE,                /* 03 09 */
	MG_DP5_REQ_CONFIG_SET,               /* 20 02 + "CMD=VAL;..." */
	MG_DP5_REQ_CONFIG_GET,               /* 20 03 + "CMD;..." */
	MG_DP5_REQ_CLEAR_SPECTRUM,           /* F0 01 */
	MG_DP5_REQ_ENABLE_MCA,               /* F0 02 */
	MG_DP5_REQ_DISABLE_MCA,              /* F0 03 */
	MG_DP5_REQ_ARM_SCOPE,                /* F0 04 */
	MG_DP5_REQ_CLEAR_GP_COUNTER,         /* F0 10 */
	MG_DP5_REQ_CLEAR_LIST_TIMER,         /* F0 16 */
	MG_DP5_REQ_RESTART_SEQ_BUFFER,       /* F0 1E */
	MG_DP5_REQ_CANCEL_SEQ_BUFFER,        /* F0 1F */
	MG_DP5_REQ_KEEP_ALIVE,               /* F0 21 (keep-alive, no sharing: a ping) */
	MG_DP5_REQ_COMM_TEST_ACK,            /* F1 F1 */
	MG_DP5_REQ_COMM_TEST_STREAM,         /* F1 F2 + 4 x u16 BE: min ch, max ch, increment, period */
	MG_DP5_REQ_COMM_TEST_ECHO,           /* F1 F3 + any data, echoed back as 8F 7F */
	MG_DP5_REQ_COUNT
};

/* PIDs of a request. MG_OK or MG_ERR_ARG (unknown request). */
int mg_dp5_request_pids(enum mg_dp5_request req, uint8_t *pid1, uint8_t *pid2);
/* "request status" ...; "unknown request" for out-of-range values. */
const char *mg_dp5_request_name(enum mg_dp5_request req);

/* Build a request that carries no data into out (MG_DP5_REQUEST_MAX bytes
 * always suffice). Returns the packet size (8) or MG_ERR_ARG for an unknown
 * request, one that needs data (use the functions below), or cap too small. */
int mg_dp5_request(enum mg_dp5_request req, uint8_t *out, size_t cap);
/* Sequential-buffer requests (BUFFER_SPECTRUM, BUFFER_CLEAR_SPECTRUM,
 * GET_BUFFER) with their big-endian buffer index. Returns 10 or MG_ERR_ARG. */
int mg_dp5_request_buffer(enum mg_dp5_request req, uint16_t index, uint8_t *out, size_t cap);
/* Comm test streaming (F1 F2): four big-endian u16. Returns 16 or MG_ERR_ARG. */
int mg_dp5_request_comm_stream(uint16_t min_channel, uint16_t max_channel, uint16_t increment,
                               uint16_t period, uint8_t *out, size_t cap);
/* Comm test echo (F1 F3) with n < 32768 bytes of data. Returns n + 8 or MG_ERR_ARG. */
int mg_dp5_request_echo(const void *data, size_t n, uint8_t *out, size_t cap);

/* For the device side (the simulator): which request is this packet, and is
 * its data length right? MG_OK with *req set; MG_ERR_UNSUPPORTED for unknown
 * PIDs (a device answers ACK 02 "PID error"); MG_ERR_PROTOCOL for a wrong data
 * length (ACK 03 "length error"): no data expected but some given, index
 * requests not exactly 2 bytes, streaming not exactly 8, text requests empty. */
int mg_dp5_request_identify(const mg_dp5_packet *pkt, enum mg_dp5_request *req);

/* ---- ACK codes (PID1 0xFF) --------------------------------------------- */

enum mg_dp5_ack {
	MG_DP5_ACK_OK = 0x00,
	MG_DP5_ACK_SYNC_ERROR = 0x01,
	MG_DP5_ACK_PID_ERROR = 0x02,
	MG_DP5_ACK_LEN_ERROR = 0x03,
	MG_DP5_ACK_CHECKSUM_ERROR = 0x04,
	MG_DP5_ACK_BAD_PARAM = 0x05,
	MG_DP5_ACK_BAD_HEX_RECORD = 0x06,
	MG_DP5_ACK_UNRECOG_COMMAND = 0x07,
	MG_DP5_ACK_FPGA_ERROR = 0x08,
	MG_DP5_ACK_CP2201_NOT_FOUND = 0x09,
	MG_DP5_ACK_SCOPE_NOT_AVAILABLE = 0x0A,
	MG_DP5_ACK_PC5_NOT_PRESENT = 0x0B,
	MG_DP5_ACK_OK_SHARING_REQUEST = 0x0C,
	MG_DP5_ACK_BUSY = 0x0D,
	MG_DP5_ACK_I2C_ERROR = 0x0E,
	MG_DP5_ACK_OK_FPGA_UPLOAD_ADDR = 0x0F,
	MG_DP5_ACK_FEATURE_NOT_SUPPORTED = 0x10,
	MG_DP5_ACK_CALIBRATION_NOT_PRESENT = 0x11,
	MG_DP5_ACK_MAX = 0x11
};

/* English text for an ACK code ("bad parameter"); "unknown ACK code" past 0x11. Static. */
const char *mg_dp5_ack_message(int code);
/* The mg_err a caller should see: MG_OK for 00, 0C, 0F; MG_ERR_DEVICE for
 * every other known code; MG_ERR_PROTOCOL for unknown codes. */
int mg_dp5_ack_error(int code);

/* ---- responses (device → host) ----------------------------------------- */

enum mg_dp5_response_kind {
	MG_DP5_RSP_UNKNOWN = 0,
	MG_DP5_RSP_STATUS,          /* 80 01, 64 bytes */
	MG_DP5_RSP_SPECTRUM,        /* 81 01..0C */
	MG_DP5_RSP_SCOPE,           /* 82 01, 82 03 (flag = overflow) */
	MG_DP5_RSP_MISC_DATA,       /* 82 02, 512 bytes */
	MG_DP5_RSP_ETHERNET,        /* 82 04 */
	MG_DP5_RSP_DIAGNOSTIC,      /* 82 05 */
	MG_DP5_RSP_HW_DESCRIPTION,  /* 82 06 */
	MG_DP5_RSP_CONFIG_READBACK, /* 82 07, "CMD=VAL;..." */
	MG_DP5_RSP_NETFINDER,       /* 82 08 */
	MG_DP5_RSP_LIST_MODE,       /* 82 0A, 82 0B (flag = FIFO full) */
	MG_DP5_RSP_ECHO,            /* 8F 7F */
	MG_DP5_RSP_ACK,             /* FF xx */
};

/* A classified response; pointers point into the packet's data. */
typedef struct mg_dp5_response {
	enum mg_dp5_response_kind kind;
	uint8_t pid1, pid2;
	const uint8_t *data;   /* whole data field (NULL if empty) */
	size_t len;
	size_t nchan;          /* SPECTRUM: 256..8192; else 0 */
	const uint8_t *counts; /* SPECTRUM: 3*nchan bytes of counts; else NULL */
	const uint8_t *status; /* STATUS, or SPECTRUM with status: the 64 status bytes; else NULL */
	int ack;               /* ACK: the code (PID2); else -1 */
	bool flag;             /* scope overflow (82 03) or list-mode FIFO full (82 0B) */
} mg_dp5_response;

/* Classify a parsed packet and check its length.
 *   MG_OK           a known response of the right length, or an ACK with an OK code.
 *   MG_ERR_DEVICE   an ACK with an error code: *rsp is filled (kind ACK, ack = code);
 *                   the detail has the English message and, when the ACK carries
 *                   data, the offending command text (non-printable bytes as \xNN).
 *   MG_ERR_PROTOCOL a wrong data length for the type (status not 64 bytes, spectrum
 *                   not exactly 3*nchan [+64], misc data not 512): kind says what the
 *                   PIDs announced, nchan is set, but counts/status stay NULL;
 *                   or an unknown ACK code (kind ACK), or an unknown PID1/PID2
 *                   (also host→device PIDs): kind UNKNOWN.
 *   MG_ERR_ARG      NULL pointers.
 * Every field of *rsp is set in all cases but MG_ERR_ARG. */
int mg_dp5_classify(const mg_dp5_packet *pkt, mg_dp5_response *rsp);

/* ---- spectrum ---------------------------------------------------------- */

/* Channels of spectrum PID2 01..0C (256 << ((pid2-1)/2)); 0 otherwise. */
size_t mg_dp5_spectrum_channels(uint8_t pid2);
/* The response PID2 for nchan (256, 512, ..., 8192) with or without status,
 * or MG_ERR_ARG. */
int mg_dp5_spectrum_pid2(size_t nchan, bool with_status);
/* 3-byte little-endian counts → counts[0..nchan-1]. nchan must be one of the
 * six sizes and len exactly 3*nchan. MG_OK or MG_ERR_ARG / MG_ERR_PROTOCOL. */
int mg_dp5_spectrum_decode(const uint8_t *data, size_t len, uint32_t *counts, size_t nchan);
/* counts → 3*nchan bytes into out. REJECTS (does not clamp) a count above
 * MG_DP5_COUNT_MAX with MG_ERR_ARG naming the channel; nothing written then.
 * Returns 3*nchan or MG_ERR_ARG (bad nchan, cap too small). */
int mg_dp5_spectrum_encode(const uint32_t *counts, size_t nchan, uint8_t *out, size_t cap);

/* ---- status (64 bytes, PID 80 01) -------------------------------------- */

enum mg_dp5_device_type {
	MG_DP5_DEV_DP5 = 0,
	MG_DP5_DEV_PX5 = 1,
	MG_DP5_DEV_DP5G = 2,
	MG_DP5_DEV_MCA8000D = 3,
	MG_DP5_DEV_TB5 = 4,
	MG_DP5_DEV_DP5X = 5,
};
/* "DP5", "PX5", "DP5G", "MCA8000D", "TB5", "DP5-X"; "unknown" otherwise. */
const char *mg_dp5_device_name(int type);

/* The decoded status. The raw fields are the truth: mg_dp5_status_encode()
 * writes only them; the "derived" doubles are computed from them by
 * mg_dp5_status_decode() and mg_dp5_status_derive(). Reserved bits and bytes
 * (48, 50..63, unnamed flag bits) are not kept and are encoded as 0. */
typedef struct mg_dp5_status {
	/* raw */
	uint32_t fast_count;       /* 0-3 */
	uint32_t slow_count;       /* 4-7: counts in spectrum */
	uint32_t gp_count;         /* 8-11 */
	uint8_t acc_time_ms;       /* 12: accumulation time, ms part (normally 0..99) */
	uint32_t acc_time_100ms;   /* 13-15: accumulation time, units of 100 ms, < 2^24 */
	uint32_t live_time_ms;     /* 16-19: MCA8000D (FW >= 6.07) only, else 0 */
	uint32_t real_time_ms;     /* 20-23 */
	uint8_t fw_major, fw_minor;     /* 24: nibbles, 0x68 = 6.08 */
	uint8_t fpga_major, fpga_minor; /* 25: nibbles */
	uint32_t serial_number;    /* 26-29 */
	int16_t hv_raw;            /* 30-31 big-endian, 0.5 V units */
	uint16_t det_temp_raw;     /* 32-33 big-endian 12 bits, 0.1 K units */
	int8_t board_temp_c;       /* 34 */
	/* byte 35 */
	bool preset_real_time_done; /* bit7 */
	bool afast_locked;          /* bit6: auto fast threshold locked (MCA8000D: preset live time done) */
	bool mca_enabled;           /* bit5 */
	bool preset_count_done;     /* bit4 */
	bool gated;                 /* bit3 == 0: the gate blocks counting */
	bool scope_ready;           /* bit2 */
	bool configured;            /* bit1: unit configured */
	/* byte 36 */
	bool aoffset_searching;     /* bit7: auto input offset searching (0 = locked) */
	bool mcs_done;              /* bit6 */
	bool first_packet;          /* bit5: first status since reboot (FW >= 6.05) */
	bool fpga_clock_80mhz;      /* bit1 (else 20 MHz) */
	bool fpga_clock_auto;       /* bit0 */
	uint8_t fw_build;           /* 37 low nibble (meaningful for FW > 6.05) */
	/* byte 38: PC5 */
	bool pc5_present;           /* bit7 */
	bool pc5_hv_positive;       /* bit6 */
	bool pc5_preamp_8_5v;       /* bit5 (8.5 V preamp supply) */
	uint8_t device_type;        /* 39: enum mg_dp5_device_type */
	uint16_t tec_raw;           /* 40-41 big-endian 12 bits, / 758.5 V */
	uint8_t dpp_options;        /* 42 low nibble */
	/* byte 43: list mode */
	bool lm_lmmo;               /* bit3 */
	bool lm_clock_1us;          /* bit2 (else 100 ns) */
	uint8_t lm_sync_source;     /* bits1:0 */
	uint16_t an_in_raw;         /* 44-45 big-endian 10 bits, / 419.7 V */
	bool seq_running;           /* 46 bit1 */
	uint16_t seq_index;         /* ((b46 & 1) << 8) | b47: 0..511 */
	uint8_t eco;                /* 49: DPP ECO byte */

	/* derived (not encoded) */
	double accumulation_s;      /* acc_time_ms*0.001 + acc_time_100ms*0.1 */
	double live_s;              /* live_time_ms * 0.001 */
	double real_s;              /* real_time_ms * 0.001 */
	double effective_live_s;    /* MCA8000D: live_s; other devices: accumulation_s */
	double hv_v;                /* hv_raw * 0.5 */
	double det_temp_k;          /* det_temp_raw * 0.1 */
	double tec_v;               /* tec_raw / 758.5 */
	double an_in_v;             /* an_in_raw / 419.7 */
	bool serial_valid;          /* byte 29 < 128 */
	double dead_time_pct;       /* 100*(1 - slow/fast), clamped to [0,100]; 0 if fast == 0 */
	double input_rate_cps;      /* fast / real_s; NAN if real_s == 0 */
	double output_rate_cps;     /* slow / accumulation_s; NAN if accumulation_s == 0 */
} mg_dp5_status;

/* Decode 64 status bytes (len must be exactly 64, else MG_ERR_PROTOCOL).
 * Every value of every byte is accepted. Fills raw and derived fields. */
int mg_dp5_status_decode(const uint8_t *data, size_t len, mg_dp5_status *st);
/* Recompute the derived fields from the raw ones (for a caller, e.g. the
 * simulator, that fills raw fields itself). */
void mg_dp5_status_derive(mg_dp5_status *st);
/* Raw fields → 64 bytes (reserved bits 0). Exact inverse of decode for every
 * representable struct. MG_ERR_ARG naming the field for values that do not fit
 * (nibbles > 15, acc_time_100ms >= 2^24, det_temp_raw/tec_raw > 4095,
 * an_in_raw > 1023, fw_build/dpp_options > 15, lm_sync_source > 3, seq_index > 511). */
int mg_dp5_status_encode(const mg_dp5_status *st, uint8_t out[MG_DP5_STATUS_LEN]);
/* Set (mg_kvlist_set: replace or append, in this order) the lines Amptek software
 * writes in the <<DPP STATUS>> section of a .mca, keys without prefix:
 *   Device Type, Serial Number, Firmware, FPGA, Fast Count, Slow Count, GP Count,
 *   Accumulation Time, Real Time, Dead Time, HV Volt, TEC Temp, Board Temp.
 * Values e.g. "DP5", "12345" ("invalid" when not valid), "6.08 Build 3", "6.04",
 * "1234", "60.000", "60.041", "1.23%", "175.0V", "230.0K", "35(C)".
 * Returns MG_OK or MG_ERR_NOMEM. The caller owns *out. */
int mg_dp5_status_to_kvlist(const mg_dp5_status *st, mg_kvlist *out);

/* Build a complete spectrum response (81 pid2): counts, then the 64 status
 * bytes when st != NULL. Appended to out. Returns the packet size or
 * MG_ERR_ARG (bad nchan, a count > 24 bits, a status field that does not fit)
 * or MG_ERR_NOMEM; nothing appended on error. */
int mg_dp5_pack_spectrum(mg_buf *out, const uint32_t *counts, size_t nchan, const mg_dp5_status *st);
/* Build a status response (80 01) into out. Returns 72 or MG_ERR_ARG. */
int mg_dp5_pack_status(const mg_dp5_status *st, uint8_t *out, size_t cap);

/* ---- text configuration ------------------------------------------------ */

/* Rules: a mnemonic is exactly 4 characters from A-Z and 0-9; a value is 1..505
 * characters from '!'..'~' except ';' and '=' (no blanks, no control bytes);
 * every command ends with ';' and nothing comes between commands. */

/* Check a whole "CMD=VAL;CMD=VAL;" string. Returns the number of commands
 * (>= 1), or MG_ERR_ARG (NULL, empty, or a syntax error; the detail has the
 * byte offset and what was wrong). */
int mg_dp5_config_validate(const char *config);
/* Build the text configuration set packets (20 02) for config, validated first,
 * appended back to back to out; each packet holds whole commands and at most
 * MG_DP5_CONFIG_MAX_DATA data bytes. Returns the number of packets (>= 1), or
 * MG_ERR_ARG / MG_ERR_NOMEM with nothing appended. Walk the result with
 * mg_dp5_parse() (each packet's `consumed`) and send them one at a time,
 * waiting for each ACK. */
int mg_dp5_config_set_packets(mg_buf *out, const char *config);
/* Same for readback requests (20 03) from "CMD;CMD;" (mnemonics only, each
 * ending with ';'). */
int mg_dp5_config_get_packets(mg_buf *out, const char *mnemonics);
/* Parse a readback answer (82 07 data, "CMD=VAL;CMD=VAL;") into out, appended
 * with mg_kvlist_add in the device's order: key = mnemonic, value = value,
 * comment = mg_dp5_config_describe(mnemonic) (NULL if unknown). Strict: the
 * rules above, except that trailing NUL padding is accepted. Returns the
 * number of entries added (0 for an empty answer), MG_ERR_FORMAT with the byte
 * offset (out untouched), or MG_ERR_NOMEM. */
int mg_dp5_config_parse(const void *data, size_t len, mg_kvlist *out);

/* Description of a known mnemonic ("TPEA" → "Peaking Time"), as written after
 * each line of the .mca <<DP5 CONFIGURATION>> section; NULL if unknown. Static. */
const char *mg_dp5_config_describe(const char *mnemonic);
/* The known-mnemonic table (the reference's order, RESC first): entries
 * 0 .. *count-1. Static. */
typedef struct mg_dp5_config_entry {
	const char *mnemonic;
	const char *description;
} mg_dp5_config_entry;
const mg_dp5_config_entry *mg_dp5_config_table(size_t *count);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
