/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the DP5 protocol codec. Arbitrary bytes go through the
 * stream parser (whole and in small chunks: both must find the same packets),
 * every packet through classification and the decoders, and the raw bytes
 * through every decoder directly. Invariants that must hold for any input
 * abort() when broken, so the fuzzer reports them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/dp5.h"
#include "magassay/error.h"
#include "magassay/spectrum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(cond)          \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

static int status_raw_equal(const mg_dp5_status *a, const mg_dp5_status *b)
{
	uint8_t ea[MG_DP5_STATUS_LEN], eb[MG_DP5_STATUS_LEN];
	if (mg_dp5_status_encode(a, ea) != MG_OK || mg_dp5_status_encode(b, eb) != MG_OK)
		return 0;
	return memcmp(ea, eb, sizeof(ea)) == 0;
}

static void exercise_status(const uint8_t *d, size_t n)
{
	mg_dp5_status st, st2;
	uint8_t enc[MG_DP5_STATUS_LEN];
	if (mg_dp5_status_decode(d, n, &st) != MG_OK) {
		CHECK_OR_DIE(n != MG_DP5_STATUS_LEN);
		return;
	}
	/* Every decoded status encodes, and decoding that gives the same status. */
	CHECK_OR_DIE(mg_dp5_status_encode(&st, enc) == MG_OK);
	CHECK_OR_DIE(mg_dp5_status_decode(enc, sizeof(enc), &st2) == MG_OK);
	CHECK_OR_DIE(status_raw_equal(&st, &st2));
	CHECK_OR_DIE(st.dead_time_pct >= 0.0 && st.dead_time_pct <= 100.0);
	mg_kvlist kv = {0};
	CHECK_OR_DIE(mg_dp5_status_to_kvlist(&st, &kv) == MG_OK);
	CHECK_OR_DIE(kv.count == 13);
	mg_kvlist_clear(&kv);
}

static void exercise_spectrum(const uint8_t *d, size_t n, size_t nchan)
{
	static uint32_t counts[MG_DP5_MAX_CHANNELS];
	static uint8_t back[3 * MG_DP5_MAX_CHANNELS];
	if (mg_dp5_spectrum_decode(d, n, counts, nchan) != MG_OK)
		return;
	CHECK_OR_DIE(mg_dp5_spectrum_encode(counts, nchan, back, sizeof(back)) == (int)(3 * nchan));
	CHECK_OR_DIE(memcmp(back, d, 3 * nchan) == 0);
}

static void exercise_packet(const mg_dp5_packet *pkt)
{
	mg_dp5_response rsp;
	enum mg_dp5_request req;
	(void)mg_dp5_packet_name(pkt->pid1, pkt->pid2);
	(void)mg_dp5_request_identify(pkt, &req);
	int rc = mg_dp5_classify(pkt, &rsp);
	CHECK_OR_DIE(rc == MG_OK || rc == MG_ERR_DEVICE || rc == MG_ERR_PROTOCOL);
	CHECK_OR_DIE(rsp.len == pkt->len);
	if (rc == MG_ERR_DEVICE)
		CHECK_OR_DIE(rsp.kind == MG_DP5_RSP_ACK);
	if (rc != MG_OK)
		return;
	switch (rsp.kind) {
	case MG_DP5_RSP_STATUS:
		CHECK_OR_DIE(rsp.status && rsp.len == MG_DP5_STATUS_LEN);
		exercise_status(rsp.status, MG_DP5_STATUS_LEN);
		break;
	case MG_DP5_RSP_SPECTRUM:
		CHECK_OR_DIE(rsp.counts && rsp.nchan >= MG_DP5_MIN_CHANNELS && rsp.nchan <= MG_DP5_MAX_CHANNELS);
		exercise_spectrum(rsp.counts, 3 * rsp.nchan, rsp.nchan);
		if (rsp.status)
			exercise_status(rsp.status, MG_DP5_STATUS_LEN);
		break;
	case MG_DP5_RSP_CONFIG_READBACK: {
		mg_kvlist kv = {0};
		int n = mg_dp5_config_parse(rsp.data, rsp.len, &kv);
		CHECK_OR_DIE(n < 0 ? kv.count == 0 : (size_t)n == kv.count);
		mg_kvlist_clear(&kv);
		break;
	}
	case MG_DP5_RSP_ACK:
		CHECK_OR_DIE(mg_dp5_ack_error(rsp.ack) == MG_OK);
		break;
	default:
		break;
	}
}

/* Count the packets of a whole buffer; checks the parser's contract. */
static size_t parse_all(const uint8_t *data, size_t size, size_t *ends, size_t maxends)
{
	size_t off = 0, npk = 0;
	while (off < size) {
		mg_dp5_packet pkt;
		size_t used = 12345;
		int rc = mg_dp5_parse(data + off, size - off, &pkt, &used);
		if (rc == MG_ERR_NEED_MORE) {
			CHECK_OR_DIE(used == 0);
			CHECK_OR_DIE(pkt.size > size - off);
			break;
		}
		CHECK_OR_DIE(rc == MG_OK || rc == MG_ERR_FORMAT || rc == MG_ERR_CHECKSUM);
		CHECK_OR_DIE(used >= 1 && used <= size - off);
		if (rc == MG_OK) {
			CHECK_OR_DIE(used == pkt.size && pkt.size == pkt.len + MG_DP5_OVERHEAD);
			CHECK_OR_DIE(pkt.len == 0 || pkt.data == data + off + MG_DP5_HEADER_LEN);
			exercise_packet(&pkt);
			if (npk < maxends)
				ends[npk] = off + used;
			npk++;
		}
		off += used;
	}
	return npk;
}

