/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Amptek DP5-family protocol codec: packets, the stream parser, requests,
 * ACK codes, packet names, response classification and spectrum coding; the
 * status is coded in status.c, the text configuration in config.c.
 * Pure: no I/O, no allocation except into the caller's mg_buf / mg_kvlist.
 * The protocol as implemented is described in docs/protocol-dp5.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "magassay/dp5.h"

#define DOM "dp5"

/* ---- packets ----------------------------------------------------------- */

static uint32_t sum_bytes(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return s;
}

uint16_t mg_dp5_checksum(const uint8_t *bytes, size_t n)
{
	if (!bytes)
		n = 0;
	return (uint16_t)(0u - (sum_bytes(bytes, n) & 0xFFFFu));
}

static void put_header(uint8_t h[MG_DP5_HEADER_LEN], uint8_t pid1, uint8_t pid2, size_t n)
{
	h[0] = MG_DP5_SYNC1;
	h[1] = MG_DP5_SYNC2;
	h[2] = pid1;
	h[3] = pid2;
	h[4] = (uint8_t)(n >> 8);
	h[5] = (uint8_t)(n & 0xFF);
}

static int check_pack_args(const void *data, size_t n)
{
	if (n > MG_DP5_MAX_DATA)
		return mg_fail(MG_ERR_ARG, DOM, "packet data of %zu bytes: the protocol allows at most %d",
		               n, MG_DP5_MAX_DATA);
	if (n && !data)
		return mg_fail(MG_ERR_ARG, DOM, "packet data is NULL but its length is %zu", n);
	return MG_OK;
}

int mg_dp5_pack(uint8_t pid1, uint8_t pid2, const void *data, size_t n, uint8_t *out, size_t cap)
{
	int rc = check_pack_args(data, n);
	if (rc)
		return rc;
	if (!out || cap < n + MG_DP5_OVERHEAD)
		return mg_fail(MG_ERR_ARG, DOM, "output buffer of %zu bytes for a %zu-byte packet",
		               out ? cap : 0, n + MG_DP5_OVERHEAD);
	put_header(out, pid1, pid2, n);
	if (n)
		memcpy(out + MG_DP5_HEADER_LEN, data, n);
	uint16_t chk = mg_dp5_checksum(out, MG_DP5_HEADER_LEN + n);
	out[MG_DP5_HEADER_LEN + n] = (uint8_t)(chk >> 8);
	out[MG_DP5_HEADER_LEN + n + 1] = (uint8_t)(chk & 0xFF);
	return (int)(n + MG_DP5_OVERHEAD);
}

int mg_dp5_pack_buf(mg_buf *out, uint8_t pid1, uint8_t pid2, const void *data, size_t n)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output buffer");
	int rc = check_pack_args(data, n);
	if (rc)
		return rc;
	uint8_t h[MG_DP5_HEADER_LEN];
	put_header(h, pid1, pid2, n);
	uint32_t s = sum_bytes(h, sizeof(h)) + sum_bytes(data, n);
	uint16_t chk = (uint16_t)(0u - (s & 0xFFFFu));
	uint8_t c[2] = {(uint8_t)(chk >> 8), (uint8_t)(chk & 0xFF)};
	size_t old = out->len;
	mg_buf_append(out, h, sizeof(h));
	mg_buf_append(out, data, n);
	mg_buf_append(out, c, sizeof(c));
	if (mg_buf_status(out) != MG_OK) {
		if (out->len > old)
			out->len = old;
		return mg_fail(MG_ERR_NOMEM, DOM, "no memory for a %zu-byte packet", n + MG_DP5_OVERHEAD);
	}
	return (int)(n + MG_DP5_OVERHEAD);
}

/* Bytes to drop to reach the next possible packet start after b[0]: the next
 * F5 FA pair, or a lone F5 at the very end; all of b if there is none. */
static size_t hunt(const uint8_t *b, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (b[i] == MG_DP5_SYNC1 && (i + 1 == len || b[i + 1] == MG_DP5_SYNC2))
			return i;
	return len;
}

