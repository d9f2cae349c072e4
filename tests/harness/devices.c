/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test devices: echo, and the "packet" device with long answers. */
#include <string.h>

#include "mg_harness.h"

void mg_harness_echo(const uint8_t *in, size_t n, mg_buf *out, void *userdata)
{
	(void)userdata;
	mg_buf_append(out, in, n);
}

uint8_t mg_harness_pattern(size_t i)
{
	return (uint8_t)((i * 7u) ^ (i >> 8) ^ (i >> 16) ^ 0x5Au);
}

size_t mg_harness_pattern_mismatch(const uint8_t *buf, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != mg_harness_pattern(off + i))
			return i;
	return (size_t)-1;
}

void mg_harness_packet_request(uint8_t req[4], size_t len)
{
	req[0] = 'P';
	req[1] = (uint8_t)(len >> 16);
	req[2] = (uint8_t)(len >> 8);
	req[3] = (uint8_t)len;
}

void mg_harness_packet(const uint8_t *in, size_t n, mg_buf *out, void *userdata)
{
	static struct mg_harness_packet_state fallback;
	struct mg_harness_packet_state *st = userdata ? userdata : &fallback;
	for (size_t i = 0; i < n; i++) {
		if (st->have == 0 && in[i] != 'P')
			continue; /* hunt for the start of a request */
		st->req[st->have++] = in[i];
		if (st->have < 4)
			continue;
		size_t len = (size_t)st->req[1] << 16 | (size_t)st->req[2] << 8 | st->req[3];
		st->have = 0;
		st->requests++;
		for (size_t k = 0; k < len; k++) {
			uint8_t b = mg_harness_pattern(k);
			mg_buf_append(out, &b, 1);
		}
	}
}
