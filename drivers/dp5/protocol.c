/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Amptek DP5-family protocol codec: packets, the stream parser, requests,
 * response classification, spectrum and status coding, text configuration.
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

/* ---- status ------------------------------------------------------------ */

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

/* ---- text configuration ------------------------------------------------ */

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