int mg_dp5_parse(const void *buf, size_t len, mg_dp5_packet *pkt, size_t *consumed)
{
	if (!pkt || !consumed || (!buf && len))
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_parse: NULL argument");
	const uint8_t *b = buf;
	memset(pkt, 0, sizeof(*pkt));
	pkt->size = MG_DP5_OVERHEAD;
	*consumed = 0;
	if (len == 0)
		return MG_ERR_NEED_MORE;
	if (b[0] != MG_DP5_SYNC1 || (len >= 2 && b[1] != MG_DP5_SYNC2)) {
		*consumed = hunt(b, len);
		return mg_fail(MG_ERR_FORMAT, DOM, "no sync F5 FA at the start (%02X %s): skipping %zu byte(s)",
		               b[0], len >= 2 ? (b[1] == MG_DP5_SYNC2 ? "FA" : "..") : "", *consumed);
	}
	if (len < MG_DP5_HEADER_LEN)
		return MG_ERR_NEED_MORE;
	pkt->pid1 = b[2];
	pkt->pid2 = b[3];
	if (b[4] >= 0x80) {
		*consumed = hunt(b, len);
		return mg_fail(MG_ERR_FORMAT, DOM,
		               "packet %02X %02X: LEN MSB 0x%02X >= 0x80 (length must be < 32768): "
		               "skipping %zu byte(s)", b[2], b[3], b[4], *consumed);
	}
	size_t n = ((size_t)b[4] << 8) | b[5];
	pkt->len = n;
	pkt->size = n + MG_DP5_OVERHEAD;
	if (len < pkt->size)
		return MG_ERR_NEED_MORE;
	uint32_t s = sum_bytes(b, MG_DP5_HEADER_LEN + n);
	uint32_t got = ((uint32_t)b[MG_DP5_HEADER_LEN + n] << 8) | b[MG_DP5_HEADER_LEN + n + 1];
	if (((s + got) & 0xFFFFu) != 0) {
		*consumed = hunt(b, len);
		return mg_fail(MG_ERR_CHECKSUM, DOM,
		               "packet %02X %02X (%s), %zu data bytes: checksum %04X, expected %04X: "
		               "skipping %zu byte(s)", b[2], b[3], mg_dp5_packet_name(b[2], b[3]), n,
		               (unsigned)got, (unsigned)(uint16_t)(0u - (s & 0xFFFFu)), *consumed);
	}
	pkt->data = n ? b + MG_DP5_HEADER_LEN : NULL;
	*consumed = pkt->size;
	return MG_OK;
}

/* ---- requests ---------------------------------------------------------- */

enum req_data { RD_NONE, RD_INDEX, RD_STREAM, RD_TEXT, RD_ANY };

static const struct {
	uint8_t pid1, pid2;
	enum req_data data;
	const char *name;
} req_table[MG_DP5_REQ_COUNT] = {
	[MG_DP5_REQ_STATUS] = {0x01, 0x01, RD_NONE, "request status"},
	[MG_DP5_REQ_SPECTRUM] = {0x02, 0x01, RD_NONE, "request spectrum"},
	[MG_DP5_REQ_SPECTRUM_CLEAR] = {0x02, 0x02, RD_NONE, "request spectrum + clear"},
	[MG_DP5_REQ_SPECTRUM_STATUS] = {0x02, 0x03, RD_NONE, "request spectrum + status"},
	[MG_DP5_REQ_SPECTRUM_STATUS_CLEAR] = {0x02, 0x04, RD_NONE, "request spectrum + status + clear"},
	[MG_DP5_REQ_BUFFER_SPECTRUM] = {0x02, 0x05, RD_INDEX, "buffer spectrum"},
	[MG_DP5_REQ_BUFFER_CLEAR_SPECTRUM] = {0x02, 0x06, RD_INDEX, "buffer + clear spectrum"},
	[MG_DP5_REQ_GET_BUFFER] = {0x02, 0x07, RD_INDEX, "request buffered spectrum"},
	[MG_DP5_REQ_SCOPE] = {0x03, 0x01, RD_NONE, "request scope data"},
	[MG_DP5_REQ_LIST_MODE] = {0x03, 0x09, RD_NONE, "request list-mode data"},
	[MG_DP5_REQ_CONFIG_SET] = {0x20, 0x02, RD_TEXT, "text configuration set"},
	[MG_DP5_REQ_CONFIG_GET] = {0x20, 0x03, RD_TEXT, "text configuration readback request"},
	[MG_DP5_REQ_CLEAR_SPECTRUM] = {0xF0, 0x01, RD_NONE, "clear spectrum"},
	[MG_DP5_REQ_ENABLE_MCA] = {0xF0, 0x02, RD_NONE, "enable MCA"},
	[MG_DP5_REQ_DISABLE_MCA] = {0xF0, 0x03, RD_NONE, "disable MCA"},
	[MG_DP5_REQ_ARM_SCOPE] = {0xF0, 0x04, RD_NONE, "arm digital scope"},
	[MG_DP5_REQ_CLEAR_GP_COUNTER] = {0xF0, 0x10, RD_NONE, "clear GP counter"},
	[MG_DP5_REQ_CLEAR_LIST_TIMER] = {0xF0, 0x16, RD_NONE, "clear list-mode timer"},
	[MG_DP5_REQ_RESTART_SEQ_BUFFER] = {0xF0, 0x1E, RD_NONE, "restart sequential buffering"},
	[MG_DP5_REQ_CANCEL_SEQ_BUFFER] = {0xF0, 0x1F, RD_NONE, "cancel sequential buffering"},
	[MG_DP5_REQ_KEEP_ALIVE] = {0xF0, 0x21, RD_NONE, "keep alive (no sharing)"},
	[MG_DP5_REQ_COMM_TEST_ACK] = {0xF1, 0xF1, RD_NONE, "comm test: ACK"},
	[MG_DP5_REQ_COMM_TEST_STREAM] = {0xF1, 0xF2, RD_STREAM, "comm test: streaming"},
	[MG_DP5_REQ_COMM_TEST_ECHO] = {0xF1, 0xF3, RD_ANY, "comm test: echo"},
};