/* The same stream fed in chunks of `chunk` bytes through a receive buffer. */
static size_t parse_chunked(const uint8_t *data, size_t size, size_t chunk, size_t *ends, size_t maxends)
{
	size_t start = 0, have = 0, npk = 0; /* window data[start .. have) */
	while (have < size) {
		have += chunk;
		if (have > size)
			have = size;
		for (;;) {
			mg_dp5_packet pkt;
			size_t used;
			int rc = mg_dp5_parse(data + start, have - start, &pkt, &used);
			if (rc == MG_ERR_NEED_MORE)
				break;
			CHECK_OR_DIE(used >= 1 && used <= have - start);
			if (rc == MG_OK) {
				if (npk < maxends)
					ends[npk] = start + used;
				npk++;
			}
			start += used;
		}
	}
	return npk;
}

static void exercise_text(const uint8_t *data, size_t size)
{
	if (size > 65536)
		size = 65536;
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	size_t slen = strlen(s);
	int n = mg_dp5_config_validate(s);
	mg_buf b;
	mg_buf_init(&b);
	int np = mg_dp5_config_set_packets(&b, s);
	CHECK_OR_DIE((n > 0) == (np > 0));
	if (np > 0) {
		/* The packets carry the text unchanged, whole commands, <= 511 bytes each. */
		size_t off = 0, joined = 0;
		int count = 0;
		while (off < b.len) {
			mg_dp5_packet pkt;
			size_t used;
			CHECK_OR_DIE(mg_dp5_parse(b.data + off, b.len - off, &pkt, &used) == MG_OK);
			CHECK_OR_DIE(pkt.pid1 == 0x20 && pkt.pid2 == 0x02);
			CHECK_OR_DIE(pkt.len >= 1 && pkt.len <= MG_DP5_CONFIG_MAX_DATA);
			CHECK_OR_DIE(joined + pkt.len <= slen && memcmp(pkt.data, s + joined, pkt.len) == 0);
			CHECK_OR_DIE(pkt.data[pkt.len - 1] == ';');
			joined += pkt.len;
			off += used;
			count++;
		}
		CHECK_OR_DIE(joined == slen && count == np);
		/* A valid setting string is a valid readback answer with as many entries. */
		mg_kvlist kv = {0};
		CHECK_OR_DIE(mg_dp5_config_parse(s, slen, &kv) == n);
		mg_kvlist_clear(&kv);
	} else {
		CHECK_OR_DIE(b.len == 0);
	}
	mg_buf_reset(&b);
	(void)mg_dp5_config_get_packets(&b, s);
	mg_buf_free(&b);
	if (slen >= 4) {
		char m[5];
		memcpy(m, s, 4);
		m[4] = '\0';
		(void)mg_dp5_config_describe(m);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t ends_a[256], ends_b[256];
	/* 1. The stream parser over the whole input, then chunked: same packets. */
	size_t na = parse_all(data, size, ends_a, 256);
	size_t chunk = size ? 1 + data[0] % 23 : 1;
	size_t nb = parse_chunked(data, size, chunk, ends_b, 256);
	CHECK_OR_DIE(na == nb);
	for (size_t i = 0; i < na && i < 256; i++)
		CHECK_OR_DIE(ends_a[i] == ends_b[i]);

	/* 2. The decoders straight on the bytes. */
	if (size >= MG_DP5_STATUS_LEN)
		exercise_status(data, MG_DP5_STATUS_LEN);
	exercise_status(data, size);
	for (size_t nchan = MG_DP5_MAX_CHANNELS; nchan >= MG_DP5_MIN_CHANNELS; nchan >>= 1) {
		if (3 * nchan <= size) {
			exercise_spectrum(data, 3 * nchan, nchan);
			break;
		}
	}
	mg_kvlist kv = {0};
	int n = mg_dp5_config_parse(data, size, &kv);
	CHECK_OR_DIE(n < 0 ? kv.count == 0 : (size_t)n == kv.count);
	mg_kvlist_clear(&kv);
	exercise_text(data, size);

	/* 3. Bytes as a packet header: names and ACK texts never fail. */
	if (size >= 2) {
		CHECK_OR_DIE(mg_dp5_packet_name(data[0], data[1]) != NULL);
		CHECK_OR_DIE(mg_dp5_ack_message(data[1]) != NULL);
		uint8_t out[MG_DP5_REQUEST_MAX];
		enum mg_dp5_request r = (enum mg_dp5_request)(data[0] % (MG_DP5_REQ_COUNT + 1));
		int len = mg_dp5_request(r, out, sizeof(out));
		if (len > 0) {
			mg_dp5_packet pkt;
			size_t used;
			enum mg_dp5_request back;
			CHECK_OR_DIE(mg_dp5_parse(out, (size_t)len, &pkt, &used) == MG_OK);
			CHECK_OR_DIE(mg_dp5_request_identify(&pkt, &back) == MG_OK && back == r);
		}
	}
	return 0;
}