static int req_valid(enum mg_dp5_request req)
{
	return (int)req >= 0 && req < MG_DP5_REQ_COUNT;
}

int mg_dp5_request_pids(enum mg_dp5_request req, uint8_t *pid1, uint8_t *pid2)
{
	if (!req_valid(req))
		return mg_fail(MG_ERR_ARG, DOM, "unknown request %d", (int)req);
	if (pid1)
		*pid1 = req_table[req].pid1;
	if (pid2)
		*pid2 = req_table[req].pid2;
	return MG_OK;
}

const char *mg_dp5_request_name(enum mg_dp5_request req)
{
	return req_valid(req) ? req_table[req].name : "unknown request";
}

int mg_dp5_request(enum mg_dp5_request req, uint8_t *out, size_t cap)
{
	if (!req_valid(req))
		return mg_fail(MG_ERR_ARG, DOM, "unknown request %d", (int)req);
	if (req_table[req].data != RD_NONE)
		return mg_fail(MG_ERR_ARG, DOM, "%s needs data: use its own builder", req_table[req].name);
	return mg_dp5_pack(req_table[req].pid1, req_table[req].pid2, NULL, 0, out, cap);
}

int mg_dp5_request_buffer(enum mg_dp5_request req, uint16_t index, uint8_t *out, size_t cap)
{
	if (!req_valid(req) || req_table[req].data != RD_INDEX)
		return mg_fail(MG_ERR_ARG, DOM, "request %d (%s) takes no buffer index", (int)req,
		               mg_dp5_request_name(req));
	uint8_t d[2] = {(uint8_t)(index >> 8), (uint8_t)(index & 0xFF)};
	return mg_dp5_pack(req_table[req].pid1, req_table[req].pid2, d, sizeof(d), out, cap);
}

int mg_dp5_request_comm_stream(uint16_t min_channel, uint16_t max_channel, uint16_t increment,
                               uint16_t period, uint8_t *out, size_t cap)
{
	uint16_t v[4] = {min_channel, max_channel, increment, period};
	uint8_t d[8];
	for (int i = 0; i < 4; i++) {
		d[2 * i] = (uint8_t)(v[i] >> 8);
		d[2 * i + 1] = (uint8_t)(v[i] & 0xFF);
	}
	return mg_dp5_pack(0xF1, 0xF2, d, sizeof(d), out, cap);
}

int mg_dp5_request_echo(const void *data, size_t n, uint8_t *out, size_t cap)
{
	return mg_dp5_pack(0xF1, 0xF3, data, n, out, cap);
}

int mg_dp5_request_identify(const mg_dp5_packet *pkt, enum mg_dp5_request *req)
{
	if (!pkt || !req)
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_request_identify: NULL argument");
	for (int i = 0; i < MG_DP5_REQ_COUNT; i++) {
		if (req_table[i].pid1 != pkt->pid1 || req_table[i].pid2 != pkt->pid2)
			continue;
		*req = (enum mg_dp5_request)i;
		const char *want = NULL;
		switch (req_table[i].data) {
		case RD_NONE: if (pkt->len != 0) want = "no data"; break;
		case RD_INDEX: if (pkt->len != 2) want = "2 bytes (buffer index)"; break;
		case RD_STREAM: if (pkt->len != 8) want = "8 bytes (4 x u16)"; break;
		case RD_TEXT: if (pkt->len == 0) want = "ASCII commands"; break;
		case RD_ANY: break;
		}
		if (want)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s with %zu data bytes: expected %s",
			               req_table[i].name, pkt->len, want);
		return MG_OK;
	}
	return mg_fail(MG_ERR_UNSUPPORTED, DOM, "unknown request PIDs %02X %02X", pkt->pid1, pkt->pid2);
}

/* ---- ACK codes --------------------------------------------------------- */

static const struct {
	const char *message;
	const char *log; /* for mg_dp5_packet_name */
	int ok;
} ack_table[MG_DP5_ACK_MAX + 1] = {
	[0x00] = {"OK", "ACK: OK", 1},
	[0x01] = {"sync error (the device saw no F5 FA)", "ACK: sync error", 0},
	[0x02] = {"PID error (unknown request type)", "ACK: PID error", 0},
	[0x03] = {"length error (wrong data length for the request)", "ACK: length error", 0},
	[0x04] = {"checksum error", "ACK: checksum error", 0},
	[0x05] = {"bad parameter", "ACK: bad parameter", 0},
	[0x06] = {"bad hex record", "ACK: bad hex record", 0},
	[0x07] = {"unrecognised command", "ACK: unrecognised command", 0},
	[0x08] = {"FPGA error (FPGA not initialised)", "ACK: FPGA error", 0},
	[0x09] = {"CP2201 Ethernet controller not found", "ACK: CP2201 not found", 0},
	[0x0A] = {"scope data not available", "ACK: scope data not available", 0},
	[0x0B] = {"PC5 not present", "ACK: PC5 not present", 0},
	[0x0C] = {"OK, with an Ethernet sharing request", "ACK: OK + sharing request", 1},
	[0x0D] = {"Ethernet busy (the device is in use by another host)", "ACK: Ethernet busy", 0},
	[0x0E] = {"I2C error", "ACK: I2C error", 0},
	[0x0F] = {"OK, with the FPGA upload address", "ACK: OK + FPGA upload address", 1},
	[0x10] = {"feature not supported by this FPGA version", "ACK: feature not supported", 0},
	[0x11] = {"calibration data not present", "ACK: calibration data not present", 0},
};

const char *mg_dp5_ack_message(int code)
{
	if (code < 0 || code > MG_DP5_ACK_MAX)
		return "unknown ACK code";
	return ack_table[code].message;
}

int mg_dp5_ack_error(int code)
{
	if (code < 0 || code > MG_DP5_ACK_MAX)
		return MG_ERR_PROTOCOL;
	return ack_table[code].ok ? MG_OK : MG_ERR_DEVICE;
}

/* ---- names ------------------------------------------------------------- */

static const char *const spectrum_names[12] = {
	"spectrum 256",  "spectrum 256 + status",  "spectrum 512",  "spectrum 512 + status",
	"spectrum 1024", "spectrum 1024 + status", "spectrum 2048", "spectrum 2048 + status",
	"spectrum 4096", "spectrum 4096 + status", "spectrum 8192", "spectrum 8192 + status",
};

static const char *const misc_names[12] = {
	NULL,
	"scope data",
	"512-byte misc data",
	"scope data with overflow",
	"Ethernet settings",
	"diagnostic data",
	"hardware description",
	"text configuration readback",
	"netfinder readback",
	NULL,
	"list-mode data",
	"list-mode data, FIFO full",
};

const char *mg_dp5_packet_name(uint8_t pid1, uint8_t pid2)
{
	for (int i = 0; i < MG_DP5_REQ_COUNT; i++)
		if (req_table[i].pid1 == pid1 && req_table[i].pid2 == pid2)
			return req_table[i].name;
	switch (pid1) {
	case 0x80:
		if (pid2 == 0x01)
			return "status";
		break;
	case 0x81:
		if (pid2 >= 1 && pid2 <= 12)
			return spectrum_names[pid2 - 1];
		break;
	case 0x82:
		if (pid2 < MG_ARRAY_SIZE(misc_names) && misc_names[pid2])
			return misc_names[pid2];
		break;
	case 0x8F:
		if (pid2 == 0x7F)
			return "comm test echo";
		break;
	case 0xFF:
		if (pid2 <= MG_DP5_ACK_MAX)
			return ack_table[pid2].log;
		return "ACK: unknown code";
	default:
		break;
	}
	return "unknown packet";
}

/* ---- responses --------------------------------------------------------- */

size_t mg_dp5_spectrum_channels(uint8_t pid2)
{
	if (pid2 < 1 || pid2 > 12)
		return 0;
	return (size_t)256 << ((pid2 - 1) / 2);
}

static int nchan_valid(size_t nchan)
{
	for (size_t c = MG_DP5_MIN_CHANNELS; c <= MG_DP5_MAX_CHANNELS; c <<= 1)
		if (c == nchan)
			return 1;
	return 0;
}

int mg_dp5_spectrum_pid2(size_t nchan, bool with_status)
{
	int k = 0;
	for (size_t c = MG_DP5_MIN_CHANNELS; c <= MG_DP5_MAX_CHANNELS; c <<= 1, k++)
		if (c == nchan)
			return 1 + 2 * k + (with_status ? 1 : 0);
	return mg_fail(MG_ERR_ARG, DOM, "%zu channels: a DP5 spectrum has 256, 512, 1024, 2048, 4096 or 8192",
	               nchan);
}

/* Quote up to 80 bytes of an ACK's data for a message, \xNN for non-printables. */
static void quote_bytes(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;
	size_t lim = n > 80 ? 80 : n;
	for (size_t i = 0; i < lim && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7F)
			dst[o++] = (char)p[i];
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02X", p[i]);
	}
	if (lim < n && o + 4 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o < cap ? o : cap - 1] = '\0';
}

static int length_error(const mg_dp5_response *rsp, size_t want)
{
	return mg_fail(MG_ERR_PROTOCOL, DOM, "%s (%02X %02X) with %zu data bytes: expected %zu",
	               mg_dp5_packet_name(rsp->pid1, rsp->pid2), rsp->pid1, rsp->pid2, rsp->len, want);
}

int mg_dp5_classify(const mg_dp5_packet *pkt, mg_dp5_response *rsp)
{
	if (!pkt || !rsp || (pkt->len && !pkt->data))
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_classify: NULL argument");
	memset(rsp, 0, sizeof(*rsp));
	rsp->kind = MG_DP5_RSP_UNKNOWN;
	rsp->pid1 = pkt->pid1;
	rsp->pid2 = pkt->pid2;
	rsp->data = pkt->len ? pkt->data : NULL;
	rsp->len = pkt->len;
	rsp->ack = -1;
	switch (pkt->pid1) {
	case 0x80:
		if (pkt->pid2 != 0x01)
			break;
		rsp->kind = MG_DP5_RSP_STATUS;
		if (pkt->len != MG_DP5_STATUS_LEN)
			return length_error(rsp, MG_DP5_STATUS_LEN);
		rsp->status = rsp->data;
		return MG_OK;
	case 0x81: {
		size_t nchan = mg_dp5_spectrum_channels(pkt->pid2);
		if (!nchan)
			break;
		bool with_status = (pkt->pid2 % 2) == 0;
		size_t want = 3 * nchan + (with_status ? MG_DP5_STATUS_LEN : 0);
		rsp->kind = MG_DP5_RSP_SPECTRUM;
		rsp->nchan = nchan;
		if (pkt->len != want)
			return length_error(rsp, want);
		rsp->counts = rsp->data;
		if (with_status)
			rsp->status = rsp->data + 3 * nchan;
		return MG_OK;
	}
	case 0x82:
		switch (pkt->pid2) {
		case 0x01: rsp->kind = MG_DP5_RSP_SCOPE; return MG_OK;
		case 0x02:
			rsp->kind = MG_DP5_RSP_MISC_DATA;
			if (pkt->len != 512)
				return length_error(rsp, 512);
			return MG_OK;
		case 0x03: rsp->kind = MG_DP5_RSP_SCOPE; rsp->flag = true; return MG_OK;
		case 0x04: rsp->kind = MG_DP5_RSP_ETHERNET; return MG_OK;
		case 0x05: rsp->kind = MG_DP5_RSP_DIAGNOSTIC; return MG_OK;
		case 0x06: rsp->kind = MG_DP5_RSP_HW_DESCRIPTION; return MG_OK;
		case 0x07: rsp->kind = MG_DP5_RSP_CONFIG_READBACK; return MG_OK;
		case 0x08: rsp->kind = MG_DP5_RSP_NETFINDER; return MG_OK;
		case 0x0A: rsp->kind = MG_DP5_RSP_LIST_MODE; return MG_OK;
		case 0x0B: rsp->kind = MG_DP5_RSP_LIST_MODE; rsp->flag = true; return MG_OK;
		default: break;
		}
		break;
	case 0x8F:
		if (pkt->pid2 != 0x7F)
			break;
		rsp->kind = MG_DP5_RSP_ECHO;
		return MG_OK;
	case 0xFF: {
		rsp->kind = MG_DP5_RSP_ACK;
		rsp->ack = pkt->pid2;
		if (pkt->pid2 > MG_DP5_ACK_MAX)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "unknown ACK code 0x%02X", pkt->pid2);
		if (ack_table[pkt->pid2].ok)
			return MG_OK;
		if (pkt->len) {
			char q[400];
			quote_bytes(q, sizeof(q), pkt->data, pkt->len);
			return mg_fail(MG_ERR_DEVICE, DOM, "device answered ACK 0x%02X: %s: \"%s\"", pkt->pid2,
			               ack_table[pkt->pid2].message, q);
		}
		return mg_fail(MG_ERR_DEVICE, DOM, "device answered ACK 0x%02X: %s", pkt->pid2,
		               ack_table[pkt->pid2].message);
	}
	default:
		break;
	}
	rsp->kind = MG_DP5_RSP_UNKNOWN;
	return mg_fail(MG_ERR_PROTOCOL, DOM, "unexpected packet %02X %02X (%s) with %zu data bytes",
	               pkt->pid1, pkt->pid2, mg_dp5_packet_name(pkt->pid1, pkt->pid2), pkt->len);
}

/* ---- spectrum ---------------------------------------------------------- */

int mg_dp5_spectrum_decode(const uint8_t *data, size_t len, uint32_t *counts, size_t nchan)
{
	if (!counts || (!data && len))
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_spectrum_decode: NULL argument");
	if (!nchan_valid(nchan))
		return mg_fail(MG_ERR_ARG, DOM, "%zu channels: a DP5 spectrum has 256..8192 (a power of 2)", nchan);
	if (len != 3 * nchan)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "spectrum data of %zu bytes: %zu channels need %zu",
		               len, nchan, 3 * nchan);
	for (size_t i = 0; i < nchan; i++) {
		const uint8_t *p = data + 3 * i;
		counts[i] = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
	}
	return MG_OK;
}

int mg_dp5_spectrum_encode(const uint32_t *counts, size_t nchan, uint8_t *out, size_t cap)
{
	if (!counts || !out)
		return mg_fail(MG_ERR_ARG, DOM, "mg_dp5_spectrum_encode: NULL argument");
	if (!nchan_valid(nchan))
		return mg_fail(MG_ERR_ARG, DOM, "%zu channels: a DP5 spectrum has 256..8192 (a power of 2)", nchan);
	if (cap < 3 * nchan)
		return mg_fail(MG_ERR_ARG, DOM, "output buffer of %zu bytes for %zu channels (need %zu)", cap,
		               nchan, 3 * nchan);
	for (size_t i = 0; i < nchan; i++)
		if (counts[i] > MG_DP5_COUNT_MAX)
			return mg_fail(MG_ERR_ARG, DOM, "channel %zu holds %lu counts: a DP5 channel holds at most %lu",
			               i, (unsigned long)counts[i], (unsigned long)MG_DP5_COUNT_MAX);
	for (size_t i = 0; i < nchan; i++) {
		uint8_t *p = out + 3 * i;
		p[0] = (uint8_t)(counts[i] & 0xFF);
		p[1] = (uint8_t)((counts[i] >> 8) & 0xFF);
		p[2] = (uint8_t)((counts[i] >> 16) & 0xFF);
	}
	return (int)(3 * nchan);
}
